/**
 * Notes benchmarks over HTTP against the in-process service: note create latency (POST /api/notes, with
 * reference detection on ~1 KB of prose citing several passages), and passage search latency
 * (GET /api/notes?passage=) over 100,000 notes of one user.
 *
 * The 100,000 notes of the search part are bulk-inserted straight into the read model (`notes` and
 * `note_passages`), not created through the API or the log: the figure is the query's, over a read
 * model of that size. Their passages are random verse ranges over the whole canon (a verse, a few
 * verses, or a chapter), with one in twenty inside a few much-cited chapters, so popular passages have
 * thousands of notes and rare ones a handful.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { BOOK_IDS, VERSES_PER_CHAPTER } from '../domain/scripture/canon-data';
import { chapterRange, toOsisRange, toVerseRange, type OsisRange, type VerseRange } from '../domain/scripture/verse-index';
import { seededRandom, type SeededRandom } from '../test/support/seeded-random';
import type { BenchSchema } from './support/bench-schema';
import { startService, withServiceSchema } from './support/bench-service';
import { HttpClient, jsonOf } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { formatCount, formatMs, formatSeconds, renderTable } from './support/report';

export interface NotesFigures {
  readonly creates: LatencySummary;
  readonly referencesPerCreate: number;
  readonly searchNotes: number;
  readonly searchPassages: number;
  readonly fillMs: number;
  readonly search: ReadonlyArray<{ readonly kind: string; readonly latency: LatencySummary; readonly meanMatches: number }>;
}

const SEARCH_NOTES = 100_000;
const FILL_BATCH = 4_000;
const POPULAR_CHAPTERS = [
  ['Rom', 8],
  ['John', 3],
  ['Ps', 23],
  ['1Cor', 13],
  ['Gen', 1],
] as const;

function randomChapter(rng: SeededRandom): VerseRange {
  if (rng.next() < 0.05) {
    const [book, chapter] = rng.pick(POPULAR_CHAPTERS);
    return chapterRange(book, chapter)!;
  }
  const book = rng.pick(BOOK_IDS);
  return chapterRange(book, rng.int(1, VERSES_PER_CHAPTER[book].length))!;
}

/** A passage as notes cite them: mostly a verse or a few, sometimes a whole chapter. */
function citedPassage(rng: SeededRandom): VerseRange {
  const chapter = randomChapter(rng);
  const form = rng.next();
  if (form < 0.15) return chapter;
  const first = rng.int(chapter.first, chapter.last);
  return { first, last: form < 0.6 ? first : Math.min(chapter.last, first + rng.int(1, 5)) };
}

const PROSE_REFERENCES = ['Romans 8:28', 'Gen 50:20', 'John 3:16-18', '1 Cor 13:4-7', 'Psalm 23', 'Isaiah 53:5', 'Phil 4:13', 'Heb 11:1', 'Mic 6:8', 'Eph 2:8-9'];

/** About 1 KB of study prose citing `count` passages. */
function noteContent(rng: SeededRandom, count: number): string {
  const sentences: string[] = [];
  for (let i = 0; i < count; i++) sentences.push(`Read ${rng.pick(PROSE_REFERENCES)} slowly and note what it says about grace, and how the promise holds in trouble.`);
  while (sentences.join(' ').length < 1_000) sentences.push('The passage was read aloud twice, then we wrote down the questions it raised for the week ahead.');
  return sentences.join(' ');
}

