/**
 * Public links over HTTP: who may create and revoke them, and that the token serves its one item,
 * read-only and without an account, until it is revoked or expires or the item goes.
 */
import { startTestService, signUp, type SignedUpUser, type TestService } from '../support/test-service';

describe('public links', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let eve: SignedUpUser;
  let workspaceId: string;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);

  beforeAll(async () => {
    t = await startTestService('public_links', { service: { clock } });
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
    eve = await signUp(t.http, { displayName: 'Eve' });
    workspaceId = (await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Shared' })).body.id;
    await t.http.post(`/api/workspaces/${workspaceId}/members`).set(ann.auth).send({ email: bob.email }).expect(201);
  });
  afterAll(() => t.close());

  async function newDocument(title = 'Sermon notes', content = 'Grace upon grace') {
    const res = await t.http.post(`/api/workspaces/${workspaceId}/documents`).set(ann.auth).send({ title, content });
    expect(res.status).toBe(201);
    return res.body as { id: string; revision: number };
  }

  it('a member creates a link; anyone with it reads that document and nothing else', async () => {
    const doc = await newDocument();
    const created = await t.http.post(`/api/documents/${doc.id}/links`).set(bob.auth).send({});
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      itemType: 'document',
      itemId: doc.id,
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      url: `/api/public/${created.body.token}`,
      expiresAt: null,
      createdAt: expect.any(String),
    });
    const read = await t.http.get(created.body.url);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ itemType: 'document', expiresAt: null, document: { id: doc.id, title: 'Sermon notes', content: 'Grace upon grace', revision: 0, updatedAt: expect.any(String) } });
    expect(read.headers['cache-control']).toBe('no-store');
    expect(JSON.stringify(read.body)).not.toContain(workspaceId);
    expect(JSON.stringify(read.body)).not.toContain(ann.id);

    // The token is not a credential for anything else.
    expect((await t.http.get(`/api/documents/${doc.id}`).set('Authorization', `Bearer ${created.body.token}`)).status).toBe(401);
    expect((await t.http.get(`${created.body.url}/versions`)).status).toBe(404);
    expect((await t.http.put(`/api/documents/${doc.id}`).set('Authorization', `Bearer ${created.body.token}`).set('If-Match', '"0"').send({ title: 'x', content: 'y' })).status).toBe(401);
    // A guessed token, or one a character off, is the same 404.
    const off = created.body.token.slice(0, -1) + (created.body.token.endsWith('A') ? 'B' : 'A');
    expect((await t.http.get(`/api/public/${off}`)).status).toBe(404);
    expect((await t.http.get('/api/public/x')).status).toBe(404);

    // Edits show through the link; the raw token is nowhere in the log or the read models.
    const edited = await t.http.put(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Sermon notes', content: 'Edited' });
    expect((await t.http.get(created.body.url).set('X-Consistency-Token', String(edited.headers['x-consistency-token']))).body.document.content).toBe('Edited');
    const events = await t.db.knex('events').select(t.db.knex.raw('data::text as data'));
    expect(events.some((row: { data: string }) => row.data.includes(created.body.token))).toBe(false);
    expect(await t.db.knex('public_links').where('token_hash', created.body.token).first()).toBeUndefined();
  });

  it('outsiders can neither create, list nor revoke links', async () => {
    const doc = await newDocument();
    const created = await t.http.post(`/api/documents/${doc.id}/links`).set(ann.auth).send({});
    expect((await t.http.post(`/api/documents/${doc.id}/links`).set(eve.auth).send({})).status).toBe(404);
    expect((await t.http.get(`/api/documents/${doc.id}/links`).set(eve.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/documents/${doc.id}/links/${created.body.id}`).set(eve.auth)).status).toBe(404);
    // Another document's path cannot reach this link either.
    const other = await newDocument();
    expect((await t.http.delete(`/api/documents/${other.id}/links/${created.body.id}`).set(ann.auth)).status).toBe(404);
    expect((await t.http.get(created.body.url)).status).toBe(200);
    const list = await t.http.get(`/api/documents/${doc.id}/links`).set(bob.auth);
    expect(list.body.items).toEqual([{ id: created.body.id, itemType: 'document', itemId: doc.id, expiresAt: null, createdAt: expect.any(String), createdBy: ann.id, revoked: false, expired: false }]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
  });

  it('a revoked link serves nothing', async () => {
    const doc = await newDocument();
    const created = await t.http.post(`/api/documents/${doc.id}/links`).set(ann.auth).send({});
    expect((await t.http.delete(`/api/documents/${doc.id}/links/${created.body.id}`).set(bob.auth)).status).toBe(204);
    const gone = await t.http.get(created.body.url);
    expect([gone.status, gone.body.code]).toEqual([404, 'LINK.NOT_FOUND']);
    expect((await t.http.delete(`/api/documents/${doc.id}/links/${created.body.id}`).set(ann.auth)).status).toBe(204);
  });

  it('an expired link serves nothing; an expiry in the past is refused', async () => {
    const doc = await newDocument();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const created = await t.http.post(`/api/documents/${doc.id}/links`).set(ann.auth).send({ expiresAt });
    expect(created.body.expiresAt).toBe(expiresAt);
    expect((await t.http.get(created.body.url)).status).toBe(200);
    offsetMs = 2 * 60_000;
    try {
      expect((await t.http.get(created.body.url)).status).toBe(404);
    } finally {
      offsetMs = 0;
    }
    const past = await t.http.post(`/api/documents/${doc.id}/links`).set(ann.auth).send({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect([past.status, past.body.code]).toEqual([422, 'LINK.EXPIRY_IN_PAST']);
  });

  it('a deleted document serves nothing through its links, and takes no new ones', async () => {
    const doc = await newDocument();
    const created = await t.http.post(`/api/documents/${doc.id}/links`).set(ann.auth).send({});
    const deleted = await t.http.delete(`/api/documents/${doc.id}`).set(ann.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    expect((await t.http.get(created.body.url).set('X-Consistency-Token', String(deleted.headers['x-consistency-token']))).status).toBe(404);
    expect((await t.http.post(`/api/documents/${doc.id}/links`).set(ann.auth).send({})).status).toBe(404);
  });
});
