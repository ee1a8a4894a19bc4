/**
 * Projection lag, read from the checkpoint table and the log: events after the checkpoint and the age
 * of the oldest of them, by the PostgreSQL count and by paging readAll (which must agree), capped,
 * published as gauges, and read again when /metrics is scraped.
 */
import express from 'express';
import request from 'supertest';
import type { EventStore, LogPosition } from '../../infra/event-store/event-store';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../../infra/logging/logger';
import { createMetrics } from '../../infra/metrics/metrics';
import { ProjectionLagMonitor, type ProjectionLagMonitorOptions } from '../../infra/metrics/projection-lag';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { event } from '../event-store/conformance';
import { countingProjection, createCountingTables } from '../support/counting-projection';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

describe('projection lag', () => {
  let db: TestSchema;
  let store: EventStore;
  const wakeups = new InProcessWakeups();
  const monitors: ProjectionLagMonitor[] = [];

  beforeEach(async () => {
    db = await createTestSchema('lag');
    await createCountingTables(db.knex);
    store = new PostgresEventStore({ pool: db.pool(), wakeups });
  });
  afterEach(async () => {
    for (const monitor of monitors.splice(0)) monitor.stop();
    await db.drop();
  });

  function monitor(options: Partial<ProjectionLagMonitorOptions> = {}): ProjectionLagMonitor {
    const created = new ProjectionLagMonitor({ db: db.knex, store, projections: ['counting'], ...options });
    monitors.push(created);
    return created;
  }

  async function append(count: number, stream = 'lag-1'): Promise<LogPosition> {
    const written = await store.append(stream, Array.from({ length: count }, () => event('Counted')), { expectedRevision: 'any' });
    return written.position;
  }

  /**
   * Waits until readers of the log see everything up to `position`: they only read below the oldest
   * transaction still running anywhere on the server, which parallel test files hold back at times.
   */
  async function visible(position: LogPosition): Promise<void> {
    await waitFor(async () => (await store.headPosition()) === position, 20_000, 'the appended events to be visible to readers');
  }

  /** Pretends the log's events were written `seconds` ago. */
  async function age(seconds: number): Promise<void> {
    await db.knex.raw(`UPDATE events SET recorded_at = clock_timestamp() - make_interval(secs => ?)`, [seconds]);
  }

  async function projectAll(until: LogPosition): Promise<void> {
    const runner = new ProjectionRunner({ store, db: db.knex, projection: countingProjection(), wakeups, logger: silentLogger });
    runner.start();
    try {
      await waitFor(async () => (await readCheckpoint(db.knex, 'counting')) === until, 20_000, 'the projection to catch up');
    } finally {
      await runner.stop();
    }
  }

  it('given a projection that has applied nothing, then its lag is every event in the log and the age of the oldest', async () => {
    await append(4);
    await age(90);

    const [lag] = await monitor().refresh();

    expect(lag).toMatchObject({ projection: 'counting', checkpoint: 'start', events: 4, capped: false });
    expect(lag!.seconds).toBeGreaterThanOrEqual(90);
    expect(lag!.seconds).toBeLessThan(120);
  });

  it('given a projection that has applied everything, then its lag is zero events and zero seconds', async () => {
    const last = await append(3);
    await age(300);
    await projectAll(last);

    const [lag] = await monitor().refresh();

    expect(lag).toEqual({ projection: 'counting', checkpoint: last, events: 0, capped: false, seconds: 0 });
  });

  it('given events after the checkpoint, then only those count, and the PostgreSQL count agrees with paging readAll', async () => {
    const projected = await append(3, 'lag-1');
    await projectAll(projected);
    await age(600);
    await visible(await append(5, 'lag-2'));
    await db.knex.raw(`UPDATE events SET recorded_at = clock_timestamp() - interval '45 seconds' WHERE stream_id = 'lag-2'`);

    const [bySql] = await monitor({ countWith: 'sql' }).refresh();
    const [byPaging] = await monitor({ countWith: 'readAll' }).refresh();

    expect(bySql).toMatchObject({ checkpoint: projected, events: 5, capped: false });
    expect(byPaging).toMatchObject({ checkpoint: projected, events: 5, capped: false });
    expect(bySql!.seconds).toBeGreaterThanOrEqual(45);
    expect(bySql!.seconds).toBeLessThan(100);
    expect(Math.abs(byPaging!.seconds - bySql!.seconds)).toBeLessThan(5);
  });

  it('given a backlog larger than the cap, then counting stops at the cap and says so', async () => {
    await visible(await append(7));

    const [bySql] = await monitor({ countWith: 'sql', maxCountedEvents: 5 }).refresh();
    const [byPaging] = await monitor({ countWith: 'readAll', maxCountedEvents: 5 }).refresh();

    expect(bySql).toMatchObject({ events: 5, capped: true });
    expect(byPaging).toMatchObject({ events: 5, capped: true });
  });

  it('given the PostgreSQL store, then the monitor counts with SQL; given any other store, it pages readAll', async () => {
    await visible(await append(2));
    const readAll = jest.fn(store.readAll.bind(store));
    const otherStore: EventStore = { ...bind(store), readAll };

    await monitor().refresh();
    expect(readAll).not.toHaveBeenCalled();
    const [lag] = await monitor({ store: otherStore }).refresh();
    expect(readAll).toHaveBeenCalled();
    expect(lag!.events).toBe(2);
  });

  it('given a monitor with metrics, then the gauges show each projection once, moving with its checkpoint', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const lagMonitor = monitor({ metrics });
    const first = await append(2);
    await lagMonitor.refresh();
    await projectAll(first);
    await append(3);

    await lagMonitor.refresh();
    const exposition = await metrics.registry.metrics();

    expect(exposition).toContain(`scriptorium_projection_checkpoint_info{projection="counting",position="${first}"} 1`);
    expect(exposition.match(/scriptorium_projection_checkpoint_info\{/g)).toHaveLength(1);
    expect(exposition).toContain('scriptorium_projection_lag_events{projection="counting"} 3');
    expect(exposition).toMatch(/scriptorium_projection_lag_seconds\{projection="counting"\} [0-9.e-]+\n/);
  });

  it('given a started monitor, when /metrics is scraped after new events, then the scrape reads the lag again', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const lagMonitor = monitor({ metrics, intervalMs: 60_000, scrapeMaxAgeMs: 0 });
    lagMonitor.start();
    await waitFor(() => lagMonitor.latest !== undefined, 5_000, 'the first refresh');
    const app = express();
    app.get('/metrics', metrics.metricsRoute());

    await append(6);
    const res = await request(app).get('/metrics').expect(200);

    expect(res.text).toContain('scriptorium_projection_lag_events{projection="counting"} 6');
  });
});

/** The store's methods bound to it, so that a copy can replace one of them. */
function bind(store: EventStore): EventStore {
  return {
    append: store.append.bind(store),
    readStream: store.readStream.bind(store),
    readAll: store.readAll.bind(store),
    subscribeToAll: store.subscribeToAll.bind(store),
    headPosition: store.headPosition.bind(store),
    close: store.close.bind(store),
  };
}
