/**
 * A dispatcher process for crash tests: fires the reminders due at NOW (a fixed clock) in SCHEMA until
 * it is killed. Each append is slowed by SLOW_MS before and after it commits, so that a kill often
 * lands with appends in flight or just committed but not yet answered. Prints "ready" once started.
 */
import pg from 'pg';
import { createKnex, pgPoolConfig } from '../../infra/database/database';
import type { EventStore } from '../../infra/event-store/event-store';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { createLogger } from '../../infra/logging/logger';
import { NoWakeups } from '../../infra/wakeups/wakeups';
import { ReminderDispatcher } from '../../projectors/reminders/reminder-dispatcher';

const url = process.env.DATABASE_URL!;
const schema = process.env.SCHEMA!;
const now = new Date(process.env.NOW!);
const pool = new pg.Pool(pgPoolConfig({ url, schema, poolMax: 3 }));
const slowMs = Number(process.env.SLOW_MS ?? 0);
const pause = () => new Promise((resolve) => setTimeout(resolve, slowMs));
const postgres = new PostgresEventStore({ pool, wakeups: new NoWakeups(), fallbackPollMs: 20 });
const store: EventStore = Object.assign(Object.create(postgres) as EventStore, {
  append: async (...args: Parameters<EventStore['append']>) => {
    await pause();
    const result = await postgres.append(...args);
    await pause();
    return result;
  },
});
const db = createKnex({ url, schema, poolMax: 2 });
const dispatcher = new ReminderDispatcher({
  store,
  db,
  clock: () => now,
  logger: createLogger({ level: 'error', destination: process.stderr as never }),
  intervalMs: 30,
  concurrency: 2,
  batchSize: 40,
});
dispatcher.start();
process.stdout.write('ready\n');
