/**
 * The logger every part receives: pino's JSON lines. Redaction keeps secrets and user content out of
 * logs wherever they would appear under these paths.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'currentPassword',
  'newPassword',
  'token',
  '*.token',
  'accessToken',
  'refreshToken',
  '*.accessToken',
  '*.refreshToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'secret',
  '*.secret',
  'webhook.secret',
  '*.webhook.secret',
  'content',
  '*.content',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      name: options.name ?? 'scriptorium',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and tools that do not want output. */
export const silentLogger: Logger = pino({ level: 'silent' });
