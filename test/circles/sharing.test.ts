/**
 * Sharing notes and prayer points with circles over HTTP: only the owner shares, only into a circle they
 * belong to; members read (never write) what is shared, members pray for shared prayer points without
 * touching them; unsharing, leaving, removal and deletion take effect on the next request.
 */
import { startTestService, signUp, type SignedUpUser, type TestService } from '../support/test-service';

describe('sharing with circles', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let cat: SignedUpUser;
  let eve: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('sharing');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
    cat = await signUp(t.http, { displayName: 'Cat' });
    eve = await signUp(t.http, { displayName: 'Eve' });
  });
  afterAll(() => t.close());

  async function circleWith(owner: SignedUpUser, ...members: SignedUpUser[]): Promise<string> {
    const circle = await t.http.post('/api/circles').set(owner.auth).send({ name: 'Study group' }).expect(201);
    for (const member of members) {
      const sent = await t.http.post(`/api/circles/${circle.body.id}/invites`).set(owner.auth).send({ email: member.email }).expect(201);
      await t.http.post(`/api/invites/${sent.body.token}/accept`).set(member.auth).expect(200);
    }
    return circle.body.id;
  }

  async function note(owner: SignedUpUser, title = 'On grace', content = 'John 1:16 grace upon grace'): Promise<{ id: string }> {
    const res = await t.http.post('/api/notes').set(owner.auth).send({ title, content, dateTime: '2026-11-20T08:00:00Z', tags: ['grace'] });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function prayerPoint(owner: SignedUpUser, title = 'For the Smiths'): Promise<{ id: string; revision: number }> {
    const res = await t.http.post('/api/prayer-points').set(owner.auth).send({ title, details: 'New job' });
    expect(res.status).toBe(201);
    return res.body;
  }

  const shared = async (who: SignedUpUser) => (await t.http.get('/api/shared').set(who.auth).expect(200)).body.items as Array<{ circleId: string; notes: Array<Record<string, unknown>>; prayerPoints: Array<Record<string, unknown>> }>;
  const sharedIn = async (who: SignedUpUser, circleId: string) => (await shared(who)).find((item) => item.circleId === circleId);

  it('the owner shares a note with a circle; members read it, read-only', async () => {
    const circleId = await circleWith(ann, bob);
    const { id } = await note(ann);
    const res = await t.http.post(`/api/notes/${id}/shares`).set(ann.auth).send({ circleId });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ itemType: 'note', itemId: id, circleId, sharedAt: expect.any(String) });
    // Sharing again changes nothing.
    expect((await t.http.post(`/api/notes/${id}/shares`).set(ann.auth).send({ circleId })).status).toBe(201);
    expect(await t.db.knex('events').where('stream_id', `shares-note-${id}`).count('* as n').first()).toEqual({ n: '1' });

    const inCircle = await sharedIn(bob, circleId);
    expect(inCircle).toMatchObject({ circleName: 'Study group', role: 'member', prayerPoints: [] });
    expect(inCircle!.notes).toEqual([
      {
        id,
        title: 'On grace',
        content: 'John 1:16 grace upon grace',
        dateTime: '2026-11-20T08:00:00.000Z',
        tags: ['grace'],
        topics: [],
        scripture: ['John.1.16'],
        revision: 0,
        updatedAt: expect.any(String),
        ownerId: ann.id,
        ownerName: 'Ann',
        sharedAt: res.body.sharedAt,
      },
    ]);
    // The owner's own items are not "shared with" them; an outsider sees nothing.
    expect((await sharedIn(ann, circleId))!.notes).toEqual([]);
    expect(await shared(eve)).toEqual([]);
    // Read-only: a member cannot edit, delete, unshare or re-link it.
    expect((await t.http.put(`/api/notes/${id}`).set(bob.auth).set('If-Match', '"0"').send({ title: 'Mine', content: 'x', dateTime: '2026-11-20T08:00:00Z' })).status).toBe(404);
    expect((await t.http.delete(`/api/notes/${id}`).set(bob.auth).set('If-Match', '"0"')).status).toBe(404);
    expect((await t.http.delete(`/api/notes/${id}/shares/${circleId}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.post(`/api/notes/${id}/links`).set(bob.auth).send({})).status).toBe(404);
    const shares = await t.http.get(`/api/notes/${id}/shares`).set(ann.auth);
    expect(shares.body.items).toEqual([{ circleId, circleName: 'Study group', sharedAt: res.body.sharedAt }]);
    expect((await t.http.get(`/api/notes/${id}/shares`).set(bob.auth)).status).toBe(404);
  });

  it('only the owner shares, and only into a circle they belong to', async () => {
    const circleId = await circleWith(ann, bob);
    const annNote = await note(ann);
    const byBob = await t.http.post(`/api/notes/${annNote.id}/shares`).set(bob.auth).send({ circleId });
    expect([byBob.status, byBob.body.code]).toEqual([404, 'NOTE.NOT_FOUND']);
    const eveNote = await note(eve, 'Planted', 'by eve');
    const intoForeign = await t.http.post(`/api/notes/${eveNote.id}/shares`).set(eve.auth).send({ circleId });
    expect([intoForeign.status, intoForeign.body.code]).toEqual([404, 'CIRCLE.NOT_FOUND']);
    expect(await t.db.knex('streams').where('stream_id', `shares-note-${eveNote.id}`).first()).toBeUndefined();
    expect((await sharedIn(bob, circleId))!.notes).toEqual([]);
    expect((await t.http.post(`/api/notes/${annNote.id}/shares`).set(ann.auth).send({ circleId: 'nope' })).status).toBe(400);
  });

  it('unsharing, deleting the note, the sharer leaving: gone at once', async () => {
    const circleId = await circleWith(ann, bob, cat);
    const a = await note(ann, 'A');
    const b = await note(ann, 'B');
    const c = await note(cat, 'C');
    for (const [owner, id] of [[ann, a.id], [ann, b.id], [cat, c.id]] as const) {
      await t.http.post(`/api/notes/${id}/shares`).set(owner.auth).send({ circleId }).expect(201);
    }
    const titles = async () => (await sharedIn(bob, circleId))!.notes.map((n) => n.title).sort();
    expect(await titles()).toEqual(['A', 'B', 'C']);

    expect((await t.http.delete(`/api/notes/${a.id}/shares/${circleId}`).set(ann.auth)).status).toBe(204);
    expect(await titles()).toEqual(['B', 'C']);
    const again = await t.http.delete(`/api/notes/${a.id}/shares/${circleId}`).set(ann.auth);
    expect([again.status, again.body.code]).toEqual([404, 'SHARE.NOT_FOUND']);

    const deleted = await t.http.delete(`/api/notes/${b.id}`).set(ann.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    const afterDelete = await t.http.get('/api/shared').set(bob.auth).set('X-Consistency-Token', String(deleted.headers['x-consistency-token']));
    expect(afterDelete.body.items.find((i: { circleId: string }) => i.circleId === circleId).notes.map((n: { title: string }) => n.title)).toEqual(['C']);
    await t.http.post(`/api/notes/${b.id}/restore`).set(ann.auth).expect(200);

    const left = await t.http.delete(`/api/circles/${circleId}/members/${cat.id}`).set(cat.auth);
    expect(left.status).toBe(204);
    const restored = await t.http.get('/api/shared').set(bob.auth).set('X-Consistency-Token', String(left.headers['x-consistency-token']));
    expect(restored.body.items.find((i: { circleId: string }) => i.circleId === circleId).notes.map((n: { title: string }) => n.title)).toEqual(['B']);
  });

  it('a removed member sees nothing more of the circle; a deleted circle shares nothing', async () => {
    const circleId = await circleWith(ann, bob);
    const { id } = await note(ann);
    await t.http.post(`/api/notes/${id}/shares`).set(ann.auth).send({ circleId }).expect(201);
    expect((await sharedIn(bob, circleId))!.notes).toHaveLength(1);
    expect((await t.http.delete(`/api/circles/${circleId}/members/${bob.id}`).set(ann.auth)).status).toBe(204);
    expect(await sharedIn(bob, circleId)).toBeUndefined();
    expect(JSON.stringify(await shared(bob))).not.toContain(id);

    const other = await circleWith(ann, cat);
    await t.http.post(`/api/notes/${id}/shares`).set(ann.auth).send({ circleId: other }).expect(201);
    expect((await sharedIn(cat, other))!.notes).toHaveLength(1);
    expect((await t.http.delete(`/api/circles/${other}`).set(ann.auth)).status).toBe(204);
    expect(JSON.stringify(await shared(cat))).not.toContain(id);
  });

  it('members pray for a shared prayer point: a count and who, without write access', async () => {
    const circleId = await circleWith(ann, bob, cat);
    const point = await prayerPoint(ann);
    expect((await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(bob.auth)).status).toBe(404); // not shared yet
    await t.http.post(`/api/prayer-points/${point.id}/shares`).set(ann.auth).send({ circleId }).expect(201);

    const first = await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(bob.auth);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ prayerPointId: point.id, userId: bob.id, prayedAt: expect.any(String), count: 1 });
    await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(bob.auth).expect(201);
    await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(cat.auth).expect(201);
    const last = await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(ann.auth).expect(201);
    const eves = await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(eve.auth);
    expect([eves.status, eves.body.code]).toEqual([404, 'PRAYER_POINT.NOT_FOUND']);

    const seen = await t.http.get('/api/shared').set(cat.auth).set('X-Consistency-Token', String(last.headers['x-consistency-token']));
    const points = seen.body.items.find((i: { circleId: string }) => i.circleId === circleId).prayerPoints;
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ id: point.id, title: 'For the Smiths', details: 'New job', status: 'open', ownerId: ann.id, ownerName: 'Ann' });
    expect(points[0].prayedFor.count).toBe(4);
    expect(points[0].prayedFor.people.map((p: { displayName: string; times: number }) => [p.displayName, p.times]).sort()).toEqual([
      ['Ann', 1],
      ['Bob', 2],
      ['Cat', 1],
    ]);
    const forOwner = await t.http.get(`/api/prayer-points/${point.id}/prayers`).set(ann.auth);
    expect(forOwner.body.count).toBe(4);
    expect((await t.http.get(`/api/prayer-points/${point.id}/prayers`).set(bob.auth)).body.count).toBe(4);
    expect((await t.http.get(`/api/prayer-points/${point.id}/prayers`).set(eve.auth)).status).toBe(404);

    // The prayer point itself is untouched, and not theirs to change.
    const own = await t.http.get(`/api/prayer-points/${point.id}`).set(ann.auth);
    expect(own.body.revision).toBe(point.revision);
    expect((await t.http.put(`/api/prayer-points/${point.id}`).set(bob.auth).set('If-Match', '"0"').send({ title: 'Mine' })).status).toBe(404);
    expect((await t.http.post(`/api/prayer-points/${point.id}/answer`).set(bob.auth).send({})).status).toBe(404);

    // Removed: no more praying.
    await t.http.delete(`/api/circles/${circleId}/members/${cat.id}`).set(ann.auth).expect(204);
    expect((await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(cat.auth)).status).toBe(404);
    expect((await t.http.get(`/api/prayer-points/${point.id}/prayers`).set(cat.auth)).status).toBe(404);
    // Unshared: the same.
    await t.http.delete(`/api/prayer-points/${point.id}/shares/${circleId}`).set(ann.auth).expect(204);
    expect((await t.http.post(`/api/prayer-points/${point.id}/prayed`).set(bob.auth)).status).toBe(404);
    expect((await sharedIn(bob, circleId))!.prayerPoints).toEqual([]);
  });

  it('public links to notes: the owner only; the note alone, read-only', async () => {
    const { id } = await note(ann, 'Public thoughts', 'Psalm 23');
    expect((await t.http.post(`/api/notes/${id}/links`).set(bob.auth).send({})).status).toBe(404);
    const link = await t.http.post(`/api/notes/${id}/links`).set(ann.auth).send({});
    expect(link.status).toBe(201);
    const read = await t.http.get(link.body.url);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      itemType: 'note',
      expiresAt: null,
      note: { id, title: 'Public thoughts', content: 'Psalm 23', dateTime: '2026-11-20T08:00:00.000Z', tags: ['grace'], topics: [], scripture: ['Ps.23'], revision: 0, updatedAt: expect.any(String) },
    });
    expect(JSON.stringify(read.body)).not.toContain(ann.id);
    expect((await t.http.get(`/api/notes/${id}/links`).set(ann.auth)).body.items).toHaveLength(1);
    expect((await t.http.get(`/api/notes/${id}/links`).set(bob.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/notes/${id}/links/${link.body.id}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/notes/${id}/links/${link.body.id}`).set(ann.auth)).status).toBe(204);
    expect((await t.http.get(link.body.url)).status).toBe(404);
  });
});
