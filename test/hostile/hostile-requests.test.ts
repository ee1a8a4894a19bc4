/**
 * Hostile input against every route of both APIs: random JSON bodies and query strings (with
 * `__proto__` and `constructor` keys, huge strings, wrong types), garbage path ids and wrong content
 * types, all from a signed-in user. Whatever arrives, the answer is a 4xx or a success, never a 5xx,
 * and it is JSON or empty, never a stack trace.
 */
import fc from 'fast-check';
import type { RouteSpec } from '../../infra/http/routes';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

jest.setTimeout(120_000);

const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id', 'title', 'content', 'email', 'name', 'role', '');
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ maxLength: 20 }),
  fc.constant('x'.repeat(5_000)),
  fc.constant('\u0000\uffff\ud800'),
  fc.integer(),
  fc.double(),
  fc.constant(null),
);
const nastyObject = fc.dictionary(nastyKey, nastyValue, { maxKeys: 6 });
const pathId = fc.oneof(fc.uuid(), fc.constantFrom('..', '%00', 'null', '-1', '9'.repeat(40), 'a'.repeat(300)));

describe('hostile requests', () => {
  let t: TestService;
  let user: SignedUpUser;
  let routes: RouteSpec[];
  beforeAll(async () => {
    t = await startTestService('hostile');
    user = await signUp(t.http);
    routes = [...t.service.queryRoutes, ...t.service.commandRoutes].filter((route) => route.path !== '/api/auth/signup' && route.path !== '/api/auth/login');
  });
  afterAll(() => t.close());

  it('never answers a 5xx or leaks a stack trace, whatever the body, query or path', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 1_000 }),
        pathId,
        nastyObject,
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'query', 'wait', 'from', 'to', 'includeDeleted', '__proto__'), fc.string({ maxLength: 30 })),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
        async (routeIndex, id, body, query, contentType) => {
          const route = routes[routeIndex % routes.length]!;
          const path = route.path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(id));
          const request = t.http[route.method](path).set(user.auth).query({ ...query, wait: '0' });
          const res = route.method === 'get' ? await request : await request.set('Content-Type', contentType).send(contentType.startsWith('application/json') ? JSON.stringify(body) : 'a=b');
          sent++;
          const text = res.text ?? '';
          if (res.status >= 500 || /\bat .+\.(ts|js):\d+/.test(text)) {
            throw new Error(`${route.method.toUpperCase()} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
          }
        },
      ),
      { numRuns: 600, seed: 20261122 },
    );
    expect(sent).toBe(600);
  });

  it('refuses malformed and oversized bodies with 4xx on the public routes too', async () => {
    for (const path of ['/api/auth/signup', '/api/auth/login', '/api/auth/refresh']) {
      for (const body of ['{', '[]', 'null', '"x"', '{"__proto__": {"admin": true}}', JSON.stringify({ email: 1, password: [] })]) {
        const res = await t.http.post(path).set('Content-Type', 'application/json').send(body);
        expect([path, body, res.status >= 400 && res.status < 500]).toEqual([path, body, true]);
      }
    }
    const huge = await t.http.post('/api/auth/login').set('Content-Type', 'application/json').send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(6_000_000) }));
    expect(huge.status).toBe(413);
  });
});
