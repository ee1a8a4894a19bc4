/**
 * The composition root. `createService` builds the adapters and wires the chosen parts of the service
 * (command API, query API, projectors) into one Express app and one set of runners, from a validated
 * configuration; `runService` reads the environment once, listens, and drains on SIGTERM or SIGINT
 * (held requests answered, projectors commit the batch in hand, pools closed, within ten seconds).
 */
import express, { type Express, type RequestHandler } from 'express';
import type { Knex } from 'knex';
import { pinoHttp } from 'pino-http';
import { accountsRoutes } from './command-api/accounts/accounts-routes';
import { AggregateCache } from './command-api/aggregate-cache';
import { aiProxyRoutes } from './command-api/ai/ai-wiring';
import { circlesRoutes } from './command-api/circles/circles-routes';
import { publicLinksRoutes } from './command-api/sharing/public-links-routes';
import { sharesRoutes } from './command-api/sharing/shares-routes';
import { documentHistoryRoutes } from './command-api/documents/document-history-routes';
import { documentsRoutes } from './command-api/documents/documents-routes';
import { noteHistoryRoutes } from './command-api/notes/note-history-routes';
import { notesRoutes } from './command-api/notes/notes-routes';
import { prayerPointsRoutes } from './command-api/prayer-points/prayer-points-routes';
import { notificationsRoutes } from './command-api/notifications/notifications-routes';
import { remindersRoutes } from './command-api/reminders/reminders-routes';
import { workspacesRoutes } from './command-api/workspaces/workspaces-routes';
import { WorkspaceMembership } from './command-api/workspaces/membership';
import { attachmentsRoutes } from './command-api/attachments/attachments-routes';
import { exportsRoutes } from './command-api/exports/exports-routes';
import { ConfigError, loadConfig, type Config } from './infra/config/config';
import { authenticate, type AccessTokenVerifier } from './infra/http/authentication';
import { healthRoutes } from './infra/http/health';
import { listen, type RunningServer } from './infra/http/http-server';
import { idempotency, purgeExpired } from './infra/http/idempotency';
import { jsonBody } from './infra/http/json-body';
import { buildOpenApiDocument, DOCUMENTATION_ROUTES, documentationRoutes, type DocumentedRoute } from './infra/http/openapi';
import { notFoundRoute, problemHandler } from './infra/http/problem';
import { requestContext } from './infra/http/request-context';
import { mountRoutes, routersByMethod, type RouteSpec } from './infra/http/routes';
import { createLogger, type Logger } from './infra/logging/logger';
import { createMetrics, httpMetrics, type Metrics } from './infra/metrics/metrics';
import { ProjectionLagMonitor } from './infra/metrics/projection-lag';
import { httpLogOptions } from './infra/telemetry/http-logging';
import { traceRequests } from './infra/telemetry/http-tracing';
import { instrumentEventStore } from './infra/telemetry/instrumented-event-store';
import { startTracing } from './infra/telemetry/tracing';
import { createPlatform, type Platform } from './infra/platform';
import { AccessTokens } from './infra/security/access-tokens';
import { createPasswordHasher } from './infra/security/passwords';
import { sealedPasswordCredentials } from './infra/security/password-credentials';
import { RateLimits } from './infra/security/rate-limits';
import { RefreshTokens } from './infra/security/refresh-tokens';
import { loadSigningKeys } from './infra/security/signing-keys';
import { loadSecretBox } from './infra/security/secret-box';
import { PostgresAggregateSnapshots } from './infra/snapshots/aggregate-snapshots';
import { projectionNames, projections } from './projectors/projections';
import { startProjectors, type Projectors } from './projectors/projectors';
import { ProjectionProgress } from './projectors/runtime/projection-progress';
import { accountsQueries } from './query-api/accounts/accounts-queries';
import { aiUsageQueries } from './query-api/ai/ai-usage-queries';
import { circlesQueries } from './query-api/circles/circles-queries';
import { publicLinksQueries } from './query-api/sharing/public-links-queries';
import { sharedQueries } from './query-api/sharing/shared-queries';
import { documentsQueries } from './query-api/documents/documents-queries';
import { notesQueries } from './query-api/notes/notes-queries';
import { graphQueries } from './query-api/graph/graph-queries';
import { prayerPointsQueries } from './query-api/prayer-points/prayer-points-queries';
import { notificationsQueries } from './query-api/notifications/notifications-queries';
import { remindersQueries } from './query-api/reminders/reminders-queries';
import { startReminderWorkers, type ReminderWorkers } from './projectors/reminders/reminder-workers';
import { readYourWrites } from './query-api/consistency';
import { syncRoutes } from './query-api/sync/sync-routes';
import { attachmentsQueries } from './query-api/attachments/attachments-queries';
import { exportsQueries } from './query-api/exports/exports-queries';
import { objectDeletionReactor } from './projectors/attachments/object-deletion-reactor';
import type { ReactorLoop } from './projectors/attachments/reactor-loop';
import { exportReactor } from './projectors/exports/export-reactor';
import { PdfLayoutThread } from './projectors/exports/pdf-layout-thread';
import { storagePolicyFrom } from './infra/storage/storage-config';
import { purgeSyncTombstones } from './projectors/sync/sync-retention';
import { workspacesQueries } from './query-api/workspaces/workspaces-queries';

