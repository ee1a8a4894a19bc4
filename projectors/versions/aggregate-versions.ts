/**
 * The version list every versioned aggregate (documents, notes) keeps in its read model: one row per
 * revision (who, when, what changed, size and size delta) and one per named version. A version row is
 * computed from the aggregate's current-state row as it was before the event, so its statements must
 * run before the statement that moves that row (the projection returns them in that order).
 *
 * Parameterized by table names: `<x>_versions (<key>, revision, change, at, by, title, size, size_delta,
 * title_changed, content_changed)`, `<x>_labels (<key>, label_revision, revision, label, named_at,
 * named_by)`, and the current-state table with `id`, `title`, `content`, `revision`.
 */
import type { Knex } from 'knex';

export interface VersionTables {
  /** The current-state table ('documents', 'notes'). */
  readonly current: string;
  readonly versions: string;
  readonly labels: string;
  /** The id column of the version and label tables ('document_id', 'note_id'). */
  readonly key: string;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

export function versionStatements(sql: Knex.Transaction, tables: VersionTables, revision: string) {
  const columns = `??, revision, change, at, by, title, size, size_delta, title_changed, content_changed`;
  return {
    created(id: string, at: string, by: string, title: string, content: string): Knex.Raw {
      return sql.raw(`INSERT INTO ?? (${columns}) VALUES (?, ?, 'created', ?, ?, ?, ?, ?, true, true) ON CONFLICT DO NOTHING`, [
        tables.versions,
        tables.key,
        id,
        revision,
        at,
        by,
        title,
        bytes(content),
        bytes(content),
      ]);
    },

    /** Title and content replaced: what changed is read from the current row, before it moves. */
    edited(id: string, at: string, by: string, title: string, content: string): Knex.Raw {
      return sql.raw(
        `INSERT INTO ?? (${columns})
         SELECT c.id, ?, 'edited', ?, ?, ?, ?, ? - octet_length(c.content), c.title IS DISTINCT FROM ?, c.content IS DISTINCT FROM ?
           FROM ?? c WHERE c.id = ? AND c.revision < ?
         ON CONFLICT DO NOTHING`,
        [tables.versions, tables.key, revision, at, by, title, bytes(content), bytes(content), title, content, tables.current, id, revision],
      );
    },

    /** An event that keeps title and content (delete, restore, and for notes a scripture review). */
    unchanged(id: string, change: string, at: string, by: string): Knex.Raw {
      return sql.raw(
        `INSERT INTO ?? (${columns})
         SELECT c.id, ?, ?, ?, ?, c.title, octet_length(c.content), 0, false, false FROM ?? c WHERE c.id = ? AND c.revision < ?
         ON CONFLICT DO NOTHING`,
        [tables.versions, tables.key, revision, change, at, by, tables.current, id, revision],
      );
    },

    /** A named version: `revision` (the statement's) is the labels stream's, `named` the aggregate's. */
    labelled(id: string, named: string, label: string | null, at: string, by: string): Knex.Raw {
      return sql.raw(`INSERT INTO ?? (??, label_revision, revision, label, named_at, named_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, [
        tables.labels,
        tables.key,
        id,
        revision,
        named,
        label,
        at,
        by,
      ]);
    },
  };
}
