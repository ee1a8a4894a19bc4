/**
 * The cross-reference graph over the notes a user can see: their own and the notes shared with a circle
 * they belong to (the rule of GET /api/shared). Given users, circles and shared notes, when the caller
 * asks for related notes or the graph, then shared notes take part, say whose they are, and leave at once
 * when unshared, deleted, or when the sharer or the caller leaves or is removed; an outsider gets a 404
 * on a shared note, and a sharer's unshared notes never show.
 */
import { graphProjection } from '../../projectors/graph/graph-projection';
import { verifyProjections } from '../../projectors/runtime/verify';
import { projectionsCaughtUp } from '../operations/operations-support';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

interface Related {
  id: string;
  title: string;
  ownerId?: string;
  ownerName?: string | null;
  score: number;
  sharedVerses: number;
  crossReferences: number;
  sameChapters: number;
  reasons: string[];
}

interface Node {
  id: string;
  title: string;
  ownerId?: string;
  ownerName?: string | null;
  match: boolean;
}

describe('cross-reference graph over shared notes', () => {
  let t: TestService;
  /** The latest write's X-Consistency-Token: every read below carries it (read-your-writes). */
  let token = '';

  beforeAll(async () => {
    t = await startTestService('graph_sharing');
  });
  afterAll(() => t.close());

  const remember = (res: { headers: Record<string, unknown> }) => {
    token = String(res.headers['x-consistency-token']);
    expect(token).toMatch(/\S/);
  };

  // ---- given ------------------------------------------------------------------------------------

  async function user(displayName: string): Promise<SignedUpUser> {
    return signUp(t.http, { displayName });
  }

  async function circle(owner: SignedUpUser, ...members: SignedUpUser[]): Promise<string> {
    const created = await t.http.post('/api/circles').set(owner.auth).send({ name: 'Romans group' }).expect(201);
    for (const member of members) {
      const invite = await t.http.post(`/api/circles/${created.body.id}/invites`).set(owner.auth).send({ email: member.email }).expect(201);
      remember(await t.http.post(`/api/invites/${invite.body.token}/accept`).set(member.auth).expect(200));
    }
    return created.body.id;
  }

  async function note(owner: SignedUpUser, title: string, content: string): Promise<string> {
    const res = await t.http.post('/api/notes').set(owner.auth).send({ title, content, dateTime: '2026-11-20T08:00:00Z', tags: ['study'] });
    expect(res.status).toBe(201);
    remember(res);
    return res.body.id;
  }

  async function share(owner: SignedUpUser, noteId: string, circleId: string) {
    const res = await t.http.post(`/api/notes/${noteId}/shares`).set(owner.auth).send({ circleId });
    expect(res.status).toBe(201);
    remember(res);
  }

  /** Ann (the caller) and Bob share a circle; Bob shares one note on Romans 8:28 and keeps another. */
  async function givenASharedNote() {
    const ann = await user('Ann');
    const bob = await user('Bob');
    const circleId = await circle(bob, ann);
    const mine = await note(ann, 'Mine', 'All things work together for good, Romans 8:28.');
    const shared = await note(bob, 'Shared', 'The golden chain, Romans 8:28-30.');
    const kept = await note(bob, 'Kept', 'Private thoughts on Romans 8:28.');
    await share(bob, shared, circleId);
    return { ann, bob, circleId, mine, shared, kept };
  }

  // ---- when -------------------------------------------------------------------------------------

  async function relatedTo(noteId: string, who: SignedUpUser) {
    return t.http.get(`/api/notes/${noteId}/related`).set(who.auth).set('X-Consistency-Token', token);
  }

  async function related(noteId: string, who: SignedUpUser): Promise<Related[]> {
    const res = await relatedTo(noteId, who);
    expect(res.status).toBe(200);
    return res.body.items;
  }

  async function graph(who: SignedUpUser, query: Record<string, string>): Promise<{ nodes: Node[]; edges: Array<{ source: string; target: string }> }> {
    const res = await t.http.get('/api/graph').query(query).set(who.auth).set('X-Consistency-Token', token);
    expect(res.status).toBe(200);
    return res.body;
  }

  const titles = (items: ReadonlyArray<{ title: string }>) => items.map((item) => item.title).sort();

  // ---- then -------------------------------------------------------------------------------------

  it('a note shared with my circle is related to mine, says whose it is, and has related notes of its own', async () => {
    const { ann, bob, mine, shared } = await givenASharedNote();

    const fromMine = await related(mine, ann);
    expect(fromMine).toEqual([
      expect.objectContaining({ id: shared, title: 'Shared', ownerId: bob.id, ownerName: 'Bob', sharedVerses: 1, reasons: expect.arrayContaining(['both cite Rom.8.28']) }),
    ]);

    // The shared note's own related notes: the caller's notes (no owner said), not the sharer's unshared ones.
    const res = await relatedTo(shared, ann);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ noteId: shared, ownerId: bob.id, ownerName: 'Bob' });
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ id: mine, title: 'Mine', sharedVerses: 1, reasons: expect.arrayContaining(['both cite Rom.8.28', 'Rom.8.28 cross-references Rom.8.30']) });
    expect(res.body.items[0]).not.toHaveProperty('ownerId');

    // Sharing is one way: the sharer does not see the member's unshared notes.
    expect(titles(await related(shared, bob))).toEqual(['Kept']);
  });

  it('the graph around a passage or a tag takes in shared notes, with their owner, and no unshared ones', async () => {
    const { ann, bob, mine, shared } = await givenASharedNote();
    const byPassage = await graph(ann, { passage: 'Romans 8:28' });
    expect(titles(byPassage.nodes)).toEqual(['Mine', 'Shared']);
    expect(byPassage.nodes.find((node) => node.id === shared)).toMatchObject({ ownerId: bob.id, ownerName: 'Bob', match: true });
    expect(byPassage.nodes.find((node) => node.id === mine)).not.toHaveProperty('ownerId');
    expect(byPassage.edges).toEqual([expect.objectContaining({ source: [mine, shared].sort()[0], target: [mine, shared].sort()[1] })]);
    expect(titles((await graph(ann, { tag: 'study' })).nodes)).toEqual(['Mine', 'Shared']);
  });

  it('gives the reasons between my note and a shared one: shared verses, Treasury links, same chapter', async () => {
    const ann = await user('Ann');
    const cat = await user('Cat');
    const circleId = await circle(ann, cat);
    const mine = await note(ann, 'Mine', 'God works all things for good (Romans 8:28).');
    const joseph = await note(cat, 'Joseph', 'You meant evil, God meant it for good (Genesis 50:20).');
    const condemnation = await note(cat, 'No condemnation', 'Romans 8:1.');
    const chain = await note(cat, 'Chain', 'Romans 8:28-30.');
    for (const id of [joseph, condemnation, chain]) await share(cat, id, circleId);

    const items = await related(mine, ann);
    expect(items.map((item) => item.title)).toEqual(['Chain', 'Joseph', 'No condemnation']);
    expect(items.find((item) => item.id === joseph)).toMatchObject({ ownerId: cat.id, ownerName: 'Cat', crossReferences: 1, score: 2, reasons: ['Rom.8.28 cross-references Gen.50.20'] });
    expect(items.find((item) => item.id === condemnation)).toMatchObject({ ownerId: cat.id, sameChapters: 1, score: 0.5, reasons: ['same chapter Rom.8'] });
    // From the shared side, the link is told from the note asked about.
    expect((await related(joseph, ann)).find((item) => item.id === mine)).toMatchObject({ reasons: ['Gen.50.20 cross-references Rom.8.28'] });
  });

  it('an outsider gets a 404 on a shared note’s related notes, and never meets it in their own', async () => {
    const { shared } = await givenASharedNote();
    const eve = await user('Eve');
    const hers = await note(eve, 'Eve', 'Romans 8:28 as well.');
    const res = await relatedTo(shared, eve);
    expect([res.status, res.body.code]).toEqual([404, 'NOTE.NOT_FOUND']);
    expect(await related(hers, eve)).toEqual([]);
    expect((await graph(eve, { passage: 'Rom.8.28' })).nodes.map((node) => node.title)).toEqual(['Eve']);
  });

  it('an unshared note leaves my related notes and the graph at once, and its related notes are a 404', async () => {
    const { ann, bob, circleId, mine, shared } = await givenASharedNote();
    expect(titles(await related(mine, ann))).toEqual(['Shared']);

    const unshared = await t.http.delete(`/api/notes/${shared}/shares/${circleId}`).set(bob.auth);
    expect(unshared.status).toBe(204);
    remember(unshared);

    expect(await related(mine, ann)).toEqual([]);
    expect((await relatedTo(shared, ann)).status).toBe(404);
    expect(titles((await graph(ann, { passage: 'Rom.8' })).nodes)).toEqual(['Mine']);
  });

  it('a deleted shared note leaves at once', async () => {
    const { ann, bob, mine, shared } = await givenASharedNote();
    const deleted = await t.http.delete(`/api/notes/${shared}`).set(bob.auth).set('If-Match', '"0"');
    expect(deleted.status).toBe(204);
    remember(deleted);
    expect(await related(mine, ann)).toEqual([]);
    expect((await relatedTo(shared, ann)).status).toBe(404);
  });

  it('leaving the circle takes the shared notes away from me at once; the sharer leaving takes theirs along', async () => {
    const { ann, bob, circleId, mine, shared } = await givenASharedNote();
    const cat = await user('Cat');
    const invite = await t.http.post(`/api/circles/${circleId}/invites`).set(bob.auth).send({ email: cat.email }).expect(201);
    remember(await t.http.post(`/api/invites/${invite.body.token}/accept`).set(cat.auth).expect(200));
    const cats = await note(cat, 'Cats', 'Romans 8:28, underlined.');
    await share(cat, cats, circleId);
    expect(titles(await related(mine, ann))).toEqual(['Cats', 'Shared']);

    // The sharer leaves: her note goes, Bob's stays.
    const catLeft = await t.http.delete(`/api/circles/${circleId}/members/${cat.id}`).set(cat.auth);
    expect(catLeft.status).toBe(204);
    remember(catLeft);
    expect(titles(await related(mine, ann))).toEqual(['Shared']);
    expect((await relatedTo(cats, ann)).status).toBe(404);

    // The caller leaves: nothing shared remains.
    const annLeft = await t.http.delete(`/api/circles/${circleId}/members/${ann.id}`).set(ann.auth);
    expect(annLeft.status).toBe(204);
    remember(annLeft);
    expect(await related(mine, ann)).toEqual([]);
    expect((await relatedTo(shared, ann)).status).toBe(404);
    expect(titles((await graph(ann, { passage: 'Rom.8.28' })).nodes)).toEqual(['Mine']);
  });

  it('removal from the circle takes the shared notes away at once', async () => {
    const { ann, bob, circleId, mine, shared } = await givenASharedNote();
    const removed = await t.http.delete(`/api/circles/${circleId}/members/${ann.id}`).set(bob.auth);
    expect(removed.status).toBe(204);
    remember(removed);
    expect(await related(mine, ann)).toEqual([]);
    expect((await relatedTo(shared, ann)).status).toBe(404);
  });

  it('a note shared with two of my circles shows once', async () => {
    const { ann, bob, mine, shared } = await givenASharedNote();
    const second = await circle(bob, ann);
    await share(bob, shared, second);
    expect((await related(mine, ann)).map((item) => item.id)).toEqual([shared]);
    expect((await graph(ann, { passage: 'Rom.8.28' })).nodes.filter((node) => node.id === shared)).toHaveLength(1);
  });

  it('the graph tables hold nothing of sharing: a rebuild from the log equals them', async () => {
    await projectionsCaughtUp(t);
    const report = await verifyProjections({ store: t.service.platform.store, knex: t.db.knex, liveSchema: t.db.schema, projections: [graphProjection] });
    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
  });
});
