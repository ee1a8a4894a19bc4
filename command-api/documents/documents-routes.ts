/**
 * Document commands: create (idempotent for offline clients that choose the id), edit with a
 * mandatory If-Match, soft delete and restore (naming a version is in document-history-routes.ts).
 * The document's revision is its ETag; a stale If-Match is a 412 whose body carries the current document for the client's merge dialog.
 * Membership is read from the `workspace_members` read model, which membership changes wait for.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { documentDecider, documentStreamId, isSameCreate, type Document, type DocumentCommand, type DocumentEvent, type ExistingDocument } from '../../domain/documents/document';
import type { EventStore } from '../../infra/event-store/event-store';
import { etagOf, expectedRevisionFor, parseIfMatch } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { AggregateSnapshots } from '../../infra/snapshots/aggregate-snapshots';
import type { AggregateCache } from '../aggregate-cache';
import { handleCommand, StaleRevision, type CommandResult, type HandleOptions } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';
import type { WorkspaceMembership } from '../workspaces/membership';
import { createDocumentBody, updateDocumentBody } from './document-schemas';

export interface DocumentsDeps {
  readonly store: EventStore;
  readonly db: Knex;
  readonly clock: () => Date;
  readonly snapshots: AggregateSnapshots;
  readonly cache: AggregateCache;
  readonly maxContentBytes: number;
  readonly membership: WorkspaceMembership;
}

const NOT_FOUND = 'DOCUMENT.NOT_FOUND';

/** How document state is snapshotted (shared with the version routes, which fold the same streams). */
export const DOCUMENT_SNAPSHOTS = { kind: 'document', version: 1, every: 50 } as const;

export function documentView(document: ExistingDocument, revision: bigint) {
  return {
    id: document.id,
    workspaceId: document.workspaceId,
    title: document.title,
    content: document.content,
    revision: Number(revision),
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
    createdBy: document.createdBy,
    updatedBy: document.updatedBy,
    deleted: document.status === 'deleted',
  };
}

