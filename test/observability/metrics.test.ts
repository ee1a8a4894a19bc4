/**
 * Prometheus metrics: requests timed under their route pattern (never the raw URL), commands counted by
 * outcome, events appended counted by type, one registry per service instance, and /metrics in the
 * text format. The last block runs the real service's routers behind the middleware.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import request from 'supertest';
import type { AppendResult, EventStore, EventToAppend, LogPosition } from '../../infra/event-store/event-store';
import { START } from '../../infra/event-store/log-position';
import { commandOutcomeOf, createMetrics, httpMetrics, type Metrics } from '../../infra/metrics/metrics';
import { instrumentEventStore } from '../../infra/telemetry/instrumented-event-store';
import { signUp, startTestService, type TestService } from '../support/test-service';

/** The value of one sample line of a Prometheus text exposition, or undefined when there is none. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(app: Express): Promise<string> {
  const res = await request(app).get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

function thingsApp(metrics: Metrics): Express {
  const app = express();
  app.use(httpMetrics(metrics, { commands: [{ method: 'post', path: '/things' }, { method: 'patch', path: '/things/:id' }] }));
  app.get('/metrics', metrics.metricsRoute());
  app.get('/things/:id', (_req, res) => {
    res.json({});
  });
  app.post('/things', (_req, res) => {
    res.status(201).json({});
  });
  app.patch('/things/:id', (req, res) => {
    res.status(Number(req.header('x-answer-status') ?? 200)).json({});
  });
  return app;
}

describe('http metrics', () => {
  it('given requests to a parameterized route, then they are timed under the route pattern and never the raw URL', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const app = thingsApp(metrics);

    await request(app).get('/things/123').expect(200);
    await request(app).get('/things/456').expect(200);
    const exposition = await scrape(app);

    expect(sample(exposition, 'scriptorium_http_request_duration_seconds_count{method="GET",route="/things/:id",status="200"}')).toBe(2);
    expect(exposition).not.toContain('/things/123');
    expect(exposition).not.toContain('/things/456');
  });

  it('given a request to no route, then it is timed as unmatched with its 404', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const app = thingsApp(metrics);

    await request(app).get('/nothing/here/42').expect(404);
    const exposition = await scrape(app);

    expect(sample(exposition, 'scriptorium_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(exposition).not.toContain('/nothing/here');
  });

  it('given commands answered with every kind of status, then each is counted under its outcome, and queries are not commands', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const app = thingsApp(metrics);

    await request(app).post('/things').expect(201);
    for (const status of [200, 409, 412, 422, 404, 500]) await request(app).patch('/things/1').set('x-answer-status', String(status)).expect(status);
    await request(app).get('/things/1').expect(200);
    const exposition = await scrape(app);

    expect(sample(exposition, 'scriptorium_commands_total{method="POST",route="/things",outcome="ok"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_commands_total{method="PATCH",route="/things/:id",outcome="ok"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_commands_total{method="PATCH",route="/things/:id",outcome="conflict"}')).toBe(2);
    expect(sample(exposition, 'scriptorium_commands_total{method="PATCH",route="/things/:id",outcome="client_error"}')).toBe(2);
    expect(sample(exposition, 'scriptorium_commands_total{method="PATCH",route="/things/:id",outcome="server_error"}')).toBe(1);
    expect(exposition).not.toMatch(/scriptorium_commands_total\{method="GET"/);
  });

  it('given the statuses a command can answer with, then each maps to its outcome', () => {
    expect([200, 201, 204, 304, 400, 401, 403, 404, 409, 412, 422, 429, 500, 503].map(commandOutcomeOf)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'client_error',
      'client_error',
      'client_error',
      'client_error',
      'conflict',
      'conflict',
      'client_error',
      'client_error',
      'server_error',
      'server_error',
    ]);
  });
});

describe('registries', () => {
  it('given two service instances in one process, then each counts only its own requests', async () => {
    const first = createMetrics();
    const second = createMetrics();

    await request(thingsApp(first)).post('/things').expect(201);
    const firstExposition = await scrape(thingsApp(first));
    const secondExposition = await scrape(thingsApp(second));

    expect(sample(firstExposition, 'scriptorium_commands_total{method="POST",route="/things",outcome="ok"}')).toBe(1);
    expect(sample(secondExposition, 'scriptorium_commands_total{method="POST",route="/things",outcome="ok"}')).toBeUndefined();
    expect(secondExposition).toContain('process_cpu_user_seconds_total');
  });

  it('given refreshes registered for scrapes, then a scrape runs them first, and one that fails or hangs does not fail the scrape', async () => {
    const metrics = createMetrics({ processMetrics: false, scrapeRefreshTimeoutMs: 100 });
    metrics.refreshBeforeScrape(async () => metrics.projectionLagEvents.set({ projection: 'accounts' }, 7));
    metrics.refreshBeforeScrape(async () => {
      throw new Error('database down');
    });
    metrics.refreshBeforeScrape(() => new Promise(() => {}));
    const app = thingsApp(metrics);

    const started = Date.now();
    const exposition = await scrape(app);

    expect(sample(exposition, 'scriptorium_projection_lag_events{projection="accounts"}')).toBe(7);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('events appended', () => {
  /** A store that accepts any append: this test is about what is counted, not about storing. */
  const acceptingStore: EventStore = {
    append: async (_stream: string, events: readonly EventToAppend[]): Promise<AppendResult> => ({ nextExpectedRevision: BigInt(events.length - 1), position: START }),
    readStream: async () => [],
    readAll: async () => [],
    subscribeToAll: () => {
      throw new Error('not used');
    },
    headPosition: async (): Promise<LogPosition | 'start'> => 'start',
    close: async () => {},
  };
  const failingStore: EventStore = {
    ...acceptingStore,
    append: async () => {
      throw new Error('conflict');
    },
  };

  function appended(type: string) {
    return { id: randomUUID(), type, data: {}, metadata: { correlationId: 'c', causationId: 'c', actorId: null, occurredAt: new Date(0).toISOString() } };
  }

  it('given appends through the instrumented store, then every written event is counted by type, and failed appends not at all', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const store = instrumentEventStore(acceptingStore, { metrics });
    const failing = instrumentEventStore(failingStore, { metrics });

    await store.append('user-1', [appended('UserSignedUp'), appended('DisplayNameChanged')], { expectedRevision: 'no_stream' });
    await store.append('user-1', [appended('DisplayNameChanged')], { expectedRevision: 1n });
    await expect(failing.append('user-2', [appended('UserSignedUp')], { expectedRevision: 'no_stream' })).rejects.toThrow('conflict');
    const exposition = await metrics.registry.metrics();

    expect(sample(exposition, 'scriptorium_events_appended_total{type="UserSignedUp"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_events_appended_total{type="DisplayNameChanged"}')).toBe(2);
  });
});

