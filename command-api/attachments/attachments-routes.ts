/**
 * Attachments, the command side. A client asks for a presigned upload (POST form or PUT) to a key the
 * server chooses under the caller's own prefix, uploads straight to the bucket, then completes the
 * upload: the key must be the caller's, for a document or note they may still edit; a HEAD request
 * checks what arrived (an allowed type, a size within the limits); only then is `AttachmentAdded`
 * appended to the caller's storage account, whose decider holds the quota. An object that fails the
 * checks is deleted. Every signed upload is remembered in `upload_intents` until it is completed, so
 * that one never completed is deleted by a reactor an hour after its URLs expired. Removing appends `AttachmentRemoved`; the deletion reactor deletes the object.
 *
 * Access is decided from the log (the document's or note's own stream), so a document created a
 * moment ago can take attachments at once; completion waits for the attachments read model, so the
 * next request (a delete, a list) sees the new attachment.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { storageAccountDecider, storageAccountStreamId, fitsQuota, quotaExceeded, type AttachmentTarget, type StorageAccount } from '../../domain/attachments/storage-account';
import { documentDecider, documentStreamId } from '../../domain/documents/document';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import { DomainError } from '../../domain/shared/errors';
import type { EventStore } from '../../infra/event-store/event-store';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { AggregateSnapshots } from '../../infra/snapshots/aggregate-snapshots';
import { attachmentKeys, requireStorage, safeFileName, UNCOMPLETED_UPLOAD_GRACE_MS, type StoragePolicy } from '../../infra/storage/storage-config';
import type { ProjectionProgress } from '../../projectors/runtime/projection-progress';
import type { AggregateCache } from '../aggregate-cache';
import { handleCommand, loadAggregate, type HandleOptions, type Snapshotting } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';
import { isWorkspaceMember } from '../workspaces/membership';

export interface AttachmentsDeps {
  readonly store: EventStore;
  readonly db: Knex;
  readonly clock: () => Date;
  readonly policy: StoragePolicy;
  readonly snapshots: AggregateSnapshots;
  readonly cache: AggregateCache;
  readonly progress: ProjectionProgress;
  /** How long completing an upload waits for the attachments read model (default 5 s). */
  readonly readModelWaitMs?: number;
}

const contentType = z
  .string()
  .max(255)
  .transform((value) => value.trim().toLowerCase());

export const presignBody = z
  .strictObject({
    documentId: z.uuid().optional(),
    noteId: z.uuid().optional(),
    fileName: z.string().min(1).max(255),
    contentType,
    size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  })
  .refine((body) => (body.documentId === undefined) !== (body.noteId === undefined), { message: 'give exactly one of documentId and noteId', path: ['documentId'] });

export const completeBody = z.strictObject({ key: z.string().min(1).max(1024) });

export function attachmentJson(row: { id: string; targetKind: 'document' | 'note'; targetId: string; fileName: string; contentType: string; size: number; addedAt: string; ownerId: string }) {
  return {
    id: row.id,
    ...(row.targetKind === 'document' ? { documentId: row.targetId } : { noteId: row.targetId }),
    fileName: row.fileName,
    contentType: row.contentType,
    size: row.size,
    addedAt: row.addedAt,
    addedBy: row.ownerId,
  };
}

