/**
 * Circles in the sync feed: members receive what is shared with their circles (read-only copies, one
 * entity per circle and item), and unsharing, deletion, the sharer leaving, leaving, removal and the
 * circle's deletion each reach them as a delete on their very next pull. A removed member's old cursor
 * and old ids yield nothing more.
 */
import { randomUUID } from 'node:crypto';
import { startTestService, signUp, type SignedUpUser, type TestService } from '../support/test-service';

interface Change {
  entity: string;
  id: string;
  workspaceId: string | null;
  op: 'upsert' | 'delete';
  revision: number;
  data?: Record<string, any>;
}

describe('circles in the sync feed', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let cat: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('circles_sync');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
    cat = await signUp(t.http, { displayName: 'Cat' });
  });
  afterAll(() => t.close());

  /** One pull; `cursor` undefined starts from the beginning. */
  async function pull(who: SignedUpUser, cursor?: string, limit = 1000): Promise<{ changes: Change[]; cursor: string; hasMore: boolean }> {
    const res = await t.http.get('/api/sync/since').set(who.auth).query({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    const keys = res.body.changes.map((c: Change) => `${c.entity}:${c.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    return res.body;
  }

  /** Pulls to the end, returning the changes about circles and their shares only. */
  async function drain(who: SignedUpUser, cursor?: string, limit = 1000): Promise<{ changes: Change[]; cursor: string }> {
    const changes: Change[] = [];
    let at = cursor;
    for (;;) {
      const page = await pull(who, at, limit);
      changes.push(...page.changes.filter((c) => ['circle', 'sharedNote', 'sharedPrayerPoint'].includes(c.entity)));
      at = page.cursor;
      if (!page.hasMore) return { changes, cursor: at };
    }
  }

  const summary = (changes: Change[]) => changes.map((c) => `${c.op} ${c.entity} ${c.id}`).sort();

  async function circleWith(owner: SignedUpUser, ...members: SignedUpUser[]): Promise<string> {
    const circle = await t.http.post('/api/circles').set(owner.auth).send({ name: 'Study group' }).expect(201);
    for (const member of members) await join(circle.body.id, owner, member);
    return circle.body.id;
  }

  async function join(circleId: string, owner: SignedUpUser, member: SignedUpUser) {
    const sent = await t.http.post(`/api/circles/${circleId}/invites`).set(owner.auth).send({ email: member.email }).expect(201);
    await t.http.post(`/api/invites/${sent.body.token}/accept`).set(member.auth).expect(200);
  }

  async function note(owner: SignedUpUser, title: string): Promise<string> {
    const res = await t.http.post('/api/notes').set(owner.auth).send({ title, content: `${title} content`, dateTime: '2026-11-20T08:00:00Z' });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const share = (owner: SignedUpUser, noteId: string, circleId: string) => t.http.post(`/api/notes/${noteId}/shares`).set(owner.auth).send({ circleId }).expect(201);

  it('joining brings the circle and everything already shared; edits follow; owners get no copy of their own', async () => {
    const circleId = await circleWith(ann);
    const noteId = await note(ann, 'Before bob');
    await share(ann, noteId, circleId);
    const { cursor: before } = await drain(bob);

    await join(circleId, ann, bob);
    const joined = await drain(bob, before);
    expect(summary(joined.changes)).toEqual([`upsert circle ${circleId}`, `upsert sharedNote ${circleId}:${noteId}`]);
    const copy = joined.changes.find((c) => c.entity === 'sharedNote')!;
    expect(copy).toMatchObject({ workspaceId: null, revision: 0, data: { circleId, ownerId: ann.id, sharedAt: expect.any(String), note: { id: noteId, title: 'Before bob', content: 'Before bob content' } } });
    expect(joined.changes.find((c) => c.entity === 'circle')!.data).toEqual({ id: circleId, name: 'Study group', description: null, role: 'member', createdAt: expect.any(String) });

    // A fresh replica gets the same.
    expect(summary((await drain(bob)).changes.filter((c) => c.id.startsWith(circleId)))).toEqual(summary(joined.changes));

    const edited = await t.http.put(`/api/notes/${noteId}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Edited', content: 'new', dateTime: '2026-11-20T08:00:00Z' });
    expect(edited.status).toBe(200);
    const afterEdit = await t.http.get('/api/sync/since').set(bob.auth).set('X-Consistency-Token', String(edited.headers['x-consistency-token'])).query({ cursor: joined.cursor });
    expect(afterEdit.body.changes.map((c: Change) => [c.entity, c.op, c.revision, c.data?.note?.title])).toEqual([['sharedNote', 'upsert', 1, 'Edited']]);

    const annFeed = await drain(ann);
    expect(annFeed.changes.filter((c) => c.entity === 'sharedNote')).toEqual([]);
    expect(summary(annFeed.changes.filter((c) => c.entity === 'circle'))).toContain(`upsert circle ${circleId}`);
  });

  it('unsharing, deleting the note, or its owner leaving: a delete on the very next pull', async () => {
    const circleId = await circleWith(ann, bob, cat);
    const a = await note(ann, 'A');
    const b = await note(ann, 'B');
    const c = await note(cat, 'C');
    await share(ann, a, circleId);
    await share(ann, b, circleId);
    await share(cat, c, circleId);
    let { changes, cursor } = await drain(bob);
    expect(summary(changes.filter((x) => x.entity === 'sharedNote' && x.id.startsWith(circleId)))).toEqual(
      [a, b, c].map((id) => `upsert sharedNote ${circleId}:${id}`).sort(),
    );

    await t.http.delete(`/api/notes/${a}/shares/${circleId}`).set(ann.auth).expect(204);
    ({ changes, cursor } = await drain(bob, cursor));
    expect(summary(changes)).toEqual([`delete sharedNote ${circleId}:${a}`]);
    expect(changes[0]!.data).toBeUndefined();

    const deleted = await t.http.delete(`/api/notes/${b}`).set(ann.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    const next = await t.http.get('/api/sync/since').set(bob.auth).set('X-Consistency-Token', String(deleted.headers['x-consistency-token'])).query({ cursor });
    expect(summary(next.body.changes)).toEqual([`delete sharedNote ${circleId}:${b}`]);
    cursor = next.body.cursor;

    await t.http.delete(`/api/circles/${circleId}/members/${cat.id}`).set(cat.auth).expect(204);
    ({ changes, cursor } = await drain(bob, cursor));
    expect(summary(changes)).toEqual([`delete sharedNote ${circleId}:${c}`]);

    // Sharing again brings it back.
    await share(ann, a, circleId);
    ({ changes, cursor } = await drain(bob, cursor));
    expect(summary(changes)).toEqual([`upsert sharedNote ${circleId}:${a}`]);
  });

  it("a removed member's very next pull deletes the circle and all it shared; their old cursor and old ids yield nothing more", async () => {
    const circleId = await circleWith(ann, bob);
    const canary = `CANARY-${randomUUID()}`;
    const noteId = await note(ann, canary);
    await share(ann, noteId, circleId);
    const point = await t.http.post('/api/prayer-points').set(ann.auth).send({ title: `${canary} prayer` }).expect(201);
    await t.http.post(`/api/prayer-points/${point.body.id}/shares`).set(ann.auth).send({ circleId }).expect(201);
    const held = await drain(bob);
    expect(summary(held.changes.filter((c) => c.id.startsWith(circleId)))).toEqual([
      `upsert circle ${circleId}`,
      `upsert sharedNote ${circleId}:${noteId}`,
      `upsert sharedPrayerPoint ${circleId}:${point.body.id}`,
    ]);
    const oldCursor = held.cursor;

    await t.http.delete(`/api/circles/${circleId}/members/${bob.id}`).set(ann.auth).expect(204);
    const next = await pull(bob, oldCursor);
    expect(summary(next.changes)).toEqual([`delete circle ${circleId}`, `delete sharedNote ${circleId}:${noteId}`, `delete sharedPrayerPoint ${circleId}:${point.body.id}`]);
    expect(JSON.stringify(next.changes)).not.toContain(canary);

    // Life goes on in the circle: the old cursor still yields only those deletes, the new one nothing.
    await t.http.put(`/api/notes/${noteId}`).set(ann.auth).set('If-Match', '"0"').send({ title: `${canary} edited`, content: 'more', dateTime: '2026-11-20T08:00:00Z' }).expect(200);
    const other = await note(ann, `${canary} second`);
    await share(ann, other, circleId);
    await t.http.patch(`/api/circles/${circleId}`).set(ann.auth).send({ name: `${canary} renamed` }).expect(200);
    const settled = await t.http.get('/api/shared').set(ann.auth).set('X-Consistency-Token', String((await t.http.post(`/api/prayer-points/${point.body.id}/prayed`).set(ann.auth).expect(201)).headers['x-consistency-token']));
    expect(settled.status).toBe(200);

    const replay = await drain(bob, oldCursor);
    expect(replay.changes.every((c) => c.op === 'delete')).toBe(true);
    expect(summary(replay.changes)).toEqual(summary(next.changes));
    expect(JSON.stringify(replay.changes)).not.toContain(canary);
    expect((await drain(bob, next.cursor)).changes).toEqual([]);
    const fromScratch = await pull(bob);
    expect(JSON.stringify(fromScratch.changes)).not.toContain(canary);
    expect(fromScratch.changes.filter((c) => c.id.includes(circleId) && c.op === 'upsert')).toEqual([]);

    // And the old ids, every way in: nothing.
    expect((await t.http.get(`/api/circles/${circleId}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.get(`/api/circles/${circleId}/members`).set(bob.auth)).status).toBe(404);
    expect((await t.http.get(`/api/notes/${noteId}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.get(`/api/prayer-points/${point.body.id}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.get(`/api/prayer-points/${point.body.id}/prayers`).set(bob.auth)).status).toBe(404);
    expect((await t.http.post(`/api/prayer-points/${point.body.id}/prayed`).set(bob.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/circles/${circleId}/members/${bob.id}`).set(bob.auth)).status).toBe(404);
    expect(JSON.stringify((await t.http.get('/api/shared').set(bob.auth)).body)).not.toContain(canary);
  });

  it('leaving and the deletion of the circle: deletes on the next pull', async () => {
    const circleId = await circleWith(ann, bob, cat);
    const noteId = await note(ann, 'Shared');
    await share(ann, noteId, circleId);
    const bobAt = (await drain(bob)).cursor;
    const catAt = (await drain(cat)).cursor;

    await t.http.delete(`/api/circles/${circleId}/members/${bob.id}`).set(bob.auth).expect(204);
    expect(summary((await pull(bob, bobAt)).changes)).toEqual([`delete circle ${circleId}`, `delete sharedNote ${circleId}:${noteId}`]);

    await t.http.delete(`/api/circles/${circleId}`).set(ann.auth).expect(204);
    expect(summary((await pull(cat, catAt)).changes)).toEqual([`delete circle ${circleId}`, `delete sharedNote ${circleId}:${noteId}`]);
    expect(summary((await drain(ann)).changes.filter((c) => c.id === circleId))).toEqual([`delete circle ${circleId}`]);
  });

  it('small pages converge to the same state as one big page', async () => {
    const circleId = await circleWith(ann, bob);
    for (let i = 0; i < 5; i++) await share(ann, await note(ann, `Paged ${i}`), circleId);
    const state = (changes: Change[]) => {
      const entities = new Map<string, Change>();
      for (const change of changes) {
        if (change.op === 'delete') entities.delete(`${change.entity}:${change.id}`);
        else entities.set(`${change.entity}:${change.id}`, change);
      }
      return [...entities.keys()].sort();
    };
    const big = await drain(bob);
    const small = await drain(bob, undefined, 2);
    expect(state(small.changes)).toEqual(state(big.changes));
    expect(state(big.changes).filter((key) => key.includes(circleId))).toHaveLength(6);
  });
});
