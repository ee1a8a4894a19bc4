/**
 * Passage search on a generated corpus: 2,000+ notes written over HTTP with references in prose (single
 * verses, verse ranges, whole chapters), some edited, reviewed or deleted afterwards; then hundreds of
 * passage queries (verses, ranges, chapters, books) paged through the API, each compared with a
 * brute-force overlap over the verse index of what every note cites. And the plan: the GiST index on
 * note_passages answers a passage query.
 */
import { BOOK_IDS, BOOK_NAMES, VERSES_PER_CHAPTER, type BookId } from '../../domain/scripture/canon-data';
import { toOsisRange, toVerseRange, type OsisRange } from '../../domain/scripture/verse-index';
import { noteSearchQuery } from '../../query-api/notes/notes-queries';
import { seededRandom, type SeededRandom } from '../support/seeded-random';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';

const NOTES = 2_000;
const QUERIES = 400;

function randomChapter(rng: SeededRandom): { book: BookId; chapter: number; verses: number } {
  const book = rng.pick(BOOK_IDS);
  const chapter = rng.int(1, VERSES_PER_CHAPTER[book].length);
  return { book, chapter, verses: VERSES_PER_CHAPTER[book][chapter - 1]! };
}

/** A reference as people write it in a note. */
function writtenReference(rng: SeededRandom): string {
  const { book, chapter, verses } = randomChapter(rng);
  const name = BOOK_NAMES[book];
  const verse = rng.int(1, verses);
  const form = rng.next();
  if (form < 0.5) return `${name} ${chapter}:${verse}`;
  if (form < 0.8) return `${name} ${chapter}:${verse}-${Math.min(verses, verse + rng.int(1, 6))}`;
  return `${name} ${chapter}`;
}

/** A passage someone searches for: a verse, a range, a chapter or a whole book. */
function searchedPassage(rng: SeededRandom): OsisRange {
  const { book, chapter, verses } = randomChapter(rng);
  const form = rng.next();
  const first = toVerseRange(`${book}.${chapter}.1` as OsisRange).first;
  if (form < 0.4) {
    const verse = first + rng.int(0, verses - 1);
    return toOsisRange({ first: verse, last: verse });
  }
  if (form < 0.6) {
    const start = first + rng.int(0, verses - 1);
    return toOsisRange({ first: start, last: start + rng.int(1, 40) });
  }
  if (form < 0.9) return `${book}.${chapter}` as OsisRange;
  return book as OsisRange;
}

async function inBatches<T>(items: readonly T[], concurrency: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await run(items[index]!, index);
      }
    }),
  );
}