export type ServicePart = 'command-api' | 'query-api' | 'projectors';

/** Routes outside the two APIs' tables, documented all the same. */
const OPERATIONAL_ROUTES: readonly DocumentedRoute[] = [
  { method: 'get', path: '/healthz', access: 'public', summary: 'Liveness: the process answers', responses: { 200: '{status: "ok"}' } },
  { method: 'get', path: '/metrics', access: 'public', summary: 'Prometheus metrics of this instance', responses: { 200: 'Prometheus text format' } },
  { method: 'get', path: '/readyz', access: 'public', summary: 'Readiness: database, event store, wake-ups, projection lag', responses: { 200: 'Ready', 503: 'Not ready, with the reasons' } },
  ...DOCUMENTATION_ROUTES,
];
export const ALL_PARTS: readonly ServicePart[] = ['command-api', 'query-api', 'projectors'];

const SHUTDOWN_DEADLINE_MS = 10_000;

export interface Service {
  readonly app: Express;
  readonly platform: Platform;
  readonly projectors: Projectors | undefined;
  /** The reminder dispatcher and notification delivery worker (projectors part only). */
  readonly reminders: ReminderWorkers | undefined;
  readonly metrics: Metrics;
  /** Checks the access tokens this service issues (the benchmarks' like-for-like baseline authenticates with it). */
  readonly accessTokens: AccessTokenVerifier;
  readonly commandRoutes: readonly RouteSpec[];
  readonly queryRoutes: readonly RouteSpec[];
  /** Answers held requests (long polls) at once; call before closing the HTTP server. */
  beginShutdown(): void;
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly parts?: readonly ServicePart[];
  readonly clock?: () => Date;
}

