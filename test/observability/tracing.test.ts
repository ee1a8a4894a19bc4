/**
 * Traces across the write path and the projection of its events: an HTTP request, its command and
 * its append in one trace, and the projection runner's apply span in that same trace (a child of the
 * command that wrote the event), found again through the traceparent the event's metadata carries.
 * The app here is wired the way service.ts and command-handling.ts wire the real one.
 */
import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import express, { type Express } from 'express';
import request from 'supertest';
import type { EventMetadata } from '../../infra/event-store/event-store';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { requestContext } from '../../infra/http/request-context';
import { Problem, problemHandler } from '../../infra/http/problem';
import { silentLogger } from '../../infra/logging/logger';
import { traceRequests } from '../../infra/telemetry/http-tracing';
import { instrumentEventStore, type InstrumentedEventStore } from '../../infra/telemetry/instrumented-event-store';
import { currentTraceparent, InMemorySpanExporter, startTracing, traceCommand, type ReadableSpan, type Tracing } from '../../infra/telemetry/tracing';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { countingProjection, createCountingTables } from '../support/counting-projection';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

/** Event metadata as command-handling's metadataOf builds it once wired: with the active span's traceparent. */
function metadataOf(requestId: string): EventMetadata {
  const traceparent = currentTraceparent();
  return { correlationId: requestId, causationId: requestId, actorId: null, occurredAt: new Date().toISOString(), ...(traceparent ? { traceparent } : {}) };
}

function countingApp(store: InstrumentedEventStore): Express {
  const app = express();
  app.use(requestContext());
  app.use(traceRequests());
  // Body parsing resumes the request in stream callbacks: the request's trace must survive it.
  app.use(express.json());
  app.post('/counters/:id/count', async (req, res, next) => {
    try {
      const streamId = `counter-${String(req.params.id)}`;
      const written = await traceCommand({ type: 'Count' }, streamId, () =>
        store.append(streamId, [{ id: randomUUID(), type: 'Counted', data: {}, metadata: metadataOf(req.requestId) }], { expectedRevision: 'any' }),
      );
      res.status(201).json({ position: written.position });
    } catch (error) {
      next(error);
    }
  });
  app.post('/counters/:id/refuse', async (req, res, next) => {
    try {
      await traceCommand({ type: 'Refuse' }, `counter-${String(req.params.id)}`, async () => {
        throw new Problem('conflict', 'COUNTER.REFUSED', 'refused: the secret name is Rumpelstiltskin');
      });
      res.status(204).end();
    } catch (error) {
      next(error);
    }
  });
  app.use(problemHandler(silentLogger));
  return app;
}

function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length} among ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

describe('trace context without tracing started', () => {
  it('given no tracer provider, when a command runs, then there is no traceparent to put in metadata', async () => {
    const traceparent = await traceCommand({ type: 'Count' }, 'counter-1', async () => currentTraceparent());
    expect(traceparent).toBeUndefined();
  });
});

