/**
 * Route tables: each API declares its routes as data (method, path, who may call it, handler), so the
 * router, the authorization matrix test and the API documentation all read one list.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  /** `public`: no token needed; `user`: a valid access token. Resource rules are checked by the handler. */
  readonly access: 'public' | 'user';
  readonly summary: string;
  readonly handler: (req: Request, res: Response, next: NextFunction) => unknown;
}

export function mountRoutes(router: Router, routes: readonly RouteSpec[], authenticate: RequestHandler): void {
  for (const route of routes) {
    const handlers: RequestHandler[] = route.access === 'user' ? [authenticate] : [];
    handlers.push(async (req, res, next) => {
      try {
        await route.handler(req, res, next);
      } catch (error) {
        next(error);
      }
    });
    router[route.method](route.path, ...handlers);
  }
}
