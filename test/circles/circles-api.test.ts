/**
 * Circles over HTTP: the owner manages, members read, invites are single-use, bound to the invitee's
 * address unless open, revocable and expiring, and leaving or removal takes effect on the next request.
 */
import { startTestService, signUp, type SignedUpUser, type TestService } from '../support/test-service';

describe('circles API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let cat: SignedUpUser;
  let eve: SignedUpUser;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);

  beforeAll(async () => {
    t = await startTestService('circles', { service: { clock } });
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
    cat = await signUp(t.http, { displayName: 'Cat' });
    eve = await signUp(t.http, { displayName: 'Eve' });
  });
  afterAll(() => t.close());

  async function createCircle(owner: SignedUpUser, body: Record<string, unknown> = { name: 'Tuesday group' }) {
    const res = await t.http.post('/api/circles').set(owner.auth).send(body);
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string };
  }

  async function invite(circleId: string, body: Record<string, unknown>, by = ann) {
    return t.http.post(`/api/circles/${circleId}/invites`).set(by.auth).send(body);
  }

  async function join(circleId: string, who: SignedUpUser) {
    const sent = await invite(circleId, { email: who.email });
    expect(sent.status).toBe(201);
    const accepted = await t.http.post(`/api/invites/${sent.body.token}/accept`).set(who.auth);
    expect(accepted.status).toBe(200);
  }

  it('creates a circle owned by its creator, lists it, and serves it with an ETag', async () => {
    const created = await t.http.post('/api/circles').set(ann.auth).send({ name: 'Romans', description: 'Wednesdays' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Romans',
      description: 'Wednesdays',
      openInvites: false,
      role: 'owner',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(created.headers.location).toBe(`/api/circles/${created.body.id}`);
    const list = await t.http.get('/api/circles').set(ann.auth);
    expect(list.body.items).toContainEqual(created.body);
    const one = await t.http.get(`/api/circles/${created.body.id}`).set(ann.auth);
    expect(one.body).toEqual(created.body);
    expect(one.headers.etag).toBe(created.headers.etag);
    expect((await t.http.get(`/api/circles/${created.body.id}`).set(ann.auth).set('If-None-Match', one.headers.etag!)).status).toBe(304);
    expect((await t.http.get(`/api/circles/${created.body.id}`).set(eve.auth)).status).toBe(404);
    expect((await t.http.get('/api/circles').set(eve.auth)).body.items).toEqual([]);
  });

  it('only the owner changes a circle; a stale If-Match is 412', async () => {
    const circle = await createCircle(ann);
    await join(circle.id, bob);
    const byMember = await t.http.patch(`/api/circles/${circle.id}`).set(bob.auth).send({ name: 'Mine' });
    expect([byMember.status, byMember.body.code]).toEqual([403, 'CIRCLE.OWNER_REQUIRED']);
    expect((await t.http.patch(`/api/circles/${circle.id}`).set(eve.auth).send({ name: 'Mine' })).status).toBe(404);
    const current = await t.http.get(`/api/circles/${circle.id}`).set(ann.auth);
    const changed = await t.http.patch(`/api/circles/${circle.id}`).set(ann.auth).set('If-Match', current.headers.etag!).send({ description: 'Psalms' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ name: 'Tuesday group', description: 'Psalms' });
    const stale = await t.http.patch(`/api/circles/${circle.id}`).set(ann.auth).set('If-Match', current.headers.etag!).send({ name: 'Again' });
    expect(stale.status).toBe(412);
    expect((await t.http.patch(`/api/circles/${circle.id}`).set(ann.auth).send({})).status).toBe(400);
    const seen = await t.http.get(`/api/circles/${circle.id}`).set(bob.auth).set('X-Consistency-Token', String(changed.headers['x-consistency-token']));
    expect(seen.body).toMatchObject({ description: 'Psalms', role: 'member' });
  });

  it('an invite is for its invitee, once; the token is shown once and never recorded', async () => {
    const circle = await createCircle(ann);
    const sent = await invite(circle.id, { email: bob.email.toUpperCase() });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({ id: expect.any(String), circleId: circle.id, email: bob.email, token: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/), acceptPath: `/api/invites/${sent.body.token}/accept`, expiresAt: expect.any(String) });
    const days = (Date.parse(sent.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);

    // Someone else holding the token learns nothing; a forged token (right circle, other secret) neither.
    const byEve = await t.http.post(`/api/invites/${sent.body.token}/accept`).set(eve.auth);
    expect([byEve.status, byEve.body.code]).toEqual([404, 'INVITE.NOT_FOUND']);
    const forged = sent.body.token.slice(0, 30) + (sent.body.token[30] === 'A' ? 'B' : 'A') + sent.body.token.slice(31);
    expect((await t.http.post(`/api/invites/${forged}/accept`).set(bob.auth)).status).toBe(404);
    expect((await t.http.post('/api/invites/not-a-token/accept').set(bob.auth)).status).toBe(404);
    expect((await t.http.post(`/api/invites/${sent.body.token}/accept`)).status).toBe(401);

    const accepted = await t.http.post(`/api/invites/${sent.body.token}/accept`).set(bob.auth);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id: circle.id, role: 'member' });
    // Accepting again changes nothing; the circle is Bob's to see at once.
    expect((await t.http.post(`/api/invites/${sent.body.token}/accept`).set(bob.auth)).status).toBe(200);
    expect((await t.http.get(`/api/circles/${circle.id}`).set(bob.auth)).status).toBe(200);
    const members = await t.http.get(`/api/circles/${circle.id}/members`).set(bob.auth);
    expect(members.body.items.map((m: { userId: string; role: string; displayName: string }) => [m.userId, m.role, m.displayName])).toEqual([
      [ann.id, 'owner', 'Ann'],
      [bob.id, 'member', 'Bob'],
    ]);

    const invites = await t.http.get(`/api/circles/${circle.id}/invites`).set(ann.auth);
    expect(invites.body.items).toEqual([{ id: sent.body.id, email: bob.email, status: 'accepted', expiresAt: sent.body.expiresAt, issuedAt: expect.any(String), acceptedBy: bob.id }]);
    expect((await t.http.get(`/api/circles/${circle.id}/invites`).set(bob.auth)).status).toBe(403);

    const events = await t.db.knex('events').select(t.db.knex.raw('data::text as data'));
    expect(events.some((row: { data: string }) => row.data.includes(sent.body.token))).toBe(false);
  });

  it('a revoked invite is dead; a used one cannot be revoked', async () => {
    const circle = await createCircle(ann);
    const sent = await invite(circle.id, { email: cat.email });
    expect((await t.http.delete(`/api/circles/${circle.id}/invites/${sent.body.id}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/circles/${circle.id}/invites/${sent.body.id}`).set(ann.auth)).status).toBe(204);
    expect((await t.http.post(`/api/invites/${sent.body.token}/accept`).set(cat.auth)).status).toBe(404);
    expect((await t.http.get(`/api/circles/${circle.id}`).set(cat.auth)).status).toBe(404);

    const second = await invite(circle.id, { email: cat.email });
    expect((await t.http.post(`/api/invites/${second.body.token}/accept`).set(cat.auth)).status).toBe(200);
    const late = await t.http.delete(`/api/circles/${circle.id}/invites/${second.body.id}`).set(ann.auth);
    expect([late.status, late.body.code]).toEqual([409, 'INVITE.ALREADY_USED']);
  });

  it('an invite can be revoked with its token too, by the owner only', async () => {
    const circle = await createCircle(ann);
    const sent = await invite(circle.id, { email: cat.email });
    expect((await t.http.delete(`/api/invites/${sent.body.token}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/invites/${sent.body.token}`).set(ann.auth)).status).toBe(204);
    expect((await t.http.post(`/api/invites/${sent.body.token}/accept`).set(cat.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/invites/${circle.id}.not-a-real-token`).set(ann.auth)).status).toBe(404);
    expect((await t.http.delete('/api/invites/garbage').set(ann.auth)).status).toBe(404);
  });

  it('open invites: anyone signed in may accept, but only once', async () => {
    const circle = await createCircle(ann);
    const closed = await invite(circle.id, {});
    expect([closed.status, closed.body.code]).toEqual([422, 'INVITE.EMAIL_REQUIRED']);
    expect((await t.http.patch(`/api/circles/${circle.id}`).set(ann.auth).send({ openInvites: true })).body.openInvites).toBe(true);
    const open = await invite(circle.id, {});
    expect(open.status).toBe(201);
    expect((await t.http.post(`/api/invites/${open.body.token}/accept`).set(cat.auth)).status).toBe(200);
    const again = await t.http.post(`/api/invites/${open.body.token}/accept`).set(bob.auth);
    expect([again.status, again.body.code]).toEqual([409, 'INVITE.ALREADY_USED']);
  });

  it('an invite expires', async () => {
    const circle = await createCircle(ann);
    const inTenMinutes = new Date(Date.now() + 10 * 60_000).toISOString();
    const sent = await invite(circle.id, { email: bob.email, expiresAt: inTenMinutes });
    expect(sent.body.expiresAt).toBe(inTenMinutes);
    expect((await invite(circle.id, { email: bob.email, expiresAt: new Date(Date.now() - 1000).toISOString() })).body.code).toBe('INVITE.EXPIRY_IN_PAST');
    offsetMs = 11 * 60_000; // access tokens live 15 minutes: still signed in
    try {
      const res = await t.http.post(`/api/invites/${sent.body.token}/accept`).set(bob.auth);
      expect([res.status, res.body.code]).toEqual([404, 'INVITE.EXPIRED']);
    } finally {
      offsetMs = 0;
    }
  });

  it('members leave, the owner removes them or deletes the circle, and access ends at once', async () => {
    const circle = await createCircle(ann);
    await join(circle.id, bob);
    await join(circle.id, cat);
    expect((await t.http.delete(`/api/circles/${circle.id}/members/${cat.id}`).set(bob.auth)).status).toBe(403);
    const lastOwner = await t.http.delete(`/api/circles/${circle.id}/members/${ann.id}`).set(ann.auth);
    expect([lastOwner.status, lastOwner.body.code]).toEqual([409, 'CIRCLE.LAST_OWNER']);

    expect((await t.http.delete(`/api/circles/${circle.id}/members/${bob.id}`).set(bob.auth)).status).toBe(204);
    expect((await t.http.get(`/api/circles/${circle.id}`).set(bob.auth)).status).toBe(404);
    expect((await t.http.get('/api/circles').set(bob.auth)).body.items.map((c: { id: string }) => c.id)).not.toContain(circle.id);

    expect((await t.http.delete(`/api/circles/${circle.id}/members/${cat.id}`).set(ann.auth)).status).toBe(204);
    expect((await t.http.get(`/api/circles/${circle.id}/members`).set(cat.auth)).status).toBe(404);

    expect((await t.http.delete(`/api/circles/${circle.id}`).set(ann.auth)).status).toBe(204);
    expect((await t.http.get(`/api/circles/${circle.id}`).set(ann.auth)).status).toBe(404);
    expect((await t.http.patch(`/api/circles/${circle.id}`).set(ann.auth).send({ name: 'x' })).status).toBe(404);
  });
});
