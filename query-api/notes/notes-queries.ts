/**
 * Note queries from the read models: one note with its ETag (304 on If-None-Match), its version list,
 * the caller's notes (full-text search, tag, topic, date range and passage filters, keyset pages), the
 * caller's tags and topics with counts, and the text of a passage (KJV, shipped with the service).
 *
 * Passage search is range overlap on `note_passages.verses` (absolute verse numbers, GiST-indexed):
 * `passage=Rom.8` is every verse of Romans 8, so it finds a note citing Rom.8.28 and one citing
 * Rom.7-Rom.9; `passage=John.3.16` finds notes citing a range that contains that verse.
 * A note is its owner's alone: to anyone else it is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { etagOf, ifNoneMatchHits } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { readPassage, type PassageQuery } from '../../infra/scripture/passages';
import { verseText } from '../../infra/scripture/scripture-text';
import { normalizeLabel } from '../../infra/text/labels';
import { versionList } from '../versions/version-list';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NoteRow {
  id: string;
  owner_id: string;
  title: string;
  content?: string;
  date_time: Date;
  tags: string[];
  topics: string[];
  scripture: string[];
  revision: string;
  created_at: Date;
  updated_at: Date;
  deleted: boolean;
}

/** The columns of a note's JSON; `content` only where asked for (one note, sync), not in lists. */
export const NOTE_COLUMNS = ['id', 'owner_id', 'title', 'date_time', 'tags', 'topics', 'scripture', 'revision', 'created_at', 'updated_at', 'deleted'] as const;

/** A note as every API answers it (the command side builds the same JSON from the note's state). */
export function noteJson(row: NoteRow) {
  return {
    id: row.id,
    ownerId: row.owner_id,
    title: row.title,
    ...(row.content === undefined ? {} : { content: row.content }),
    dateTime: row.date_time.toISOString(),
    tags: row.tags,
    topics: row.topics,
    scripture: row.scripture,
    revision: Number(row.revision),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deleted: row.deleted,
  };
}

/**
 * A note as those it is shown to without being its owner see it (circle members it is shared with, a
 * public link): its text and passages, no owner id, no creation time, no deleted flag.
 */
export function readerNoteJson(row: Pick<NoteRow, 'id' | 'title' | 'date_time' | 'tags' | 'topics' | 'scripture' | 'revision' | 'updated_at'> & { content: string }) {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    dateTime: row.date_time.toISOString(),
    tags: row.tags,
    topics: row.topics,
    scripture: row.scripture,
    revision: Number(row.revision),
    updatedAt: row.updated_at?.toISOString() ?? null,
  };
}

const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
/** A date alone is its midnight in UTC (not in the database session's time zone). */
const toInstant = (value: string | undefined) => (value === undefined ? undefined : value.length === 10 ? `${value}T00:00:00Z` : value);
const label = z.string().max(200);

export const listNotesQuery = z.strictObject({
  query: z.string().trim().max(500).optional(),
  tag: label.optional(),
  topic: label.optional(),
  passage: z.string().max(200).optional(),
  /** Inclusive lower bound on the note's dateTime (a date alone is its midnight UTC). */
  from: instant.optional(),
  /** Exclusive upper bound on the note's dateTime. */
  to: instant.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  includeDeleted: z.enum(['true', 'false']).optional(),
});

const countsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1_000).default(1_000) });

interface Cursor {
  /** The note's date_time exactly as PostgreSQL writes it in JSON (microseconds kept). */
  readonly dateTime: string;
  readonly id: string;
}

const encodeCursor = (row: { date_key: string; id: string }) => Buffer.from(JSON.stringify({ d: row.date_key, i: row.id })).toString('base64url');

function decodeCursor(text: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { d?: unknown; i?: unknown };
    if (typeof parsed.d === 'string' && parsed.d.length <= 40 && !Number.isNaN(Date.parse(parsed.d)) && typeof parsed.i === 'string' && UUID.test(parsed.i)) {
      return { dateTime: parsed.d, id: parsed.i };
    }
  } catch {
    // fall through
  }
  throw new Problem('invalid', 'REQUEST.INVALID_CURSOR', 'the cursor is not one this service issued');
}

/** A passage named in a query, or a 400 problem. */
export function passageParam(value: string): PassageQuery {
  const passage = readPassage(value);
  if (!passage) throw new Problem('invalid', 'SCRIPTURE.INVALID_REFERENCE', `not a scripture reference: ${JSON.stringify(value.slice(0, 200))}`);
  return passage;
}

const pathParam = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
};

/** The note if `userId` owns it, deleted ones included. */
export async function ownNote(db: Knex, userId: string, noteId: string | undefined, withContent = true): Promise<NoteRow> {
  if (!noteId || !UUID.test(noteId)) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
  const row = await db('notes')
    .where({ id: noteId.toLowerCase(), owner_id: userId })
    .first<NoteRow | undefined>(withContent ? [...NOTE_COLUMNS, 'content'] : [...NOTE_COLUMNS]);
  if (!row) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
  return row;
}

export interface NoteSearch {
  readonly query?: string | undefined;
  readonly tag?: string | undefined;
  readonly topic?: string | undefined;
  readonly passage?: PassageQuery | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly includeDeleted?: boolean;
  readonly after?: Cursor | undefined;
  readonly limit: number;
}

