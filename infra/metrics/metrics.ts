/**
 * Prometheus metrics of one service instance: its own prom-client Registry (never the global default,
 * so services started side by side in one process keep their counts apart), the instruments the
 * service records into, the Express middleware that times every request, and the `/metrics` handler.
 *
 * Labels name routes by their Express pattern (`/api/workspaces/:id`, or `unmatched`), never by URL,
 * so the number of series stays bounded whatever clients send.
 */
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { routePatternOf, UNMATCHED_ROUTE } from '../telemetry/route-pattern';

/** What became of a command, from its HTTP status. */
export type CommandOutcome = 'ok' | 'client_error' | 'conflict' | 'server_error';

export interface Metrics {
  readonly registry: Registry;
  /** Seconds from a request's arrival to its answer, by method, route pattern and status. */
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /** Commands answered, by method, route pattern and outcome. */
  readonly commandsTotal: Counter<'method' | 'route' | 'outcome'>;
  /** Events written to the log by this instance, by event type. */
  readonly eventsAppendedTotal: Counter<'type'>;
  /** 1, labelled with each projection's checkpoint position (one series per projection). */
  readonly projectionCheckpointInfo: Gauge<'projection' | 'position'>;
  /** Events in the log after a projection's checkpoint. */
  readonly projectionLagEvents: Gauge<'projection'>;
  /** Age in seconds of the oldest event a projection has not applied yet; 0 when it has applied all. */
  readonly projectionLagSeconds: Gauge<'projection'>;
  /** Runs `refresh` before every scrape (at most `scrapeRefreshTimeoutMs`); answers a function that stops it. */
  refreshBeforeScrape(refresh: () => Promise<unknown>): () => void;
  /** The `/metrics` handler: every metric of this registry in Prometheus' text format. */
  metricsRoute(): RequestHandler;
}

export interface MetricsOptions {
  /** Also export the process' CPU, memory, event loop and GC metrics (default true). */
  readonly processMetrics?: boolean;
  /** How long a scrape waits for refreshes before answering with the values it has (default 2 s). */
  readonly scrapeRefreshTimeoutMs?: number;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const refreshes = new Set<() => Promise<unknown>>();
  const refreshTimeoutMs = options.scrapeRefreshTimeoutMs ?? 2_000;

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'scriptorium_http_request_duration_seconds',
      help: 'Time from the arrival of an HTTP request to its answer, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    commandsTotal: new Counter({
      name: 'scriptorium_commands_total',
      help: 'Commands answered, by method, route pattern and outcome (ok, client_error, conflict, server_error)',
      labelNames: ['method', 'route', 'outcome'],
      registers,
    }),
    eventsAppendedTotal: new Counter({
      name: 'scriptorium_events_appended_total',
      help: 'Events appended to the log by this instance, by event type',
      labelNames: ['type'],
      registers,
    }),
    projectionCheckpointInfo: new Gauge({
      name: 'scriptorium_projection_checkpoint_info',
      help: "1 for each projection, labelled with its checkpoint's log position ('start' before its first batch)",
      labelNames: ['projection', 'position'],
      registers,
    }),
    projectionLagEvents: new Gauge({
      name: 'scriptorium_projection_lag_events',
      help: "Events in the log after the projection's checkpoint (counting stops at a cap)",
      labelNames: ['projection'],
      registers,
    }),
    projectionLagSeconds: new Gauge({
      name: 'scriptorium_projection_lag_seconds',
      help: 'Age of the oldest event the projection has not applied yet; 0 when it has applied every event',
      labelNames: ['projection'],
      registers,
    }),
    refreshBeforeScrape(refresh) {
      refreshes.add(refresh);
      return () => refreshes.delete(refresh);
    },
    metricsRoute() {
      return async (_req, res, next) => {
        try {
          // A failed or slow refresh must not fail the scrape: the values of the last refresh are served.
          await withTimeout(Promise.allSettled([...refreshes].map((refresh) => refresh())), refreshTimeoutMs);
          const body = await registry.metrics();
          res.setHeader('Content-Type', registry.contentType);
          res.setHeader('Cache-Control', 'no-store');
          res.status(200).send(body);
        } catch (error) {
          next(error);
        }
      };
    },
  };
}

/**
 * Times every request and counts commands. Mount it before the routes; it records when the answer is
 * sent (or the client goes away: status 499), with the route pattern the request matched. Requests
 * that matched one of `commands` (method and path, as in the command API's route table) also count in
 * `commandsTotal`.
 */
export function httpMetrics(
  metrics: Pick<Metrics, 'httpRequestDuration' | 'commandsTotal'>,
  options: { commands?: readonly { readonly method: string; readonly path: string }[] } = {},
): RequestHandler {
  const commands = new Set((options.commands ?? []).map((route) => `${route.method.toUpperCase()} ${route.path}`));
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const matched = routePatternOf(req);
      const route = matched ?? UNMATCHED_ROUTE;
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_REQUEST;
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(status) }, seconds);
      if (matched && res.writableFinished && commands.has(`${req.method} ${matched}`)) {
        metrics.commandsTotal.inc({ method: req.method, route, outcome: commandOutcomeOf(status) });
      }
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** nginx's status for a request whose client closed the connection before the answer. */
const CLIENT_CLOSED_REQUEST = 499;

export function commandOutcomeOf(status: number): CommandOutcome {
  if (status >= 500) return 'server_error';
  // 409: the decider refused, or a race was lost; 412: the client's If-Match is stale.
  if (status === 409 || status === 412) return 'conflict';
  if (status >= 400) return 'client_error';
  return 'ok';
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
