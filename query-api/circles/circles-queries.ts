/**
 * Circle queries from the `circles`, `circle_members` and `circle_invites` read models. A circle exists
 * for a caller only if they belong to it: anything else is the same 404 as a missing one. Its invites
 * are the owner's to see.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { etagOf, ifNoneMatchHits } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CircleRow {
  id: string;
  name: string;
  description: string | null;
  open_invites: boolean;
  role: string;
  created_at: Date;
  updated_at: Date;
  revision: string;
}

const view = (row: CircleRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  openInvites: row.open_invites,
  role: row.role,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** The circles `userId` belongs to, with their role in each. */
export function memberCircles(db: Knex, userId: string) {
  return db('circles as c')
    .join('circle_members as m', 'm.circle_id', 'c.id')
    .where('m.user_id', userId)
    .andWhere('c.deleted', false)
    .select<CircleRow[]>('c.id', 'c.name', 'c.description', 'c.open_invites', 'm.role', 'c.created_at', 'c.updated_at', 'c.revision');
}

export async function visibleCircle(db: Knex, userId: string, circleId: unknown): Promise<CircleRow> {
  if (typeof circleId !== 'string' || !UUID.test(circleId)) throw new Problem('not_found', 'CIRCLE.NOT_FOUND', 'no such circle');
  const row = await memberCircles(db, userId).andWhere('c.id', circleId.toLowerCase()).first();
  if (!row) throw new Problem('not_found', 'CIRCLE.NOT_FOUND', 'no such circle');
  return row;
}

export function circlesQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function list(req: Request, res: Response) {
    const rows = await memberCircles(db, req.auth!.userId).orderBy('c.created_at').orderBy('c.id');
    res.json({ items: rows.map(view) });
  }

  async function get(req: Request, res: Response) {
    const row = await visibleCircle(db, req.auth!.userId, req.params.id);
    const revision = BigInt(row.revision);
    res.setHeader('ETag', etagOf(revision));
    if (ifNoneMatchHits(req.header('if-none-match'), revision)) return res.status(304).end();
    res.json(view(row));
  }

  async function members(req: Request, res: Response) {
    const circle = await visibleCircle(db, req.auth!.userId, req.params.id);
    const rows = await db('circle_members as m')
      .leftJoin('users as u', 'u.id', 'm.user_id')
      .where('m.circle_id', circle.id)
      .orderBy('m.added_at')
      .orderBy('m.user_id')
      .select('m.user_id', 'u.email', 'u.display_name', 'm.role', 'm.added_at');
    res.json({
      items: rows.map((row) => ({ userId: row.user_id, email: row.email ?? null, displayName: row.display_name ?? null, role: row.role, addedAt: row.added_at.toISOString() })),
    });
  }

  async function invites(req: Request, res: Response) {
    const circle = await visibleCircle(db, req.auth!.userId, req.params.id);
    if (circle.role !== 'owner') throw new Problem('forbidden', 'CIRCLE.OWNER_REQUIRED', 'only the owner sees the invites');
    const rows = await db('circle_invites').where('circle_id', circle.id).orderBy('issued_at').orderBy('id');
    res.json({
      items: rows.map((row) => ({
        id: row.id,
        email: row.email,
        status: row.status,
        expiresAt: row.expires_at.toISOString(),
        issuedAt: row.issued_at.toISOString(),
        acceptedBy: row.accepted_by,
      })),
    });
  }

  return [
    { method: 'get', path: '/api/circles', access: 'user', summary: 'The circles the caller belongs to', responses: { 200: '{items}' }, handler: list },
    { method: 'get', path: '/api/circles/:id', access: 'user', summary: 'One circle', responses: { 200: 'The circle (ETag)', 304: 'Not modified' }, handler: get },
    { method: 'get', path: '/api/circles/:id/members', access: 'user', summary: "A circle's members", responses: { 200: '{items}' }, handler: members },
    { method: 'get', path: '/api/circles/:id/invites', access: 'user', summary: "A circle's invites (owner); tokens are never shown again", responses: { 200: '{items}' }, handler: invites },
  ];
}