export async function createService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  const parts = options.parts ?? ALL_PARTS;
  const clock = options.clock ?? (() => new Date());
  const role = parts.length === ALL_PARTS.length ? 'all' : parts.join('+');
  const platform = await createPlatform(config, logger, role);
  const { knex, wakeups } = platform;
  const metrics = createMetrics();
  const store = instrumentEventStore(platform.store, { metrics });
  // Given the adapter itself, not the instrumented store: with PostgreSQL the lag is one SQL count.
  const projectionLag = new ProjectionLagMonitor({ db: knex, store: platform.store, projections: projectionNames, metrics, logger });
  projectionLag.start();

  const keys = await loadSigningKeys({ configuredJwks: config.AUTH_SIGNING_KEYS, knex });
  // Seals what the log must keep but not show: password hashes and webhook secrets (command API);
  // the projectors open webhook secrets to sign deliveries.
  const secrets = await loadSecretBox({ configuredKeys: config.SECRETS_KEY, knex });
  const accessTokens = new AccessTokens(keys, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, clock });
  const progress = new ProjectionProgress(knex, wakeups, projectionNames);
  const membership = new WorkspaceMembership(knex, wakeups);
  const shutdown = new AbortController();
  const loginWindow = config.RATE_LIMIT_LOGIN_WINDOW_SECONDS;
  const storagePolicy = storagePolicyFrom(config);

  const commandRoutes: RouteSpec[] = parts.includes('command-api')
    ? [
        ...accountsRoutes({
          store,
          clock,
          passwords: sealedPasswordCredentials(createPasswordHasher(), secrets),
          accessTokens,
          refreshTokens: new RefreshTokens(knex, { lifetimeDays: config.REFRESH_TOKEN_LIFETIME_DAYS, clock }),
          rateLimits: new RateLimits(knex, {
            loginFailuresPerAccount: { points: config.RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT, durationSeconds: loginWindow, blockSeconds: loginWindow },
            loginFailuresPerIp: { points: config.RATE_LIMIT_LOGIN_FAILURES_PER_IP, durationSeconds: loginWindow, blockSeconds: loginWindow },
            signupsPerIp: { points: config.RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR, durationSeconds: 3_600 },
          }),
        }),
        ...workspacesRoutes({ store, clock, progress, logger }),
        ...attachmentsRoutes({ store, db: knex, clock, policy: storagePolicy, snapshots: new PostgresAggregateSnapshots(knex), cache: new AggregateCache(), progress }),
        ...exportsRoutes({ store, db: knex, clock, policy: storagePolicy }),
        ...aiProxyRoutes(config, { store, db: knex, clock }),
        ...circlesRoutes({ store, clock, progress, logger, inviteTtlHours: config.CIRCLE_INVITE_TTL_HOURS }),
        ...publicLinksRoutes({ store, db: knex, clock, snapshots: new PostgresAggregateSnapshots(knex), progress, logger }),
        ...sharesRoutes({ store, clock, progress, logger }),
        ...documentsRoutes({
          store,
          db: knex,
          clock,
          snapshots: new PostgresAggregateSnapshots(knex),
          cache: new AggregateCache(),
          maxContentBytes: config.DOCUMENT_MAX_CONTENT_BYTES,
          membership,
        }),
        ...documentHistoryRoutes({ store, membership, clock, snapshots: new PostgresAggregateSnapshots(knex) }),
        ...notesRoutes({
          store,
          clock,
          snapshots: new PostgresAggregateSnapshots(knex),
          cache: new AggregateCache(),
          maxContentBytes: config.DOCUMENT_MAX_CONTENT_BYTES,
        }),
        ...noteHistoryRoutes({ store, clock, snapshots: new PostgresAggregateSnapshots(knex) }),
        ...prayerPointsRoutes({ store, clock, cache: new AggregateCache() }),
        ...remindersRoutes({ store, clock, emailAvailable: config.SMTP_URL !== undefined, secrets }),
        ...notificationsRoutes({ store, db: knex, clock }),
      ]
    : [];
  const queryRoutes: RouteSpec[] = parts.includes('query-api')
    ? [
        ...accountsQueries({ db: knex, jwks: () => accessTokens.jwks() }),
        ...workspacesQueries({ db: knex }),
        ...attachmentsQueries({ db: knex, policy: storagePolicy }),
        ...exportsQueries({ db: knex, policy: storagePolicy, clock }),
        ...aiUsageQueries({ db: knex, clock }),
        ...circlesQueries({ db: knex }),
        ...publicLinksQueries({ db: knex, clock }),
        ...sharedQueries({ db: knex }),
        ...documentsQueries({ db: knex }),
        ...notesQueries({ db: knex }),
        ...prayerPointsQueries({ db: knex }),
        ...remindersQueries({ db: knex }),
        ...notificationsQueries({ db: knex, wakeups, shutdown: shutdown.signal }),
        ...graphQueries({ db: knex }),
        ...syncRoutes({ db: knex, wakeups, shutdown: shutdown.signal }),
      ]
    : [];

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxySetting(config.TRUST_PROXY));
  app.use(...requestPipeline(logger, metrics, commandRoutes));
  app.get('/metrics', metrics.metricsRoute());
  app.use(
    healthRoutes({
      pool: platform.pool,
      wakeups,
      store,
      // Stale read models are the query API's problem; the other parts stay ready while projections catch up.
      ...(parts.includes('query-api') ? { projectionLag: () => projectionLag.current(), maxProjectionLagSeconds: config.READY_MAX_PROJECTION_LAG_SECONDS } : {}),
    }),
  );
  app.use(documentationRoutes(() => buildOpenApiDocument([...OPERATIONAL_ROUTES, ...queryRoutes, ...commandRoutes], { title: 'Scriptorium API', version: '0.1.0' })));
  mountApiRoutes(app, {
    queryRoutes,
    commandRoutes,
    authenticate: authenticate(accessTokens),
    jsonBodyLimitBytes: config.JSON_BODY_LIMIT_BYTES,
    readYourWrites: readYourWrites(progress, { timeoutMs: config.CONSISTENCY_WAIT_MS, shutdown: shutdown.signal }),
    idempotency: idempotency({ knex, clock, retentionDays: config.IDEMPOTENCY_RETENTION_DAYS, lockTimeoutMs: config.IDEMPOTENCY_LOCK_TIMEOUT_MS, logger, secrets }),
  });
  app.use(notFoundRoute);
  app.use(problemHandler(logger));

  const projectors = parts.includes('projectors')
    ? startProjectors({ store, db: knex, wakeups, logger, projections, batchSize: config.PROJECTION_BATCH_SIZE, lingerMs: config.PROJECTION_LINGER_MS, leadership: platform.leadership })
    : undefined;
  const housekeeping = parts.includes('projectors') ? startHousekeeping(knex, config, clock, logger) : undefined;
  // Storage reactors (object deletion, export building and expiry) run beside the projections when there is a bucket.
  const objectStorage = storagePolicy.storage;
  const pdfLayout = new PdfLayoutThread();
  const storageReactors: ReactorLoop[] =
    parts.includes('projectors') && objectStorage
      ? [
          objectDeletionReactor({ store, db: knex, storage: objectStorage, wakeups, logger: logger.child({ reactor: 'object-deletion' }), clock }),
          exportReactor({ store, db: knex, storage: objectStorage, wakeups, logger: logger.child({ reactor: 'exports' }), clock, expiryHours: config.EXPORT_EXPIRY_HOURS, progress, pdfLayout }),
        ]
      : [];
  for (const reactor of storageReactors) reactor.start();
  const reminderWorkers = parts.includes('projectors') ? startReminderWorkers({ store, db: knex, wakeups, clock, logger, config, secrets }) : undefined;

  return {
    app,
    platform,
    projectors,
    reminders: reminderWorkers,
    metrics,
    accessTokens,
    commandRoutes,
    queryRoutes,
    beginShutdown() {
      shutdown.abort();
    },
    async close() {
      shutdown.abort();
      if (housekeeping) clearInterval(housekeeping);
      await Promise.all(storageReactors.map((reactor) => reactor.stop()));
      await pdfLayout.close();
      progress.close();
      membership.close();
      projectionLag.stop();
      await reminderWorkers?.stop();
      await projectors?.stop();
      await platform.close();
    },
  };
}

