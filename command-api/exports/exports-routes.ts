/**
 * Exports, the command side: `POST /api/exports` checks that the caller may read everything the scope
 * names (their own notes, a workspace they belong to) and appends `ExportRequested`; the export
 * builder in the projectors process does the rest (projectors/exports). Answers 202 with the id to
 * poll at `GET /api/exports/:id`.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { exportDecider, exportStreamId, type ExportScope } from '../../domain/exports/export';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import type { EventStore } from '../../infra/event-store/event-store';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { requireStorage, type StoragePolicy } from '../../infra/storage/storage-config';
import { handleCommand, loadAggregate } from '../command-handling';
import { actorOf, commandContext, respond } from '../respond';
import { isWorkspaceMember } from '../workspaces/membership';

export const MAX_EXPORT_NOTE_IDS = 10_000;
/** Note ids the read model does not show that are looked up in the log before the request is refused. */
const MAX_UNPROJECTED_LOOKUPS = 50;

export const requestExportBody = z.strictObject({
  format: z.enum(['markdown', 'pdf']),
  scope: z.union([
    z.strictObject({ noteIds: z.array(z.uuid()).min(1).max(MAX_EXPORT_NOTE_IDS) }),
    z.strictObject({ all: z.literal(true) }),
    z.strictObject({ workspaceId: z.uuid() }),
  ]),
});

export function exportsRoutes(deps: { store: EventStore; db: Knex; clock: () => Date; policy: StoragePolicy }): RouteSpec[] {
  const { store, db, clock, policy } = deps;

  /** The scope, normalized, if the caller may read all of it; NOT_FOUND for anything they may not. */
  async function readableScope(scope: z.infer<typeof requestExportBody>['scope'], actorId: string): Promise<ExportScope> {
    if ('workspaceId' in scope) {
      const workspaceId = scope.workspaceId.toLowerCase();
      if (!(await isWorkspaceMember(db, workspaceId, actorId))) throw new Problem('not_found', 'WORKSPACE.NOT_FOUND', 'no such workspace');
      return { workspaceId };
    }
    if ('noteIds' in scope) {
      const noteIds = [...new Set(scope.noteIds.map((id) => id.toLowerCase()))].sort();
      const projected = new Set<string>(await db('notes').whereIn('id', noteIds).andWhere({ owner_id: actorId, deleted: false }).pluck('id'));
      // Notes the read model does not show (yet: one written a moment ago) are looked up in their streams.
      const unseen = noteIds.filter((id) => !projected.has(id));
      if (unseen.length > MAX_UNPROJECTED_LOOKUPS) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'one or more of the notes do not exist');
      for (const id of unseen) {
        const { state } = await loadAggregate(store, noteStreamId(id), noteDecider);
        if (state.status !== 'active' || state.ownerId !== actorId) throw new Problem('not_found', 'NOTE.NOT_FOUND', 'one or more of the notes do not exist');
      }
      return { noteIds };
    }
    return { all: true };
  }

  async function request(req: Request, res: Response) {
    const body = parseRequest(requestExportBody, req.body, 'body');
    const actorId = actorOf(req);
    const scope = await readableScope(body.scope, actorId);
    requireStorage(policy);
    const exportId = randomUUID();
    const now = clock();
    const result = await handleCommand(
      store,
      exportStreamId(exportId),
      exportDecider,
      { type: 'RequestExport', exportId, format: body.format, scope, actorId, at: now.toISOString() },
      commandContext(req, now),
      { expectedRevision: 'no_stream' },
    );
    respond(res, 202, { id: exportId, status: 'requested' }, { position: result.position, location: `/api/exports/${exportId}` });
  }

  return [
    {
      method: 'post',
      path: '/api/exports',
      access: 'user',
      summary: 'Request a Markdown (zip) or PDF export of notes or documents; poll GET /api/exports/:id',
      body: requestExportBody,
      responses: { 202: '{id, status: "requested"} (Location)' },
      handler: request,
    },
  ];
}
