/**
 * The columns of a note row that its events set, shared by the tables that keep notes whole: `notes`
 * (notes-projection.ts) and `sync_notes` (notes-sync.ts). Each table adds its own bookkeeping (the
 * revision; for sync, the log position and change time).
 */
import type { NoteEvent } from '../../domain/notes/note';

type DataOf<T extends NoteEvent['type']> = Extract<NoteEvent, { type: T }>['data'];

/** A new note's row. */
export function createdNoteColumns(data: DataOf<'NoteCreated'>) {
  const { noteId, ownerId, title, content, dateTime, tags, topics, scripture, createdAt } = data;
  return {
    id: noteId,
    owner_id: ownerId,
    title,
    content,
    date_time: dateTime,
    tags: [...tags],
    topics: [...topics],
    scripture: [...scripture],
    created_at: createdAt,
    updated_at: createdAt,
    deleted: false,
  };
}

/** What an edit changes in the row. */
export function editedNoteColumns(data: DataOf<'NoteEdited'>) {
  const { title, content, dateTime, tags, topics, scripture, editedAt } = data;
  return { title, content, date_time: dateTime, tags: [...tags], topics: [...topics], scripture: [...scripture], updated_at: editedAt };
}
