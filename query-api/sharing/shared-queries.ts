/**
 * What is shared with the caller, from the read models. An item is visible to a member of a circle it is
 * shared with while the circle exists, the item is not deleted, and its owner still belongs to the circle
 * (an owner who leaves takes their shares along). Prayers for a prayer point (a count, and who) are seen
 * by its owner and by those it is visible to. Owners list the circles their item is shared with.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { readerNoteJson } from '../notes/notes-queries';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ItemType = 'note' | 'prayerPoint';

/** Shares of `itemType` visible to `userId`: one row per (circle, item), with the circle's name and the sharer. */
export function visibleShares(db: Knex, userId: string, itemType: ItemType) {
  return db('circle_shares as s')
    .join('circles as c', 'c.id', 's.circle_id')
    .join('circle_members as me', function () {
      this.on('me.circle_id', '=', 's.circle_id').andOn('me.user_id', '=', db.raw('?', [userId]));
    })
    .join('circle_members as sharer', function () {
      this.on('sharer.circle_id', '=', 's.circle_id').andOn('sharer.user_id', '=', 's.owner_id');
    })
    .leftJoin('users as u', 'u.id', 's.owner_id')
    .where({ 's.item_type': itemType, 'c.deleted': false })
    .andWhereNot('s.owner_id', userId);
}

interface PrayerRow {
  prayer_point_id: string;
  user_id: string;
  times: number;
  last_prayed_at: Date;
  display_name: string | null;
}

function prayersOf(rows: readonly PrayerRow[], prayerPointId: string) {
  const people = rows
    .filter((row) => row.prayer_point_id === prayerPointId)
    .map((row) => ({ userId: row.user_id, displayName: row.display_name ?? null, times: row.times, lastPrayedAt: row.last_prayed_at.toISOString() }));
  return { count: people.reduce((sum, person) => sum + person.times, 0), people };
}

async function prayerRows(db: Knex, prayerPointIds: readonly string[]): Promise<PrayerRow[]> {
  if (prayerPointIds.length === 0) return [];
  return db('prayer_records as p')
    .leftJoin('users as u', 'u.id', 'p.user_id')
    .whereIn('p.prayer_point_id', prayerPointIds)
    .orderBy('p.last_prayed_at')
    .orderBy('p.user_id')
    .select('p.prayer_point_id', 'p.user_id', 'p.times', 'p.last_prayed_at', 'u.display_name');
}

const pathUuid = (req: Request, name: string, code: string): string => {
  const value = req.params[name];
  if (typeof value !== 'string' || !UUID.test(value)) throw new Problem('not_found', code, 'no such resource');
  return value.toLowerCase();
};

