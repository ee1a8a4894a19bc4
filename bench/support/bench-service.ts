/**
 * The whole service in this process, for the HTTP benchmarks: `createService` on a schema of its own,
 * `<bench schema>_service`, which createService migrates (the event store benchmarks' log would
 * otherwise be fed to the service's projectors), listening on a loopback port. The schema is dropped
 * when the run ends or fails, and, on a best-effort basis, when it is interrupted.
 */
import { loadConfig, type Config } from '../../infra/config/config';
import { silentLogger, type Logger } from '../../infra/logging/logger';
import { createService, type Service, type ServicePart } from '../../service';
import type { BenchSchema } from './bench-schema';
import { listenOnLoopback } from './http-client';

/** The service's pools (its pg pool and its knex pool each) and the baselines' pool have this many connections. */
export const SERVICE_POOL_MAX = 16;

/**
 * createPlatform names its connections `scriptorium-<role>`: these are this run's own service sessions,
 * which the activity monitor must not count as other work on the server.
 */
export const SERVICE_APPLICATION_NAMES = [
  'scriptorium-all',
  'scriptorium-all-leadership',
  'scriptorium-command-api',
  'scriptorium-command-api-leadership',
  // The documents benchmarks' deployed topology (deployed-service.ts): the two APIs here, the projectors in a child.
  'scriptorium-command-api+query-api',
  'scriptorium-command-api+query-api-leadership',
  'scriptorium-projectors',
  'scriptorium-projectors-leadership',
];

export interface RunningService {
  readonly service: Service;
  readonly config: Config;
  /** The logger the service was given (silent): a baseline that logs as the service does uses it too. */
  readonly logger: Logger;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Runs `use` with the name of a fresh service schema, and drops the schema afterwards. */
export async function withServiceSchema<T>(db: BenchSchema, use: (schema: string) => Promise<T>): Promise<T> {
  const schema = `${db.schema}_service`;
  const drop = (): Promise<unknown> => db.knex.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  // Runs before withBenchSchema's own handler (prepended), so the DROP is queued on the schema's knex
  // before that handler destroys it.
  const onSignal = (): void => void drop().catch(() => undefined);
  process.prependOnceListener('SIGINT', onSignal);
  process.prependOnceListener('SIGTERM', onSignal);
  try {
    return await use(schema);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await drop();
  }
}

/**
 * The service's settings for a benchmark, as environment variables: a process started with them (a
 * projector child, see projector-process.ts) is configured as the in-process service is. `extraEnv`
 * adds or overrides settings (NATS for the deployed topology).
 */
export function serviceEnv(db: BenchSchema, schema: string, extraEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_MAX: String(SERVICE_POOL_MAX),
    LOG_LEVEL: 'silent',
    RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: '1000000',
    RATE_LIMIT_LOGIN_FAILURES_PER_IP: '1000000',
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    ...extraEnv,
  };
}

/**
 * Starts the service on `schema` with limits that stay out of a benchmark's way (sign-ups and failed
 * log-ins per IP; access tokens that outlive the run) and a pool of SERVICE_POOL_MAX.
 */
export async function startService(
  db: BenchSchema,
  schema: string,
  parts?: readonly ServicePart[],
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<RunningService> {
  const config = loadConfig(serviceEnv(db, schema, extraEnv));
  const logger = silentLogger;
  const service = await createService(config, logger, parts ? { parts } : {});
  const server = await listenOnLoopback(service.app).catch(async (error: unknown) => {
    await service.close();
    throw error;
  });
  return {
    service,
    config,
    logger,
    baseUrl: server.baseUrl,
    async close() {
      await server.close();
      await service.close();
    },
  };
}