export function documentsRoutes(deps: DocumentsDeps): RouteSpec[] {
  const { store, clock } = deps;
  const options: HandleOptions = {
    cache: deps.cache,
    snapshotting: { snapshots: deps.snapshots, ...DOCUMENT_SNAPSHOTS },
  };

  const isMember = (workspaceId: string, userId: string) => deps.membership.isMember(workspaceId, userId);

  function assertContentSize(content: string): void {
    if (Buffer.byteLength(content, 'utf8') > deps.maxContentBytes) {
      throw new Problem('payload_too_large', 'DOCUMENT.CONTENT_TOO_LARGE', `content may be at most ${deps.maxContentBytes} bytes`);
    }
  }

  /** Decides a command on an existing document, with the membership of its workspace looked up first. */
  async function decide(req: Request, documentId: string, build: (access: { actorId: string; actorIsMember: boolean; at: string }) => DocumentCommand, ifMatch: 'required' | 'optional') {
    const actorId = actorOf(req);
    const condition = parseIfMatch(req.header('if-match'));
    if (condition === undefined && ifMatch === 'required') {
      throw new Problem('precondition_required', 'HTTP.PRECONDITION_REQUIRED', 'send If-Match with the ETag of the revision you edited');
    }
    const now = clock();
    const access = { actorId, at: now.toISOString(), actorIsMember: false };
    try {
      return await handleCommand(
        store,
        documentStreamId(documentId),
        documentDecider,
        async (state: Document) => build({ ...access, actorIsMember: state.status !== 'none' && (await isMember(state.workspaceId, actorId)) }),
        commandContext(req, now),
        { ...options, ...(condition ? { expectedRevision: await expectedRevision(documentId, condition) } : {}) },
      );
    } catch (error) {
      if (error instanceof StaleRevision) throw await staleProblem(error as StaleRevision<Document>, actorId);
      throw error;
    }
  }

  async function expectedRevision(documentId: string, condition: NonNullable<ReturnType<typeof parseIfMatch>>): Promise<bigint | 'no_stream'> {
    if (condition.kind === 'revisions' && condition.revisions.length === 1) return condition.revisions[0]!;
    const head = await store.readStream(documentStreamId(documentId), { direction: 'backwards', maxCount: 1 });
    return expectedRevisionFor(condition, head[0]?.streamRevision ?? 'no_stream');
  }

  /** 412 with what the client's merge dialog needs, but only for someone who may see the document. */
  async function staleProblem(error: StaleRevision<Document>, actorId: string): Promise<Problem> {
    const current = error.state;
    if (current.status === 'none' || typeof error.current !== 'bigint' || !(await isMember(current.workspaceId, actorId))) {
      return new Problem('not_found', NOT_FOUND, 'no such document');
    }
    const etag = etagOf(error.current);
    return new Problem('precondition_failed', 'DOCUMENT.REVISION_CONFLICT', 'the document has changed since the revision in If-Match', { current: documentView(current, error.current), etag }, { ETag: etag });
  }

  function sendDocument(res: Response, status: number, result: CommandResult<Document>, location?: string) {
    if (result.state.status === 'none' || typeof result.revision !== 'bigint') throw new Problem('not_found', NOT_FOUND, 'no such document');
    respond(res, status, documentView(result.state, result.revision), { revision: result.revision, position: result.position, ...(location ? { location } : {}) });
  }

  async function create(req: Request, res: Response) {
    const workspaceId = pathId(req, 'wid', 'WORKSPACE.NOT_FOUND');
    const body = parseRequest(createDocumentBody, req.body, 'body');
    assertContentSize(body.content);
    const actorId = actorOf(req);
    if (!(await isMember(workspaceId, actorId))) throw new Problem('not_found', 'WORKSPACE.NOT_FOUND', 'no such workspace');
    const documentId = (body.id ?? randomUUID()).toLowerCase();
    const now = clock();
    const command = { type: 'CreateDocument', documentId, workspaceId, title: body.title, content: body.content, actorId, actorIsMember: true, at: now.toISOString() } as const;
    const location = `/api/documents/${documentId}`;
    try {
      const created = await handleCommand(store, documentStreamId(documentId), documentDecider, command, commandContext(req, now), { ...options, expectedRevision: 'no_stream' });
      sendDocument(res, 201, created, location);
    } catch (error) {
      if (!(error instanceof StaleRevision) && !(error instanceof Error && 'code' in error && error.code === 'DOCUMENT.ALREADY_EXISTS')) throw error;
      // The id is taken: by this very create sent before (answer it again), or by something else.
      const [first] = await store.readStream(documentStreamId(documentId), { maxCount: 1 });
      const recorded = first && ({ type: first.type, data: first.data } as unknown as DocumentEvent);
      if (!first || !isSameCreate(recorded, command)) throw new Problem('conflict', 'DOCUMENT.ALREADY_EXISTS', 'a different document already has this id');
      const state = documentDecider.evolve(documentDecider.initialState, recorded!);
      sendDocument(res, 201, { state, revision: 0n, position: first.position, events: [] }, location);
    }
  }

  async function update(req: Request, res: Response) {
    const documentId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(updateDocumentBody, req.body, 'body');
    assertContentSize(body.content);
    const result = await decide(req, documentId, (access) => ({ type: 'EditDocument', title: body.title, content: body.content, ...access }), 'required');
    sendDocument(res, 200, result);
  }

  async function remove(req: Request, res: Response) {
    const documentId = pathId(req, 'id', NOT_FOUND);
    const result = await decide(req, documentId, (access) => ({ type: 'DeleteDocument', ...access }), 'required');
    respond(res, 204, undefined, { position: result.position });
  }

  async function restore(req: Request, res: Response) {
    const documentId = pathId(req, 'id', NOT_FOUND);
    const result = await decide(req, documentId, (access) => ({ type: 'RestoreDocument', ...access }), 'optional');
    sendDocument(res, 200, result);
  }

  return [
    { method: 'post', path: '/api/workspaces/:wid/documents', access: 'user', summary: 'Create a document (idempotent for a client-chosen id)', body: createDocumentBody, responses: { 201: 'The document (ETag, Location)' }, handler: create },
    { method: 'put', path: '/api/documents/:id', access: 'user', summary: 'Replace title and content (If-Match required)', body: updateDocumentBody, responses: { 200: 'The document (new ETag)' }, handler: update },
    { method: 'delete', path: '/api/documents/:id', access: 'user', summary: 'Soft-delete a document (If-Match required)', responses: { 204: 'Deleted (a tombstone for sync)' }, handler: remove },
    { method: 'post', path: '/api/documents/:id/restore', access: 'user', summary: 'Restore a deleted document', responses: { 200: 'The document' }, handler: restore },
  ];
}
