/**
 * A document's versions and history (the shared machinery of ../versions/aggregate-history-routes.ts):
 * naming the current revision, the document at a revision, a diff, and its raw events. Only members of
 * the document's workspace may see them; the workspace comes from the stream's first event (so a
 * document is readable here the moment it is created), the membership from the read model that
 * membership changes wait for.
 */
import { documentLabelsDecider, documentLabelsStreamId } from '../../domain/documents/document-labels';
import { documentDecider, documentStreamId, type Document } from '../../domain/documents/document';
import type { EventStore } from '../../infra/event-store/event-store';
import type { RouteSpec } from '../../infra/http/routes';
import type { AggregateSnapshots } from '../../infra/snapshots/aggregate-snapshots';
import { aggregateHistoryRoutes } from '../versions/aggregate-history-routes';
import type { WorkspaceMembership } from '../workspaces/membership';
import { documentView, DOCUMENT_SNAPSHOTS } from './documents-routes';

export function documentHistoryRoutes(deps: { store: EventStore; membership: WorkspaceMembership; clock?: () => Date; snapshots?: AggregateSnapshots }): RouteSpec[] {
  const { store, membership } = deps;
  return aggregateHistoryRoutes<Document>(
    { store, clock: deps.clock ?? (() => new Date()) },
    {
      basePath: '/api/documents',
      noun: 'document',
      codePrefix: 'DOCUMENT',
      idKey: 'documentId',
      streamId: documentStreamId,
      labelsStreamId: documentLabelsStreamId,
      decider: documentDecider,
      labelsDecider: documentLabelsDecider,
      ...(deps.snapshots ? { snapshotting: { snapshots: deps.snapshots, ...DOCUMENT_SNAPSHOTS } } : {}),
      async canSee(first, userId) {
        const workspaceId = first?.type === 'DocumentCreated' ? (first.data as { workspaceId?: unknown }).workspaceId : undefined;
        return typeof workspaceId === 'string' && (await membership.isMember(workspaceId, userId));
      },
      async canSeeState(state, userId) {
        return state.status !== 'none' && (await membership.isMember(state.workspaceId, userId));
      },
      isDeleted: (state) => state.status === 'deleted',
      view: (state, revision) => (state.status === 'none' ? undefined : documentView(state, revision)),
      text: (state) => (state.status === 'none' ? undefined : { title: state.title, content: state.content }),
    },
  );
}
