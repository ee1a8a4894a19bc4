/**
 * The adapters one process needs, built from its configuration: the database (a pg pool for the event
 * store, knex for read models; without DATABASE_URL, the embedded database in DATA_DIR, where both
 * share one connection), the event store, wake-ups and the logger. Entry points build one platform,
 * hand its parts to the factories of the API and projector modules, and close it on exit.
 */
import type { Knex } from 'knex';
import pg from 'pg';
import type { Config } from './config/config';
import { migrate, openDatabase } from './database/database';
import { createEventStore } from './event-store/create-event-store';
import type { EventStore } from './event-store/event-store';
import type { Logger } from './logging/logger';
import { NatsWakeups } from './wakeups/nats-wakeups';
import { InProcessWakeups, type Wakeups } from './wakeups/wakeups';

export interface Platform {
  readonly config: Config;
  readonly logger: Logger;
  readonly pool: pg.Pool;
  readonly knex: Knex;
  readonly store: EventStore;
  readonly wakeups: Wakeups;
  /**
   * Where projectors take their leadership locks (a dedicated connection's settings and the schema
   * the lock key is derived from); unset in embedded mode, where one process owns the data directory.
   */
  readonly leadership: { readonly connection: pg.ClientConfig; readonly schema: string } | undefined;
  close(): Promise<void>;
}

export async function createPlatform(config: Config, logger: Logger, role: string): Promise<Platform> {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    applicationName: `scriptorium-${role}`,
  });
  const { pool, knex } = database;
  // An idle pooled connection that dies (database restart, network drop) must not crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection failed; it will be replaced'));
  if (database.embeddedDirectory) logger.info({ directory: database.embeddedDirectory }, 'embedded database open');
  try {
    await migrate(knex, config.DATABASE_SCHEMA);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }

  const wakeups: Wakeups = config.NATS_URL
    ? new NatsWakeups({
        url: config.NATS_URL,
        subjectPrefix: config.NATS_SUBJECT_PREFIX,
        onError: (error) => logger.debug({ err: error }, 'NATS unavailable; readers poll until it is back'),
      })
    : new InProcessWakeups();

  const store = createEventStore({
    eventStoreConnectionString: config.EVENTSTORE_CONNECTION_STRING,
    pool,
    wakeups,
    livePollMs: config.LOG_POLL_LIVE_MS,
    fallbackPollMs: config.LOG_POLL_FALLBACK_MS,
  });

  return {
    config,
    logger,
    pool,
    knex,
    store,
    wakeups,
    leadership: database.dedicatedConnection ? { connection: database.dedicatedConnection, schema: config.DATABASE_SCHEMA } : undefined,
    async close() {
      await store.close();
      await wakeups.close();
      await database.close();
    },
  };
}
