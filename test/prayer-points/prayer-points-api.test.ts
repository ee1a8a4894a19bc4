/**
 * Prayer points over HTTP against the real PostgreSQL: create with linked notes and passages, conditional
 * edits, answering and reopening, soft delete and restore, the owner-only rule, the filtered list with
 * pages, the owner's sync feed, and a read model that equals a replay of the log.
 */
import { randomUUID } from 'node:crypto';
import { prayerPointsProjection } from '../../projectors/prayer-points/prayer-points-projection';
import { verifyProjections } from '../../projectors/runtime/verify';
import { projectionsCaughtUp } from '../operations/operations-support';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

describe('prayer points API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('prayer_points');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
  });
  afterAll(() => t.close());

  const create = (body: Record<string, unknown>, user = ann) => t.http.post('/api/prayer-points').set(user.auth).send(body);
  const get = (id: string, user = ann, token?: string) => {
    const req = t.http.get(`/api/prayer-points/${id}`).set(user.auth);
    return token ? req.set('X-Consistency-Token', token) : req;
  };
  const tokenOf = (res: { headers: Record<string, unknown> }) => String(res.headers['x-consistency-token']);
  async function note(user: SignedUpUser, title = 'A note on Romans 8:28') {
    const res = await t.http.post('/api/notes').set(user.auth).send({ title, content: 'All things work together for good', dateTime: '2026-11-20T08:00:00Z' });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  it('creates one: 201 with the prayer point, ETag "0", Location; passages normalized in canon order; GET answers the same', async () => {
    const noteId = await note(ann);
    const res = await create({ title: 'Healing for Joe', details: 'surgery Friday', noteIds: [noteId], passages: ['Romans 8:28', 'Gen.50.20', 'Rom.8.28'] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      title: 'Healing for Joe',
      details: 'surgery Friday',
      noteIds: [noteId],
      passages: ['Gen.50.20', 'Rom.8.28'],
      status: 'open',
      answeredAt: null,
      testimony: null,
      revision: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      deleted: false,
    });
    expect(res.headers.etag).toBe('"0"');
    expect(res.headers.location).toBe(`/api/prayer-points/${res.body.id}`);
    const got = await get(res.body.id, ann, tokenOf(res));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers.etag).toBe('"0"');
    const cached = await get(res.body.id).set('If-None-Match', '"0"');
    expect(cached.status).toBe(304);
  });

  it('refuses bad input with 400 problems: a passage that is no reference, an empty title, unknown fields, a bad date', async () => {
    const bad = await create({ title: 'x', passages: ['Romans 99:1'] });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body).toMatchObject({ code: 'PRAYER_POINT.INVALID_PASSAGE', passages: ['Romans 99:1'] });
    expect((await create({ title: '' })).body.code).toBe('REQUEST.INVALID');
    expect((await create({ title: 'x', owner: bob.id })).status).toBe(400);
    expect((await create({ title: 'x', noteIds: ['not-a-uuid'] })).status).toBe(400);
    const { body: point } = await create({ title: 'Dates' });
    const badDate = await t.http.post(`/api/prayer-points/${point.id}/answer`).set(ann.auth).send({ answeredAt: 'yesterday' });
    expect(badDate.status).toBe(400);
  });

  it('links only the caller’s own live notes: another user’s, a missing or a deleted note is 422', async () => {
    const bobs = await note(bob, 'Bob on John 3:16');
    const mine = await note(ann, 'Mine on Ps 23');
    expect((await create({ title: 'x', noteIds: [bobs] })).body.code).toBe('PRAYER_POINT.UNKNOWN_NOTE');
    expect((await create({ title: 'x', noteIds: [randomUUID()] })).status).toBe(422);
    const gone = await note(ann, 'To be deleted');
    await t.http.delete(`/api/notes/${gone}`).set(ann.auth).set('If-Match', '"0"').expect(204);
    expect((await create({ title: 'x', noteIds: [gone] })).status).toBe(422);
    const ok = await create({ title: 'x', noteIds: [mine] });
    expect(ok.status).toBe(201);
    // Linked before it was deleted, a note stays linked through later edits.
    const linked = await note(ann, 'Linked then deleted');
    const point = await create({ title: 'y', noteIds: [linked] });
    await t.http.delete(`/api/notes/${linked}`).set(ann.auth).set('If-Match', '"0"').expect(204);
    const edited = await t.http.put(`/api/prayer-points/${point.body.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'y2', noteIds: [linked] });
    expect(edited.status).toBe(200);
    expect(edited.body.noteIds).toEqual([linked]);
    const adding = await t.http.put(`/api/prayer-points/${point.body.id}`).set(ann.auth).set('If-Match', '"1"').send({ title: 'y2', noteIds: [linked, bobs] });
    expect(adding.status).toBe(422);
  });

  it('repeating a create with the same id and body answers the same 201; another body with that id is 409', async () => {
    const id = randomUUID();
    const first = await create({ id, title: 'Offline', details: 'written on a plane' });
    const again = await create({ id, title: 'Offline', details: 'written on a plane' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const other = await create({ id, title: 'Offline', details: 'something else' });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('PRAYER_POINT.ALREADY_EXISTS');
    expect((await create({ id, title: 'Offline', details: 'written on a plane' }, bob)).status).toBe(409);
  });

  it('PUT needs If-Match (428), moves the ETag, and a stale If-Match is 412 carrying the current prayer point', async () => {
    const { body: point } = await create({ title: 'Job', passages: ['Jas 1:5'] });
    expect((await t.http.put(`/api/prayer-points/${point.id}`).set(ann.auth).send({ title: 'Job offer' })).status).toBe(428);
    const edited = await t.http.put(`/api/prayer-points/${point.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Job offer', details: 'wisdom', passages: ['Jas.1.5'] });
    expect(edited.status).toBe(200);
    expect(edited.headers.etag).toBe('"1"');
    expect(edited.body).toMatchObject({ title: 'Job offer', details: 'wisdom', passages: ['Jas.1.5'], revision: 1 });
    const stale = await t.http.put(`/api/prayer-points/${point.id}`).set(ann.auth).set('If-Match', '"0"').send({ title: 'Other' });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('PRAYER_POINT.REVISION_CONFLICT');
    expect(stale.body.etag).toBe('"1"');
    expect(stale.body.current).toMatchObject({ title: 'Job offer', revision: 1 });
  });

  it('answers with a date and testimony, amends the testimony, reopens; the list filters by status', async () => {
    const user = await signUp(t.http);
    const a = (await create({ title: 'A' }, user)).body;
    const b = (await create({ title: 'B' }, user)).body;
    const answered = await t.http.post(`/api/prayer-points/${a.id}/answer`).set(user.auth).send({ answeredAt: '2026-11-20T12:00:00+02:00', testimony: 'It came through' });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ status: 'answered', answeredAt: '2026-11-20T10:00:00.000Z', testimony: 'It came through', revision: 1 });
    const same = await t.http.post(`/api/prayer-points/${a.id}/answer`).set(user.auth).send({});
    expect(same.body.revision).toBe(1);
    const amended = await t.http.post(`/api/prayer-points/${a.id}/answer`).set(user.auth).send({ testimony: 'It came through, twice' });
    expect(amended.body).toMatchObject({ answeredAt: '2026-11-20T10:00:00.000Z', testimony: 'It came through, twice', revision: 2 });
    const token = tokenOf(amended);
    const open = await t.http.get('/api/prayer-points?status=open').set(user.auth).set('X-Consistency-Token', token);
    expect(open.body.items.map((item: { id: string }) => item.id)).toEqual([b.id]);
    const done = await t.http.get('/api/prayer-points?status=answered').set(user.auth);
    expect(done.body.items).toEqual([amended.body]);
    const reopened = await t.http.post(`/api/prayer-points/${a.id}/reopen`).set(user.auth).send({});
    expect(reopened.body).toMatchObject({ status: 'open', answeredAt: null, testimony: null, revision: 3 });
    const all = await t.http.get('/api/prayer-points').set(user.auth).set('X-Consistency-Token', tokenOf(reopened));
    expect(all.body.items.map((item: { id: string }) => item.id)).toEqual([a.id, b.id]);
    expect((await t.http.get('/api/prayer-points?status=closed').set(user.auth)).status).toBe(400);
  });

  it('deletes softly with If-Match: GET shows the tombstone, the list leaves it out, restore brings it back', async () => {
    const user = await signUp(t.http);
    const { body: point } = await create({ title: 'Gone soon' }, user);
    expect((await t.http.delete(`/api/prayer-points/${point.id}`).set(user.auth)).status).toBe(428);
    const deleted = await t.http.delete(`/api/prayer-points/${point.id}`).set(user.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    const got = await get(point.id, user, tokenOf(deleted));
    expect(got.body).toMatchObject({ deleted: true, revision: 1 });
    expect((await t.http.get('/api/prayer-points').set(user.auth)).body.items).toEqual([]);
    const answering = await t.http.post(`/api/prayer-points/${point.id}/answer`).set(user.auth).send({});
    expect(answering.status).toBe(409);
    expect(answering.body.code).toBe('PRAYER_POINT.DELETED');
    const restored = await t.http.post(`/api/prayer-points/${point.id}/restore`).set(user.auth).send({});
    expect(restored.body).toMatchObject({ deleted: false, revision: 2 });
    const listed = await t.http.get('/api/prayer-points').set(user.auth).set('X-Consistency-Token', tokenOf(restored));
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([point.id]);
  });

  it('is invisible to anyone but its owner: 404 everywhere, nothing in their list', async () => {
    const res = await create({ title: 'Private' });
    const id = res.body.id as string;
    expect((await get(id, bob, tokenOf(res))).status).toBe(404);
    expect((await t.http.put(`/api/prayer-points/${id}`).set(bob.auth).set('If-Match', '"0"').send({ title: 'Mine now' })).status).toBe(404);
    expect((await t.http.put(`/api/prayer-points/${id}`).set(bob.auth).set('If-Match', '"9"').send({ title: 'Mine now' })).status).toBe(404);
    expect((await t.http.post(`/api/prayer-points/${id}/answer`).set(bob.auth).send({})).status).toBe(404);
    expect((await t.http.post(`/api/prayer-points/${id}/reopen`).set(bob.auth).send({})).status).toBe(404);
    expect((await t.http.delete(`/api/prayer-points/${id}`).set(bob.auth).set('If-Match', '"0"')).status).toBe(404);
    expect((await t.http.post(`/api/prayer-points/${id}/restore`).set(bob.auth).send({})).status).toBe(404);
    expect((await t.http.get('/api/prayer-points/not-an-id').set(bob.auth)).status).toBe(404);
    const list = await t.http.get('/api/prayer-points').set(bob.auth);
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
    expect((await get(id)).body.title).toBe('Private');
  });

  it('pages with a cursor, newest change first; a foreign cursor is 400', async () => {
    const user = await signUp(t.http);
    const ids: string[] = [];
    let token = '';
    for (let i = 0; i < 5; i++) {
      const res = await create({ title: `P${i}` }, user);
      ids.unshift(res.body.id);
      token = tokenOf(res);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await t.http
        .get('/api/prayer-points')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(user.auth)
        .set('X-Consistency-Token', token);
      seen.push(...res.body.items.map((item) => item.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect((await t.http.get('/api/prayer-points?cursor=nonsense').set(user.auth)).status).toBe(400);
    expect((await t.http.get('/api/prayer-points?limit=201').set(user.auth)).status).toBe(400);
  });

  it('are in their owner’s sync feed (as GET answers them, deletes as tombstones) and nobody else’s', async () => {
    const user = await signUp(t.http);
    const other = await signUp(t.http);
    const { body: kept } = await create({ title: 'Synced', passages: ['Phil 4:6'] }, user);
    const { body: gone } = await create({ title: 'Deleted' }, user);
    const deleted = await t.http.delete(`/api/prayer-points/${gone.id}`).set(user.auth).set('If-Match', '"0"');
    const pull = await t.http.get('/api/sync/since').set(user.auth).set('X-Consistency-Token', tokenOf(deleted));
    expect(pull.status).toBe(200);
    const mine = pull.body.changes.filter((change: { entity: string }) => change.entity === 'prayerPoint');
    expect(mine).toEqual([
      { entity: 'prayerPoint', id: kept.id, workspaceId: null, op: 'upsert', revision: 0, data: (await get(kept.id, user)).body },
      { entity: 'prayerPoint', id: gone.id, workspaceId: null, op: 'delete', revision: 1 },
    ]);
    const answered = await t.http.post(`/api/prayer-points/${kept.id}/answer`).set(user.auth).send({ testimony: 'peace' });
    const next = await t.http.get('/api/sync/since').query({ cursor: pull.body.cursor }).set(user.auth).set('X-Consistency-Token', tokenOf(answered));
    expect(next.body.changes).toEqual([{ entity: 'prayerPoint', id: kept.id, workspaceId: null, op: 'upsert', revision: 1, data: answered.body }]);
    const theirs = await t.http.get('/api/sync/since').set(other.auth);
    expect(theirs.body.changes.filter((change: { entity: string }) => change.entity === 'prayerPoint')).toEqual([]);
  });

  it('a replay of the log builds the same prayer_points table', async () => {
    await projectionsCaughtUp(t);
    const report = await verifyProjections({ store: t.service.platform.store, knex: t.db.knex, liveSchema: t.db.schema, projections: [prayerPointsProjection] });
    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
    expect(report.tables.find((table) => table.table === 'prayer_points')?.liveRows).toBeGreaterThan(10);
  });
});
