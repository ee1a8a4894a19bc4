/**
 * The cross-reference graph over HTTP against the real PostgreSQL: related notes ranked with the right
 * reasons (shared verses, Treasury links, same chapter), kept correct through edits, scripture reviews,
 * deletes and restores, invisible across users, the graph around a passage or a tag, input checks, and
 * a rebuild from the log equal to the live tables.
 */
import { graphProjection } from '../../projectors/graph/graph-projection';
import { verifyProjections } from '../../projectors/runtime/verify';
import { projectionsCaughtUp } from '../operations/operations-support';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

interface Related {
  id: string;
  title: string;
  score: number;
  sharedVerses: number;
  crossReferences: number;
  sameChapters: number;
  reasons: string[];
}

describe('cross-reference graph API', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  let token = '';
  const notes: Record<string, { id: string; revision: number }> = {};

  beforeAll(async () => {
    t = await startTestService('graph');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
  });
  afterAll(() => t.close());

  const tokenOf = (res: { headers: Record<string, unknown> }) => String(res.headers['x-consistency-token']);

  async function write(user: SignedUpUser, name: string, content: string, tags: string[] = []) {
    const known = notes[name];
    const body = { title: name, content, dateTime: '2026-11-20T08:00:00Z', tags };
    const res = known
      ? await t.http.put(`/api/notes/${known.id}`).set(user.auth).set('If-Match', `"${known.revision}"`).send(body)
      : await t.http.post('/api/notes').set(user.auth).send(body);
    expect([name, res.status]).toEqual([name, known ? 200 : 201]);
    notes[name] = { id: res.body.id, revision: res.body.revision };
    token = tokenOf(res);
    return res.body.id as string;
  }

  async function related(name: string, user = ann, query: Record<string, string> = {}): Promise<Related[]> {
    const res = await t.http.get(`/api/notes/${notes[name]!.id}/related`).query(query).set(user.auth).set('X-Consistency-Token', token);
    expect(res.status).toBe(200);
    return res.body.items;
  }
  const titles = (items: readonly Related[]) => items.map((item) => item.title);
  const find = (items: readonly Related[], title: string) => items.find((item) => item.title === title);

  it('ranks shared verses over Treasury links over the same chapter, each with its reasons', async () => {
    await write(ann, 'A', 'God works all things for good (Romans 8:28).', ['providence']);
    await write(ann, 'B', 'The golden chain: Romans 8:28-30.');
    await write(ann, 'C', 'Joseph: you meant evil, God meant it for good (Genesis 50:20).', ['providence']);
    await write(ann, 'D', 'No condemnation, Romans 8:1.');
    await write(ann, 'E', 'The Lord is my shepherd, Psalm 23:1.');
    await write(bob, 'Bob', 'Bob also reads Romans 8:28.');

    const items = await related('A');
    expect(titles(items)).toEqual(['B', 'C', 'D']);
    expect(find(items, 'B')).toMatchObject({ sharedVerses: 1, reasons: expect.arrayContaining(['both cite Rom.8.28', 'Rom.8.28 cross-references Rom.8.30']) });
    expect(find(items, 'B')!.reasons[0]).toBe('both cite Rom.8.28');
    expect(find(items, 'C')).toMatchObject({ sharedVerses: 0, crossReferences: 1, sameChapters: 0, score: 2, reasons: ['Rom.8.28 cross-references Gen.50.20'] });
    expect(find(items, 'D')).toMatchObject({ sharedVerses: 0, crossReferences: 0, sameChapters: 1, score: 0.5, reasons: ['same chapter Rom.8'] });
    expect(items[0]!.score).toBeGreaterThan(items[1]!.score);

    // The link is found from either side, and told from the side asked about (the Treasury links both ways).
    expect(find(await related('C'), 'A')).toMatchObject({ crossReferences: 1, reasons: ['Gen.50.20 cross-references Rom.8.28'] });
    // A chapter cited on both sides with overlap is a shared-verse reason, not a "same chapter" one.
    expect(find(await related('B'), 'A')!.reasons).not.toContain('same chapter Rom.8');
    expect((await related('A', ann, { limit: '1' })).map((item) => item.title)).toEqual(['B']);
  });

  it('tells a one-way Treasury link in the direction the Treasury gives it, from either side', async () => {
    await write(ann, 'F', 'Mercy unto thousands of them that love me: Exodus 20:6.');
    const reason = 'Rom.8.28 cross-references Exod.20.6';
    expect(find(await related('F'), 'A')).toMatchObject({ crossReferences: 1, score: 1, reasons: [reason] });
    expect(find(await related('A'), 'F')).toMatchObject({ crossReferences: 1, score: 1, reasons: [reason] });
    expect(titles(await related('A'))).toEqual(['B', 'C', 'F', 'D']);
  });

  it('shows nobody else’s notes, and another user’s note is a 404', async () => {
    const mine = await related('A');
    expect(titles(mine)).not.toContain('Bob');
    expect(titles(await related('Bob', bob))).toEqual([]);
    expect((await t.http.get(`/api/notes/${notes.A!.id}/related`).set(bob.auth)).status).toBe(404);
    expect((await t.http.get('/api/notes/not-a-uuid/related').set(ann.auth)).status).toBe(404);
  });

  it('follows edits: references that change move the edges', async () => {
    await write(ann, 'C', 'Joseph again, now only Psalm 23:1.', ['providence']);
    await write(ann, 'D', 'Now Romans 8:28 too, and Romans 8:1.');
    const items = await related('A');
    expect(titles(items)).not.toContain('C');
    expect(find(items, 'D')).toMatchObject({ sharedVerses: 1, reasons: expect.arrayContaining(['both cite Rom.8.28']) });
    expect(find(items, 'D')!.reasons).not.toContain('same chapter Rom.8');
    expect(find(await related('E'), 'C')).toMatchObject({ sharedVerses: 1, reasons: ['both cite Ps.23.1'] });
  });

  it('follows scripture reviews: a rejected passage drops its edges, a confirmed one adds them', async () => {
    const reject = await t.http.post(`/api/notes/${notes.D!.id}/scripture`).set(ann.auth).send({ remove: ['Rom.8.28'] });
    expect(reject.status).toBe(200);
    notes.D!.revision = reject.body.revision;
    token = tokenOf(reject);
    expect(find(await related('A'), 'D')).toMatchObject({ sharedVerses: 0, reasons: ['same chapter Rom.8'] });
    const confirm = await t.http.post(`/api/notes/${notes.E!.id}/scripture`).set(ann.auth).send({ add: ['Gen.50.20'] });
    expect(confirm.status).toBe(200);
    token = tokenOf(confirm);
    expect(find(await related('A'), 'E')).toMatchObject({ reasons: ['Rom.8.28 cross-references Gen.50.20'] });
  });

  it('follows deletes and restores', async () => {
    const deleted = await t.http.delete(`/api/notes/${notes.B!.id}`).set(ann.auth).set('If-Match', `"${notes.B!.revision}"`);
    expect(deleted.status).toBe(204);
    token = tokenOf(deleted);
    expect(titles(await related('A'))).not.toContain('B');
    expect(await related('B')).toEqual([]);
    const restored = await t.http.post(`/api/notes/${notes.B!.id}/restore`).set(ann.auth).send({});
    expect(restored.status).toBe(200);
    notes.B!.revision = restored.body.revision;
    token = tokenOf(restored);
    expect(titles(await related('A'))[0]).toBe('B');
  });

  it('draws the graph around a passage or a tag: matching notes, their neighbours, and the edges between them', async () => {
    const byPassage = await t.http.get('/api/graph').query({ passage: 'Romans 8' }).set(ann.auth).set('X-Consistency-Token', token);
    expect(byPassage.status).toBe(200);
    expect(byPassage.body.centre).toEqual({ passage: 'Rom.8' });
    const nodes = new Map<string, { title: string; match: boolean }>(byPassage.body.nodes.map((node: { id: string; title: string; match: boolean }) => [node.id, node]));
    const matched = [...nodes.values()].filter((node) => node.match).map((node) => node.title).sort();
    expect(matched).toEqual(['A', 'B', 'D']);
    expect([...nodes.values()].find((node) => node.title === 'E')).toMatchObject({ match: false });
    expect([...nodes.values()].map((node) => node.title)).not.toContain('Bob');
    const edge = (x: string, y: string) =>
      byPassage.body.edges.find((e: { source: string; target: string }) => [nodes.get(e.source)?.title, nodes.get(e.target)?.title].sort().join() === [x, y].sort().join());
    expect(edge('A', 'B')).toMatchObject({ sharedVerses: 1 });
    expect(edge('A', 'E')).toMatchObject({ crossReferences: 1, sharedVerses: 0 });
    expect(edge('A', 'D')).toMatchObject({ sameChapters: 1 });
    for (const e of byPassage.body.edges) expect(nodes.has(e.source) && nodes.has(e.target) && e.source < e.target).toBe(true);

    const byTag = await t.http.get('/api/graph').query({ tag: ' Providence ' }).set(ann.auth);
    expect(byTag.body.centre).toEqual({ tag: 'providence' });
    expect(byTag.body.nodes.filter((node: { match: boolean }) => node.match).map((node: { title: string }) => node.title).sort()).toEqual(['A', 'C']);
    const small = await t.http.get('/api/graph').query({ passage: 'Rom.8', limit: '2' }).set(ann.auth);
    expect(small.body.nodes).toHaveLength(2);
  });

  it('refuses bad queries with 400 problems', async () => {
    const problem = async (path: string, query: Record<string, string>) => {
      const res = await t.http.get(path).query(query).set(ann.auth);
      expect([path, query, res.status, res.headers['content-type']]).toEqual([path, query, 400, expect.stringMatching(/problem\+json/)]);
      return res.body.code as string;
    };
    expect(await problem('/api/graph', {})).toBe('GRAPH.CENTRE_REQUIRED');
    expect(await problem('/api/graph', { passage: 'Hezekiah 4:1' })).toBe('GRAPH.INVALID_PASSAGE');
    expect(await problem('/api/graph', { passage: 'Rom 8', limit: '201' })).toBe('REQUEST.INVALID');
    expect(await problem('/api/graph', { passage: 'Rom 8', other: 'x' })).toBe('REQUEST.INVALID');
    const related = `/api/notes/${notes.A!.id}/related`;
    expect(await problem(related, { limit: '0' })).toBe('REQUEST.INVALID');
    expect(await problem(related, { limit: '101' })).toBe('REQUEST.INVALID');
    expect(await problem(related, { limit: 'many' })).toBe('REQUEST.INVALID');
  });

  it('a rebuild from the log equals the live graph tables', async () => {
    await projectionsCaughtUp(t);
    const report = await verifyProjections({ store: t.service.platform.store, knex: t.db.knex, liveSchema: t.db.schema, projections: [graphProjection] });
    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
    const rows = (table: string) => report.tables.find((candidate) => candidate.table === table)?.liveRows ?? 0;
    expect(rows('graph_notes')).toBe(7);
    expect(rows('graph_segments')).toBeGreaterThan(6);
    expect(rows('graph_links')).toBeGreaterThan(50);
  });
});