export function attachmentsRoutes(deps: AttachmentsDeps): RouteSpec[] {
  const { store, db, clock, policy } = deps;
  const snapshotting: Snapshotting = { snapshots: deps.snapshots, kind: 'storage-account', version: 1, every: 100 };
  const accountOptions: HandleOptions = { cache: deps.cache, snapshotting };
  const documentSnapshots: Snapshotting = { snapshots: deps.snapshots, kind: 'document', version: 1, every: 50 };

  /** The target if `userId` may attach to it: its workspace (null for a note); NOT_FOUND otherwise. */
  async function editableTarget(target: AttachmentTarget, userId: string): Promise<{ workspaceId: string | null }> {
    if (target.kind === 'document') {
      const { state } = await loadAggregate(store, documentStreamId(target.id), documentDecider, documentSnapshots);
      if (state.status === 'none' || !(await isWorkspaceMember(db, state.workspaceId, userId))) throw new Problem('not_found', 'DOCUMENT.NOT_FOUND', 'no such document');
      if (state.status === 'deleted') throw new Problem('conflict', 'DOCUMENT.DELETED', 'the document is deleted; restore it first');
      return { workspaceId: state.workspaceId };
    }
    const { state } = await loadAggregate(store, noteStreamId(target.id), noteDecider);
    if (state.status === 'none' || state.ownerId !== userId) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'no such note');
    if (state.status === 'deleted') throw new Problem('conflict', 'NOTE.DELETED', 'the note is deleted; restore it first');
    return { workspaceId: null };
  }

  /** At presign time a 422 or 413 naming the problem; at completion, the uploaded object is rejected (422). */
  function assertAllowed(type: string, size: number, stage: 'presign' | 'complete'): void {
    if (!policy.allowedContentTypes.includes(type)) {
      const code = stage === 'presign' ? 'ATTACHMENT.TYPE_NOT_ALLOWED' : 'ATTACHMENT.OBJECT_REJECTED';
      throw new Problem('unprocessable', code, `content type ${type || '(none)'} is not allowed`, { allowedContentTypes: policy.allowedContentTypes });
    }
    if (size > policy.maxUploadBytes) {
      const [kind, code] = stage === 'presign' ? (['payload_too_large', 'ATTACHMENT.TOO_LARGE'] as const) : (['unprocessable', 'ATTACHMENT.OBJECT_REJECTED'] as const);
      throw new Problem(kind, code, `an attachment may be at most ${policy.maxUploadBytes} bytes`, { maxBytes: policy.maxUploadBytes });
    }
  }

  async function presign(req: Request, res: Response) {
    const body = parseRequest(presignBody, req.body, 'body');
    const actorId = actorOf(req);
    const target: AttachmentTarget = body.documentId ? { kind: 'document', id: body.documentId.toLowerCase() } : { kind: 'note', id: body.noteId!.toLowerCase() };
    await editableTarget(target, actorId);
    assertAllowed(body.contentType, body.size, 'presign');
    const storage = requireStorage(policy);
    const account = await loadAggregate(store, storageAccountStreamId(actorId), storageAccountDecider, snapshotting);
    if (!fitsQuota(account.state, body.size, policy.quotaBytes)) {
      throw problemOf(quotaExceeded(account.state.usedBytes, body.size, policy.quotaBytes), account.state, policy.quotaBytes);
    }
    const attachmentId = randomUUID();
    const key = attachmentKeys.build(actorId, target.kind, target.id, attachmentId, safeFileName(body.fileName));
    const terms = { key, contentType: body.contentType, size: body.size, expiresInSeconds: policy.uploadUrlSeconds };
    const [post, put] = await Promise.all([storage.presignPost(terms), storage.presignPut(terms)]);
    const expiresAt = new Date(clock().getTime() + policy.uploadUrlSeconds * 1000).toISOString();
    // Remembered so that an upload never completed is found and deleted (object-deletion-reactor.ts).
    await db('upload_intents').insert({ key, owner_id: actorId, expires_at: expiresAt });
    respond(res, 200, {
      attachmentId,
      key,
      expiresAt,
      post: { url: post.url, fields: post.fields },
      put: { url: put.url, headers: put.headers },
    });
  }

  async function complete(req: Request, res: Response) {
    const body = parseRequest(completeBody, req.body, 'body');
    const actorId = actorOf(req);
    const parsed = attachmentKeys.parse(body.key);
    if (!parsed || parsed.ownerId !== actorId) {
      throw new Problem('forbidden', 'ATTACHMENT.KEY_NOT_YOURS', 'the key is not one of your uploads (presign an upload first)');
    }
    const target: AttachmentTarget = { kind: parsed.kind, id: parsed.targetId };
    const { workspaceId } = await editableTarget(target, actorId);
    const storage = requireStorage(policy);
    const intent = await db('upload_intents').where('key', body.key).first<{ expires_at: Date } | undefined>('expires_at');
    if (intent && intent.expires_at.getTime() + UNCOMPLETED_UPLOAD_GRACE_MS < clock().getTime()) {
      // Past its grace the upload belongs to the sweeper, which may be deleting it right now.
      throw new Problem('conflict', 'ATTACHMENT.UPLOAD_EXPIRED', 'this upload was signed too long ago; presign and upload again');
    }
    const head = await storage.head(body.key);
    if (!head) throw new Problem('conflict', 'ATTACHMENT.NOT_UPLOADED', 'nothing has been uploaded to this key (or the upload has not finished)');
    const type = (head.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    try {
      if (head.size <= 0) throw new Problem('unprocessable', 'ATTACHMENT.OBJECT_REJECTED', 'the uploaded object is empty');
      assertAllowed(type, head.size, 'complete');
    } catch (error) {
      await storage.delete(body.key);
      await db('upload_intents').where('key', body.key).delete();
      throw error;
    }
    const now = clock();
    let result;
    try {
      result = await handleCommand(
        store,
        storageAccountStreamId(actorId),
        storageAccountDecider,
        {
          type: 'AddAttachment',
          attachmentId: parsed.attachmentId,
          target,
          workspaceId,
          key: body.key,
          fileName: parsed.fileName,
          contentType: type,
          size: head.size,
          ownerId: actorId,
          ownerHasAccess: true,
          quotaBytes: policy.quotaBytes,
          at: now.toISOString(),
        },
        commandContext(req, now),
        accountOptions,
      );
    } catch (error) {
      if (error instanceof DomainError && error.code === 'STORAGE.QUOTA_EXCEEDED') {
        await storage.delete(body.key);
        await db('upload_intents').where('key', body.key).delete();
        const account = await loadAggregate(store, storageAccountStreamId(actorId), storageAccountDecider, snapshotting);
        throw problemOf(error, account.state, policy.quotaBytes);
      }
      throw error;
    }
    await db('upload_intents').where('key', body.key).delete();
    if (result.position) await deps.progress.waitFor(result.position, deps.readModelWaitMs ?? 5_000, { projections: ['attachments'] });
    const recorded = result.events[0]?.data as { addedAt?: string } | undefined;
    respond(
      res,
      result.events.length > 0 ? 201 : 200,
      attachmentJson({ id: parsed.attachmentId, targetKind: target.kind, targetId: target.id, fileName: parsed.fileName, contentType: type, size: head.size, addedAt: recorded?.addedAt ?? now.toISOString(), ownerId: actorId }),
      { position: result.position, location: `/api/attachments/${parsed.attachmentId}/download` },
    );
  }

  async function remove(req: Request, res: Response) {
    const attachmentId = pathId(req, 'id', 'ATTACHMENT.NOT_FOUND');
    const actorId = actorOf(req);
    const row = await db('attachments')
      .where({ id: attachmentId, removed: false })
      .first<{ owner_id: string; target_kind: 'document' | 'note'; workspace_id: string | null } | undefined>('owner_id', 'target_kind', 'workspace_id');
    const allowed = row !== undefined && (row.target_kind === 'note' ? row.owner_id === actorId : row.workspace_id !== null && (await isWorkspaceMember(db, row.workspace_id, actorId)));
    if (!row || !allowed) throw new Problem('not_found', 'ATTACHMENT.NOT_FOUND', 'no such attachment');
    const now = clock();
    const result = await handleCommand(
      store,
      storageAccountStreamId(row.owner_id),
      storageAccountDecider,
      { type: 'RemoveAttachment', attachmentId, ownerId: row.owner_id, actorId, actorHasAccess: true, at: now.toISOString() },
      commandContext(req, now),
      accountOptions,
    );
    respond(res, 204, undefined, { position: result.position });
  }

  return [
    {
      method: 'post',
      path: '/api/uploads/presign',
      access: 'user',
      summary: 'Sign an upload of one attachment straight to object storage (a POST form and a PUT; at most 5 minutes)',
      body: presignBody,
      responses: { 200: '{attachmentId, key, expiresAt, post: {url, fields}, put: {url, headers}}' },
      handler: presign,
    },
    {
      method: 'post',
      path: '/api/attachments',
      access: 'user',
      summary: 'Complete an upload: checks the object (HEAD) and records the attachment',
      body: completeBody,
      responses: { 201: 'The attachment', 200: 'The attachment (completed before)' },
      handler: complete,
    },
    { method: 'delete', path: '/api/attachments/:id', access: 'user', summary: 'Remove an attachment (its object is deleted shortly after)', responses: { 204: 'Removed' }, handler: remove },
  ];
}

function problemOf(error: DomainError, account: StorageAccount, quotaBytes: number): Problem {
  return new Problem('unprocessable', error.code, error.message, { usedBytes: account.usedBytes, quotaBytes });
}
