/**
 * Test databases: every test file gets a schema of its own in the local PostgreSQL (TEST_DATABASE_URL,
 * default the `test` database), so files run in parallel without seeing each other.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { createKnex, migrate, pgPoolConfig } from '../../infra/database/database';
import { LogPosition } from '../../infra/event-store/log-position';

export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestSchema {
  readonly url: string;
  readonly schema: string;
  readonly knex: Knex;
  /** A new pool on the schema (the event store's own); closed by `drop`. */
  pool(max?: number): pg.Pool;
  drop(): Promise<void>;
}

export async function createTestSchema(label: string): Promise<TestSchema> {
  const url = testDatabaseUrl();
  // The creation time in the name lets a later run drop what an interrupted one left, and only that.
  const schema = `test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const knex = createKnex({ url, schema, poolMax: 5 });
  await migrate(knex, schema);
  const pools: pg.Pool[] = [];
  return {
    url,
    schema,
    knex,
    pool(max = 10) {
      const pool = new pg.Pool(pgPoolConfig({ url, schema, poolMax: max }));
      pools.push(pool);
      return pool;
    },
    async drop() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      await knex.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await knex.destroy();
    },
  };
}

/**
 * The position of the last event in the schema's log, whether or not readers may see it yet. Once
 * every write a test made has been answered, this is where projections end up. (The store's
 * `headPosition` is the readable head: it stops below the oldest transaction running anywhere on the
 * server, so on a server busy with other test files it can lag well behind the last write.)
 */
export async function lastWrittenPosition(knex: TestSchema['knex']): Promise<LogPosition | 'start'> {
  const row = await knex('events')
    .orderBy([
      { column: 'transaction_id', order: 'desc' },
      { column: 'global_position', order: 'desc' },
    ])
    .first<{ transaction_id: string; global_position: string } | undefined>(knex.raw('transaction_id::text AS transaction_id'), knex.raw('global_position::text AS global_position'));
  if (!row) return 'start';
  return LogPosition.of(BigInt(row.transaction_id), BigInt(row.global_position));
}
