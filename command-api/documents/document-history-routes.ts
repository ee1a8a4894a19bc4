/**
 * Reads that rebuild a document from its stream rather than from any copy: the document as it was at
 * a revision, a line diff between two revisions, and the raw events for auditors. They read the log, so
 * they live with the command side (the proxy routes these paths here).
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { createTwoFilesPatch, structuredPatch } from 'diff';
import { z } from 'zod';
import { documentDecider, documentStreamId, type Document, type DocumentEvent } from '../../domain/documents/document';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store';
import { etagOf } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { pathId } from '../respond';
import { isWorkspaceMember } from '../workspaces/membership';
import { documentView } from './documents-routes';

const revisionParam = z.coerce.bigint().min(0n).max(2n ** 63n - 1n);
const diffQuery = z.strictObject({ from: revisionParam, to: revisionParam });
const historyQuery = z.strictObject({
  fromRevision: revisionParam.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export function documentHistoryRoutes(deps: { store: EventStore; db: Knex }): RouteSpec[] {
  const { store, db } = deps;

  /**
   * The document's id, once the caller is known to be a member of its workspace. The workspace comes
   * from the stream's first event (so a document is readable here the moment it is created), the
   * membership from the read model that membership changes wait for.
   */
  async function visibleDocumentId(req: Request): Promise<string> {
    const documentId = pathId(req, 'id', 'DOCUMENT.NOT_FOUND');
    const [created] = await store.readStream(documentStreamId(documentId), { maxCount: 1 });
    const workspaceId = created?.type === 'DocumentCreated' ? (created.data as { workspaceId?: unknown }).workspaceId : undefined;
    const member = typeof workspaceId === 'string' && (await isWorkspaceMember(db, workspaceId, req.auth!.userId));
    if (!member) throw new Problem('not_found', 'DOCUMENT.NOT_FOUND', 'no such document');
    return documentId;
  }

  /** Reads the stream from its start up to `revision`, after checking that the caller may see it. */
  async function readUpTo(req: Request, revision: bigint): Promise<RecordedEvent[]> {
    const documentId = await visibleDocumentId(req);
    return store.readStream(documentStreamId(documentId), { maxCount: Number(revision) + 1 });
  }

  function stateAt(events: readonly RecordedEvent[], revision: bigint): Document {
    const upTo = events.filter((event) => event.streamRevision <= revision);
    if (upTo.length === 0 || upTo[upTo.length - 1]!.streamRevision !== revision) throw new Problem('not_found', 'DOCUMENT.REVISION_NOT_FOUND', 'the document has no such revision');
    return upTo.reduce((state, event) => documentDecider.evolve(state, { type: event.type, data: event.data } as unknown as DocumentEvent), documentDecider.initialState);
  }

  async function atRevision(req: Request, res: Response) {
    const revision = parseRequest(revisionParam, req.params.revision, 'path');
    const state = stateAt(await readUpTo(req, revision), revision);
    if (state.status === 'none') throw new Problem('not_found', 'DOCUMENT.REVISION_NOT_FOUND', 'the document has no such revision');
    res.setHeader('ETag', etagOf(revision));
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable'); // a past revision never changes
    res.json(documentView(state, revision));
  }

  async function diff(req: Request, res: Response) {
    const { from, to } = parseRequest(diffQuery, req.query, 'query');
    const events = await readUpTo(req, from > to ? from : to);
    const before = stateAt(events, from);
    const after = stateAt(events, to);
    if (before.status === 'none' || after.status === 'none') throw new Problem('not_found', 'DOCUMENT.REVISION_NOT_FOUND', 'the document has no such revision');
    const patch = structuredPatch(`revision ${from}`, `revision ${to}`, before.content, after.content, '', '', { context: 3 });
    res.json({
      from: Number(from),
      to: Number(to),
      title: { from: before.title, to: after.title, changed: before.title !== after.title },
      hunks: patch.hunks.map((hunk) => ({ oldStart: hunk.oldStart, oldLines: hunk.oldLines, newStart: hunk.newStart, newLines: hunk.newLines, lines: hunk.lines })),
      unified: createTwoFilesPatch(`revision ${from}`, `revision ${to}`, before.content, after.content, '', '', { context: 3 }),
    });
  }

  async function history(req: Request, res: Response) {
    const params = parseRequest(historyQuery, req.query, 'query');
    const documentId = await visibleDocumentId(req);
    const read = await store.readStream(documentStreamId(documentId), { fromRevision: params.fromRevision ?? 0n, maxCount: params.limit + 1 });
    const page = read.slice(0, params.limit);
    const last = page[page.length - 1];
    res.json({
      items: page.map((event) => ({
        id: event.id,
        type: event.type,
        revision: Number(event.streamRevision),
        position: event.position,
        recordedAt: event.recordedAt.toISOString(),
        data: event.data,
        metadata: event.metadata,
      })),
      nextRevision: last && read.length > params.limit ? Number(last.streamRevision + 1n) : null,
    });
  }

  return [
    { method: 'get', path: '/api/documents/:id/versions/:revision', access: 'user', summary: 'The document as it was at a revision, rebuilt from its stream', responses: { 200: 'The document at that revision' }, handler: atRevision },
    { method: 'get', path: '/api/documents/:id/diff', access: 'user', summary: 'A line diff between two revisions', query: diffQuery, responses: { 200: 'Title change, hunks and a unified diff' }, handler: diff },
    { method: 'get', path: '/api/documents/:id/history', access: 'user', summary: "The document's raw events with their metadata", query: historyQuery, responses: { 200: 'The raw events and the next revision to page from' }, handler: history },
  ];
}
