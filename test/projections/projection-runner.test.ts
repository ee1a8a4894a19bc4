import { randomUUID } from 'node:crypto';
import type { EventStore, LogPosition } from '../../infra/event-store/event-store';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../../infra/logging/logger';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { upsertIfNewer, type Projection } from '../../projectors/runtime/projection';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { countingProjection, countingTablesContent, createCountingTables } from '../support/counting-projection';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';
import { event } from '../event-store/conformance';

describe('projection runner', () => {
  let db: TestSchema;
  let store: EventStore;
  const wakeups = new InProcessWakeups();
  const runners: ProjectionRunner[] = [];

  beforeEach(async () => {
    db = await createTestSchema('runner');
    await createCountingTables(db.knex);
    store = new PostgresEventStore({ pool: db.pool(), wakeups });
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    await db.drop();
  });

  function runner(projection: Projection, batchSize = 7, skippedFlushMs?: number): ProjectionRunner {
    const r = new ProjectionRunner({ store, db: db.knex, projection, wakeups, logger: silentLogger, batchSize, retryDelayMs: 10, ...(skippedFlushMs === undefined ? {} : { skippedFlushMs }) });
    runners.push(r);
    r.start();
    return r;
  }

  let lastAppended: LogPosition | undefined;

  async function appendCounted(streams: number, perStream: number): Promise<void> {
    for (let s = 0; s < streams; s++) {
      await store.append(`s-${s}`, Array.from({ length: perStream }, () => event('Counted')), { expectedRevision: 'any' });
      lastAppended = (await store.append(`other-${s}`, [event('Ignored')], { expectedRevision: 'any' })).position;
    }
  }

  /** Waits until the runner's committed checkpoint is the last appended event (appends finished first). */
  async function caughtUp(r: ProjectionRunner, knex = db.knex): Promise<void> {
    const target = lastAppended!;
    await waitFor(async () => (await readCheckpoint(knex, r.name)) === target, 10_000, 'the projection to reach the last append');
  }

  it('given events in the log, when it runs, then rows and checkpoint reflect every event once', async () => {
    await appendCounted(10, 3);
    const r = runner(countingProjection());
    await caughtUp(r);
    expect(await db.knex('counting_totals').select('type', 'total')).toEqual([{ type: 'Counted', total: '30' }]);
    expect(await db.knex('counting_streams').count({ n: '*' })).toEqual([{ n: '10' }]);
    const row = await db.knex('projection_checkpoints').where({ projection: 'counting' }).first();
    expect(row.events_seen).toBe('30');
    expect(row.position).toBe(lastAppended);
  });

  it('given a failing event, when the batch fails, then nothing of it lands, the error is recorded, and the retry applies it once', async () => {
    await appendCounted(5, 2);
    const failing = new Set<string>();
    // The log shows an append once every older transaction on the server has finished: wait for it.
    let all = await store.readAll({ maxCount: 100 });
    while (all.at(-1)?.position !== lastAppended) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      all = await store.readAll({ maxCount: 100 });
    }
    failing.add(all.filter((e) => e.type === 'Counted')[5]!.id);
    let failures = 0;
    const r = runner(
      countingProjection({
        failOnce: (id) => {
          if (failing.has(id) && failures < 3) {
            failures++;
            return true;
          }
          return false;
        },
      }),
    );
    await waitFor(async () => (await db.knex('projection_checkpoints').where({ projection: 'counting' }).first())?.last_error != null, 5_000, 'the error to be recorded');
    await caughtUp(r);
    expect(failures).toBe(3);
    expect(await db.knex('counting_totals').select('type', 'total')).toEqual([{ type: 'Counted', total: '10' }]);
    expect((await db.knex('projection_checkpoints').where({ projection: 'counting' }).first()).last_error).toBeNull();
  });

  it('given two runners of one projection at once, then every event still lands exactly once', async () => {
    await appendCounted(40, 5);
    const a = runner(countingProjection(), 3);
    runner(countingProjection(), 5);
    await caughtUp(a);
    const fresh = await createTestSchema('runner_fresh');
    try {
      await createCountingTables(fresh.knex);
      const rebuild = new ProjectionRunner({ store, db: fresh.knex, projection: countingProjection(), wakeups, logger: silentLogger });
      rebuild.start();
      await caughtUp(rebuild, fresh.knex);
      await rebuild.stop();
      expect(await countingTablesContent(db.knex)).toEqual(await countingTablesContent(fresh.knex));
      expect(await db.knex('counting_totals').select('total')).toEqual([{ total: '200' }]);
    } finally {
      await fresh.drop();
    }
  });

  it('given a stopped runner, when it starts again, then it continues from its checkpoint without reapplying', async () => {
    await appendCounted(3, 3);
    const first = runner(countingProjection());
    await caughtUp(first);
    await first.stop();
    await appendCounted(3, 1);
    const second = runner(countingProjection());
    await caughtUp(second);
    expect(await db.knex('counting_totals').select('total')).toEqual([{ total: '12' }]);
  });

  describe('given batches with nothing for the projection', () => {
    async function appendIgnored(count: number): Promise<LogPosition> {
      let position: LogPosition | undefined;
      for (let i = 0; i < count; i++) position = (await store.append(`ignored-${randomUUID()}`, [event('Ignored')], { expectedRevision: 'no_stream' })).position;
      return position!;
    }

    it('announces its progress at once but stores the checkpoint only later: at stop', async () => {
      const announced: string[] = [];
      const unsubscribe = wakeups.subscribe('projection.counting', (payload) => announced.push(payload));
      try {
        const r = runner(countingProjection(), 7, 60_000);
        const last = await appendIgnored(3);
        await waitFor(() => r.position === last, 10_000, 'the runner to pass the ignored events');
        await waitFor(() => announced.includes(last), 5_000, 'the announcement of that progress');
        expect(await readCheckpoint(db.knex, 'counting')).toBe('start');
        await r.stop();
        expect(await readCheckpoint(db.knex, 'counting')).toBe(last);
        expect((await db.knex('projection_checkpoints').where({ projection: 'counting' }).first()).events_seen).toBe('0');
      } finally {
        unsubscribe();
      }
    });

    it('stores the checkpoint within skippedFlushMs while it keeps running', async () => {
      const r = runner(countingProjection(), 7, 50);
      const last = await appendIgnored(2);
      await waitFor(async () => (await readCheckpoint(db.knex, 'counting')) === last, 10_000, 'the stored checkpoint over the ignored events');
      expect(r.position).toBe(last);
    });

    it('moves the stored checkpoint over the skipped events with the next batch it applies', async () => {
      const r = runner(countingProjection(), 7, 60_000);
      const ignored = await appendIgnored(2);
      await waitFor(() => r.position === ignored, 10_000, 'the runner to pass the ignored events');
      const { position } = await store.append(`counted-${randomUUID()}`, [event('Counted')], { expectedRevision: 'no_stream' });
      await waitFor(async () => (await readCheckpoint(db.knex, 'counting')) === position, 10_000, 'the applied batch');
      const row = await db.knex('projection_checkpoints').where({ projection: 'counting' }).first();
      expect(row.events_seen).toBe('1');
      expect(await db.knex('counting_totals').select('type', 'total')).toEqual([{ type: 'Counted', total: '1' }]);
    });

    it('given the checkpoint moved by someone else meanwhile, restarts from it and applies every event once', async () => {
      const r = runner(countingProjection(), 7, 1_000);
      const first = (await store.append(`counted-${randomUUID()}`, [event('Counted')], { expectedRevision: 'no_stream' })).position;
      await waitFor(async () => (await readCheckpoint(db.knex, 'counting')) === first, 10_000, 'the first applied batch');
      const ignored = await appendIgnored(1);
      await waitFor(() => r.position === ignored, 10_000, 'the runner to pass the ignored event');
      // Another runner (or a rebuild's swap) moved it over the ignored event before this one stored it.
      await db.knex('projection_checkpoints').where({ projection: 'counting' }).update({ position: ignored });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const next = (await store.append(`counted-${randomUUID()}`, [event('Counted')], { expectedRevision: 'no_stream' })).position;
      await waitFor(async () => (await readCheckpoint(db.knex, 'counting')) === next, 10_000, 'the batch after the restart');
      expect(await db.knex('counting_totals').select('type', 'total')).toEqual([{ type: 'Counted', total: '2' }]);
    });
  });

  it('reacts to a live append within moments, woken rather than polling', async () => {
    const slowPollStore = new PostgresEventStore({ pool: db.pool(), wakeups, livePollMs: 60_000 });
    const r = new ProjectionRunner({ store: slowPollStore, db: db.knex, projection: countingProjection(), wakeups, logger: silentLogger });
    runners.push(r);
    r.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const written = await store.append(`live-${randomUUID()}`, [event('Counted')], { expectedRevision: 'no_stream' });
    await waitFor(() => r.position === written.position, 20_000, 'the live event');
    // Polling would take a minute here; a wake-up takes moments (the bound is loose for a busy machine).
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  describe('lingering under load', () => {
    const LINGER_MS = 3_000;
    function lingering(): ProjectionRunner {
      const r = new ProjectionRunner({ store, db: db.knex, projection: countingProjection(), wakeups, logger: silentLogger, batchSize: 50, lingerMs: LINGER_MS });
      runners.push(r);
      r.start();
      return r;
    }
    const appendCounted = async (events: number) => (await store.append(`linger-${randomUUID()}`, Array.from({ length: events }, () => event('Counted')), { expectedRevision: 'no_stream' })).position;
    const applied = (r: ProjectionRunner, position: LogPosition) => waitFor(() => r.position === position, 10_000, 'the batch to be applied');
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('given a batch of several events, then it waits before reading the next, and the next holds everything that came meanwhile', async () => {
      const r = lingering();
      const batches: LogPosition[] = [];
      r.onProgress((position) => batches.push(position));
      await applied(r, await appendCounted(3));
      const before = batches.length;
      const laterOnes = [await appendCounted(1), await appendCounted(1), await appendCounted(1)];
      await sleep(500);
      expect(r.position).not.toBe(laterOnes[2]); // still lingering after the batch of three
      await applied(r, laterOnes[2]!);
      expect(batches.slice(before)).toEqual([laterOnes[2]]); // the three came as one batch
      expect(await db.knex('counting_totals').select('type', 'total')).toEqual([{ type: 'Counted', total: '6' }]);
    });

    it('given a batch of one event (a quiet log), then the next event is read at once', async () => {
      const r = lingering();
      await applied(r, await appendCounted(1));
      const started = Date.now();
      await applied(r, await appendCounted(1));
      expect(Date.now() - started).toBeLessThan(LINGER_MS);
    });

    it('given a runner lingering, when it stops, then it stops at once', async () => {
      const r = lingering();
      await applied(r, await appendCounted(3));
      const started = Date.now();
      await r.stop();
      expect(Date.now() - started).toBeLessThan(LINGER_MS / 2);
    });
  });
});

describe('upsertIfNewer', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema('upsert');
    await db.knex.raw('CREATE TABLE items (id text PRIMARY KEY, title text NOT NULL, revision bigint NOT NULL)');
  });
  afterAll(() => db.drop());

  it('moves a row forward and ignores a replay of an older or equal revision', async () => {
    await db.knex.transaction(async (trx) => {
      await upsertIfNewer(trx, 'items', ['id'], { id: 'a', title: 'first', revision: 0n });
      await upsertIfNewer(trx, 'items', ['id'], { id: 'a', title: 'second', revision: 1n });
      await upsertIfNewer(trx, 'items', ['id'], { id: 'a', title: 'replayed', revision: 1n });
      await upsertIfNewer(trx, 'items', ['id'], { id: 'a', title: 'older', revision: 0n });
    });
    expect(await db.knex('items').select('id', 'title', 'revision')).toEqual([{ id: 'a', title: 'second', revision: '1' }]);
  });
});
