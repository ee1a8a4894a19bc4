/**
 * The authorization matrix, driven by the service's own route tables: every route must have an entry
 * here (a new route without one fails this test). An outsider sends each route the victim's ids in
 * every placement (path, query, body); the victim's resources must stay invisible (404 where the id
 * is in the path, never a trace of their data anywhere) and untouched (no event in their streams).
 */
import { randomUUID } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent';
import type { RouteSpec } from '../../infra/http/routes';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

type Placement = 'path' | 'query' | 'body';
interface Ids {
  workspaceId: string;
  documentId: string;
  userId: string;
}
interface Entry {
  /** Why the route takes no resource id of anyone else's (public or caller-only routes). */
  readonly noTargetIds?: string;
  /** A valid body for the route, so that a refusal is not just a validation error. */
  readonly body?: (ids: Ids) => Record<string, unknown>;
}

const MATRIX: Record<string, Entry> = {
  'post /api/auth/signup': { noTargetIds: 'public: creates a new account, addresses nobody else' },
  'post /api/auth/login': { noTargetIds: 'public: credentials only' },
  'post /api/auth/refresh': { noTargetIds: 'public: the token is the credential' },
  'post /api/auth/logout': { noTargetIds: 'public: the token is the credential' },
  'get /.well-known/jwks.json': { noTargetIds: 'public keys, no user data' },
  'get /api/me': {},
  'patch /api/me': { body: () => ({ displayName: 'Eve' }) },
  'post /api/me/password': { body: () => ({ currentPassword: 'wrong guess here', newPassword: 'eve new passphrase' }) },
  'get /api/workspaces': {},
  'post /api/workspaces': { body: () => ({ name: 'Eve space' }) },
  'get /api/workspaces/:id': {},
  'patch /api/workspaces/:id': { body: () => ({ name: 'Taken over' }) },
  'delete /api/workspaces/:id': {},
  'get /api/workspaces/:id/members': {},
  'post /api/workspaces/:id/members': { body: () => ({ email: 'eve-friend@example.com', role: 'owner' }) },
  'patch /api/workspaces/:id/members/:userId': { body: () => ({ role: 'owner' }) },
  'delete /api/workspaces/:id/members/:userId': {},
  'get /api/workspaces/:wid/documents': {},
  'post /api/workspaces/:wid/documents': { body: () => ({ title: 'Planted', content: 'by eve' }) },
  'get /api/documents/:id': {},
  'put /api/documents/:id': { body: () => ({ title: 'Overwritten', content: 'by eve' }) },
  'delete /api/documents/:id': {},
  'post /api/documents/:id/restore': {},
  'get /api/documents/:id/versions': {},
  'post /api/documents/:id/versions': { body: () => ({ label: 'eve was here' }) },
  'get /api/documents/:id/versions/:revision': {},
  'get /api/documents/:id/diff': {},
  'get /api/documents/:id/history': {},
  'get /api/sync/since': {},
};

/** The path with `ids` put in: `:id` names a workspace or a document depending on the route. */
function pathWith(route: RouteSpec, ids: Ids): string {
  const id = route.path.startsWith('/api/documents/') ? ids.documentId : ids.workspaceId;
  return route.path.replace(':wid', ids.workspaceId).replace(':id', id).replace(':userId', ids.userId).replace(':revision', '0');
}

/** Query parameters a route needs to be valid at all (so a refusal is about access, not shape). */
function requiredQuery(route: RouteSpec): Record<string, string> {
  return route.path.endsWith('/diff') ? { from: '0', to: '0' } : {};
}

