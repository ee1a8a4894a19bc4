/**
 * The API documentation matches the router: every route the Express app answers is in /openapi.json,
 * and every documented route exists. Request bodies are documented from the handlers' own schemas.
 */
import type { Express } from 'express';
import { startTestService, type TestService } from '../support/test-service';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  name?: string;
}

/** Every (method, path) the app routes, walking nested routers. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

describe('API documentation', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('openapi');
  });
  afterAll(() => t.close());

  it('serves OpenAPI 3.1 that documents exactly the routes the app has', async () => {
    const res = await t.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const routed = routesOf(t.service.app).filter((route) => route !== 'get /docs/init.js'); // part of the /docs page
    expect(new Set(documented)).toEqual(new Set(routed));
    expect(documented.length).toBe(routed.length);
  });

  it('documents request bodies and queries from the validating schemas, and marks protected routes', async () => {
    const { body } = await t.http.get('/openapi.json');
    const signup = body.paths['/api/auth/signup'].post;
    const schema = signup.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties).sort()).toEqual(['displayName', 'email', 'password']);
    expect(schema.additionalProperties).toBe(false);
    expect(signup.security).toBeUndefined();
    const put = body.paths['/api/documents/{id}'].put;
    expect(put.security).toEqual([{ bearer: [] }]);
    expect(put.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toContain('path:id');
    const since = body.paths['/api/sync/since'].get;
    expect(since.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit', 'wait']);
  });

  it('serves the interactive documentation without the network', async () => {
    const page = await t.http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/docs/assets/swagger-ui-bundle.js');
    const bundle = await t.http.get('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });
});
