/**
 * Hostile input against the prayer point and graph routes only (the shared hostile test spreads its runs
 * over every route): random JSON bodies and query strings with the keys these routes read, NUL and lone
 * surrogates, huge strings, wrong types, garbage path ids. The answer is a 4xx or a success, never a 5xx.
 */
import fc from 'fast-check';
import type { RouteSpec } from '../../infra/http/routes';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

jest.setTimeout(120_000);

const nastyString = fc.oneof(fc.string({ maxLength: 20 }), fc.constant('x'.repeat(5_000)), fc.constant('\u0000\uffff\ud800'), fc.constant('Romans 8:28'), fc.constant('Rom.8'));
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nastyString, fc.array(nastyString, { maxLength: 3 }), fc.integer(), fc.constant(null));
const bodyKey = fc.constantFrom('__proto__', 'id', 'title', 'details', 'noteIds', 'passages', 'answeredAt', 'testimony');
const queryKey = fc.constantFrom('limit', 'cursor', 'status', 'passage', 'tag', '__proto__');
const pathId = fc.oneof(fc.uuid(), fc.constantFrom('..', '%00', 'null', '-1', '9'.repeat(40), 'a'.repeat(300)));

describe('hostile requests to prayer points and the graph', () => {
  let t: TestService;
  let user: SignedUpUser;
  let routes: RouteSpec[];
  let ownPoint: string;
  beforeAll(async () => {
    t = await startTestService('scribes_hostile');
    user = await signUp(t.http);
    ownPoint = (await t.http.post('/api/prayer-points').set(user.auth).send({ title: 'Mine' }).expect(201)).body.id;
    routes = [...t.service.queryRoutes, ...t.service.commandRoutes].filter((route) => route.path.startsWith('/api/prayer-points') || route.path === '/api/graph' || route.path === '/api/notes/:id/related');
  });
  afterAll(() => t.close());

  it('never answers a 5xx or leaks a stack trace', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(10);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 1_000 }),
        fc.oneof(pathId, fc.constant('own')),
        fc.dictionary(bodyKey, nastyValue, { maxKeys: 5 }),
        fc.dictionary(queryKey, nastyString, { maxKeys: 3 }),
        async (routeIndex, id, body, query) => {
          const route = routes[routeIndex % routes.length]!;
          const path = route.path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(id === 'own' ? ownPoint : id));
          const request = t.http[route.method](path).set(user.auth).set('If-Match', '*').query(query);
          const res = route.method === 'get' || route.method === 'delete' ? await request : await request.send(body);
          if (res.status >= 500 || /\bat .+\.(ts|js):\d+/.test(res.text ?? '')) {
            throw new Error(`${route.method.toUpperCase()} ${path} ${JSON.stringify(query)} ${JSON.stringify(body).slice(0, 200)} -> ${res.status}: ${(res.text ?? '').slice(0, 300)}`);
          }
        },
      ),
      { numRuns: 400, seed: 20261122 },
    );
  });

  it('refuses NUL characters where PostgreSQL text cannot hold them', async () => {
    const created = await t.http.post('/api/prayer-points').set(user.auth).send({ title: 'a\u0000b' });
    expect(created.status).toBe(400);
    const tagged = await t.http.get('/api/graph').query({ tag: 'a\u0000b' }).set(user.auth);
    expect(tagged.status).toBe(400);
  });
});
