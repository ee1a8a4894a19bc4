/**
 * The `graph` projection: what the cross-reference graph between notes is computed from, as indexed
 * rows (see migrations/20261122_0009_prayer_points_and_graph.ts for the tables and graph-keys.ts for
 * the encoding). Edges are not stored pair by pair: related notes are found at query time by index
 * lookups on (owner_id, chapter) and (owner_id, to_verse), so a note's edit rewrites only its own rows.
 * Nothing of sharing is kept here: who may see a note (its owner, and the members of circles it is
 * shared with) is read at query time from the circles read models (query-api/graph/graph-queries.ts),
 * so unsharing, leaving or removal needs no graph row to change.
 *
 * Every note event carries what the graph needs: NoteCreated, NoteEdited and NoteScriptureReviewed the
 * note's effective passages (`scripture`); deletes and restores flip a flag on the note's rows.
 *
 * Replays change nothing: `graph_notes` moves forward only (revision), the note's segment and link rows
 * carry the revision they reflect, and they are rewritten only by the event that `graph_notes` now
 * reflects (a stale event finds graph_notes at a later revision and writes nothing).
 */
import type { Knex } from 'knex';
import type { NoteEvent } from '../../domain/notes/note';
import { unreachable } from '../../domain/shared/events';
import type { Projection, SqlStatement } from '../runtime/projection';
import { linksOf, segmentsOf } from './graph-keys';

/** A PostgreSQL array literal of integers (knex would spread a JS array binding into a list). */
const intArray = (values: readonly number[]) => `{${values.join(',')}}`;

/** Replaces the note's segments and links with those of `scripture`, if graph_notes is at `revision`. */
function rewriteDerivedRows(sql: Knex.Transaction, noteId: string, revision: string, scripture: readonly string[] | undefined): SqlStatement[] {
  // Every note event that sets passages carries them; an event without (none is known) cites nothing
  // rather than stopping the projection.
  const segments = segmentsOf(scripture ?? []);
  const links = linksOf(scripture ?? []);
  const current = `EXISTS (SELECT 1 FROM graph_notes g WHERE g.note_id = ? AND g.revision = ?)`;
  return [
    sql.raw(`DELETE FROM graph_segments WHERE note_id = ? AND revision < ? AND ${current}`, [noteId, revision, noteId, revision]),
    sql.raw(`DELETE FROM graph_links WHERE note_id = ? AND revision < ? AND ${current}`, [noteId, revision, noteId, revision]),
    ...(segments.length === 0
      ? []
      : [
          sql.raw(
            `INSERT INTO graph_segments (note_id, owner_id, chapter, first, last, deleted, revision)
             SELECT g.note_id, g.owner_id, s.chapter, s.first, s.last, g.deleted, g.revision
               FROM graph_notes g, unnest(?::int[], ?::int[], ?::int[]) AS s(chapter, first, last)
              WHERE g.note_id = ? AND g.revision = ?
             ON CONFLICT DO NOTHING`,
            [intArray(segments.map((s) => s.chapter)), intArray(segments.map((s) => s.first)), intArray(segments.map((s) => s.last)), noteId, revision],
          ),
        ]),
    ...(links.length === 0
      ? []
      : [
          sql.raw(
            `INSERT INTO graph_links (note_id, owner_id, from_verse, to_verse, to_chapter, weight, deleted, revision)
             SELECT g.note_id, g.owner_id, l.from_verse, l.to_verse, l.to_chapter, l.weight, g.deleted, g.revision
               FROM graph_notes g, unnest(?::int[], ?::int[], ?::int[], ?::int[]) AS l(from_verse, to_verse, to_chapter, weight)
              WHERE g.note_id = ? AND g.revision = ?
             ON CONFLICT DO NOTHING`,
            [intArray(links.map((l) => l.from)), intArray(links.map((l) => l.to)), intArray(links.map((l) => l.toChapter)), intArray(links.map((l) => l.weight)), noteId, revision],
          ),
        ]),
  ];
}

/** Flags the note and its rows deleted (or not). */
function flag(sql: Knex.Transaction, noteId: string, revision: string, deleted: boolean): SqlStatement[] {
  return ['graph_notes', 'graph_segments', 'graph_links'].map((table) => sql(table).where('note_id', noteId).andWhere('revision', '<', revision).update({ deleted, revision }));
}

export const graphProjection: Projection = {
  name: 'graph',
  tables: ['graph_notes', 'graph_segments', 'graph_links'],
  handles: ['NoteCreated', 'NoteEdited', 'NoteDeleted', 'NoteRestored', 'NoteScriptureReviewed'],
  apply(recorded, sql) {
    const event = recorded as unknown as NoteEvent;
    const revision = recorded.streamRevision.toString();
    switch (event.type) {
      case 'NoteCreated': {
        const { noteId, ownerId, title, tags, scripture } = event.data;
        return [
          sql('graph_notes').insert({ note_id: noteId, owner_id: ownerId, title: title ?? '', tags: [...(tags ?? [])], scripture: [...(scripture ?? [])], deleted: false, revision }).onConflict('note_id').ignore(),
          ...rewriteDerivedRows(sql, noteId, revision, scripture),
        ];
      }
      case 'NoteEdited': {
        const { noteId, title, tags, scripture } = event.data;
        return [
          sql('graph_notes').where('note_id', noteId).andWhere('revision', '<', revision).update({ title: title ?? '', tags: [...(tags ?? [])], scripture: [...(scripture ?? [])], revision }),
          ...rewriteDerivedRows(sql, noteId, revision, scripture),
        ];
      }
      case 'NoteScriptureReviewed': {
        const { noteId, scripture } = event.data;
        return [sql('graph_notes').where('note_id', noteId).andWhere('revision', '<', revision).update({ scripture: [...(scripture ?? [])], revision }), ...rewriteDerivedRows(sql, noteId, revision, scripture)];
      }
      case 'NoteDeleted':
        return flag(sql, event.data.noteId, revision, true);
      case 'NoteRestored':
        return flag(sql, event.data.noteId, revision, false);
      default:
        return unreachable(event);
    }
  },
};
