/**
 * RFC 9457 problem details: the one shape every error answer has. Errors anywhere in the service carry
 * a stable `code` and a `kind`; this module maps the kind to a status in one place, and never lets a
 * stack trace or an internal message reach a client.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '../logging/logger';

export type ProblemKind =
  | 'invalid' // 400
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'gone' // 410
  | 'precondition_failed' // 412
  | 'payload_too_large' // 413
  | 'unsupported_media_type' // 415
  | 'unprocessable' // 422
  | 'precondition_required' // 428
  | 'too_many_requests' // 429
  | 'internal' // 500: a fault of ours, never a client's mistake
  | 'unavailable'; // 503

const STATUS: Record<ProblemKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  precondition_required: 428,
  too_many_requests: 429,
  internal: 500,
  unavailable: 503,
};

const TITLE: Record<ProblemKind, string> = {
  invalid: 'Bad Request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not Found',
  conflict: 'Conflict',
  gone: 'Gone',
  precondition_failed: 'Precondition Failed',
  payload_too_large: 'Content Too Large',
  unsupported_media_type: 'Unsupported Media Type',
  unprocessable: 'Unprocessable Content',
  precondition_required: 'Precondition Required',
  too_many_requests: 'Too Many Requests',
  internal: 'Internal Server Error',
  unavailable: 'Service Unavailable',
};

/** Any error with a stable code and a kind (domain errors are shaped the same, without importing this). */
export interface CodedError {
  readonly code: string;
  readonly kind: ProblemKind;
  readonly message: string;
  /** Extra members for the problem body (for example the current state on a 412). */
  readonly details?: Record<string, unknown>;
  /** Extra response headers (for example Retry-After). */
  readonly headers?: Record<string, string>;
}

export class Problem extends Error implements CodedError {
  constructor(
    readonly kind: ProblemKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'Problem';
  }
}

export function isCodedError(error: unknown): error is CodedError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as CodedError).code === 'string' &&
    typeof (error as CodedError).kind === 'string' &&
    (error as CodedError).kind in STATUS
  );
}

export function statusOf(kind: ProblemKind): number {
  return STATUS[kind];
}

export function sendProblem(res: Response, error: CodedError, instance?: string): void {
  const status = STATUS[error.kind];
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  res
    .status(status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `https://scriptorium.dev/problems/${error.code.toLowerCase().replace(/[._]/g, '-')}`,
        title: TITLE[error.kind],
        status,
        detail: error.message,
        code: error.code,
        ...(instance ? { instance } : {}),
        ...(error.details ?? {}),
      }),
    );
}

export const notFoundRoute: RequestHandler = (req, res) => {
  sendProblem(res, new Problem('not_found', 'HTTP.ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`), req.originalUrl);
};

const DATABASE_RETRY_AFTER_SECONDS = 1;

/** SQLSTATEs of a lost or refused session: class 08 (connection exception), server shutting down or starting, no slots. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P01|57P02|57P03|53300)$/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTCONN']);
// Anywhere in the message: knex puts the failed statement's SQL in front of the driver's words.
const UNAVAILABLE_MESSAGE = /(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection)/;

/**
 * Whether the request failed because the database could not be reached or dropped the session (a
 * restart, a failover, a full pool): not the client's mistake and not a bug, but a moment to retry in,
 * answered 503 with Retry-After. A write that failed this way was not acknowledged; whether it was
 * committed is what Idempotency-Key and client-chosen ids settle on the retry.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { code, message, name } = cause as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
    if (name === 'KnexTimeoutError') return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  }
  return false;
}

/** Express's body parser errors, mapped to the client mistakes they are. */
function fromBodyParser(error: { type?: string; status?: number; statusCode?: number }): CodedError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new Problem('payload_too_large', 'HTTP.BODY_TOO_LARGE', 'the request body is larger than allowed');
    case 'entity.parse.failed':
      return new Problem('invalid', 'HTTP.MALFORMED_JSON', 'the request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new Problem('unsupported_media_type', 'HTTP.UNSUPPORTED_ENCODING', 'the request body encoding is not supported');
    case 'request.aborted':
      return new Problem('invalid', 'HTTP.REQUEST_ABORTED', 'the request was aborted');
    case 'request.size.invalid':
      return new Problem('invalid', 'HTTP.BODY_SIZE_MISMATCH', 'the request body does not match its Content-Length');
    default: {
      const status = error.status ?? error.statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) return new Problem('invalid', 'HTTP.BAD_REQUEST', 'the request could not be read');
      return undefined;
    }
  }
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const coded = isCodedError(error) ? error : fromBodyParser(error as { type?: string });
    if (coded) {
      sendProblem(res, coded, req.originalUrl);
      return;
    }
    if (isDatabaseUnavailable(error)) {
      logger.warn({ err: error, method: req.method, url: req.originalUrl }, 'database unavailable');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const retryAfter = { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) };
      sendProblem(res, new Problem('unavailable', 'SERVICE.DATABASE_UNAVAILABLE', 'the database is unavailable for a moment; retry shortly', undefined, retryAfter), req.originalUrl);
      return;
    }
    logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, new Problem('internal', 'INTERNAL.UNEXPECTED', 'the service could not complete the request'), req.originalUrl);
  };
}