/**
 * What every request passes first, in this order: its id and context, its trace, its log line, its
 * metrics. Exported so that a benchmark's baseline route runs exactly the service's front of the stack.
 */
export function requestPipeline(logger: Logger, metrics: Metrics, commandRoutes: readonly RouteSpec[]): RequestHandler[] {
  return [requestContext(), traceRequests(), pinoHttp({ logger, ...httpLogOptions() }), httpMetrics(metrics, { commands: commandRoutes })];
}

export interface ApiRoutes {
  readonly queryRoutes: readonly RouteSpec[];
  readonly commandRoutes: readonly RouteSpec[];
  readonly authenticate: RequestHandler;
  readonly jsonBodyLimitBytes: number;
  /** Before every query route (query-api/consistency.ts). */
  readonly readYourWrites?: RequestHandler;
  /** On the signed-in mutating command routes (infra/http/idempotency.ts). */
  readonly idempotency?: RequestHandler;
}

/**
 * The query routes, then the command routes (with their JSON body checks), one router per method, so
 * that a request meets only its own method's middleware and paths (routersByMethod).
 */
export function mountApiRoutes(app: Express, routes: ApiRoutes): void {
  for (const queries of routersByMethod(routes.queryRoutes, (router, own) => {
    if (routes.readYourWrites) router.use(routes.readYourWrites);
    mountRoutes(router, own, routes.authenticate);
  })) {
    app.use(queries);
  }
  const commandBody = jsonBody({ limitBytes: routes.jsonBodyLimitBytes });
  for (const commands of routersByMethod(routes.commandRoutes, (router, own) => {
    router.use(...commandBody);
    mountRoutes(router, own, routes.authenticate, routes.idempotency ? { idempotency: routes.idempotency } : {});
  })) {
    app.use(commands);
  }
}

/** Periodic upkeep of the projectors part: purging sync tombstones and idempotency keys past their retention. */
function startHousekeeping(knex: Knex, config: Config, clock: () => Date, logger: Logger): NodeJS.Timeout {
  const upkeep = async () => {
    await purgeSyncTombstones(knex, clock(), config.SYNC_TOMBSTONE_RETENTION_DAYS).catch((error: unknown) => logger.warn({ err: error }, 'tombstone purge failed'));
    await purgeExpired(knex, clock()).catch((error: unknown) => logger.warn({ err: error }, 'idempotency key purge failed'));
  };
  const timer = setInterval(() => void upkeep(), 60 * 60 * 1000);
  timer.unref();
  return timer;
}

function trustProxySetting(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`scriptorium: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

export async function runService(parts: readonly ServicePart[]): Promise<void> {
  const config = readConfig();
  const role = parts.length === ALL_PARTS.length ? 'all' : parts.join('+');
  const logger = createLogger({ level: config.LOG_LEVEL, name: `scriptorium-${role}` });
  const tracing = startTracing({ exporter: config.TRACES_EXPORTER });
  const service = await createService(config, logger, { parts });

  let server: RunningServer | undefined;
  if (parts.includes('command-api') || parts.includes('query-api')) {
    server = await listen(service.app, config.HOST, config.PORT, {
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      maxHeaderBytes: config.HTTP_MAX_HEADER_BYTES,
    });
    process.stdout.write(`Scriptorium (${role}) is listening on ${server.url}\n`);
  }
  logger.info({ parts, url: server?.url, store: config.EVENTSTORE_CONNECTION_STRING ? 'eventstoredb' : 'postgres' }, 'started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const deadline = setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    service.beginShutdown();
    await server?.close(SHUTDOWN_DEADLINE_MS - 3_000);
    await service.close();
    await tracing.shutdown();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export function runServiceOrExit(parts: readonly ServicePart[]): void {
  runService(parts).catch((error: unknown) => {
    process.stderr.write(`scriptorium: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
