/**
 * The cross-reference graph between notes, computed at query time from the `graph` projection's indexed
 * rows (projectors/graph): related notes of one note, ranked, each with the reasons it is related, and
 * the nodes and edges around a passage or a tag for drawing.
 *
 * Two notes are related by
 *  1. the verses they both cite (SHARED_VERSE_WEIGHT per shared verse): "both cite Rom.8.28";
 *  2. Treasury of Scripture Knowledge links between verses one cites and verses the other cites (the
 *     dataset's weight per linked verse pair: 2 when it links both ways, else 1):
 *     "Rom.8.28 cross-references Gen.50.20";
 *  3. chapters both cite without sharing a verse there (SAME_CHAPTER_WEIGHT each, the weakest):
 *     "same chapter Rom.8".
 * Every lookup of other notes' rows is an index probe: segments by (owner_id, chapter), links by
 * (owner_id, to_verse) (see SCORES).
 *
 * Visibility: a user sees the graph among the notes they can see: their own, and the notes shared with
 * a circle they belong to, by exactly the rule of `GET /api/shared` (`visibleShares`: the circle exists,
 * the owner still belongs to it; the note not deleted). Each answer first reads that set in its
 * snapshot (`visibility`), then every lookup runs over the owners it involves, (owner_id, chapter) and
 * (owner_id, to_verse) as before, keeping the caller's own notes and the shared ones (`VISIBLE`).
 * Nothing of sharing is stored in the graph tables: unsharing, leaving or removal changes only the
 * circles read models, so the next read (or the one holding the command's X-Consistency-Token) no
 * longer sees the notes.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { normalizeLabel } from '../../infra/text/labels';
import { describeChapter, describeRange, passageQuery } from '../../projectors/graph/graph-keys';
import { visibleShares } from '../sharing/shared-queries';

export const SHARED_VERSE_WEIGHT = 3;
export const SAME_CHAPTER_WEIGHT = 0.5;
/** Reasons of each kind listed per related note (the counts cover all of them). */
export const REASONS_PER_KIND = 3;
/** Edges computed for a graph drawing at most (the strongest). */
const MAX_GRAPH_EDGES = 5_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const relatedQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) });
export const graphQuery = z.strictObject({
  passage: z.string().trim().min(1).max(120).optional(),
  tag: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((value) => !/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value), { message: 'no NUL characters or unpaired surrogates' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** A PostgreSQL array literal of ids (knex would spread a JS array binding into a list). */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/** The notes a user can see besides their own: the notes shared with them, and whose they are. */
interface Visibility {
  readonly me: string;
  /** The caller and every owner of a note shared with them: the owners the index lookups run over. */
  readonly owners: readonly string[];
  /** Note id -> its owner, for the notes shared with the caller (not their own; deleted ones too: every lookup skips deleted rows). */
  readonly shared: ReadonlyMap<string, { ownerId: string; ownerName: string | null }>;
}

/**
 * What `userId` can see, by the rule of GET /api/shared, read in the answer's snapshot: an index walk
 * from the caller's memberships through their circles' shares. Whether a shared note is deleted is left
 * to the graph rows (every lookup skips deleted rows, and a deleted shared note's related notes are a
 * 404), so the notes themselves are not joined here: that join would have the planner hash them all.
 */
async function visibility(trx: Knex.Transaction, userId: string): Promise<Visibility> {
  const rows = (await visibleShares(trx, userId, 'note').distinct('s.item_id as note_id', 's.owner_id', 'u.display_name as owner_name')) as Array<{
    note_id: string;
    owner_id: string;
    owner_name: string | null;
  }>;
  const shared = new Map(rows.map((row) => [row.note_id, { ownerId: row.owner_id, ownerName: row.owner_name ?? null }]));
  return { me: userId, owners: [userId, ...new Set(rows.map((row) => row.owner_id))], shared };
}

/** The named bindings `VISIBLE` refers to. */
const visibleBindings = (v: Visibility) => ({ me: v.me, owners: uuidArray(v.owners), shared: uuidArray([...v.shared.keys()]) });

/**
 * Rows of `alias` (graph_segments, graph_links or graph_notes) of a note the caller can see. The first
 * condition is what the (owner_id, ...) indexes are entered by; the second keeps, of the other owners'
 * notes, only those shared with the caller.
 */
const VISIBLE = (alias: string) =>
  `${alias}.owner_id = ANY(CAST(:owners AS uuid[])) AND (${alias}.owner_id = CAST(:me AS uuid) OR ${alias}.note_id = ANY(CAST(:shared AS uuid[])))`;

interface ScoreRow {
  source: string;
  target: string;
  shared: string;
  chapters: string;
  tsk: string;
  links: string;
  score: string;
}

/**
 * Per (source, target) pair: shared verses, chapters shared without a shared verse, summed link weight
 * and link count, and the score. Sources are given notes; targets any other visible live note.
 *
 * Other notes' rows are reached by index probes only: the visible segments of each chapter the sources
 * cite or link into (`near`: one (owner_id, chapter) probe per chapter and visible owner), and the
 * visible links into each source segment (one (owner_id, to_verse) range probe per segment and owner).
 * The probes are LATERAL subqueries fenced with OFFSET 0: unfenced, the planner (which expects a note
 * to have a hundred links where most have a handful) hashes every segment of the visible owners
 * instead, a scan that grows with their notes.
 */
const SCORES = `
  WITH src AS MATERIALIZED (
    SELECT note_id, chapter, first, last FROM graph_segments WHERE note_id = ANY(CAST(:sources AS uuid[])) AND NOT deleted
  ),
  src_links AS MATERIALIZED (
    SELECT note_id, from_verse, to_verse, to_chapter, weight FROM graph_links WHERE note_id = ANY(CAST(:sources AS uuid[])) AND NOT deleted
  ),
  chapters AS (
    SELECT chapter FROM src UNION SELECT to_chapter FROM src_links
  ),
  near AS MATERIALIZED (
    SELECT o.note_id, o.chapter, o.first, o.last
      FROM chapters c
      CROSS JOIN LATERAL (
        SELECT o.note_id, o.chapter, o.first, o.last FROM graph_segments o WHERE ${VISIBLE('o')} AND o.chapter = c.chapter AND NOT o.deleted OFFSET 0
      ) o
  ),
  seg_pairs AS (
    SELECT s.note_id AS source, o.note_id AS target, s.chapter,
           SUM(GREATEST(0, LEAST(s.last, o.last) - GREATEST(s.first, o.first) + 1)) AS shared
      FROM src s JOIN near o ON o.chapter = s.chapter AND o.note_id <> s.note_id
     GROUP BY 1, 2, 3
  ),
  seg_scores AS (
    SELECT source, target, SUM(shared) AS shared, COUNT(*) FILTER (WHERE shared = 0) AS chapters FROM seg_pairs GROUP BY 1, 2
  ),
  link_pairs AS (
    SELECT l.note_id AS source, o.note_id AS target, l.from_verse AS mine, l.to_verse AS theirs, l.weight
      FROM src_links l JOIN near o ON o.chapter = l.to_chapter AND l.to_verse BETWEEN o.first AND o.last AND o.note_id <> l.note_id
    UNION
    SELECT s.note_id, l.note_id, l.to_verse, l.from_verse, l.weight
      FROM src s
      CROSS JOIN LATERAL (
        SELECT l.note_id, l.from_verse, l.to_verse, l.weight FROM graph_links l
         WHERE ${VISIBLE('l')} AND NOT l.deleted AND l.to_verse BETWEEN s.first AND s.last AND l.note_id <> s.note_id OFFSET 0
      ) l
  ),
  link_scores AS (
    SELECT source, target, SUM(weight) AS tsk, COUNT(*) AS links FROM link_pairs GROUP BY 1, 2
  )
  SELECT COALESCE(s.source, l.source) AS source, COALESCE(s.target, l.target) AS target,
         COALESCE(s.shared, 0) AS shared, COALESCE(s.chapters, 0) AS chapters, COALESCE(l.tsk, 0) AS tsk, COALESCE(l.links, 0) AS links,
         ${SHARED_VERSE_WEIGHT} * COALESCE(s.shared, 0) + COALESCE(l.tsk, 0) + ${SAME_CHAPTER_WEIGHT} * COALESCE(s.chapters, 0) AS score
    FROM seg_scores s FULL JOIN link_scores l ON l.source = s.source AND l.target = s.target
   ORDER BY score DESC, target
   LIMIT :limit`;

/**
 * Reasons of the pairs (source, target): shared verse ranges, linked verse pairs (a pair the Treasury
 * links both ways is told from the source's side), shared chapters.
 */
const OVERLAPS = `
  SELECT s.note_id AS source, o.note_id AS target, s.chapter,
         GREATEST(s.first, o.first) AS first, LEAST(s.last, o.last) AS last
    FROM graph_segments s JOIN graph_segments o ON ${VISIBLE('o')} AND o.chapter = s.chapter AND NOT o.deleted
   WHERE s.note_id = ANY(CAST(:sources AS uuid[])) AND NOT s.deleted AND o.note_id = ANY(CAST(:targets AS uuid[])) AND o.note_id <> s.note_id
   ORDER BY 1, 2, 3, 4`;

const LINKS = `
  SELECT l.note_id AS source, o.note_id AS target, l.from_verse AS "from", l.to_verse AS "to", l.weight, 0 AS inward
    FROM graph_links l
    JOIN graph_segments o ON ${VISIBLE('o')} AND o.chapter = l.to_chapter AND NOT o.deleted AND l.to_verse BETWEEN o.first AND o.last
   WHERE l.note_id = ANY(CAST(:sources AS uuid[])) AND NOT l.deleted AND o.note_id = ANY(CAST(:targets AS uuid[])) AND o.note_id <> l.note_id
  UNION
  SELECT s.note_id, l.note_id, l.from_verse, l.to_verse, l.weight, 1
    FROM graph_segments s JOIN graph_links l ON ${VISIBLE('l')} AND NOT l.deleted AND l.to_verse BETWEEN s.first AND s.last
   WHERE s.note_id = ANY(CAST(:sources AS uuid[])) AND NOT s.deleted AND l.note_id = ANY(CAST(:targets AS uuid[])) AND l.note_id <> s.note_id
  ORDER BY 1, 2, 5 DESC, 6, 3, 4`;

interface Pair {
  readonly source: string;
  readonly target: string;
  readonly sharedVerses: number;
  readonly crossReferences: number;
  readonly sameChapters: number;
  readonly score: number;
}


/**
 * One answer's reads, in one read-only snapshot (its queries agree with each other) with JIT off: the
 * planner cannot know how many rows a verse-range join meets, guesses millions, and would otherwise
 * spend hundreds of milliseconds compiling a query that runs in a few. A graph around a busy chapter
 * meets tens of thousands of linked verse pairs: enough memory to de-duplicate them without disk.
 */
function snapshot<T>(db: Knex, read: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(
    async (trx) => {
      await trx.raw('SET LOCAL jit = off');
      await trx.raw("SET LOCAL work_mem = '16MB'");
      return read(trx);
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

async function scores(db: Knex, visible: Visibility, sources: readonly string[], limit: number): Promise<Pair[]> {
  if (sources.length === 0) return [];
  const { rows } = await db.raw<{ rows: ScoreRow[] }>(SCORES, { ...visibleBindings(visible), sources: uuidArray(sources), limit });
  return rows.map((row) => ({
    source: row.source,
    target: row.target,
    sharedVerses: Number(row.shared),
    crossReferences: Number(row.links),
    sameChapters: Number(row.chapters),
    score: Number(row.score),
  }));
}

/** The reason strings of each (source, target) pair, strongest first within each kind. */
async function reasons(db: Knex, visible: Visibility, sources: readonly string[], targets: readonly string[]): Promise<Map<string, string[]>> {
  const byPair = new Map<string, { shared: Array<{ first: number; last: number }>; links: string[]; chapters: Set<number>; overlapping: Set<number> }>();
  const pair = (source: string, target: string) => {
    const key = `${source}:${target}`;
    let entry = byPair.get(key);
    if (!entry) byPair.set(key, (entry = { shared: [], links: [], chapters: new Set(), overlapping: new Set() }));
    return entry;
  };
  if (targets.length === 0) return new Map();
  const bindings = { ...visibleBindings(visible), sources: uuidArray(sources), targets: uuidArray(targets) };
  const overlaps = (await db.raw<{ rows: Array<{ source: string; target: string; chapter: number; first: number; last: number }> }>(OVERLAPS, bindings)).rows;
  for (const row of overlaps) {
    const entry = pair(row.source, row.target);
    entry.chapters.add(row.chapter);
    if (row.first > row.last) continue;
    entry.overlapping.add(row.chapter);
    const previous = entry.shared[entry.shared.length - 1];
    // Segments are cut at chapter ends: an overlap running on into the next chapter is one reason.
    if (previous && row.first === previous.last + 1) previous.last = row.last;
    else entry.shared.push({ first: row.first, last: row.last });
  }
  const links = (await db.raw<{ rows: Array<{ source: string; target: string; from: number; to: number; weight: number }> }>(LINKS, bindings)).rows;
  const seen = new Set<string>();
  for (const row of links) {
    const key = `${row.source}:${row.target}:${Math.min(row.from, row.to)}:${Math.max(row.from, row.to)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pair(row.source, row.target).links.push(`${describeRange(row.from, row.from)} cross-references ${describeRange(row.to, row.to)}`);
  }
  const result = new Map<string, string[]>();
  for (const [key, entry] of byPair) {
    const shared = [...entry.shared].sort((a, b) => b.last - b.first - (a.last - a.first) || a.first - b.first);
    const chapters = [...entry.chapters].filter((chapter) => !entry.overlapping.has(chapter)).sort((a, b) => a - b);
    result.set(key, [
      ...shared.slice(0, REASONS_PER_KIND).map((range) => `both cite ${describeRange(range.first, range.last)}`),
      ...entry.links.slice(0, REASONS_PER_KIND),
      ...chapters.slice(0, REASONS_PER_KIND).map((chapter) => `same chapter ${describeChapter(chapter)}`),
    ]);
  }
  return result;
}

interface GraphNoteRow {
  note_id: string;
  owner_id: string;
  title: string;
  tags: string[];
  scripture: string[];
  deleted: boolean;
}

/** Whose note it is, said of the notes that are not the caller's (shared with them). */
function ownerOf(visible: Visibility, row: Pick<GraphNoteRow, 'note_id' | 'owner_id'> | undefined): { ownerId?: string; ownerName?: string | null } {
  if (!row || row.owner_id === visible.me) return {};
  return { ownerId: row.owner_id, ownerName: visible.shared.get(row.note_id)?.ownerName ?? null };
}

export function graphQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function related(req: Request, res: Response) {
    const me = req.auth!.userId;
    const noteId = req.params.id;
    if (typeof noteId !== 'string' || !UUID.test(noteId)) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
    const { limit } = parseRequest(relatedQuery, req.query, 'query');
    const found = await snapshot(db, async (trx) => {
      const visible = await visibility(trx, me);
      const note = (await trx('graph_notes').where({ note_id: noteId.toLowerCase() }).first('note_id', 'owner_id', 'deleted')) as Pick<GraphNoteRow, 'note_id' | 'owner_id' | 'deleted'> | undefined;
      // The caller's own note (deleted or not: a deleted one has no related notes), or a live one shared with them.
      const sharedNote = note !== undefined && note.owner_id === visible.shared.get(note.note_id)?.ownerId && !note.deleted;
      if (!note || (note.owner_id !== me && !sharedNote)) return undefined;
      const pairs = note.deleted ? [] : await scores(trx, visible, [note.note_id], limit);
      const targets = pairs.map((p) => p.target);
      const why = await reasons(trx, visible, [note.note_id], targets);
      const titles = targets.length ? ((await trx('graph_notes').whereIn('note_id', targets).select('note_id', 'owner_id', 'title', 'scripture')) as GraphNoteRow[]) : [];
      return { visible, note, pairs, why, titles };
    });
    if (!found) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
    const { visible, note, pairs, why, titles } = found;
    const byId = new Map(titles.map((row) => [row.note_id, row]));
    res.json({
      noteId: note.note_id,
      ...ownerOf(visible, note),
      items: pairs.map((p) => ({
        id: p.target,
        title: byId.get(p.target)?.title ?? '',
        scripture: byId.get(p.target)?.scripture ?? [],
        ...ownerOf(visible, byId.get(p.target)),
        score: p.score,
        sharedVerses: p.sharedVerses,
        crossReferences: p.crossReferences,
        sameChapters: p.sameChapters,
        reasons: why.get(`${note.note_id}:${p.target}`) ?? [],
      })),
    });
  }

  async function graph(req: Request, res: Response) {
    const me = req.auth!.userId;
    const params = parseRequest(graphQuery, req.query, 'query');
    if (params.passage === undefined && params.tag === undefined) {
      throw new Problem('invalid', 'GRAPH.CENTRE_REQUIRED', 'give a passage, a tag, or both');
    }
    const passage = params.passage === undefined ? undefined : passageQuery(params.passage);
    if (params.passage !== undefined && passage === undefined) throw new Problem('invalid', 'GRAPH.INVALID_PASSAGE', 'passage must be one scripture reference');

    // Tags are stored normalized (trimmed, lower-cased: see command-api/notes/note-schemas.ts).
    const tag = params.tag === undefined ? undefined : normalizeLabel(params.tag);
    const { visible, seeds, pairs, neighbourIds, neighbours } = await snapshot(db, async (trx) => {
      const visible = await visibility(trx, me);
      // The notes the graph is drawn around: citing the passage (most verses of it first) and/or tagged.
      const seedQuery = trx('graph_notes as n').where('n.deleted', false).whereRaw(VISIBLE('n'), visibleBindings(visible)).limit(params.limit);
      if (tag !== undefined) seedQuery.whereRaw('n.tags @> ARRAY[?]::text[]', [tag]);
      if (passage) {
        seedQuery
          .join(
            trx.raw(
              `(SELECT m.note_id, SUM(LEAST(m.last, :last) - GREATEST(m.first, :first) + 1) AS cited FROM graph_segments m
                 WHERE ${VISIBLE('m')} AND m.chapter = ANY(CAST(:chapters AS int[])) AND m.first <= :last AND m.last >= :first AND NOT m.deleted GROUP BY m.note_id) AS m`,
              { ...visibleBindings(visible), first: passage.first, last: passage.last, chapters: `{${passage.chapters.join(',')}}` },
            ),
            'm.note_id',
            'n.note_id',
          )
          .orderBy([{ column: 'm.cited', order: 'desc' }, { column: 'n.note_id' }]);
      } else {
        seedQuery.orderBy('n.note_id');
      }
      const seeds = (await seedQuery.select('n.note_id', 'n.owner_id', 'n.title', 'n.tags', 'n.scripture')) as GraphNoteRow[];
      const seedIds = seeds.map((seed) => seed.note_id);
      const pairs = await scores(trx, visible, seedIds, MAX_GRAPH_EDGES);

      // Neighbours fill the places the seeds leave, most strongly connected to the seeds first.
      const isSeed = new Set(seedIds);
      const pull = new Map<string, number>();
      for (const p of pairs) if (!isSeed.has(p.target)) pull.set(p.target, (pull.get(p.target) ?? 0) + p.score);
      const neighbourIds = [...pull.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, params.limit - seeds.length)
        .map(([id]) => id);
      const neighbours = neighbourIds.length ? ((await trx('graph_notes').whereIn('note_id', neighbourIds).select('note_id', 'owner_id', 'title', 'tags', 'scripture')) as GraphNoteRow[]) : [];
      return { visible, seeds, pairs, neighbourIds, neighbours };
    });
    const seedIds = seeds.map((seed) => seed.note_id);
    const inGraph = new Set([...seedIds, ...neighbourIds]);

    const edges = new Map<string, Pair>();
    for (const p of pairs) {
      if (!inGraph.has(p.target)) continue;
      const [a, b] = p.source < p.target ? [p.source, p.target] : [p.target, p.source];
      if (!edges.has(`${a}:${b}`)) edges.set(`${a}:${b}`, { ...p, source: a, target: b });
    }
    const node = (row: GraphNoteRow, match: boolean) => ({ id: row.note_id, title: row.title, tags: row.tags, scripture: row.scripture, ...ownerOf(visible, row), match });
    const neighbourById = new Map(neighbours.map((row) => [row.note_id, row]));
    res.json({
      centre: { ...(passage ? { passage: passage.osis } : {}), ...(tag !== undefined ? { tag } : {}) },
      nodes: [...seeds.map((row) => node(row, true)), ...neighbourIds.flatMap((id) => (neighbourById.has(id) ? [node(neighbourById.get(id)!, false)] : []))],
      edges: [...edges.values()]
        .sort((x, y) => y.score - x.score || (x.source + x.target < y.source + y.target ? -1 : 1))
        .map((e) => ({ source: e.source, target: e.target, weight: e.score, sharedVerses: e.sharedVerses, crossReferences: e.crossReferences, sameChapters: e.sameChapters })),
    });
  }

  return [
    { method: 'get', path: '/api/notes/:id/related', access: 'user', summary: 'Notes related to one the caller can see (theirs or shared with them), among the notes they can see, ranked, with the reasons', query: relatedQuery, responses: { 200: '{noteId, ownerId?, ownerName?, items: [{id, title, ownerId?, ownerName?, score, reasons, ...}]}' }, handler: related },
    { method: 'get', path: '/api/graph', access: 'user', summary: 'Nodes and edges of the graph of the notes the caller can see (theirs and shared with them) around a passage or a tag', query: graphQuery, responses: { 200: '{centre, nodes: [{id, title, tags, scripture, ownerId?, ownerName?, match}], edges}' }, handler: graph },
  ];
}
