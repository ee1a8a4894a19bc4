/**
 * PostgreSQL connections for one schema: a knex instance (read models, migrations, checkpoints) and
 * the settings a raw `pg` pool needs (the event store's hot path). Every connection pins its
 * search_path, which is how tests give each file a schema of its own.
 *
 * `openDatabase` is what a process opens: the configured server, or, without DATABASE_URL, the embedded
 * database (embedded-database.ts). The embedded one is a single session, so there the event store and
 * knex share ONE pg pool of ONE connection: the pool is the process-wide mutex, held for one query, or
 * for a whole transaction (knex checks a transaction's connection out until COMMIT or ROLLBACK). Every
 * transaction therefore runs alone, which is as isolated as transactions get. The price: code that
 * holds a connection (a transaction) and then waits for another one would wait for itself; nothing in
 * the service does, and such a wait fails after EMBEDDED_CONNECTION_WAIT_MS instead of hanging.
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from '../../migrations';
import { startEmbeddedDatabase } from './embedded-database';

// bigint columns (positions, revisions) arrive as strings and are turned into BigInt by their readers;
// never let the driver squeeze them into a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => value);

export interface DatabaseOptions {
  /** The PostgreSQL server; unset in embedded mode, which only `openDatabase` can open. */
  readonly url: string | undefined;
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
  if (options.url === undefined) {
    throw new Error('DATABASE_URL is not set: the embedded database in DATA_DIR is opened with openDatabase, which shares its one connection');
  }
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

/** Knex on its own pool, or, given `pool`, on that pool's connections (the embedded database's one). */
export function createKnex(options: DatabaseOptions, pool?: pg.Pool): Knex {
  if (pool) {
    assertSchemaName(options.schema);
    return knexFactory({
      client: 'pg',
      connectionPool: pool,
      migrations: { migrationSource, schemaName: options.schema, tableName: 'knex_migrations' },
    });
  }
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

// ---------------------------------------------------------------------------------------------------
// What a process opens

/** The longest wait for the embedded database's one connection (a wait for itself fails, not hangs). */
export const EMBEDDED_CONNECTION_WAIT_MS = 30_000;

export interface Database {
  /** The event store's pool; in embedded mode, the one pool of the process, shared with `knex`. */
  readonly pool: pg.Pool;
  readonly knex: Knex;
  /** The embedded database's directory, when that is the database. */
  readonly embeddedDirectory: string | undefined;
  /**
   * Settings for a connection of one's own (projector leadership locks). Unset in embedded mode: one
   * process owns the data directory, and its one session could not hold an exclusive lock anyway.
   */
  readonly dedicatedConnection: pg.ClientConfig | undefined;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Unset: the embedded database under `dataDir`. */
  readonly url: string | undefined;
  readonly dataDir: string;
  readonly schema: string;
  readonly poolMax: number;
  readonly applicationName: string;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  assertSchemaName(options.schema);
  if (options.url !== undefined) {
    const database = { url: options.url, schema: options.schema, poolMax: options.poolMax, applicationName: options.applicationName };
    const pool = new pg.Pool(pgPoolConfig(database));
    const knex = createKnex(database);
    const { max: _max, ...dedicated } = pgPoolConfig({ ...database, applicationName: `${options.applicationName}-leadership` });
    return {
      pool,
      knex,
      embeddedDirectory: undefined,
      dedicatedConnection: dedicated,
      async close() {
        await knex.destroy();
        await pool.end();
      },
    };
  }

  const embedded = await startEmbeddedDatabase(options.dataDir);
  const { pool, knex } = connectEmbedded(embedded.url, options.schema, options.applicationName);
  return {
    pool,
    knex,
    embeddedDirectory: embedded.directory,
    dedicatedConnection: undefined,
    async close() {
      try {
        await knex.destroy();
        await pool.end();
      } finally {
        await embedded.close();
      }
    },
  };
}

/**
 * The pools on an embedded database served at `url`: one pg pool of one connection, which knex uses
 * too, so the pool's queue is the process-wide mutex around the session.
 */
export function connectEmbedded(url: string, schema: string, applicationName: string): { pool: pg.Pool; knex: Knex } {
  assertSchemaName(schema);
  const pool = new EmbeddedPool(embeddedPoolConfig(url, schema, applicationName));
  return { pool, knex: createKnex({ url, schema }, pool) };
}

/** How long a new connection to the embedded database is retried while the old one is being let go. */
const RECONNECT_PATIENCE_MS = 2_000;

/**
 * pg-pool drops a client after any error of `pool.query`, and the embedded server accepts one client
 * at a time, noticing the old one's close a moment after the pool opens the new one: that first
 * attempt is refused. So connecting is retried briefly (never a pool timeout, never while ending).
 */
class EmbeddedPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(
    callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): Promise<pg.PoolClient> | void {
    const connecting = this.connectPatiently();
    if (!callback) return connecting;
    connecting.then(
      (client) => callback(undefined, client, (release) => client.release(release as Error | boolean | undefined)),
      (error: Error) => callback(error, undefined, () => undefined),
    );
  }

  private async connectPatiently(): Promise<pg.PoolClient> {
    const deadline = Date.now() + RECONNECT_PATIENCE_MS;
    for (let delayMs = 5; ; delayMs = Math.min(delayMs * 2, 100)) {
      try {
        return await super.connect();
      } catch (error) {
        const poolTimeout = error instanceof Error && /timeout/i.test(error.message);
        if (this.ending || poolTimeout || Date.now() + delayMs > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

function embeddedPoolConfig(url: string, schema: string, applicationName: string): pg.PoolConfig {
  return {
    connectionString: url,
    application_name: applicationName,
    max: 1,
    // Keep the one connection: a new one finds the session as the old one left it (see resetSession).
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: EMBEDDED_CONNECTION_WAIT_MS,
    onConnect: (client) => resetSession(client, schema),
  };
}

/**
 * A new connection to the embedded database continues the session of the one before it, which may
 * have died mid-transaction or left prepared statements whose names the new client will reuse. The
 * startup message's settings (search_path) are ignored by PGlite, so they are set here.
 */
async function resetSession(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('ROLLBACK');
  await client.query('DISCARD ALL');
  await client.query(`SET search_path TO ${schema}`);
}
