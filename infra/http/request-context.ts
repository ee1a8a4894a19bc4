/**
 * Per-request context: a request id (the client's X-Request-Id when it is sane, else a new one), echoed
 * in the response and carried into events as their correlation id, and the authenticated user.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      requestId: string;
      auth?: { readonly userId: string; readonly sessionId?: string };
    }
  }
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const offered = req.header('x-request-id');
    req.requestId = offered && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    next();
  };
}
