/**
 * The benchmark's database: a fresh schema `bench_<timestamp>` holding the event store's tables (run
 * through the real migrations), the pools opened on it, and its removal. `withBenchSchema` drops the
 * schema when the run ends, fails or is interrupted (Ctrl-C), so nothing is left behind in `test`.
 */
import type { Knex } from 'knex';
import pg from 'pg';
import { createKnex, migrate, pgPoolConfig } from '../../infra/database/database';

export interface BenchSchema {
  readonly url: string;
  readonly schema: string;
  /** A small knex pool on the schema: setup, counts, the projection's read model and checkpoint. */
  readonly knex: Knex;
  /** Runs `use` with a new pool of `max` connections on the schema, and ends the pool afterwards. */
  withPool<T>(max: number, use: (pool: pg.Pool) => Promise<T>): Promise<T>;
}

/** Every connection the benchmark opens says so, which lets it tell its own sessions from others. */
export const BENCH_APPLICATION_NAME = 'scriptorium-bench';

export async function withBenchSchema<T>(url: string, use: (schema: BenchSchema) => Promise<T>): Promise<T> {
  const schema = `bench_${Date.now()}`;
  const knex = createKnex({ url, schema, poolMax: 4, applicationName: BENCH_APPLICATION_NAME });
  const pools = new Set<pg.Pool>();
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> => (dropped ??= dropSchema(knex, schema, pools));
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: dropping schema ${schema}\n`);
    void drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await migrate(knex, schema);
    return await use({ url, schema, knex, withPool: (max, usePool) => withPool(url, schema, max, pools, usePool) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await drop();
  }
}

async function withPool<T>(url: string, schema: string, max: number, pools: Set<pg.Pool>, use: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool(pgPoolConfig({ url, schema, poolMax: max, applicationName: BENCH_APPLICATION_NAME }));
  pools.add(pool);
  try {
    return await use(pool);
  } finally {
    pools.delete(pool);
    await pool.end();
  }
}

async function dropSchema(knex: Knex, schema: string, pools: ReadonlySet<pg.Pool>): Promise<void> {
  await Promise.all([...pools].map((pool) => pool.end().catch(() => undefined)));
  try {
    await knex.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await knex.destroy();
  }
}