describe('traces from a request to the projection of its events', () => {
  let db: TestSchema;
  let store: InstrumentedEventStore;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const wakeups = new InProcessWakeups();
  const runners: ProjectionRunner[] = [];

  beforeAll(async () => {
    tracing = startTracing({ exporter });
    db = await createTestSchema('tracing');
    await createCountingTables(db.knex);
    store = instrumentEventStore(new PostgresEventStore({ pool: db.pool(), wakeups }));
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    exporter.reset();
  });
  afterAll(async () => {
    await tracing.shutdown();
    await db.drop();
  });

  function startRunner(): ProjectionRunner {
    const runner = new ProjectionRunner({ store, db: db.knex, projection: countingProjection(), wakeups, logger: silentLogger, retryDelayMs: 10 });
    runners.push(runner);
    runner.start();
    return runner;
  }

  /**
   * Waits until the runner is past the batch that applied `position` (its checkpoint is stored by
   * then). The stored checkpoint alone is visible before the batch's span has ended: waiting on it
   * races the span.
   */
  async function projected(runner: ProjectionRunner, position: string): Promise<void> {
    await waitFor(async () => runner.position === position, 20_000, 'the projection to apply the event');
    await tracing.flush();
  }

  it('given a request that appends an event, when the event is projected, then the apply span is a child of the command in the request trace', async () => {
    const runner = startRunner();
    const app = countingApp(store);

    const res = await request(app).post(`/counters/${randomUUID()}/count`).send({ by: 1 }).expect(201);
    await projected(runner, res.body.position);

    const spans = exporter.getFinishedSpans();
    const http = only(spans, 'HTTP POST /counters/:id/count');
    const command = only(spans, 'command Count');
    const append = spans.find((span) => span.name.startsWith('append counter-'))!;
    const apply = only(spans, 'projection apply counting');
    const batch = spans.find((span) => span.name === 'projection batch counting' && span.attributes['scriptorium.checkpoint.to'] === res.body.position)!;
    const traceId = http.spanContext().traceId;
    expect(http.kind).toBe(SpanKind.SERVER);
    expect(http.attributes['http.route']).toBe('/counters/:id/count');
    expect(http.attributes['http.response.status_code']).toBe(201);
    expect(command.spanContext().traceId).toBe(traceId);
    expect(command.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(append.spanContext().traceId).toBe(traceId);
    expect(append.parentSpanContext?.spanId).toBe(command.spanContext().spanId);
    expect(apply.spanContext().traceId).toBe(traceId);
    expect(apply.parentSpanContext?.spanId).toBe(command.spanContext().spanId);
    expect(apply.links.map((link) => link.context.spanId)).toEqual([batch.spanContext().spanId]);
    expect(batch.parentSpanContext).toBeUndefined();
    expect(runner.position).toBe(res.body.position);
  });

  it('given a request that appends an event, then the event metadata carries the command span as traceparent', async () => {
    const counter = randomUUID();
    const res = await request(countingApp(store)).post(`/counters/${counter}/count`).expect(201);
    await tracing.flush();

    const [event] = await store.readStream(`counter-${counter}`);
    const command = only(exporter.getFinishedSpans(), 'command Count').spanContext();
    expect(event?.metadata.traceparent).toBe(`00-${command.traceId}-${command.spanId}-01`);
  });

  it("given a caller's traceparent header, then the request span continues the caller's trace", async () => {
    const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';

    await request(countingApp(store))
      .post(`/counters/${randomUUID()}/count`)
      .set('traceparent', `00-${callerTraceId}-${callerSpanId}-01`)
      .expect(201);
    await tracing.flush();

    const http = only(exporter.getFinishedSpans(), 'HTTP POST /counters/:id/count');
    expect(http.spanContext().traceId).toBe(callerTraceId);
    expect(http.parentSpanContext?.spanId).toBe(callerSpanId);
  });

  it('given an event appended outside any trace, when it is projected, then only the batch is traced', async () => {
    const runner = startRunner();
    const streamId = `counter-${randomUUID()}`;
    const written = await store.append(streamId, [{ id: randomUUID(), type: 'Counted', data: {}, metadata: metadataOf('untraced') }], {
      expectedRevision: 'no_stream',
    });
    await projected(runner, written.position);

    const spans = exporter.getFinishedSpans();
    expect(spans.filter((span) => span.name === 'projection apply counting' && span.attributes['scriptorium.stream'] === streamId)).toEqual([]);
    const batch = spans.find((span) => span.name === 'projection batch counting' && span.attributes['scriptorium.checkpoint.to'] === written.position);
    expect(batch?.parentSpanContext).toBeUndefined();
    expect(batch?.attributes['scriptorium.applied_count']).toBeGreaterThanOrEqual(1);
  });

  it('given a command that fails, then its span is marked failed with the error code and without the message', async () => {
    await request(countingApp(store)).post(`/counters/${randomUUID()}/refuse`).expect(409);
    await tracing.flush();

    const spans = exporter.getFinishedSpans();
    const command = only(spans, 'command Refuse');
    expect(command.status.code).toBe(SpanStatusCode.ERROR);
    expect(command.attributes['error.type']).toBe('COUNTER.REFUSED');
    expect(JSON.stringify(spans.map((span) => [span.status, span.attributes, span.events]))).not.toContain('Rumpelstiltskin');
    const http = only(spans, 'HTTP POST /counters/:id/refuse');
    expect(http.attributes['http.response.status_code']).toBe(409);
  });

  it('given a request to no route, then its span is named unmatched', async () => {
    await request(countingApp(store)).get('/no/such/route').expect(404);
    await tracing.flush();

    expect(exporter.getFinishedSpans().map((span) => span.name)).toContain('HTTP GET unmatched');
  });
});
