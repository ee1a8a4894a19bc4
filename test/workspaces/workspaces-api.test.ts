/** Workspaces and their members over HTTP: roles, the last-owner rule, and removal taking effect at once. */
import { startTestService, signUp, type SignedUpUser, type TestService } from '../support/test-service';

describe('workspaces API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('workspaces');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
  });
  afterAll(() => t.close());

  async function createWorkspace(owner: SignedUpUser, name = 'Study') {
    const res = await t.http.post('/api/workspaces').set(owner.auth).send({ name });
    expect(res.status).toBe(201);
    return res;
  }

  it('creates a workspace whose creator is its owner, and lists it at once', async () => {
    const created = await createWorkspace(ann, 'Romans');
    expect(created.body).toEqual({ id: expect.any(String), name: 'Romans', role: 'owner', createdAt: expect.any(String) });
    expect(created.headers.location).toBe(`/api/workspaces/${created.body.id}`);
    expect(created.headers.etag).toBe('"1"');
    const list = await t.http.get('/api/workspaces').set(ann.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token']));
    expect(list.body.items).toContainEqual(created.body);
    const one = await t.http.get(`/api/workspaces/${created.body.id}`).set(ann.auth);
    expect(one.body).toEqual(created.body);
    expect(one.headers.etag).toBe('"1"');
    const cached = await t.http.get(`/api/workspaces/${created.body.id}`).set(ann.auth).set('If-None-Match', '"1"');
    expect(cached.status).toBe(304);
  });

  it('only owners rename; a stale If-Match is 412', async () => {
    const { body: ws } = await createWorkspace(ann);
    await t.http.post(`/api/workspaces/${ws.id}/members`).set(ann.auth).send({ email: bob.email, role: 'member' }).expect(201);
    const byMember = await t.http.patch(`/api/workspaces/${ws.id}`).set(bob.auth).send({ name: 'Mine now' });
    expect(byMember.status).toBe(403);
    expect(byMember.body.code).toBe('WORKSPACE.OWNER_REQUIRED');
    const renamed = await t.http.patch(`/api/workspaces/${ws.id}`).set(ann.auth).set('If-Match', '"2"').send({ name: 'Renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Renamed');
    expect(renamed.headers.etag).toBe('"3"');
    const stale = await t.http.patch(`/api/workspaces/${ws.id}`).set(ann.auth).set('If-Match', '"2"').send({ name: 'Again' });
    expect(stale.status).toBe(412);
  });

  it('adds members by email, lists them, changes roles, and protects the last owner', async () => {
    const { body: ws } = await createWorkspace(ann);
    const added = await t.http.post(`/api/workspaces/${ws.id}/members`).set(ann.auth).send({ email: bob.email.toUpperCase(), role: 'member' });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ userId: bob.id, email: bob.email, displayName: 'Bob', role: 'member' });
    expect((await t.http.post(`/api/workspaces/${ws.id}/members`).set(ann.auth).send({ email: bob.email })).status).toBe(409);
    expect((await t.http.post(`/api/workspaces/${ws.id}/members`).set(ann.auth).send({ email: 'nobody@example.com' })).body.code).toBe('USER.NOT_FOUND');

    const members = await t.http.get(`/api/workspaces/${ws.id}/members`).set(bob.auth);
    expect(members.status).toBe(200);
    expect(members.body.items.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      [ann.id, 'owner'],
      [bob.id, 'member'],
    ]);

    const leaveAlone = await t.http.delete(`/api/workspaces/${ws.id}/members/${ann.id}`).set(ann.auth);
    expect(leaveAlone.status).toBe(409);
    expect(leaveAlone.body.code).toBe('WORKSPACE.LAST_OWNER');
    expect((await t.http.patch(`/api/workspaces/${ws.id}/members/${bob.id}`).set(ann.auth).send({ role: 'owner' })).status).toBe(200);
    expect((await t.http.delete(`/api/workspaces/${ws.id}/members/${ann.id}`).set(ann.auth)).status).toBe(204);
    const after = await t.http.get(`/api/workspaces/${ws.id}/members`).set(bob.auth);
    expect(after.body.items.map((m: { userId: string }) => m.userId)).toEqual([bob.id]);
  });

  it('a removed member is refused on their very next request', async () => {
    const { body: ws } = await createWorkspace(ann);
    await t.http.post(`/api/workspaces/${ws.id}/members`).set(ann.auth).send({ email: bob.email }).expect(201);
    expect((await t.http.get(`/api/workspaces/${ws.id}`).set(bob.auth)).status).toBe(200);
    expect((await t.http.delete(`/api/workspaces/${ws.id}/members/${bob.id}`).set(ann.auth)).status).toBe(204);
    const next = await t.http.get(`/api/workspaces/${ws.id}`).set(bob.auth);
    expect(next.status).toBe(404);
    expect(next.body.code).toBe('WORKSPACE.NOT_FOUND');
    expect((await t.http.get('/api/workspaces').set(bob.auth)).body.items.map((w: { id: string }) => w.id)).not.toContain(ws.id);
  });

  it('a member may leave; a deleted workspace is gone for everyone', async () => {
    const { body: ws } = await createWorkspace(ann);
    await t.http.post(`/api/workspaces/${ws.id}/members`).set(ann.auth).send({ email: bob.email }).expect(201);
    expect((await t.http.delete(`/api/workspaces/${ws.id}/members/${bob.id}`).set(bob.auth)).status).toBe(204);
    expect((await t.http.get(`/api/workspaces/${ws.id}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/workspaces/${ws.id}`).set(ann.auth)).status).toBe(204);
    expect((await t.http.get(`/api/workspaces/${ws.id}`).set(ann.auth)).status).toBe(404);
    expect((await t.http.patch(`/api/workspaces/${ws.id}`).set(ann.auth).send({ name: 'x' })).status).toBe(404);
  });
});
