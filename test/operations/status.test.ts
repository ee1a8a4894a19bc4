/**
 * `scriptorium projections status`: checkpoints, events seen, lag in events and in seconds, and the
 * last error, for every projection of the registry, against a running service.
 */
import { eventCounterFor, pagingEventCounter, postgresEventCounter } from '../../infra/cli/event-counting';
import { formatStatusTable, readProjectionsStatus } from '../../infra/cli/projections-status';
import { projectionNames, projections } from '../../projectors/projections';
import { readCheckpoint, recordProjectionError } from '../../projectors/runtime/checkpoints';
import { signUp, startTestService, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { cli, projectionsCaughtUp } from './operations-support';

describe('projections status', () => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService('status');
    const ann = await signUp(t.http, { displayName: 'Ann' });
    await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Study' }).expect(201);
  });
  afterAll(() => t.close());

  const status = (now = () => new Date(), lagCap = 1_000) =>
    readProjectionsStatus({
      knex: t.db.knex,
      store: t.service.platform.store,
      counter: eventCounterFor(t.service.platform.store, t.service.platform.pool),
      projections,
      now,
      lagCap,
    });

  it('given caught-up projectors, then every projection shows the head as its checkpoint and no lag', async () => {
    const head = await projectionsCaughtUp(t);
    const log = await t.service.platform.store.readAll({ maxCount: 1_000 });

    const report = await status();

    expect(report.head).toBe(head);
    expect(report.projections.map((p) => p.projection)).toEqual(projectionNames);
    for (const projection of projections) {
      const handled = log.filter((event) => projection.handles.includes(event.type)).length;
      expect(report.projections.find((p) => p.projection === projection.name)).toEqual({
        projection: projection.name,
        position: head,
        eventsSeen: handled,
        updatedAt: expect.any(String),
        lagEvents: 0,
        lagEventsCapped: false,
        lagSeconds: 0,
        oldestUnprojectedAt: null,
        lastError: null,
        lastErrorAt: null,
      });
    }

    const run = await cli(t, ['projections', 'status', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ head, projections: projectionNames.map((projection) => ({ projection, position: head, lagEvents: 0 })) });
    const table = await cli(t, ['projections', 'status']);
    expect(table.stdout).toContain(`log head: ${head}`);
    expect(table.stdout).toMatch(/^accounts\s+\d{20}\.\d{20}\s+\d+\s+0\s+0\.0\s+-$/m);
  });

  it('given a stopped projector and new events, then its lag counts them and ages the oldest, and an error shows until it runs again', async () => {
    await projectionsCaughtUp(t);
    const accounts = t.service.projectors!.runners.find((runner) => runner.name === 'accounts')!;
    await accounts.stop();
    try {
      await signUp(t.http, { displayName: 'Bob' });
      const checkpoint = await readCheckpoint(t.db.knex, 'accounts');
      const unprojected = () => t.service.platform.store.readAll({ fromPosition: checkpoint, maxCount: 1_000 });
      // Readers see an event once every older transaction has ended (other projectors' batches too).
      await waitFor(async () => (await unprojected()).length >= 2, 5_000, "Bob's events to become readable");
      const behind = await unprojected();
      await recordProjectionError(t.db.knex, 'accounts', 'database on fire');

      const now = new Date(behind[0]!.recordedAt.getTime() + 7_500);
      const report = await status(() => now);
      const lagging = report.projections.find((p) => p.projection === 'accounts')!;

      expect(lagging).toMatchObject({
        position: checkpoint,
        lagEvents: behind.length,
        lagEventsCapped: false,
        lagSeconds: 7.5,
        oldestUnprojectedAt: behind[0]!.recordedAt.toISOString(),
        lastError: 'database on fire',
        lastErrorAt: expect.any(String),
      });
      const capped = (await status(() => now, 1)).projections.find((p) => p.projection === 'accounts')!;
      expect(capped).toMatchObject({ lagEvents: 1, lagEventsCapped: true });
      expect(formatStatusTable({ head: null, projections: [capped] })).toMatch(/^accounts\s+\S+\s+\d+\s+>= 1\s+7\.5\s+\S+ database on fire$/m);

      // The generic counter (any store) and the PostgreSQL one agree.
      const paging = pagingEventCounter(t.service.platform.store, 1);
      expect(await paging.countEventsAfter(checkpoint, 1_000)).toEqual({ count: behind.length, capped: false });
      expect(await paging.countEventsAfter(checkpoint, 1)).toEqual({ count: 1, capped: true });
      expect(await postgresEventCounter(t.service.platform.pool).countEventsAfter(checkpoint, 1_000)).toEqual({ count: behind.length, capped: false });
      expect(await postgresEventCounter(t.service.platform.pool).countEventsAfter('start', 1_000_000)).toEqual(await paging.countEventsAfter('start', 1_000_000));
    } finally {
      accounts.start();
    }

    await projectionsCaughtUp(t);
    const recovered = (await status()).projections.find((p) => p.projection === 'accounts')!;
    expect(recovered).toMatchObject({ lagEvents: 0, lagSeconds: 0, lastError: null, lastErrorAt: null });
  });
});
