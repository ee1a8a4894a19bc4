/**
 * Attachment queries from the `attachments` read model: a document's attachments (its workspace's
 * members see them), a note's (its owner alone), and a short-lived presigned download. To anyone
 * else an attachment is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { requireStorage, type StoragePolicy } from '../../infra/storage/storage-config';
import { visibleDocument } from '../documents/documents-queries';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AttachmentRow {
  id: string;
  owner_id: string;
  target_kind: 'document' | 'note';
  target_id: string;
  workspace_id: string | null;
  key: string;
  file_name: string;
  content_type: string;
  size: string;
  added_at: Date;
}

const COLUMNS = ['id', 'owner_id', 'target_kind', 'target_id', 'workspace_id', 'key', 'file_name', 'content_type', 'size', 'added_at'];

function attachmentJson(row: AttachmentRow) {
  return {
    id: row.id,
    ...(row.target_kind === 'document' ? { documentId: row.target_id } : { noteId: row.target_id }),
    fileName: row.file_name,
    contentType: row.content_type,
    size: Number(row.size),
    addedAt: row.added_at.toISOString(),
    addedBy: row.owner_id,
  };
}

/** The note if `userId` owns it (deleted ones included); NOTE.NOT_FOUND otherwise. */
async function ownedNote(db: Knex, userId: string, noteId: string | undefined): Promise<string> {
  if (!noteId || !UUID.test(noteId)) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
  const row = await db('notes').where({ id: noteId, owner_id: userId }).first<{ id: string } | undefined>('id');
  if (!row) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
  return row.id;
}

const param = (req: Request, name: string) => (typeof req.params[name] === 'string' ? (req.params[name] as string) : undefined);

export function attachmentsQueries(deps: { db: Knex; policy: StoragePolicy }): RouteSpec[] {
  const { db, policy } = deps;

  const listOf = (kind: 'document' | 'note', targetId: string) =>
    db('attachments').where({ target_kind: kind, target_id: targetId, removed: false }).orderBy([{ column: 'added_at' }, { column: 'id' }]).select<AttachmentRow[]>(COLUMNS);

  async function ofDocument(req: Request, res: Response) {
    const document = await visibleDocument(db, req.auth!.userId, param(req, 'id'), false);
    res.json({ items: (await listOf('document', document.id)).map(attachmentJson) });
  }

  async function ofNote(req: Request, res: Response) {
    const noteId = await ownedNote(db, req.auth!.userId, param(req, 'id'));
    res.json({ items: (await listOf('note', noteId)).map(attachmentJson) });
  }

  async function download(req: Request, res: Response) {
    const id = param(req, 'id');
    const userId = req.auth!.userId;
    const row = id && UUID.test(id) ? await db('attachments').where({ id, removed: false }).first<AttachmentRow | undefined>(COLUMNS) : undefined;
    const visible =
      row !== undefined &&
      (row.target_kind === 'note'
        ? row.owner_id === userId
        : await visibleDocument(db, userId, row.target_id, false).then(
            () => true,
            () => false,
          ));
    if (!row || !visible) throw new Problem('not_found', 'ATTACHMENT.NOT_FOUND', 'no such attachment');
    const storage = requireStorage(policy);
    const url = await storage.presignGet(row.key, policy.downloadUrlSeconds, row.file_name);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ ...attachmentJson(row), url, expiresAt: new Date(Date.now() + policy.downloadUrlSeconds * 1000).toISOString() });
  }

  return [
    { method: 'get', path: '/api/documents/:id/attachments', access: 'user', summary: "A document's attachments", responses: { 200: '{items: [attachment]}' }, handler: ofDocument },
    { method: 'get', path: '/api/notes/:id/attachments', access: 'user', summary: "A note's attachments", responses: { 200: '{items: [attachment]}' }, handler: ofNote },
    {
      method: 'get',
      path: '/api/attachments/:id/download',
      access: 'user',
      summary: 'A presigned download of an attachment (valid for DOWNLOAD_URL_EXPIRY_SECONDS)',
      responses: { 200: 'The attachment with {url, expiresAt}' },
      handler: download,
    },
  ];
}