/** The SQL of one page of a user's notes, newest dateTime first (exported so a test can EXPLAIN it). */
export function noteSearchQuery(db: Knex, userId: string, search: NoteSearch): Knex.QueryBuilder {
  const query = db('notes as n')
    .where('n.owner_id', userId)
    .orderBy([
      { column: 'n.date_time', order: 'desc' },
      { column: 'n.id', order: 'desc' },
    ])
    .limit(search.limit)
    .select(...NOTE_COLUMNS.map((column) => `n.${column}`), db.raw(`to_json(n.date_time) #>> '{}' AS date_key`));
  if (!search.includeDeleted) query.andWhere('n.deleted', false);
  if (search.query) query.andWhereRaw(`n.search @@ websearch_to_tsquery('simple', ?)`, [search.query]);
  if (search.tag !== undefined) query.andWhereRaw('n.tags @> ?::text[]', [[normalizeLabel(search.tag)]]);
  if (search.topic !== undefined) query.andWhereRaw('n.topics @> ?::text[]', [[normalizeLabel(search.topic)]]);
  if (search.from) query.andWhere('n.date_time', '>=', search.from);
  if (search.to) query.andWhere('n.date_time', '<', search.to);
  if (search.passage) {
    const { first, last } = search.passage;
    query.whereIn(
      'n.id',
      db('note_passages as p')
        .select('p.note_id')
        .where('p.owner_id', userId)
        .andWhereRaw(`p.verses && int4range(?, ?, '[]')`, [first, last])
        .modify((passages) => {
          if (!search.includeDeleted) passages.andWhere('p.deleted', false);
        }),
    );
  }
  if (search.after) query.andWhereRaw('(n.date_time, n.id) < (?::timestamptz, ?::uuid)', [search.after.dateTime, search.after.id]);
  return query;
}

export function notesQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function list(req: Request, res: Response) {
    const params = parseRequest(listNotesQuery, req.query, 'query');
    const rows = await noteSearchQuery(db, req.auth!.userId, {
      query: params.query,
      tag: params.tag,
      topic: params.topic,
      passage: params.passage === undefined ? undefined : passageParam(params.passage),
      from: toInstant(params.from),
      to: toInstant(params.to),
      includeDeleted: params.includeDeleted === 'true',
      after: params.cursor === undefined ? undefined : decodeCursor(params.cursor),
      limit: params.limit + 1,
    });
    const page = (rows as Array<NoteRow & { date_key: string }>).slice(0, params.limit);
    res.json({
      items: page.map(({ date_key: _dateKey, ...row }) => noteJson(row)),
      nextCursor: rows.length > params.limit ? encodeCursor(page[page.length - 1]!) : null,
    });
  }

  async function get(req: Request, res: Response) {
    const row = await ownNote(db, req.auth!.userId, pathParam(req, 'id'));
    const revision = BigInt(row.revision);
    res.setHeader('ETag', etagOf(revision));
    if (ifNoneMatchHits(req.header('if-none-match'), revision)) return res.status(304).end();
    res.json(noteJson(row));
  }

  async function versions(req: Request, res: Response) {
    const note = await ownNote(db, req.auth!.userId, pathParam(req, 'id'), false);
    res.json(await versionList(db, { versions: 'note_versions', labels: 'note_labels', key: 'note_id' }, note.id));
  }

  /** Each label of the caller's live notes with the number of notes carrying it, most used first. */
  const counts = (column: 'tags' | 'topics', key: 'tag' | 'topic') => async (req: Request, res: Response) => {
    const { limit } = parseRequest(countsQuery, req.query, 'query');
    const rows = await db
      .from(db.raw(`notes n CROSS JOIN LATERAL unnest(n.??) AS l(label)`, [column]))
      .where('n.owner_id', req.auth!.userId)
      .andWhere('n.deleted', false)
      .groupBy('l.label')
      .orderBy([
        { column: 'count', order: 'desc' },
        { column: 'l.label', order: 'asc' },
      ])
      .limit(limit)
      .select<Array<{ label: string; count: number }>>('l.label', db.raw('count(*)::int AS count'));
    res.json({ items: rows.map((row) => ({ [key]: row.label, count: row.count })) });
  };

  async function scripture(req: Request, res: Response) {
    const reference = pathParam(req, 'reference') ?? '';
    const passage = readPassage(reference);
    if (!passage) throw new Problem('not_found', 'SCRIPTURE.NOT_FOUND', `no such passage: ${JSON.stringify(reference.slice(0, 200))}`);
    const verses = verseText(passage.osis);
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.json({ reference: passage.osis, translation: 'KJV', verses, text: verses.map((verse) => verse.text).join(' ') });
  }

  return [
    {
      method: 'get',
      path: '/api/notes',
      access: 'user',
      summary: "The caller's notes: full-text, tag, topic, date range and passage search, pages",
      query: listNotesQuery,
      responses: { 200: '{items, nextCursor} (items without content)' },
      handler: list,
    },
    { method: 'get', path: '/api/notes/:id', access: 'user', summary: 'One note, with its ETag', responses: { 200: 'The note (ETag)', 304: 'Not modified' }, handler: get },
    { method: 'get', path: '/api/notes/:id/versions', access: 'user', summary: "A note's revisions and named versions", responses: { 200: '{items, snapshots}' }, handler: versions },
    { method: 'get', path: '/api/tags', access: 'user', summary: "The caller's tags with the number of live notes carrying each", query: countsQuery, responses: { 200: '{items: [{tag, count}]}' }, handler: counts('tags', 'tag') },
    { method: 'get', path: '/api/topics', access: 'user', summary: "The caller's topics with the number of live notes carrying each", query: countsQuery, responses: { 200: '{items: [{topic, count}]}' }, handler: counts('topics', 'topic') },
    {
      method: 'get',
      path: '/api/scripture/:reference',
      access: 'user',
      summary: 'A passage normalized to OSIS, with its KJV text (at most 200 verses)',
      responses: { 200: '{reference, translation, verses: [{osis, text}], text}' },
      handler: scripture,
    },
  ];
}
