/**
 * /readyz: ready only while the database and the event store answer in time and no projection trails
 * the log by more than the allowed lag; NATS being down is reported and never makes the instance
 * unready. /healthz stays a plain "the process answers".
 */
import express, { type Express } from 'express';
import pg from 'pg';
import request from 'supertest';
import type { EventStore, LogPosition } from '../../infra/event-store/event-store';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { healthRoutes, type HealthOptions, type ProjectionLagReading } from '../../infra/http/health';
import { silentLogger } from '../../infra/logging/logger';
import { ProjectionLagMonitor } from '../../infra/metrics/projection-lag';
import { NatsWakeups } from '../../infra/wakeups/nats-wakeups';
import { InProcessWakeups, NoWakeups } from '../../infra/wakeups/wakeups';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { event } from '../event-store/conformance';
import { countingProjection, createCountingTables } from '../support/counting-projection';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const UNREACHABLE = { nats: 'nats://127.0.0.1:1', postgres: 'postgres://postgres@127.0.0.1:1/test' };

describe('health routes', () => {
  let db: TestSchema;
  let pool: pg.Pool;
  let store: EventStore;
  const wakeups = new InProcessWakeups();
  const closeables: Array<{ close(): Promise<void> } | { end(): Promise<void> }> = [];

  beforeAll(async () => {
    db = await createTestSchema('health');
    await createCountingTables(db.knex);
    pool = db.pool(2);
    store = new PostgresEventStore({ pool, wakeups });
  });
  afterAll(async () => {
    for (const closeable of closeables.splice(0)) await ('end' in closeable ? closeable.end() : closeable.close());
    await db.drop();
  });

  function app(options: Partial<HealthOptions> = {}): Express {
    const health = express();
    health.use(healthRoutes({ pool, wakeups, store, projectionLag: async () => [], ...options }));
    return health;
  }

  const caughtUp: ProjectionLagReading[] = [
    { projection: 'accounts', seconds: 0, events: 0 },
    { projection: 'workspaces', seconds: 0, events: 0 },
  ];

  it('given every dependency answering and no lag, then /readyz is 200 and says so for each', async () => {
    const res = await request(app({ projectionLag: async () => caughtUp })).get('/readyz');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      database: 'ok',
      eventStore: 'ok',
      wakeups: 'live',
      projections: { status: 'ok', maxLagSeconds: 60, lagging: [] },
    });
  });

  it('given /healthz, then it answers 200 whatever the dependencies', async () => {
    const hanging: Pick<EventStore, 'headPosition'> = { headPosition: () => new Promise<LogPosition | 'start'>(() => {}) };

    const res = await request(app({ store: hanging, checkTimeoutMs: 50 })).get('/healthz');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('given an unreachable database, then /readyz is 503 and names it', async () => {
    const deadPool = new pg.Pool({ connectionString: UNREACHABLE.postgres, connectionTimeoutMillis: 1_000 });
    closeables.push(deadPool);

    const res = await request(app({ pool: deadPool })).get('/readyz');

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', database: 'unreachable', eventStore: 'ok' });
  });

  it('given an event store that hangs, then /readyz answers 503 within its deadline', async () => {
    const hanging: Pick<EventStore, 'headPosition'> = { headPosition: () => new Promise<LogPosition | 'start'>(() => {}) };

    const started = Date.now();
    const res = await request(app({ store: hanging, checkTimeoutMs: 100 })).get('/readyz');

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', database: 'ok', eventStore: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('given an event store that fails, then /readyz is 503 with the event store unreachable', async () => {
    const failing: Pick<EventStore, 'headPosition'> = { headPosition: async () => Promise.reject(new Error('connection refused')) };

    const res = await request(app({ store: failing })).get('/readyz');

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ eventStore: 'unreachable' });
  });

  it('given a projection over the allowed lag, then /readyz is 503 and names only the lagging one', async () => {
    const lagging: ProjectionLagReading[] = [
      { projection: 'accounts', seconds: 75.04, events: 12 },
      { projection: 'workspaces', seconds: 2, events: 1 },
    ];

    const res = await request(app({ projectionLag: async () => lagging, maxProjectionLagSeconds: 30 })).get('/readyz');

    expect(res.status).toBe(503);
    expect(res.body.projections).toEqual({ status: 'lagging', maxLagSeconds: 30, lagging: [{ projection: 'accounts', lagSeconds: 75, lagEvents: 12 }] });
  });

  it('given projection lag that cannot be read, then /readyz is 503', async () => {
    const res = await request(app({ projectionLag: async () => Promise.reject(new Error('no checkpoints table')) })).get('/readyz');

    expect(res.status).toBe(503);
    expect(res.body.projections).toMatchObject({ status: 'unknown' });
  });

  it('given NATS unreachable, then /readyz stays 200 and says that readers poll', async () => {
    const natsDown = new NatsWakeups({ url: UNREACHABLE.nats, subjectPrefix: `health-${Date.now()}` });
    closeables.push(natsDown);

    const res = await request(app({ wakeups: natsDown })).get('/readyz');

    expect(res.status).toBe(200);
    expect(res.body.wakeups).toBe('polling');
    expect(res.body.notes).toEqual([expect.stringContaining('NATS')]);
  });

  it('given NATS up, then /readyz reports wake-ups live and no notes', async () => {
    const natsUp = new NatsWakeups({ url: NATS_URL, subjectPrefix: `health-${Date.now()}` });
    closeables.push(natsUp);
    expect(await natsUp.ready(5_000)).toBe(true);

    const res = await request(app({ wakeups: natsUp })).get('/readyz');

    expect(res.status).toBe(200);
    expect(res.body.wakeups).toBe('live');
    expect(res.body.notes).toBeUndefined();
  });

  it('given no wake-ups at all, then /readyz is still ready', async () => {
    const res = await request(app({ wakeups: new NoWakeups() })).get('/readyz');

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', wakeups: 'polling' });
  });

  it('given the lag monitor on a real log, then /readyz is unready while a projection trails by old events, and ready once it has applied them', async () => {
    const last = (await store.append('health-1', [event('Counted'), event('Counted')], { expectedRevision: 'any' })).position;
    await db.knex.raw(`UPDATE events SET recorded_at = clock_timestamp() - interval '120 seconds'`);
    const monitor = new ProjectionLagMonitor({ db: db.knex, store, projections: ['counting'] });
    const health = app({ projectionLag: () => monitor.current(0), maxProjectionLagSeconds: 60 });

    const lagging = await request(health).get('/readyz');
    const runner = new ProjectionRunner({ store, db: db.knex, projection: countingProjection(), wakeups, logger: silentLogger });
    runner.start();
    await waitFor(async () => (await readCheckpoint(db.knex, 'counting')) === last, 20_000, 'the projection to catch up');
    await runner.stop();
    const ready = await request(health).get('/readyz');

    expect(lagging.status).toBe(503);
    expect(lagging.body.projections.lagging).toEqual([{ projection: 'counting', lagSeconds: expect.any(Number), lagEvents: 2 }]);
    expect(lagging.body.projections.lagging[0].lagSeconds).toBeGreaterThanOrEqual(120);
    expect(ready.status).toBe(200);
  });
});
