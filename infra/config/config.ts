/**
 * Configuration: read from the environment once, at start, by the entry point, and validated with zod.
 * A bad or missing value stops the process with one message naming the variable. Nothing else in the
 * code reads process.env.
 */
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  /** The PostgreSQL server; unset: the embedded database in DATA_DIR (one process, nothing to install). */
  DATABASE_URL: optionalString.pipe(z.string().url().optional()),
  /** Where the embedded database keeps its files when DATABASE_URL is unset. */
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('scriptorium'),
  DATABASE_POOL_MAX: positiveInt.default(10),
  NATS_URL: optionalString,
  NATS_SUBJECT_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).default('scriptorium'),
  EVENTSTORE_CONNECTION_STRING: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where spans go: `none` (tracing off) or `console` (stdout, for development). */
  TRACES_EXPORTER: z.enum(['none', 'console']).default('none'),
  /** /readyz of a query API answers 503 while a projection trails the log by more seconds than this. */
  READY_MAX_PROJECTION_LAG_SECONDS: positiveInt.default(60),
  PROJECTION_BATCH_SIZE: positiveInt.max(10_000).default(500),
  /** How often readers poll the log while NATS wake-ups are live (a safety net for lost wake-ups). */
  LOG_POLL_LIVE_MS: positiveInt.default(2_000),
  /** How often readers poll the log while NATS is down or not configured. */
  LOG_POLL_FALLBACK_MS: positiveInt.default(100),
  /** `true`, a hop count, or a list of trusted proxy addresses (Express's `trust proxy`); default: none. */
  TRUST_PROXY: optionalString,
  /** Largest document content, in UTF-8 bytes (413 beyond). */
  DOCUMENT_MAX_CONTENT_BYTES: positiveInt.default(2 * 1024 * 1024),
  /** Largest request body: room for a largest document whose JSON escaping doubles it. */
  JSON_BODY_LIMIT_BYTES: positiveInt.default(4 * 1024 * 1024 + 64 * 1024),
  /** How long the sync feed keeps tombstones (deletes) for offline clients; older cursors get 410. */
  SYNC_TOMBSTONE_RETENTION_DAYS: positiveInt.max(3_650).default(90),
  /** How long a query carrying X-Consistency-Token waits for the read models before a 503. */
  CONSISTENCY_WAIT_MS: positiveInt.max(30_000).default(5_000),
  /** Private Ed25519 JWKs (JSON array, first one signs); unset: keys generated once and kept in the database. */
  AUTH_SIGNING_KEYS: optionalString,
  AUTH_ISSUER: z.string().min(1).default('scriptorium'),
  AUTH_AUDIENCE: z.string().min(1).default('scriptorium-api'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(3_600).default(900),
  REFRESH_TOKEN_LIFETIME_DAYS: positiveInt.max(365).default(30),
  RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: positiveInt.default(10),
  RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: positiveInt.default(5),
  RATE_LIMIT_LOGIN_FAILURES_PER_IP: positiveInt.default(20),
  /** Window and block time of the login-failure limits. */
  RATE_LIMIT_LOGIN_WINDOW_SECONDS: positiveInt.default(900),
  /** How long an Idempotency-Key and its stored answer are kept: offline clients retry late. */
  IDEMPOTENCY_RETENTION_DAYS: positiveInt.max(3_650).default(30),
  /** After how long a request still holding its Idempotency-Key counts as abandoned (its process died). */
  IDEMPOTENCY_LOCK_TIMEOUT_MS: positiveInt.default(60_000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((key) => [key, env[key]]));
  const parsed = configSchema.safeParse(known);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
}
