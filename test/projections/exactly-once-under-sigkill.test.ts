/**
 * The projection runtime's central promise: killing a projector at any moment (SIGKILL: no cleanup,
 * possibly mid-transaction) and restarting it never loses or doubles an effect. The read model after
 * dozens of kills must equal a clean rebuild, and its counters must equal the number of events.
 */
import path from 'node:path';
import type { LogPosition } from '../../infra/event-store/log-position';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../../infra/logging/logger';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { event } from '../event-store/conformance';
import { countingProjection, countingTablesContent, createCountingTables } from '../support/counting-projection';
import { killHard, startTsxChild } from '../support/child-process';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180_000);

const CHILD = path.join(__dirname, '../support/projector-child.ts');

describe('projection runtime under SIGKILL', () => {
  let events: TestSchema;
  let live: TestSchema;
  let rebuilt: TestSchema;

  beforeAll(async () => {
    [events, live, rebuilt] = await Promise.all([createTestSchema('kill_events'), createTestSchema('kill_live'), createTestSchema('kill_rebuild')]);
    await createCountingTables(live.knex);
    await createCountingTables(rebuilt.knex);
  });
  afterAll(async () => {
    await Promise.all([events.drop(), live.drop(), rebuilt.drop()]);
  });

  it('given a projector killed at random at least 20 times while thousands of events arrive, then its read model equals a clean rebuild', async () => {
    const store = new PostgresEventStore({ pool: events.pool(8), wakeups: new InProcessWakeups() });
    const env = { DATABASE_URL: events.url, EVENTS_SCHEMA: events.schema, READ_SCHEMA: live.schema, SLOW_MS: '1', BATCH_SIZE: '40' };
    const totalAppends = Number(process.env.KILL_TEST_APPENDS ?? 2_500);
    let appended = 0;
    let counted = 0;
    let last = '' as LogPosition;

    const writers = Array.from({ length: 4 }, async (_, w) => {
      while (appended < totalAppends) {
        const n = appended++;
        const size = 1 + (n % 3); // single events and small batches
        await store.append(`stream-${n % 150}`, Array.from({ length: size }, (_, i) => event(i === 0 ? 'Counted' : 'Renamed', { w, n })), {
          expectedRevision: 'any',
        });
        const { position } = await store.append(`noise-${n % 7}`, [event('Unhandled')], { expectedRevision: 'any' });
        if (position > last) last = position;
        counted += size;
      }
    });

    let kills = 0;
    let projector = await startTsxChild(CHILD, env);
    const killer = (async () => {
      const writing = Promise.all(writers);
      let done = false;
      void writing.then(() => (done = true));
      while (!done || kills < 20) {
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250));
        await killHard(projector);
        kills++;
        projector = await startTsxChild(CHILD, env);
      }
      await writing;
    })();
    await killer;

    try {
      await waitFor(async () => (await readCheckpoint(live.knex, 'counting')) === last, 120_000, 'the restarted projector to catch up');
    } finally {
      await killHard(projector);
    }

    const rebuild = new ProjectionRunner({ store, db: rebuilt.knex, projection: countingProjection(), wakeups: new InProcessWakeups(), logger: silentLogger });
    rebuild.start();
    await waitFor(async () => (await readCheckpoint(rebuilt.knex, 'counting')) === last, 60_000, 'the clean rebuild');
    await rebuild.stop();

    expect(kills).toBeGreaterThanOrEqual(20);
    expect(await countingTablesContent(live.knex)).toEqual(await countingTablesContent(rebuilt.knex));
    const totals = await live.knex('counting_totals').sum({ total: 'total' });
    expect(Number(totals[0]!.total)).toBe(counted);
    console.log(`exactly-once under SIGKILL: ${kills} kills, ${counted} projected events, ${appended} appends`);
  });
});
