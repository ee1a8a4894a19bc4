/**
 * The sync projection's branch for notes (see ../sync/sync-projection.ts): `sync_notes` keeps each note
 * whole, as `GET /api/notes/:id` answers it, stamped with the log position of its last change; a
 * deleted note stays as a tombstone until the retention purge. Notes belong to their owner, not to a
 * workspace: they appear in the owner's feed only, with `workspaceId: null`.
 */
import type { Knex } from 'knex';
import type { NoteEvent } from '../../domain/notes/note';
import { unreachable } from '../../domain/shared/events';
import { createdNoteColumns, editedNoteColumns } from './note-columns';

export const NOTE_SYNC_EVENTS = ['NoteCreated', 'NoteEdited', 'NoteScriptureReviewed', 'NoteDeleted', 'NoteRestored'] as const;

/** What every synced row carries: the stream revision, the log position and when it changed. */
export interface SyncStamp {
  readonly revision: string;
  readonly position: string;
  readonly changed_at: string;
}

export function noteSyncStatement(event: NoteEvent, sql: Knex.Transaction, change: SyncStamp): Knex.QueryBuilder {
  const note = (id: string) => sql('sync_notes').where('id', id).andWhere('revision', '<', change.revision);
  switch (event.type) {
    case 'NoteCreated':
      return sql('sync_notes')
        .insert({ ...createdNoteColumns(event.data), ...change })
        .onConflict('id')
        .ignore();
    case 'NoteEdited':
      return note(event.data.noteId).update({ ...editedNoteColumns(event.data), ...change });
    case 'NoteScriptureReviewed':
      return note(event.data.noteId).update({ scripture: [...event.data.scripture], updated_at: event.data.reviewedAt, ...change });
    case 'NoteDeleted':
      return note(event.data.noteId).update({ deleted: true, updated_at: event.data.deletedAt, ...change });
    case 'NoteRestored':
      return note(event.data.noteId).update({ deleted: false, updated_at: event.data.restoredAt, ...change });
    default:
      return unreachable(event);
  }
}
