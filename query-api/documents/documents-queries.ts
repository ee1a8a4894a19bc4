/**
 * Document queries from the read models: the list of a workspace's documents (full-text search,
 * keyset pages), one document with its ETag (304 on If-None-Match), and its version list. Only members
 * of the document's workspace see it; to anyone else it is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { etagOf, ifNoneMatchHits } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { decodeUpdatedAtCursor, encodeUpdatedAtCursor } from '../updated-at-cursor';
import { versionList } from '../versions/version-list';
import { visibleWorkspace } from '../workspaces/workspaces-queries';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface DocumentRow {
  id: string;
  workspace_id: string;
  title: string;
  content?: string;
  revision: string;
  created_at: Date;
  updated_at: Date;
  created_by: string;
  updated_by: string;
  deleted: boolean;
}

export function documentJson(row: DocumentRow) {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    title: row.title,
    ...(row.content === undefined ? {} : { content: row.content }),
    revision: Number(row.revision),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    deleted: row.deleted,
  };
}

const listQuery = z.strictObject({
  query: z.string().trim().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  includeDeleted: z.enum(['true', 'false']).optional(),
});

const pathParam = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
};

/** The document if `userId` may read it (a member of its workspace), deleted ones included. */
export async function visibleDocument(db: Knex, userId: string, documentId: string | undefined, withContent = true): Promise<DocumentRow> {
  if (!documentId || !UUID.test(documentId)) throw new Problem('not_found', 'DOCUMENT.NOT_FOUND', 'no such document');
  const columns = ['d.id', 'd.workspace_id', 'd.title', 'd.revision', 'd.created_at', 'd.updated_at', 'd.created_by', 'd.updated_by', 'd.deleted'];
  const row = await db('documents as d')
    .join('workspace_members as m', 'm.workspace_id', 'd.workspace_id')
    .join('workspaces as w', 'w.id', 'd.workspace_id')
    .where({ 'd.id': documentId, 'm.user_id': userId, 'w.deleted': false })
    .first<DocumentRow | undefined>(withContent ? [...columns, 'd.content'] : columns);
  if (!row) throw new Problem('not_found', 'DOCUMENT.NOT_FOUND', 'no such document');
  return row;
}

export function documentsQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function list(req: Request, res: Response) {
    const workspace = await visibleWorkspace(db, req.auth!.userId, pathParam(req, 'wid'));
    const params = parseRequest(listQuery, req.query, 'query');
    const query = db('documents')
      .where('workspace_id', workspace.id)
      .orderBy([
        { column: 'updated_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(params.limit + 1)
      .select<DocumentRow[]>('id', 'workspace_id', 'title', 'revision', 'created_at', 'updated_at', 'created_by', 'updated_by', 'deleted');
    if (params.includeDeleted !== 'true') query.andWhere('deleted', false);
    if (params.query) query.andWhereRaw(`search @@ websearch_to_tsquery('simple', ?)`, [params.query]);
    if (params.cursor) {
      const cursor = decodeUpdatedAtCursor(params.cursor);
      query.andWhereRaw('(updated_at, id) < (?::timestamptz, ?::uuid)', [cursor.updatedAt, cursor.id]);
    }
    const rows = await query;
    const page = rows.slice(0, params.limit);
    res.json({ items: page.map(documentJson), nextCursor: rows.length > params.limit ? encodeUpdatedAtCursor(page[page.length - 1]!) : null });
  }

  async function get(req: Request, res: Response) {
    const row = await visibleDocument(db, req.auth!.userId, pathParam(req, 'id'));
    const revision = BigInt(row.revision);
    res.setHeader('ETag', etagOf(revision));
    if (ifNoneMatchHits(req.header('if-none-match'), revision)) return res.status(304).end();
    res.json(documentJson(row));
  }

  async function versions(req: Request, res: Response) {
    const document = await visibleDocument(db, req.auth!.userId, pathParam(req, 'id'), false);
    res.json(await versionList(db, { versions: 'document_versions', labels: 'document_labels', key: 'document_id' }, document.id));
  }

  return [
    { method: 'get', path: '/api/workspaces/:wid/documents', access: 'user', summary: "A workspace's documents: search, pages", query: listQuery, responses: { 200: '{items, nextCursor}' }, handler: list },
    { method: 'get', path: '/api/documents/:id', access: 'user', summary: 'One document, with its ETag', responses: { 200: 'The document (ETag)', 304: 'Not modified' }, handler: get },
    { method: 'get', path: '/api/documents/:id/versions', access: 'user', summary: "A document's revisions and named versions", responses: { 200: '{items, snapshots}' }, handler: versions },
  ];
}
