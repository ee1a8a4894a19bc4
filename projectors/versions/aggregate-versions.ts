/**
 * The version list every versioned aggregate (documents, notes) keeps in its read model: one row per
 * revision (who, when, what changed, size and size delta) and one per named version. A version row is
 * computed from the aggregate's current-state row as it was before the event, so its statements must
 * run before the statement that moves that row (the projection returns them in that order), or, for an
 * edit, in the same statement (`editedInPlace`).
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

/** A column value an edit sets on the current-state row (bound as one literal each). */
export type RowValue = string | number | boolean | null;

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

    /**
     * Title and content replaced, as one statement: the current row as it was (`prior`) is moved to
     * `changes` (which must set title, content and revision), and the version row is computed from
     * both. The same work as `edited` followed by the row's update, with the content sent and planned
     * once instead of twice. Nothing happens when the row is missing or already at `revision` or later.
     */
    editedInPlace(id: string, at: string, by: string, changes: Readonly<Record<string, RowValue>>): Knex.Raw {
      const set = Object.keys(changes);
      return sql.raw(
        `WITH prior AS (SELECT c.id, c.title, c.content FROM ?? c WHERE c.id = ? AND c.revision < ?),
              moved AS (UPDATE ?? c SET ${set.map(() => '?? = ?').join(', ')} FROM prior WHERE c.id = prior.id RETURNING c.id, c.title, c.content)
         INSERT INTO ?? (${columns})
         SELECT moved.id, ?, 'edited', ?, ?, moved.title, octet_length(moved.content), octet_length(moved.content) - octet_length(prior.content),
                moved.title IS DISTINCT FROM prior.title, moved.content IS DISTINCT FROM prior.content
           FROM moved JOIN prior ON prior.id = moved.id
         ON CONFLICT DO NOTHING`,
        [tables.current, id, revision, tables.current, ...set.flatMap((column) => [column, changes[column]!]), tables.versions, tables.key, revision, at, by],
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
