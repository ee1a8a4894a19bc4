/**
 * The whole service as service.ts and command-handling.ts wire the observability: one trace from a
 * request to the projection of its events, metrics of the real routes, and /readyz with every check.
 */
import { InMemorySpanExporter, startTracing, type ReadableSpan, type Tracing } from '../../infra/telemetry/tracing';
import { signUp, startTestService, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';

describe('the wired service', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let service: TestService;

  beforeAll(async () => {
    tracing = startTracing({ exporter });
    service = await startTestService('wired');
  });
  afterAll(async () => {
    await service.close();
    await tracing.shutdown();
  });

  function named(spans: readonly ReadableSpan[], name: string): ReadableSpan {
    const found = spans.find((span) => span.name === name);
    if (!found) throw new Error(`no span ${name} among ${spans.map((s) => s.name).join(', ')}`);
    return found;
  }

  it('given a workspace rename, when it is projected, then one trace holds the request, the command, the append and the projection', async () => {
    const user = await signUp(service.http);
    const created = await service.http.post('/api/workspaces').set(user.auth).send({ name: 'first' }).expect(201);
    exporter.reset();
    const renamed = await service.http.patch(`/api/workspaces/${created.body.id}`).set(user.auth).send({ name: 'second' }).expect(200);
    const position = String(renamed.headers['x-consistency-token']);
    await waitFor(async () => {
      await tracing.flush();
      return exporter.getFinishedSpans().some((span) => span.name === 'projection apply workspaces' && span.attributes['scriptorium.log_position'] === position);
    }, 30_000, 'the rename to be projected');

    const spans = exporter.getFinishedSpans();
    const http = named(spans, 'HTTP PATCH /api/workspaces/:id');
    const command = named(spans, 'command RenameWorkspace');
    const append = spans.find((span) => span.name.startsWith('append workspace'))!;
    const apply = spans.find((span) => span.name === 'projection apply workspaces' && span.spanContext().traceId === http.spanContext().traceId)!;
    expect(command.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(append.parentSpanContext?.spanId).toBe(command.spanContext().spanId);
    expect(apply.parentSpanContext?.spanId).toBe(command.spanContext().spanId);
  });

  it('serves /metrics with commands, appended events and projection lag, and /readyz with every check', async () => {
    // The projection's span ends before its checkpoint commits, and the gauges are refreshed at most once a second.
    let metrics = await service.http.get('/metrics').expect(200);
    await waitFor(async () => {
      metrics = await service.http.get('/metrics').expect(200);
      return metrics.text.includes('scriptorium_projection_lag_events{projection="workspaces"} 0');
    }, 10_000, 'the workspaces projection lag to read 0');
    const ready = await service.http.get('/readyz').expect(200);

    expect(metrics.text).toContain('scriptorium_commands_total{method="PATCH",route="/api/workspaces/:id",outcome="ok"} 1');
    expect(metrics.text).toMatch(/scriptorium_events_appended_total\{type="WorkspaceRenamed"\} 1/);
    expect(metrics.text).toContain('scriptorium_projection_lag_events{projection="workspaces"} 0');
    expect(ready.body).toMatchObject({ status: 'ready', database: 'ok', eventStore: 'ok', wakeups: 'live', projections: { status: 'ok' } });
  });
});
