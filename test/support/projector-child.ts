/**
 * A projector process for crash tests: runs the counting projection from EVENTS_SCHEMA into
 * READ_SCHEMA until it is killed. Prints "ready" once its runner has started.
 */
import pg from 'pg';
import { createKnex, pgPoolConfig } from '../../infra/database/database';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { createLogger } from '../../infra/logging/logger';
import { NatsWakeups } from '../../infra/wakeups/nats-wakeups';
import { NoWakeups, type Wakeups } from '../../infra/wakeups/wakeups';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { countingProjection } from './counting-projection';

const url = process.env.DATABASE_URL!;
const wakeups: Wakeups = process.env.NATS_URL
  ? new NatsWakeups({ url: process.env.NATS_URL, subjectPrefix: process.env.NATS_SUBJECT_PREFIX! })
  : new NoWakeups();
const pool = new pg.Pool(pgPoolConfig({ url, schema: process.env.EVENTS_SCHEMA!, poolMax: 2 }));
const store = new PostgresEventStore({ pool, wakeups, fallbackPollMs: 20 });
const db = createKnex({ url, schema: process.env.READ_SCHEMA!, poolMax: 2 });
const runner = new ProjectionRunner({
  store,
  db,
  projection: countingProjection({ slowMs: Number(process.env.SLOW_MS ?? 0) }),
  wakeups,
  logger: createLogger({ level: 'error', destination: process.stderr as never }),
  batchSize: Number(process.env.BATCH_SIZE ?? 50),
  retryDelayMs: 20,
});
runner.start();
process.stdout.write('ready\n');