export function sharedQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function sharedWithMe(req: Request, res: Response) {
    const userId = req.auth!.userId;
    const circles = await db('circles as c')
      .join('circle_members as m', 'm.circle_id', 'c.id')
      .where({ 'm.user_id': userId, 'c.deleted': false })
      .orderBy('c.created_at')
      .orderBy('c.id')
      .select('c.id', 'c.name', 'm.role');
    const notes = await visibleShares(db, userId, 'note')
      .join('notes as n', 'n.id', 's.item_id')
      .andWhere('n.deleted', false)
      .orderBy('n.date_time', 'desc')
      .orderBy('n.id')
      .select('s.circle_id', 's.owner_id', 's.shared_at', 'u.display_name as owner_name', 'n.id', 'n.title', 'n.content', 'n.date_time', 'n.tags', 'n.topics', 'n.scripture', 'n.revision', 'n.updated_at');
    const points = await visibleShares(db, userId, 'prayerPoint')
      .join('prayer_points as p', 'p.id', 's.item_id')
      .andWhere('p.deleted', false)
      .orderBy('p.updated_at', 'desc')
      .orderBy('p.id')
      .select('s.circle_id', 's.owner_id', 's.shared_at', 'u.display_name as owner_name', 'p.id', 'p.title', 'p.details', 'p.passages', 'p.status', 'p.answered_at', 'p.testimony', 'p.revision', 'p.updated_at');
    const prayers = await prayerRows(db, [...new Set(points.map((row) => row.id as string))]);
    const sharing = (row: { owner_id: string; owner_name: string | null; shared_at: Date }) => ({ ownerId: row.owner_id, ownerName: row.owner_name ?? null, sharedAt: row.shared_at.toISOString() });
    res.json({
      items: circles.map((circle) => ({
        circleId: circle.id,
        circleName: circle.name,
        role: circle.role,
        notes: notes
          .filter((row) => row.circle_id === circle.id)
          .map((row) => ({ ...readerNoteJson(row), ...sharing(row) })),
        prayerPoints: points
          .filter((row) => row.circle_id === circle.id)
          .map((row) => ({
            id: row.id,
            title: row.title,
            details: row.details,
            passages: row.passages,
            status: row.status,
            answeredAt: row.answered_at?.toISOString() ?? null,
            testimony: row.testimony,
            revision: Number(row.revision),
            updatedAt: row.updated_at.toISOString(),
            ...sharing(row),
            prayedFor: prayersOf(prayers, row.id),
          })),
      })),
    });
  }

  async function prayersFor(req: Request, res: Response) {
    const userId = req.auth!.userId;
    const prayerPointId = pathUuid(req, 'id', 'PRAYER_POINT.NOT_FOUND');
    const own = await db('prayer_points').where({ id: prayerPointId, owner_id: userId, deleted: false }).first('id');
    const shared = own ?? (await visibleShares(db, userId, 'prayerPoint').join('prayer_points as p', 'p.id', 's.item_id').andWhere({ 'p.id': prayerPointId, 'p.deleted': false }).first('p.id'));
    if (!shared) throw new Problem('not_found', 'PRAYER_POINT.NOT_FOUND', 'no such prayer point');
    res.json(prayersOf(await prayerRows(db, [prayerPointId]), prayerPointId));
  }

  const sharesOf = (itemType: ItemType, table: string, code: string) => async (req: Request, res: Response) => {
    const itemId = pathUuid(req, 'id', code);
    const item = await db(table).where({ id: itemId, owner_id: req.auth!.userId }).first('id');
    if (!item) throw new Problem('not_found', code, 'no such resource');
    const rows = await db('circle_shares as s')
      .join('circles as c', 'c.id', 's.circle_id')
      .where({ 's.item_type': itemType, 's.item_id': itemId, 'c.deleted': false })
      .orderBy('s.shared_at')
      .select('s.circle_id', 'c.name', 's.shared_at');
    res.json({ items: rows.map((row) => ({ circleId: row.circle_id, circleName: row.name, sharedAt: row.shared_at.toISOString() })) });
  };

  return [
    { method: 'get', path: '/api/shared', access: 'user', summary: 'Notes and prayer points shared with the caller, by circle', responses: { 200: '{items: [{circleId, circleName, role, notes, prayerPoints}]}' }, handler: sharedWithMe },
    { method: 'get', path: '/api/prayer-points/:id/prayers', access: 'user', summary: 'Who prayed for a prayer point, and how often (its owner, and those it is shared with)', responses: { 200: '{count, people}' }, handler: prayersFor },
    { method: 'get', path: '/api/notes/:id/shares', access: 'user', summary: 'The circles a note is shared with (its owner)', responses: { 200: '{items}' }, handler: sharesOf('note', 'notes', 'NOTE.NOT_FOUND') },
    { method: 'get', path: '/api/prayer-points/:id/shares', access: 'user', summary: 'The circles a prayer point is shared with (its owner)', responses: { 200: '{items}' }, handler: sharesOf('prayerPoint', 'prayer_points', 'PRAYER_POINT.NOT_FOUND') },
  ];
}
