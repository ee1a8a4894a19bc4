/**
 * A projector process under leadership, for standby tests: runs the counting projection from
 * EVENTS_SCHEMA into READ_SCHEMA through `startProjectors` with leadership, as the service does, and
 * also counts in `applied_by` which process applied each event (in the same transaction). Prints
 * "ready" once started, then "leading <projection>" / "standing by <projection>" as leadership moves.
 * Killed by the tests; on SIGTERM it stops (lets the batch in hand commit) and exits 0.
 */
import pg from 'pg';
import { createKnex, pgPoolConfig } from '../../infra/database/database';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { createLogger } from '../../infra/logging/logger';
import { NoWakeups } from '../../infra/wakeups/wakeups';
import { startProjectors } from '../../projectors/projectors';
import type { Projection } from '../../projectors/runtime/projection';
import { countingProjection } from './counting-projection';

const url = process.env.DATABASE_URL!;
const name = process.env.CHILD_NAME!;
const readSchema = process.env.READ_SCHEMA!;
const wakeups = new NoWakeups();
const pool = new pg.Pool(pgPoolConfig({ url, schema: process.env.EVENTS_SCHEMA!, poolMax: 2 }));
const store = new PostgresEventStore({ pool, wakeups, fallbackPollMs: 20 });
const db = createKnex({ url, schema: readSchema, poolMax: 2 });

const counting = countingProjection({ slowMs: Number(process.env.SLOW_MS ?? 0) });
const projection: Projection = {
  ...counting,
  tables: [...counting.tables, 'applied_by'],
  apply(event, sql) {
    const statements = counting.apply(event, sql);
    return [
      ...(Array.isArray(statements) ? statements : [statements]),
      sql.raw('INSERT INTO applied_by (process, events) VALUES (?, 1) ON CONFLICT (process) DO UPDATE SET events = applied_by.events + 1', [name]),
    ];
  },
};

const { max: _max, ...connection } = pgPoolConfig({ url, schema: readSchema, applicationName: `leader-child-${name}` });
const projectors = startProjectors({
  store,
  db,
  wakeups,
  logger: createLogger({ level: 'error', destination: process.stderr }),
  projections: [projection],
  batchSize: Number(process.env.BATCH_SIZE ?? 50),
  leadership: {
    connection,
    schema: readSchema,
    retryMs: Number(process.env.RETRY_MS ?? 200),
    onChange: (projectionName, leading) => process.stdout.write(`${leading ? 'leading' : 'standing by'} ${projectionName}\n`),
  },
});
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void projectors.stop().then(async () => {
    await db.destroy();
    await pool.end();
    process.exit(0);
  });
});
