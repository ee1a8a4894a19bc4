/**
 * The `notes` read model: each note's current state (searchable, with the OSIS passages it cites),
 * `note_passages` (one row per cited passage with its verse range, what passage search looks up),
 * `note_versions` and `note_labels` (the version list, shared with documents: ../versions).
 *
 * Every statement is guarded by the note row's revision, so re-applying an event changes nothing: the
 * passage and version statements come before the statement that moves the row. A deleted note keeps
 * its passages, flagged `deleted` (passage search leaves them out); a restore clears the flag.
 */
import type { Knex } from 'knex';
import type { NoteLabelEvent } from '../../domain/notes/note-labels';
import type { NoteEvent } from '../../domain/notes/note';
import { toVerseRange, type OsisRange } from '../../domain/scripture/verse-index';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';
import { versionStatements, type VersionTables } from '../versions/aggregate-versions';
import { createdNoteColumns, editedNoteColumns } from './note-columns';

const VERSION_TABLES: VersionTables = { current: 'notes', versions: 'note_versions', labels: 'note_labels', key: 'note_id' };

/** The passages as three parallel arrays (osis, first verse, last verse), for one unnest. */
function passageArrays(scripture: readonly string[]): [string[], number[], number[]] {
  const ranges = scripture.map((osis) => toVerseRange(osis as OsisRange));
  return [[...scripture], ranges.map((range) => range.first), ranges.map((range) => range.last)];
}

export const notesProjection: Projection = {
  name: 'notes',
  tables: ['notes', 'note_passages', 'note_versions', 'note_labels'],
  handles: ['NoteCreated', 'NoteEdited', 'NoteDeleted', 'NoteRestored', 'NoteScriptureReviewed', 'NoteVersionNamed'],
  apply(recorded, sql) {
    const event = recorded as unknown as NoteEvent | NoteLabelEvent;
    const revision = recorded.streamRevision.toString();
    const versions = versionStatements(sql, VERSION_TABLES, revision);
    const note = (id: string) => sql('notes').where('id', id).andWhere('revision', '<', revision);

    /** The note's passages replaced by `scripture`, if the note row is older than this event. */
    const replacePassages = (noteId: string, scripture: readonly string[]): Knex.Raw[] => [
      sql.raw(`DELETE FROM note_passages p USING notes n WHERE p.note_id = ? AND n.id = p.note_id AND n.revision < ?`, [noteId, revision]),
      sql.raw(
        `INSERT INTO note_passages (note_id, owner_id, osis, verses, deleted)
         SELECT n.id, n.owner_id, x.osis, int4range(x.first, x.last, '[]'), n.deleted
           FROM notes n, unnest(?::text[], ?::int4[], ?::int4[]) AS x(osis, first, last)
          WHERE n.id = ? AND n.revision < ?
         ON CONFLICT DO NOTHING`,
        [...passageArrays(scripture), noteId, revision],
      ),
    ];
    const flagPassages = (noteId: string, deleted: boolean) =>
      sql.raw(`UPDATE note_passages p SET deleted = ? FROM notes n WHERE p.note_id = ? AND n.id = p.note_id AND n.revision < ?`, [deleted, noteId, revision]);

    switch (event.type) {
      case 'NoteCreated': {
        const { noteId, ownerId, title, content, scripture, createdAt } = event.data;
        return [
          // Before the row exists: a replay of the create (the row is there) inserts nothing.
          sql.raw(
            `INSERT INTO note_passages (note_id, owner_id, osis, verses, deleted)
             SELECT ?::uuid, ?::uuid, x.osis, int4range(x.first, x.last, '[]'), false
               FROM unnest(?::text[], ?::int4[], ?::int4[]) AS x(osis, first, last)
              WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.id = ?)
             ON CONFLICT DO NOTHING`,
            [noteId, ownerId, ...passageArrays(scripture), noteId],
          ),
          versions.created(noteId, createdAt, ownerId, title, content),
          upsertIfNewer(sql, 'notes', ['id'], { ...createdNoteColumns(event.data), revision }),
        ];
      }
      case 'NoteEdited': {
        const { noteId, title, content, scripture, editedAt, editedBy } = event.data;
        return [
          ...replacePassages(noteId, scripture),
          versions.edited(noteId, editedAt, editedBy, title, content),
          note(noteId).update({ ...editedNoteColumns(event.data), revision }),
        ];
      }
      case 'NoteScriptureReviewed': {
        const { noteId, scripture, reviewedAt, reviewedBy } = event.data;
        return [...replacePassages(noteId, scripture), versions.unchanged(noteId, 'scripture', reviewedAt, reviewedBy), note(noteId).update({ scripture: [...scripture], revision, updated_at: reviewedAt })];
      }
      case 'NoteDeleted': {
        const { noteId, deletedAt, deletedBy } = event.data;
        return [flagPassages(noteId, true), versions.unchanged(noteId, 'deleted', deletedAt, deletedBy), note(noteId).update({ deleted: true, revision, updated_at: deletedAt })];
      }
      case 'NoteRestored': {
        const { noteId, restoredAt, restoredBy } = event.data;
        return [flagPassages(noteId, false), versions.unchanged(noteId, 'restored', restoredAt, restoredBy), note(noteId).update({ deleted: false, revision, updated_at: restoredAt })];
      }
      case 'NoteVersionNamed': {
        const { noteId, label, namedAt, namedBy } = event.data;
        return versions.labelled(noteId, event.data.revision, label, namedAt, namedBy);
      }
      default:
        return unreachable(event);
    }
  },
};
