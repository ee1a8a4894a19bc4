/**
 * Public links on the query side. `GET /api/public/:token` needs no account: it serves the one item the
 * token names, read-only and without its owner's ids, while the link is neither revoked nor expired and
 * the item still exists; anything else is one 404. The token is looked up by its SHA-256, the only form
 * stored. Those who may share an item list its links (never their tokens).
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { visibleDocument } from '../documents/documents-queries';
import { readerNoteJson } from '../notes/notes-queries';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const linkGone = () => new Problem('not_found', 'LINK.NOT_FOUND', 'no such link, or it has expired or been revoked');

interface LinkRow {
  id: string;
  item_type: 'document' | 'note';
  item_id: string;
  expires_at: Date | null;
  created_by: string;
  created_at: Date;
  revoked: boolean;
}

const linkView = (row: LinkRow, now: Date) => ({
  id: row.id,
  itemType: row.item_type,
  itemId: row.item_id,
  expiresAt: row.expires_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
  createdBy: row.created_by,
  revoked: row.revoked,
  expired: row.expires_at !== null && row.expires_at.getTime() <= now.getTime(),
});

export function publicLinksQueries(deps: { db: Knex; clock: () => Date }): RouteSpec[] {
  const { db, clock } = deps;

  async function publicItem(req: Request, res: Response) {
    const token = req.params.token;
    if (typeof token !== 'string' || !TOKEN.test(token)) throw linkGone();
    const hash = createHash('sha256').update(token, 'utf8').digest('hex');
    const link = await db('public_links').where({ token_hash: hash, revoked: false }).first<LinkRow | undefined>();
    if (!link || (link.expires_at !== null && link.expires_at.getTime() <= clock().getTime())) throw linkGone();
    // The token is in the URL: keep it out of caches and Referer headers.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Robots-Tag', 'noindex');
    const expiresAt = link.expires_at?.toISOString() ?? null;
    if (link.item_type === 'document') {
      const row = await db('documents as d')
        .join('workspaces as w', 'w.id', 'd.workspace_id')
        .where({ 'd.id': link.item_id, 'd.deleted': false, 'w.deleted': false })
        .first('d.id', 'd.title', 'd.content', 'd.revision', 'd.updated_at');
      if (!row) throw linkGone();
      return res.json({ itemType: 'document', expiresAt, document: { id: row.id, title: row.title, content: row.content, revision: Number(row.revision), updatedAt: row.updated_at.toISOString() } });
    }
    const row = await db('notes').where({ id: link.item_id, deleted: false }).first('id', 'title', 'content', 'date_time', 'tags', 'topics', 'scripture', 'revision', 'updated_at');
    if (!row) throw linkGone();
    return res.json({ itemType: 'note', expiresAt, note: readerNoteJson(row) });
  }

  async function linksOf(itemType: 'document' | 'note', itemId: string, res: Response) {
    const rows = await db('public_links').where({ item_type: itemType, item_id: itemId }).orderBy('created_at').orderBy('id').select<LinkRow[]>();
    const now = clock();
    res.json({ items: rows.map((row) => linkView(row, now)) });
  }

  async function documentLinks(req: Request, res: Response) {
    const document = await visibleDocument(db, req.auth!.userId, typeof req.params.id === 'string' ? req.params.id : undefined, false);
    await linksOf('document', document.id, res);
  }

  async function noteLinks(req: Request, res: Response) {
    const id = req.params.id;
    if (typeof id !== 'string' || !UUID.test(id)) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
    const note = await db('notes').where({ id: id.toLowerCase(), owner_id: req.auth!.userId }).first('id');
    if (!note) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
    await linksOf('note', note.id, res);
  }

  return [
    { method: 'get', path: '/api/public/:token', access: 'public', summary: 'The item a public link names, read-only, without an account', responses: { 200: '{itemType, expiresAt, document | note}' }, handler: publicItem },
    { method: 'get', path: '/api/documents/:id/links', access: 'user', summary: "A document's public links (workspace members); tokens are never shown again", responses: { 200: '{items}' }, handler: documentLinks },
    { method: 'get', path: '/api/notes/:id/links', access: 'user', summary: "A note's public links (its owner); tokens are never shown again", responses: { 200: '{items}' }, handler: noteLinks },
  ];
}