describe('metrics of the real service routes', () => {
  let service: TestService;
  let metrics: Metrics;
  let app: Express;

  beforeAll(async () => {
    service = await startTestService('metrics');
    metrics = createMetrics({ processMetrics: false });
    // The service's app behind the middleware, as service.ts mounts it in front of its routers.
    app = express();
    app.use(httpMetrics(metrics, { commands: service.service.commandRoutes }));
    app.get('/metrics', metrics.metricsRoute());
    app.use(service.service.app);
  });
  afterAll(() => service.close());

  it('given sign-ups, a missing workspace and an unknown path, then commands and requests are labelled with the route tables patterns', async () => {
    const http = request(app);
    const user = await signUp(http);
    await http.post('/api/auth/signup').send({ email: user.email, password: 'another fine passphrase' }).expect(409);
    const missing = randomUUID();
    await http.patch(`/api/workspaces/${missing}`).set(user.auth).send({ name: 'x' }).expect(404);
    await http.get(`/api/workspaces/${missing}`).set(user.auth).expect(404);
    await http.get('/api/no-such-thing').expect(404);
    const exposition = await scrape(app);

    expect(sample(exposition, 'scriptorium_commands_total{method="POST",route="/api/auth/signup",outcome="ok"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_commands_total{method="POST",route="/api/auth/signup",outcome="conflict"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_commands_total{method="PATCH",route="/api/workspaces/:id",outcome="client_error"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_http_request_duration_seconds_count{method="GET",route="/api/workspaces/:id",status="404"}')).toBe(1);
    expect(sample(exposition, 'scriptorium_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(exposition).not.toMatch(/scriptorium_commands_total\{method="GET"/);
    expect(exposition).not.toContain(missing);
  });
});
