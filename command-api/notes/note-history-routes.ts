/**
 * A note's versions and history, by the machinery documents use (../versions/aggregate-history-routes.ts):
 * naming the current revision, the note at a revision, a diff of its title and content, its raw events.
 * Only the note's owner sees them (the owner comes from the stream's first event).
 */
import { noteLabelsDecider, noteLabelsStreamId } from '../../domain/notes/note-labels';
import { noteDecider, noteStreamId, type Note } from '../../domain/notes/note';
import type { EventStore } from '../../infra/event-store/event-store';
import type { RouteSpec } from '../../infra/http/routes';
import type { AggregateSnapshots } from '../../infra/snapshots/aggregate-snapshots';
import { aggregateHistoryRoutes } from '../versions/aggregate-history-routes';
import { NOTE_SNAPSHOTS, noteView } from './notes-routes';

export function noteHistoryRoutes(deps: { store: EventStore; clock: () => Date; snapshots?: AggregateSnapshots }): RouteSpec[] {
  return aggregateHistoryRoutes<Note>(
    { store: deps.store, clock: deps.clock },
    {
      basePath: '/api/notes',
      noun: 'note',
      codePrefix: 'NOTE',
      idKey: 'noteId',
      streamId: noteStreamId,
      labelsStreamId: noteLabelsStreamId,
      decider: noteDecider,
      labelsDecider: noteLabelsDecider,
      ...(deps.snapshots ? { snapshotting: { snapshots: deps.snapshots, ...NOTE_SNAPSHOTS } } : {}),
      async canSee(first, userId) {
        return first?.type === 'NoteCreated' && (first.data as { ownerId?: unknown }).ownerId === userId;
      },
      async canSeeState(state, userId) {
        return state.status !== 'none' && state.ownerId === userId;
      },
      isDeleted: (state) => state.status === 'deleted',
      view: (state, revision) => (state.status === 'none' ? undefined : noteView(state, revision)),
      text: (state) => (state.status === 'none' ? undefined : { title: state.title, content: state.content }),
    },
  );
}
