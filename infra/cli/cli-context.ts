/**
 * What a CLI command connects to, opened from the same configuration as the service: the database
 * (the PostgreSQL server, or the embedded one when DATABASE_URL is unset) and the event store. Unlike
 * the service it applies no migrations (only `migrate` does); it checks that they have been applied.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import { migrationSource } from '../../migrations';
import type { Config } from '../config/config';
import { openDatabase, type Database } from '../database/database';
import { createEventStore } from '../event-store/create-event-store';
import type { EventStore } from '../event-store/event-store';
import { NoWakeups } from '../wakeups/wakeups';
import { eventCounterFor, type EventCounter } from './event-counting';

/** An error the CLI reports as one line, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CliContext {
  readonly config: Config;
  readonly schema: string;
  readonly knex: Knex;
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly counter: EventCounter;
  /** Set when the database is the embedded one (a single connection). */
  readonly embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabaseForCli(config: Config): Promise<Database> {
  return openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    schema: config.DATABASE_SCHEMA,
    // Verification reads on one connection while it writes on another.
    poolMax: Math.max(2, Math.min(config.DATABASE_POOL_MAX, 4)),
    applicationName: 'scriptorium-cli',
  });
}

export async function openCliContext(config: Config): Promise<CliContext> {
  const database = await openDatabaseForCli(config);
  try {
    await assertMigrated(database.knex, config.DATABASE_SCHEMA);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  const store = createEventStore({
    eventStoreConnectionString: config.EVENTSTORE_CONNECTION_STRING,
    pool: database.pool,
    wakeups: new NoWakeups(),
    livePollMs: config.LOG_POLL_LIVE_MS,
    fallbackPollMs: config.LOG_POLL_FALLBACK_MS,
  });
  return {
    config,
    schema: config.DATABASE_SCHEMA,
    knex: database.knex,
    pool: database.pool,
    store,
    counter: eventCounterFor(store, database.pool),
    embedded: database.embeddedDirectory !== undefined,
    async close() {
      await store.close().catch(() => undefined);
      await database.close();
    },
  };
}

/** Refuses to work on a schema whose migrations are missing or behind this code's (read-only check). */
async function assertMigrated(knex: Knex, schema: string): Promise<void> {
  const table = await knex.raw<{ rows: Array<{ name: string | null }> }>('SELECT to_regclass(?)::text AS name', [`"${schema}"."knex_migrations"`]);
  const expected = (await migrationSource.getMigrations([])).map((migration) => migrationSource.getMigrationName(migration));
  if (table.rows[0]?.name == null) {
    throw new CliError(`schema ${schema} has no migrations applied; run \`scriptorium migrate\` first`, 2);
  }
  const applied = new Set((await knex.raw<{ rows: Array<{ name: string }> }>(`SELECT name FROM "${schema}"."knex_migrations"`)).rows.map((row) => row.name));
  const pending = expected.filter((name) => !applied.has(name));
  if (pending.length > 0) {
    throw new CliError(`schema ${schema} lacks ${pending.length} migration(s) (${pending.join(', ')}); run \`scriptorium migrate\` first`, 2);
  }
}
