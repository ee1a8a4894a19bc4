/**
 * API documentation generated from the route tables: each route's method, path, summary, access,
 * and the very zod schemas its handler validates with. Served as OpenAPI 3.1 at /openapi.json and as
 * an interactive page at /docs (Swagger UI, shipped with the service: no network needed).
 */
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { Router } from 'express';
import path from 'node:path';
import { z } from 'zod';
import type { RouteSpec } from './routes';

export type DocumentedRoute = Pick<RouteSpec, 'method' | 'path' | 'access' | 'summary' | 'body' | 'query' | 'responses'>;

// The generator needs zod's prototype extended once (it adds `.openapi()`; validation is unchanged).
extendZodWithOpenApi(z);

const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  instance: z.string().optional(),
});

/** `/api/documents/:id` -> `/api/documents/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

export function buildOpenApiDocument(routes: readonly DocumentedRoute[], info: { title: string; version: string }) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const problemSchema = registry.register('Problem', problem);
  for (const route of routes) {
    const params = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]!);
    const success = Object.entries(route.responses ?? { 200: 'OK' });
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      summary: route.summary,
      ...(route.access === 'user' ? { security: [{ [bearer.name]: [] }] } : {}),
      request: {
        ...(route.access === 'user' && route.method !== 'get'
          ? { headers: z.object({ 'Idempotency-Key': z.string().min(1).max(255).optional().describe('Makes a retry replay the first answer (see docs/sync.md)') }) }
          : {}),
        ...(params.length ? { params: z.object(Object.fromEntries(params.map((name) => [name, z.string()]))) } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.body ? { body: { content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses: {
        ...Object.fromEntries(success.map(([status, description]) => [status, { description }])),
        default: { description: 'An RFC 9457 problem', content: { 'application/problem+json': { schema: problemSchema } } },
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info });
}

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Scriptorium API</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });`;

export const DOCUMENTATION_ROUTES: readonly DocumentedRoute[] = [
  { method: 'get', path: '/openapi.json', access: 'public', summary: 'This API description (OpenAPI 3.1)' },
  { method: 'get', path: '/docs', access: 'public', summary: 'Interactive API documentation' },
];

export function documentationRoutes(document: () => object): Router {
  const router = Router();
  let cached: object | undefined;
  router.get('/openapi.json', (_req, res) => {
    cached ??= document();
    res.json(cached);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT);
  });
  router.use('/docs/assets', express.static(path.dirname(require.resolve('swagger-ui-dist/package.json')), { index: false, maxAge: '1d' }));
  return router;
}
