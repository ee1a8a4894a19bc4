/**
 * The route a request matched, as its Express pattern (`/api/workspaces/:id`), never the raw URL: what
 * metrics label, spans name and logs show, so ids and other values stay out of them and series stay few.
 */
import type { Request } from 'express';

/** Undefined when no route matched (a 404 from the fallback handler). */
export function routePatternOf(req: Request): string | undefined {
  // Express types `req.route` as any; it is the matched Route, whose `path` is the pattern.
  const route: unknown = req.route;
  if (typeof route !== 'object' || route === null) return undefined;
  const path: unknown = (route as { path?: unknown }).path;
  if (typeof path !== 'string') return undefined;
  return `${req.baseUrl}${path}`;
}

/** The label of a request that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';
