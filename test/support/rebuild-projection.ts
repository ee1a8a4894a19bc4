/**
 * Rebuilding one projection from a test service's log into a fresh schema, for the tests that compare
 * a rebuild with the live tables. The rebuild runs to the last event the service wrote (or past it,
 * when a later event came in the same batch) and stops, and the service's own runner of that
 * projection is waited for up to where the rebuild stopped, so that the caller compares tables at
 * one position. If
 * it does not get there in time, the error says where it stood, what the runner logged, and the oldest
 * transaction open on the server (readers of the log stop below it), so a failure explains itself.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import type { Projection } from '../../projectors/runtime/projection';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { lastWrittenPosition, type TestSchema } from './test-database';
import { waitFor } from './wait-for';

const POLL_MS = 20;

/**
 * Applies `source`'s whole log with `projection` into `target`, then waits for `source`'s live
 * projection to have applied it too; answers the position the rebuild stopped at.
 */
export async function rebuildProjection(source: TestSchema, target: TestSchema, projection: Projection, timeoutMs = 35_000): Promise<string> {
  const logged: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString().trim());
        done();
      },
    }),
  );
  const store = new PostgresEventStore({ pool: source.pool(2), wakeups: new InProcessWakeups() });
  const head = await lastWrittenPosition(source.knex);
  const runner = new ProjectionRunner({ store, db: target.knex, projection, wakeups: new InProcessWakeups(), logger });
  runner.start();
  let reached: string;
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      reached = await readCheckpoint(target.knex, projection.name);
      // Past the head is there too: an event written since (a reactor's) may share the head's batch.
      if (reached === head || (reached !== 'start' && reached >= head)) break;
      if (Date.now() > deadline) throw new Error(`the rebuild of ${projection.name} did not reach ${head} in ${timeoutMs} ms: ${await diagnosis(source, target, projection, reached, logged)}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await runner.stop();
  }
  const rebuiltTo = reached;
  await waitFor(async () => {
    const live = await readCheckpoint(source.knex, projection.name);
    return live === rebuiltTo || (live !== 'start' && live >= rebuiltTo);
  }, 20_000, `the live ${projection.name} projection`);
  return rebuiltTo;
}

async function diagnosis(source: TestSchema, target: TestSchema, projection: Projection, reached: string, logged: readonly string[]): Promise<string> {
  const stored = await target.knex('projection_checkpoints').where({ projection: projection.name }).first<{ last_error: string | null } | undefined>('last_error');
  const oldest = await source.knex.raw<{ rows: { age_ms: number | null; state: string | null; query: string | null }[] }>(
    `SELECT (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::int AS age_ms, state, left(query, 200) AS query
       FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1`,
  );
  return JSON.stringify({ reached, lastError: stored?.last_error ?? null, logged: logged.slice(-5), oldestOpenTransaction: oldest.rows[0] ?? null });
}
