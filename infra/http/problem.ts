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
    logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, new Problem('internal', 'INTERNAL.UNEXPECTED', 'the service could not complete the request'), req.originalUrl);
  };
}
