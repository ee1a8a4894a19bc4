/**
 * Route tables: each API declares its routes as data (method, path, who may call it, handler), so the
 * router, the authorization matrix test and the API documentation all read one list.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ZodType } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  /** `public`: no token needed; `user`: a valid access token. Resource rules are checked by the handler. */
  readonly access: 'public' | 'user';
  readonly summary: string;
  /** The schemas the handler validates with (the API documentation is generated from these). */
  readonly body?: ZodType;
  readonly query?: ZodType;
  /** Success statuses and what they carry, for the API documentation. */
  readonly responses?: Readonly<Record<number, string>>;
  readonly handler: (req: Request, res: Response, next: NextFunction) => unknown;
}

export interface MountOptions {
  /** Runs after authentication on the mutating routes of signed-in users: Idempotency-Key (idempotency.ts). */
  readonly idempotency?: RequestHandler;
}

const MUTATING_METHODS: ReadonlySet<HttpMethod> = new Set(['post', 'put', 'patch', 'delete']);

export function mountRoutes(router: Router, routes: readonly RouteSpec[], authenticate: RequestHandler, options: MountOptions = {}): void {
  for (const route of routes) {
    const handlers: RequestHandler[] = route.access === 'user' ? [authenticate] : [];
    if (route.access === 'user' && options.idempotency && MUTATING_METHODS.has(route.method)) handlers.push(options.idempotency);
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

/**
 * One router per HTTP method of `routes`, each set up by `setUp` (its middleware, then its routes) and
 * left at once by a request of another method (`next('router')`), so that a request only meets the
 * middleware and path patterns of its own method's routes (GET's router also takes HEAD).
 */
export function routersByMethod(routes: readonly RouteSpec[], setUp: (router: Router, routes: readonly RouteSpec[]) => void): Router[] {
  const methods = [...new Set(routes.map((route) => route.method))];
  return methods.map((method) => {
    const accepted = new Set(method === 'get' ? ['GET', 'HEAD'] : [method.toUpperCase()]);
    const router = express.Router();
    router.use((req, _res, next) => (accepted.has(req.method) ? next() : next('router')));
    setUp(
      router,
      routes.filter((route) => route.method === method),
    );
    return router;
  });
}
