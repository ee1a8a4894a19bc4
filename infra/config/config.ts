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
  /** After a batch of several events, a projection waits this long before reading the next, so batches grow under load (0: never). */
  PROJECTION_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(10),
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
  /** A client must send its complete request headers within this (408 otherwise): Slowloris. */
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.max(600_000).default(10_000),
  /** A client must send its complete request, body included, within this (408 otherwise). */
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.max(3_600_000).default(60_000),
  /** Largest request line plus headers, in bytes (431 beyond). */
  HTTP_MAX_HEADER_BYTES: positiveInt.min(1_024).max(1_048_576).default(16_384),
  /** How long the sync feed keeps tombstones (deletes) for offline clients; older cursors get 410. */
  SYNC_TOMBSTONE_RETENTION_DAYS: positiveInt.max(3_650).default(90),
  /** How long a query carrying X-Consistency-Token waits for the read models before a 503. */
  CONSISTENCY_WAIT_MS: positiveInt.max(30_000).default(5_000),
  /** Private Ed25519 JWKs (JSON array, first one signs); unset: keys generated once and kept in the database. */
  AUTH_SIGNING_KEYS: optionalString,
  /**
   * Keys that seal secrets kept in the log (webhook secrets, AES-256-GCM): comma-separated
   * `[keyId:]<base64 of 32 bytes>`, the first sealing, all opening; unset: generated once and kept in the database.
   */
  SECRETS_KEY: optionalString,
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
  /** How long a circle invite stays usable when its request names no expiry. */
  CIRCLE_INVITE_TTL_HOURS: positiveInt.max(24 * 365).default(168),
  /** AI proxy: a provider is configured when its key is set; with none, the proxy is off (503 AI.DISABLED). */
  AI_OPENAI_BASE_URL: z.string().url().default('https://api.openai.com/v1'),
  AI_OPENAI_API_KEY: optionalString,
  /** Comma-separated models the OpenAI-compatible provider may be asked for (the allow-list). */
  AI_OPENAI_MODELS: z.string().default('gpt-4o-mini'),
  AI_ANTHROPIC_BASE_URL: z.string().url().default('https://api.anthropic.com'),
  AI_ANTHROPIC_API_KEY: optionalString,
  AI_ANTHROPIC_MODELS: z.string().default('claude-3-5-haiku-latest'),
  /** `provider:model` that paraphrases passages; unset: the first allowed model of the first configured provider. */
  AI_PARAPHRASE_MODEL: optionalString,
  /** Each provider call's timeout (for a stream: until it starts, then between chunks). */
  AI_TIMEOUT_MS: positiveInt.default(30_000),
  AI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  AI_RETRY_BASE_DELAY_MS: positiveInt.default(250),
  /** Failed calls in a row that open a provider's circuit, and how long it then stays open. */
  AI_CIRCUIT_FAILURE_THRESHOLD: positiveInt.default(5),
  AI_CIRCUIT_OPEN_SECONDS: positiveInt.default(30),
  AI_MAX_OUTPUT_TOKENS: positiveInt.max(100_000).default(1_024),
  AI_REQUESTS_PER_USER_PER_MINUTE: positiveInt.default(20),
  AI_TOKENS_PER_USER_PER_DAY: positiveInt.default(200_000),
  /** The deployment's AI spending per UTC day, in USD (0: no cap). */
  AI_DAILY_SPENDING_CAP_USD: z.coerce.number().min(0).max(2_000).default(20),
  AI_PRICE_INPUT_USD_PER_MILLION_TOKENS: z.coerce.number().min(0).default(1),
  AI_PRICE_OUTPUT_USD_PER_MILLION_TOKENS: z.coerce.number().min(0).default(4),
  /** Safety check: longest prompt (with its context) and answer, in characters, and blocked terms (comma-separated). */
  AI_MAX_PROMPT_CHARS: positiveInt.default(32_000),
  AI_MAX_OUTPUT_CHARS: positiveInt.default(32_000),
  AI_BLOCKLIST: optionalString,
  /** S3-compatible object storage for attachments and exports; STORAGE_BUCKET unset: storage is off (its routes answer 503). */
  STORAGE_BUCKET: optionalString,
  /** The S3 API address (MinIO, R2, ...); unset: AWS S3 for STORAGE_REGION. */
  STORAGE_ENDPOINT: optionalString.pipe(z.string().url().optional()),
  /** The address clients reach the bucket at, which presigned URLs are signed for; unset: STORAGE_ENDPOINT. */
  STORAGE_PUBLIC_ENDPOINT: optionalString.pipe(z.string().url().optional()),
  STORAGE_REGION: z.string().trim().min(1).default('us-east-1'),
  /** Unset: the AWS SDK's default credential chain (instance roles, AWS_* variables). */
  STORAGE_ACCESS_KEY_ID: optionalString,
  STORAGE_SECRET_ACCESS_KEY: optionalString,
  /** Bucket in the path (`http://host/bucket/key`), as MinIO and s3rver want. */
  STORAGE_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** Comma-separated content types an upload may have. */
  UPLOAD_ALLOWED_CONTENT_TYPES: z
    .string()
    .default('image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/markdown,audio/mpeg,audio/mp4')
    .transform((value) => value.split(',').map((type) => type.trim().toLowerCase()).filter((type) => type !== ''))
    .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'must be type/subtype')).min(1)),
  /** Largest attachment, in bytes. */
  UPLOAD_MAX_BYTES: positiveInt.default(25 * 1024 * 1024),
  /** How long a presigned upload stays usable (at most five minutes). */
  UPLOAD_URL_EXPIRY_SECONDS: positiveInt.max(300).default(300),
  /** How long a presigned download (attachment or export) stays usable. */
  DOWNLOAD_URL_EXPIRY_SECONDS: positiveInt.max(3_600).default(300),
  /** Bytes of attachments each user may hold. */
  STORAGE_QUOTA_BYTES: positiveInt.default(1024 * 1024 * 1024),
  /** Hours a finished export stays downloadable before it and its object are deleted. */
  EXPORT_EXPIRY_HOURS: positiveInt.max(24 * 365).default(24),
  /** Reminders: longest sleep of the dispatcher between scans (it wakes sooner for the next due reminder). */
  REMINDER_DISPATCH_INTERVAL_MS: positiveInt.max(60_000).default(1_000),
  /** Reminders a dispatcher fires at once. */
  REMINDER_DISPATCH_CONCURRENCY: positiveInt.max(64).default(8),
  /** How often the notification worker plans and sends webhook and e-mail deliveries. */
  NOTIFICATION_DELIVERY_INTERVAL_MS: positiveInt.max(60_000).default(1_000),
  /** Attempts per delivery before it counts as failed. */
  NOTIFICATION_DELIVERY_MAX_ATTEMPTS: positiveInt.max(50).default(8),
  /** Wait after the first failed attempt; doubled after each further one, up to the maximum. */
  NOTIFICATION_RETRY_BASE_MS: positiveInt.default(2_000),
  NOTIFICATION_RETRY_MAX_MS: positiveInt.default(60 * 60 * 1000),
  /** How long a webhook endpoint (or the SMTP server) may take to answer. */
  WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(5_000),
  /** `true` lets webhooks go to loopback and private addresses (development, tests); otherwise they are refused. */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** The SMTP server for e-mail notifications, e.g. smtp://user:pass@mail.example.com:587; unset: no e-mail. */
  SMTP_URL: optionalString.pipe(z.string().url().optional()),
  /** The From address of notification e-mails. */
  MAIL_FROM: z.string().trim().min(3).default('Scriptorium <no-reply@localhost>'),
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
