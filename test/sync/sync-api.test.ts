/**
 * Pull sync over HTTP: pages, scope changes, tombstones, long polls, unusable cursors, and convergence
 * of concurrent clients while writers keep writing.
 */
import { randomUUID } from 'node:crypto';
import { purgeSyncTombstones } from '../../projectors/sync/sync-retention';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { SyncReplica, type Change } from '../support/sync-client';

describe('sync API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('sync');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
  });
  afterAll(() => t.close());

  async function workspace(owner: SignedUpUser, name = 'Sync') {
    return (await t.http.post('/api/workspaces').set(owner.auth).send({ name })).body.id as string;
  }
  async function document(owner: SignedUpUser, workspaceId: string, title: string) {
    const res = await t.http.post(`/api/workspaces/${workspaceId}/documents`).set(owner.auth).send({ title, content: `${title} content` });
    return { id: res.body.id as string, token: String(res.headers['x-consistency-token']) };
  }
  /** Waits for the read models to reach a write, through the API itself. */
  const caughtUp = (user: SignedUpUser, token: string) => t.http.get('/api/me').set(user.auth).set('X-Consistency-Token', token).expect(200);

  it('a first pull brings the workspace, its memberships and its documents; the next pull only what changed', async () => {
    const user = await signUp(t.http);
    const ws = await workspace(user, 'First');
    const a = await document(user, ws, 'Alpha');
    const b = await document(user, ws, 'Beta');
    await caughtUp(user, b.token);
    const replica = new SyncReplica(t.http, user.auth);
    const first = await replica.pull(100);
    expect(first.hasMore).toBe(false);
    expect(first.changes.map((c) => `${c.entity}:${c.op}`).sort()).toEqual(['document:upsert', 'document:upsert', 'membership:upsert', 'workspace:upsert']);
    const alpha = first.changes.find((c) => c.id === a.id)!;
    const got = await t.http.get(`/api/documents/${a.id}`).set(user.auth);
    expect(alpha).toEqual({ entity: 'document', id: a.id, workspaceId: ws, op: 'upsert', revision: 0, data: got.body });
    expect(first.changes.find((c) => c.entity === 'workspace')!.data).toEqual((await t.http.get(`/api/workspaces/${ws}`).set(user.auth)).body);

    expect((await replica.pull(100)).changes).toEqual([]);
    const edited = await t.http.put(`/api/documents/${a.id}`).set(user.auth).set('If-Match', '"0"').send({ title: 'Alpha', content: 'changed' });
    await caughtUp(user, String(edited.headers['x-consistency-token']));
    const next = await replica.pull(100);
    expect(next.changes).toEqual([expect.objectContaining({ entity: 'document', id: a.id, op: 'upsert', revision: 1 })]);
    const deleted = await t.http.delete(`/api/documents/${b.id}`).set(user.auth).set('If-Match', '"0"');
    await caughtUp(user, String(deleted.headers['x-consistency-token']));
    const tombstone = await replica.pull(100);
    expect(tombstone.changes).toEqual([{ entity: 'document', id: b.id, workspaceId: ws, op: 'delete', revision: 1 }]);
  });

  it('small pages never repeat an entity and add up to the server state', async () => {
    const user = await signUp(t.http);
    const ws = await workspace(user);
    let token = '';
    for (let i = 0; i < 23; i++) token = (await document(user, ws, `Doc ${i}`)).token;
    await caughtUp(user, token);
    const replica = new SyncReplica(t.http, user.auth);
    await replica.drain(4);
    expect(replica.documents().size).toBe(23);
    expect(replica.pulls).toBeGreaterThanOrEqual(7);
  });

  it('a member added later receives every live document at their next pull, whatever their cursor; removal sends one delete and nothing more', async () => {
    const ws = await workspace(ann, 'Shared');
    const docs = [await document(ann, ws, 'One'), await document(ann, ws, 'Two'), await document(ann, ws, 'Three')];
    const gone = await t.http.delete(`/api/documents/${docs[2]!.id}`).set(ann.auth).set('If-Match', '"0"');
    await caughtUp(ann, String(gone.headers['x-consistency-token']));
    const bobs = new SyncReplica(t.http, bob.auth);
    await bobs.drain(50);
    expect([...bobs.entities.values()].some((c) => c.workspaceId === ws)).toBe(false);

    const added = await t.http.post(`/api/workspaces/${ws}/members`).set(ann.auth).send({ email: bob.email });
    await caughtUp(bob, String(added.headers['x-consistency-token']));
    await bobs.drain(2);
    expect([...bobs.documents().keys()].sort()).toEqual([docs[0]!.id, docs[1]!.id].sort());
    expect(bobs.entities.get(`workspace:${ws}`)?.data).toMatchObject({ id: ws, role: 'member' });

    const removed = await t.http.delete(`/api/workspaces/${ws}/members/${bob.id}`).set(ann.auth);
    const afterRemoval = await document(ann, ws, 'Secret after removal');
    await caughtUp(ann, afterRemoval.token);
    const page = await bobs.pull(50);
    expect(page.changes).toEqual([expect.objectContaining({ entity: 'workspace', id: ws, op: 'delete' })]);
    expect([...bobs.entities.values()].some((c) => c.workspaceId === ws)).toBe(false);
    expect(removed.status).toBe(204);
    expect((await bobs.pull(50)).changes).toEqual([]);
  });

  it('a long poll is answered as soon as something in scope is projected, and not for others', async () => {
    const user = await signUp(t.http);
    const created = await t.http.post('/api/workspaces').set(user.auth).send({ name: 'Sync' });
    const ws = created.body.id as string;
    // The replica starts from a feed that already holds the new workspace: only later writes may answer the poll.
    await caughtUp(user, String(created.headers['x-consistency-token']));
    const replica = new SyncReplica(t.http, user.auth);
    await replica.drain(50);
    expect(replica.entities.has(`workspace:${ws}`)).toBe(true);
    const started = Date.now();
    const held = replica.pull(50, 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await document(ann, await workspace(ann, 'Elsewhere'), 'Not yours'); // out of scope: must not answer
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mine = await document(user, ws, 'Wake up');
    const answered = await held;
    const elapsed = Date.now() - started;
    expect(answered.changes.map((c: Change) => c.id)).toEqual([mine.id]);
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('an empty long poll answers when its wait ends', async () => {
    const user = await signUp(t.http);
    const replica = new SyncReplica(t.http, user.auth);
    await replica.drain(50);
    const started = Date.now();
    const page = await replica.pull(50, 1);
    expect(page.changes).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('a held long poll is answered at once when the service begins to shut down', async () => {
    const other = await startTestService('sync_shutdown');
    try {
      const member = await signUp(other.http);
      const replica = new SyncReplica(other.http, member.auth);
      await replica.drain(50);
      const started = Date.now();
      const held = replica.pull(50, 20);
      await new Promise((resolve) => setTimeout(resolve, 300));
      other.service.beginShutdown();
      const page = await held;
      expect(page.changes).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await other.close();
    }
  });

  it('refuses malformed cursors with 400 and unusable ones with 410', async () => {
    const user = await signUp(t.http);
    expect((await t.http.get('/api/sync/since?cursor=%%%').set(user.auth)).status).toBe(400);
    expect((await t.http.get('/api/sync/since?cursor=bm90IGEgY3Vyc29y').set(user.auth)).body.code).toBe('SYNC.INVALID_CURSOR');
    expect((await t.http.get('/api/sync/since?wait=31').set(user.auth)).status).toBe(400);
    expect((await t.http.get('/api/sync/since?limit=0').set(user.auth)).status).toBe(400);
    const { body } = await t.http.get('/api/sync/since').set(user.auth);
    const decoded = JSON.parse(Buffer.from(body.cursor, 'base64url').toString());
    const foreign = Buffer.from(JSON.stringify({ ...decoded, s: randomUUID() })).toString('base64url');
    const res = await t.http.get(`/api/sync/since?cursor=${foreign}`).set(user.auth);
    expect(res.status).toBe(410);
    expect(res.body).toMatchObject({ code: 'SYNC.CURSOR_FROM_OTHER_STORE', action: 'resync' });
    const ahead = Buffer.from(JSON.stringify({ ...decoded, p: `18000000000000000000.${'0'.repeat(20)}` })).toString('base64url');
    const aheadRes = await t.http.get(`/api/sync/since?cursor=${ahead}`).set(user.auth);
    expect([aheadRes.status, aheadRes.body.code]).toEqual([410, "SYNC.CURSOR_AHEAD"]);
  });

  it('a cursor from before purged tombstones answers 410; a fresh pull then works', async () => {
    const user = await signUp(t.http);
    const ws = await workspace(user);
    const replica = new SyncReplica(t.http, user.auth);
    await replica.drain(50);
    const oldCursor = replica.cursor!;
    const doc = await document(user, ws, 'Short-lived');
    const deleted = await t.http.delete(`/api/documents/${doc.id}`).set(user.auth).set('If-Match', '"0"');
    await caughtUp(user, String(deleted.headers['x-consistency-token']));
    const later = new Date(Date.now() + 91 * 24 * 60 * 60 * 1000);
    const { purged } = await purgeSyncTombstones(t.db.knex, later, 90);
    expect(purged).toBeGreaterThanOrEqual(1);
    const res = await t.http.get(`/api/sync/since?cursor=${oldCursor}`).set(user.auth);
    expect(res.status).toBe(410);
    expect(res.body.code).toBe('SYNC.CURSOR_EXPIRED');
    const fresh = new SyncReplica(t.http, user.auth);
    await fresh.drain(50);
    expect(fresh.entities.has(`workspace:${ws}`)).toBe(true);
  });
});