describe('authorization matrix', () => {
  let t: TestService;
  let ann: SignedUpUser; // the victim
  let eve: SignedUpUser; // the outsider
  const canary = `CANARY-${randomUUID()}`;
  let victim: Ids;
  let own: Ids;
  let routes: RouteSpec[];

  beforeAll(async () => {
    t = await startTestService('authz');
    ann = await signUp(t.http, { displayName: `${canary}-ann` });
    const bob = await signUp(t.http, { displayName: `${canary}-bob` });
    eve = await signUp(t.http, { displayName: 'Eve' });
    await signUp(t.http, { email: 'eve-friend@example.com' });
    const ws = await t.http.post('/api/workspaces').set(ann.auth).send({ name: `${canary}-workspace` });
    await t.http.post(`/api/workspaces/${ws.body.id}/members`).set(ann.auth).send({ email: bob.email }).expect(201);
    const doc = await t.http.post(`/api/workspaces/${ws.body.id}/documents`).set(ann.auth).send({ title: `${canary}-title`, content: `${canary}-content` });
    victim = { workspaceId: ws.body.id, documentId: doc.body.id, userId: bob.id };
    const mine = await t.http.post('/api/workspaces').set(eve.auth).send({ name: 'Eve own' });
    const myDoc = await t.http.post(`/api/workspaces/${mine.body.id}/documents`).set(eve.auth).send({ title: 'Eve doc', content: 'mine' });
    own = { workspaceId: mine.body.id, documentId: myDoc.body.id, userId: eve.id };
    routes = [...t.service.queryRoutes, ...t.service.commandRoutes];
  });
  afterAll(() => t.close());

  const keyOf = (route: RouteSpec) => `${route.method} ${route.path}`;

  it('has an entry for every route of both APIs, and no stale entries', () => {
    const keys = routes.map(keyOf).sort();
    expect(keys).toEqual(Object.keys(MATRIX).sort());
  });

  async function victimStreams(): Promise<unknown> {
    return t.db
      .knex('streams')
      .whereIn('stream_id', [
        `workspace-${victim.workspaceId}`,
        `document-${victim.documentId}`,
        `document_labels-${victim.documentId}`,
        `user-${ann.id}`,
        `user-${victim.userId}`,
      ])
      .orderBy('stream_id');
  }

  function send(http: TestAgent, route: RouteSpec, pathIds: Ids, query: Record<string, string>, body: Record<string, unknown> | undefined) {
    const req = http[route.method](pathWith(route, pathIds))
      .set(eve.auth)
      .set('If-Match', '*')
      .query({ ...requiredQuery(route), ...query });
    return route.method === 'get' || route.method === 'delete' ? req : req.send(body ?? {});
  }

  it('refuses the outsider everywhere and leaves the victim untouched', async () => {
    let cases = 0;
    for (const route of routes) {
      const entry = MATRIX[keyOf(route)]!;
      if (entry.noTargetIds) continue;
      const hasPathIds = route.path.includes(':');
      const placements: Placement[] = hasPathIds ? ['path', 'query', 'body'] : ['query', 'body'];
      for (const placement of placements) {
        const before = await victimStreams();
        const victimQuery = { id: victim.documentId, workspaceId: victim.workspaceId, documentId: victim.documentId, userId: victim.userId };
        const res =
          placement === 'path'
            ? await send(t.http, route, victim, {}, entry.body?.(victim))
            : placement === 'query'
              ? await send(t.http, route, own, victimQuery, entry.body?.(own))
              : await send(t.http, route, own, {}, { ...entry.body?.(own), id: victim.documentId, workspaceId: victim.workspaceId, documentId: victim.documentId, userId: victim.userId });
        const label = `${keyOf(route)} [${placement}]`;
        if (placement === 'path') expect([label, res.status]).toEqual([label, 404]);
        expect([label, res.status < 500]).toEqual([label, true]);
        expect([label, JSON.stringify(res.body ?? '') + JSON.stringify(res.headers)]).not.toEqual([label, expect.stringContaining(canary)]);
        expect([label, await victimStreams()]).toEqual([label, before]);
        cases++;
      }
    }
    console.info(`authorization matrix: ${routes.length} routes, ${cases} outsider cases`);
    expect(cases).toBeGreaterThanOrEqual(60);
  });

  it('the victim still sees their workspace intact', async () => {
    const res = await t.http.get(`/api/workspaces/${victim.workspaceId}`).set(ann.auth);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe(`${canary}-workspace`);
    const doc = await t.http.get(`/api/documents/${victim.documentId}`).set(ann.auth);
    expect(doc.body).toMatchObject({ title: `${canary}-title`, content: `${canary}-content`, revision: 0 });
  });
});