export async function measureNotes(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<NotesFigures> {
  return withServiceSchema(db, async (schema) => {
    const running = await startService(db, schema);
    const http = new HttpClient(running.baseUrl, 4);
    try {
      const signup = jsonOf<{ user: { id: string }; accessToken: string }>(
        await http.request('POST', '/api/auth/signup', { json: { email: `notes-${randomUUID()}@example.com`, password: 'correct horse battery staple' } }),
        201,
        'sign-up',
      );
      const auth = { authorization: `Bearer ${signup.accessToken}` };
      const rng = seededRandom(20261122);

      const createCount = Math.max(200, Math.round(1_000 * Math.min(scale, 10)));
      progress(`... ${createCount} note creates, one at a time, after 50 warm-up`);
      const creates = new LatencyRecorder();
      let references = 0;
      for (let i = -50; i < createCount; i++) {
        const body = { title: `Study ${i}`, content: noteContent(rng, 3 + (i % 3)), dateTime: new Date().toISOString(), tags: ['study'] };
        const started = performance.now();
        const created = jsonOf<{ scripture: string[] }>(await http.request('POST', '/api/notes', { headers: auth, json: body }), 201, 'create');
        if (i >= 0) {
          creates.record(performance.now() - started);
          references += created.scripture.length;
        }
      }

      const notes = Math.max(10_000, Math.round(SEARCH_NOTES * Math.min(scale, 1)));
      progress(`... bulk-inserting ${formatCount(notes)} notes straight into the read model`);
      const fillStarted = performance.now();
      const passages = await fillReadModel(running.service.platform.knex, signup.user.id, notes, rng);
      const fillMs = performance.now() - fillStarted;

      progress('... passage searches, one at a time');
      const queries = Math.max(100, Math.round(500 * Math.min(scale, 4)));
      const kinds: Array<{ kind: string; passage: () => OsisRange }> = [
        {
          kind: 'one verse',
          passage: () => {
            const chapter = randomChapter(rng);
            const verse = rng.int(chapter.first, chapter.last);
            return toOsisRange({ first: verse, last: verse });
          },
        },
        { kind: 'a chapter', passage: () => toOsisRange(randomChapter(rng)) },
        { kind: 'a much-cited chapter', passage: () => {
            const [book, chapter] = rng.pick(POPULAR_CHAPTERS);
            return toOsisRange(chapterRange(book, chapter)!);
          } },
      ];
      const search: Array<{ kind: string; latency: LatencySummary; meanMatches: number }> = [];
      for (const { kind, passage } of kinds) {
        const latency = new LatencyRecorder();
        let matches = 0;
        for (let i = -20; i < queries; i++) {
          const started = performance.now();
          const page = jsonOf<{ items: unknown[] }>(await http.request('GET', `/api/notes?passage=${encodeURIComponent(passage())}&limit=50`, { headers: auth }), 200, 'passage search');
          if (i >= 0) {
            latency.record(performance.now() - started);
            matches += page.items.length;
          }
        }
        search.push({ kind, latency: latency.summary(), meanMatches: matches / queries });
      }
      return { creates: creates.summary(), referencesPerCreate: references / createCount, searchNotes: notes, searchPassages: passages, fillMs, search };
    } finally {
      http.close();
      await running.close();
    }
  });
}

/** Inserts `count` notes of `ownerId` with 1..4 passages each into `notes` and `note_passages`; answers the passage count. */
export async function fillReadModel(knex: Knex, ownerId: string, count: number, rng: SeededRandom): Promise<number> {
  let passages = 0;
  const start = Date.parse('2020-01-01T00:00:00Z');
  for (let done = 0; done < count; done += FILL_BATCH) {
    const rows: Record<string, unknown>[] = [];
    const noteIds: string[] = [];
    const osis: string[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    for (let i = done; i < Math.min(count, done + FILL_BATCH); i++) {
      const id = randomUUID();
      const cited = [...new Set(Array.from({ length: rng.int(1, 4) }, () => toOsisRange(citedPassage(rng))))];
      for (const passage of cited) {
        const range = toVerseRange(passage);
        noteIds.push(id);
        osis.push(passage);
        firsts.push(range.first);
        lasts.push(range.last);
      }
      passages += cited.length;
      const at = new Date(start + i * 600_000).toISOString();
      rows.push({ id, owner_id: ownerId, title: `Bulk ${i}`, content: 'A note written for the benchmark.', date_time: at, tags: ['bulk'], topics: [], scripture: cited, revision: 0, created_at: at, updated_at: at, deleted: false });
    }
    await knex.transaction(async (trx) => {
      await trx('notes').insert(rows);
      await trx.raw(
        `INSERT INTO note_passages (note_id, owner_id, osis, verses)
         SELECT x.note_id, ?::uuid, x.osis, int4range(x.first, x.last, '[]') FROM unnest(?::uuid[], ?::text[], ?::int4[], ?::int4[]) AS x(note_id, osis, first, last)`,
        [ownerId, noteIds, osis, firsts, lasts],
      );
    });
  }
  await knex.raw('ANALYZE notes, note_passages');
  return passages;
}

export function notesTable(figures: NotesFigures): string {
  return renderTable({
    title: `10. Notes: create latency with reference detection, and passage search over ${formatCount(figures.searchNotes)} notes of one user`,
    headers: ['measure', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'mean matches'],
    rows: [
      ['POST /api/notes (~1 KB, 3-5 references)', formatCount(figures.creates.count), formatMs(figures.creates.p50Ms), formatMs(figures.creates.p99Ms), formatMs(figures.creates.maxMs), ''],
      ...figures.search.map(({ kind, latency, meanMatches }) => [
        `GET /api/notes?passage= (${kind}, limit 50)`,
        formatCount(latency.count),
        formatMs(latency.p50Ms),
        formatMs(latency.p99Ms),
        formatMs(latency.maxMs),
        meanMatches.toFixed(1),
      ]),
    ],
    notes: [
      `creates: one at a time over keep-alive HTTP, the projectors running in the same process; ${figures.referencesPerCreate.toFixed(1)} passages detected per note on average`,
      `search: the ${formatCount(figures.searchNotes)} notes (${formatCount(figures.searchPassages)} passages) were BULK-INSERTED straight into the notes read model ` +
        `(notes, note_passages) in ${formatSeconds(figures.fillMs)}, not created through the API or the log; then ANALYZE`,
      'mean matches: items on the first page (at most 50); a much-cited chapter has thousands of matching notes',
    ],
  });
}
