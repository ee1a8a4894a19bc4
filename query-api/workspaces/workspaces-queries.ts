/**
 * Workspace queries, answered from the `workspaces` and `workspace_members` read models. A workspace
 * exists for a caller only if they are a member: anything else is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { ifNoneMatchHits, etagOf } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface WorkspaceRow {
  id: string;
  name: string;
  role: string;
  created_at: Date;
  revision: string;
}

const pathParam = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
};

const view = (row: WorkspaceRow) => ({ id: row.id, name: row.name, role: row.role, createdAt: row.created_at.toISOString() });

/** The workspaces `userId` belongs to, with their role in each. */
export function memberWorkspaces(db: Knex, userId: string) {
  return db('workspaces as w')
    .join('workspace_members as m', 'm.workspace_id', 'w.id')
    .where('m.user_id', userId)
    .andWhere('w.deleted', false)
    .select<WorkspaceRow[]>('w.id', 'w.name', 'm.role', 'w.created_at', 'w.revision');
}

export async function visibleWorkspace(db: Knex, userId: string, workspaceId: string | undefined): Promise<WorkspaceRow> {
  if (!workspaceId || !UUID.test(workspaceId)) throw new Problem('not_found', 'WORKSPACE.NOT_FOUND', 'no such workspace');
  const row = await memberWorkspaces(db, userId).andWhere('w.id', workspaceId).first();
  if (!row) throw new Problem('not_found', 'WORKSPACE.NOT_FOUND', 'no such workspace');
  return row;
}

export function workspacesQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function list(req: Request, res: Response) {
    const rows = await memberWorkspaces(db, req.auth!.userId).orderBy('w.created_at').orderBy('w.id');
    res.json({ items: rows.map(view) });
  }

  async function get(req: Request, res: Response) {
    const row = await visibleWorkspace(db, req.auth!.userId, pathParam(req, 'id'));
    const revision = BigInt(row.revision);
    res.setHeader('ETag', etagOf(revision));
    if (ifNoneMatchHits(req.header('if-none-match'), revision)) return res.status(304).end();
    res.json(view(row));
  }

  async function members(req: Request, res: Response) {
    const workspace = await visibleWorkspace(db, req.auth!.userId, pathParam(req, 'id'));
    const rows = await db('workspace_members as m')
      .leftJoin('users as u', 'u.id', 'm.user_id')
      .where('m.workspace_id', workspace.id)
      .orderBy('m.added_at')
      .orderBy('m.user_id')
      .select('m.user_id', 'u.email', 'u.display_name', 'm.role', 'm.added_at');
    res.json({
      items: rows.map((row) => ({ userId: row.user_id, email: row.email ?? null, displayName: row.display_name ?? null, role: row.role, addedAt: row.added_at.toISOString() })),
    });
  }

  return [
    { method: 'get', path: '/api/workspaces', access: 'user', summary: 'The workspaces the caller belongs to', responses: { 200: '{items}' }, handler: list },
    { method: 'get', path: '/api/workspaces/:id', access: 'user', summary: 'One workspace', responses: { 200: 'The workspace (ETag)', 304: 'Not modified' }, handler: get },
    { method: 'get', path: '/api/workspaces/:id/members', access: 'user', summary: "A workspace's members", responses: { 200: '{items}' }, handler: members },
  ];
}
