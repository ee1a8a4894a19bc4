/**
 * What every command route does around the domain: build the command context from the request and
 * the clock, and answer with the resulting state, its ETag, and the log position written
 * (X-Consistency-Token), which any query may name to read its own write.
 */
import type { Request, Response } from 'express';
import { etagOf } from '../infra/http/conditional';
import { Problem } from '../infra/http/problem';
import type { LogPosition } from '../infra/event-store/log-position';
import type { CommandContext } from './command-handling';

export const CONSISTENCY_HEADER = 'X-Consistency-Token';

export function commandContext(req: Request, now: Date): CommandContext {
  return { actorId: req.auth?.userId ?? null, correlationId: req.requestId, causationId: req.requestId, now };
}

export function actorOf(req: Request): string {
  if (!req.auth) throw new Problem('unauthorized', 'AUTH.TOKEN_REQUIRED', 'a bearer access token is required');
  return req.auth.userId;
}

export function respond(
  res: Response,
  status: number,
  body: unknown,
  options: { revision?: bigint | 'no_stream'; position?: LogPosition; location?: string } = {},
): void {
  if (typeof options.revision === 'bigint') res.setHeader('ETag', etagOf(options.revision));
  if (options.position) res.setHeader(CONSISTENCY_HEADER, options.position);
  if (options.location) res.setHeader('Location', options.location);
  if (body === undefined) res.status(status).end();
  else res.status(status).json(body);
}

/** Path ids are UUIDs; anything else names nothing that exists (404, like any unknown id). */
export function pathId(req: Request, name: string, notFoundCode: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new Problem('not_found', notFoundCode, 'no such resource');
  }
  return value.toLowerCase();
}
