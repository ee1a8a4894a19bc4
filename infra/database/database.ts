/**
 * PostgreSQL connections for one schema: a knex instance (read models, migrations, checkpoints) and
 * the settings a raw `pg` pool needs (the event store's hot path). Every connection pins its
 * search_path, which is how tests give each file a schema of its own.
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from '../../migrations';

// bigint columns (positions, revisions) arrive as strings and are turned into BigInt by their readers;
// never let the driver squeeze them into a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => value);

export interface DatabaseOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolMax?: number;
  readonly applicationName?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`invalid schema name: ${schema}`);
}

export function pgPoolConfig(options: DatabaseOptions): pg.PoolConfig {
  assertSchemaName(options.schema);
  return {
    connectionString: options.url,
    max: options.poolMax ?? 10,
    application_name: options.applicationName ?? 'scriptorium',
    options: `-c search_path=${options.schema}`,
    // A transaction left open would hold back every reader of the log (see the event store migration).
    idle_in_transaction_session_timeout: 30_000,
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
  };
}

export function createKnex(options: DatabaseOptions): Knex {
  const config = pgPoolConfig(options);
  return knexFactory({
    client: 'pg',
    connection: config as Knex.PgConnectionConfig,
    pool: { min: 0, max: options.poolMax ?? 10 },
    searchPath: [options.schema],
    migrations: { migrationSource, schemaName: options.schema, tableName: 'knex_migrations' },
  });
}

/** Creates the schema if needed and applies every pending migration inside it. */
export async function migrate(knex: Knex, schema: string): Promise<void> {
  assertSchemaName(schema);
  await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await knex.migrate.latest();
}
