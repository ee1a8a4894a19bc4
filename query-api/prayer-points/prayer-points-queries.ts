/**
 * Prayer point queries from the `prayer_points` read model: the owner's list (open or answered, newest
 * change first, keyset pages) and one prayer point with its ETag (304 on If-None-Match). A prayer point
 * is its owner's alone: to anyone else it is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { etagOf, ifNoneMatchHits } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { decodeUpdatedAtCursor, encodeUpdatedAtCursor } from '../updated-at-cursor';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PrayerPointRow {
  id: string;
  owner_id: string;
  title: string;
  details: string;
  note_ids: string[];
  passages: string[];
  status: 'open' | 'answered';
  answered_at: Date | null;
  testimony: string | null;
  revision: string;
  created_at: Date;
  updated_at: Date;
  deleted: boolean;
}

/** The same JSON the command side answers (command-api/prayer-points/prayer-points-routes.ts prayerPointView). */
export function prayerPointJson(row: PrayerPointRow) {
  return {
    id: row.id,
    title: row.title,
    details: row.details,
    noteIds: row.note_ids,
    passages: row.passages,
    status: row.status,
    answeredAt: row.answered_at ? row.answered_at.toISOString() : null,
    testimony: row.testimony,
    revision: Number(row.revision),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deleted: row.deleted,
  };
}

export const listPrayerPointsQuery = z.strictObject({
  status: z.enum(['open', 'answered']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export function prayerPointsQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function list(req: Request, res: Response) {
    const params = parseRequest(listPrayerPointsQuery, req.query, 'query');
    const query = db<PrayerPointRow>('prayer_points')
      .where({ owner_id: req.auth!.userId, deleted: false })
      .orderBy([
        { column: 'updated_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(params.limit + 1);
    if (params.status) query.andWhere('status', params.status);
    if (params.cursor) {
      const cursor = decodeUpdatedAtCursor(params.cursor);
      query.andWhereRaw('(updated_at, id) < (?::timestamptz, ?::uuid)', [cursor.updatedAt, cursor.id]);
    }
    const rows = (await query) as PrayerPointRow[];
    const page = rows.slice(0, params.limit);
    res.json({ items: page.map(prayerPointJson), nextCursor: rows.length > params.limit ? encodeUpdatedAtCursor(page[page.length - 1]!) : null });
  }

  async function get(req: Request, res: Response) {
    const id = req.params.id;
    const row = typeof id === 'string' && UUID.test(id) ? ((await db('prayer_points').where({ id: id.toLowerCase(), owner_id: req.auth!.userId }).first()) as PrayerPointRow | undefined) : undefined;
    if (!row) throw new Problem('not_found', 'PRAYER_POINT.NOT_FOUND', 'no such prayer point');
    const revision = BigInt(row.revision);
    res.setHeader('ETag', etagOf(revision));
    if (ifNoneMatchHits(req.header('if-none-match'), revision)) return res.status(304).end();
    res.json(prayerPointJson(row));
  }

  return [
    { method: 'get', path: '/api/prayer-points', access: 'user', summary: 'Your prayer points, open or answered: pages', query: listPrayerPointsQuery, responses: { 200: '{items, nextCursor}' }, handler: list },
    { method: 'get', path: '/api/prayer-points/:id', access: 'user', summary: 'One of your prayer points, with its ETag', responses: { 200: 'The prayer point (ETag)', 304: 'Not modified' }, handler: get },
  ];
}