describe('passage search', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  /** What each of Ann's notes cites and whether it is deleted, as the API last answered. */
  const notes = new Map<string, { scripture: string[]; deleted: boolean }>();
  const bobNotes = new Set<string>();
  let token = '';
  const at = '2026-01-01T00:00:00.000Z';

  beforeAll(async () => {
    t = await startTestService('notes_passages');
    ann = await signUp(t.http);
    bob = await signUp(t.http);
    const rng = seededRandom(20261122);
    const bodies = Array.from({ length: NOTES }, (_, i) => {
      const references = Array.from({ length: rng.int(0, 4) }, () => writtenReference(rng));
      return {
        owner: i % 10 === 9 ? bob : ann,
        body: { title: `Study ${i}`, content: references.map((reference) => `Read ${reference}.`).join(' Then '), dateTime: new Date(Date.parse(at) + i * 60_000).toISOString() },
      };
    });
    // The furthest position any write answered with: what the searches must see. (Not the log's readable
    // head: that stops below the oldest transaction running anywhere on the server, which on a busy
    // server, other test files included, can be well behind the last write.)
    let written = '';
    const noteWritten = (res: { headers: Record<string, string> }) => {
      const position = res.headers['x-consistency-token'] ?? '';
      if (position > written) written = position;
    };
    await inBatches(bodies, 4, async ({ owner, body }) => {
      const res = await t.http.post('/api/notes').set(owner.auth).send(body);
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
      noteWritten(res);
      if (owner === bob) bobNotes.add(res.body.id);
      else notes.set(res.body.id, { scripture: res.body.scripture, deleted: false });
    });
    // Change some afterwards: edits that cite other passages, reviews, deletes.
    const ids = [...notes.keys()];
    await inBatches(ids.slice(0, 300), 4, async (id, i) => {
      const res =
        i % 3 === 0
          ? await t.http.put(`/api/notes/${id}`).set(ann.auth).set('If-Match', '"0"').send({ title: `Edited ${i}`, content: `Now ${writtenReference(rng)} and ${writtenReference(rng)}.`, dateTime: at })
          : i % 3 === 1
            ? await t.http.post(`/api/notes/${id}/scripture`).set(ann.auth).send({ add: [searchedPassage(rng)], remove: notes.get(id)!.scripture.slice(0, 1) })
            : await t.http.delete(`/api/notes/${id}`).set(ann.auth).set('If-Match', '"0"');
      if (res.status !== 200 && res.status !== 204) throw new Error(`change failed: ${res.status} ${JSON.stringify(res.body)}`);
      noteWritten(res);
      if (res.status === 204) notes.set(id, { ...notes.get(id)!, deleted: true });
      else notes.set(id, { scripture: res.body.scripture, deleted: false });
    });
    // Every write projected before the searches (the machine may be busy: more than a request's wait).
    // A query holding the token waits for every projection, not only notes: so does this.
    expect(written).toMatch(/^\d{20}\.\d{20}$/);
    token = written;
    const runners = t.service.projectors!.runners;
    await waitFor(async () => runners.every((runner) => runner.position !== 'start' && runner.position >= written), 120_000, 'every projection');
  }, 300_000);
  afterAll(() => t.close());

  /** Every id the API answers for a passage, page by page. */
  async function search(passage: string): Promise<Set<string>> {
    const found = new Set<string>();
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: Array<{ id: string }>; nextCursor: string | null } } = await t.http
        .get('/api/notes')
        .query({ passage, limit: '200', ...(cursor ? { cursor } : {}) })
        .set(ann.auth)
        .set('X-Consistency-Token', token);
      if (res.status !== 200) throw new Error(`search failed: ${res.status} ${JSON.stringify(res.body)}`);
      for (const item of res.body.items as Array<{ id: string }>) found.add(item.id);
      cursor = res.body.nextCursor;
    } while (cursor);
    return found;
  }

  function bruteForce(passage: OsisRange): Set<string> {
    const wanted = toVerseRange(passage);
    const found = new Set<string>();
    for (const [id, note] of notes) {
      if (note.deleted) continue;
      if (note.scripture.some((cited) => {
        const range = toVerseRange(cited as OsisRange);
        return range.first <= wanted.last && wanted.first <= range.last;
      })) found.add(id);
    }
    return found;
  }

  it(`finds exactly the notes whose passages overlap, for ${QUERIES} random passages over ${NOTES} notes`, async () => {
    expect(notes.size + bobNotes.size).toBe(NOTES);
    const citing = [...notes.values()].filter((note) => note.scripture.length > 0).length;
    expect(citing).toBeGreaterThan(notes.size * 0.6); // the corpus really cites scripture
    const rng = seededRandom(7);
    // Passages of notes themselves too, so that many queries have answers.
    const cited = [...notes.values()].flatMap((note) => note.scripture);
    const passages = Array.from({ length: QUERIES }, (_, i) => (i % 4 === 0 ? (rng.pick(cited) as OsisRange) : searchedPassage(rng)));
    let nonEmpty = 0;
    let compared = 0;
    for (const passage of passages) {
      const expected = bruteForce(passage);
      const actual = await search(passage);
      expect([passage, [...actual].sort()]).toEqual([passage, [...expected].sort()]);
      for (const id of actual) expect(bobNotes.has(id)).toBe(false);
      if (expected.size > 0) nonEmpty++;
      compared += expected.size;
    }
    expect(nonEmpty).toBeGreaterThan(QUERIES / 4);
    console.info(`passage search: ${QUERIES} queries over ${NOTES} notes, ${nonEmpty} with matches, ${compared} matches compared`);
  }, 300_000);

  it('answers human references the same as OSIS ones (Romans 8 = Rom.8)', async () => {
    expect([...(await search('Romans 8'))].sort()).toEqual([...bruteForce('Rom.8' as OsisRange)].sort());
    expect([...(await search('John 3:16'))].sort()).toEqual([...bruteForce('John.3.16' as OsisRange)].sort());
  });

  it('looks passages up with the GiST index, not a scan', async () => {
    await t.db.knex.raw('ANALYZE notes, note_passages');
    for (const passage of ['John.3.16', 'Rom.8']) {
      const range = toVerseRange(passage as OsisRange);
      const { sql, bindings } = noteSearchQuery(t.db.knex, ann.id, { passage: { osis: passage as OsisRange, ...range }, limit: 51 }).toSQL();
      const plan = (await t.db.knex.raw(`EXPLAIN (FORMAT JSON) ${sql}`, bindings as never)).rows[0]['QUERY PLAN'];
      const text = JSON.stringify(plan);
      expect([passage, text]).toEqual([passage, expect.stringMatching(/"Index Name":"note_passages_(owner_)?verses"/)]);
      const scans = [...text.matchAll(/"Node Type":"Seq Scan"[^}]*?"Relation Name":"note_passages"/g)];
      expect([passage, scans.length]).toEqual([passage, 0]);
    }
  });
});
