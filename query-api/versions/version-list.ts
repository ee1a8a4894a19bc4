/**
 * The version list of a versioned aggregate (documents, notes) from its read model: every revision with
 * who, when and what changed, and the named versions. The tables are the ones
 * projectors/versions/aggregate-versions.ts keeps; the caller checks that the reader may see the aggregate.
 */
import type { Knex } from 'knex';

export interface VersionListTables {
  readonly versions: string;
  readonly labels: string;
  /** The id column of both tables ('document_id', 'note_id'). */
  readonly key: string;
}

interface VersionRow {
  revision: string;
  change: string;
  at: Date;
  by: string;
  title: string;
  size: number;
  size_delta: number;
  title_changed: boolean;
  content_changed: boolean;
}

interface LabelRow {
  revision: string;
  label: string | null;
  named_at: Date;
  named_by: string;
}

export async function versionList(db: Knex, tables: VersionListTables, id: string) {
  const [rows, labels] = await Promise.all([
    db(tables.versions).where(tables.key, id).orderBy('revision').select<VersionRow[]>('*'),
    db(tables.labels).where(tables.key, id).orderBy('label_revision').select<LabelRow[]>('*'),
  ]);
  return {
    items: rows.map((row) => ({
      revision: Number(row.revision),
      change: row.change,
      at: row.at.toISOString(),
      by: row.by,
      title: row.title,
      size: row.size,
      sizeDelta: row.size_delta,
      titleChanged: row.title_changed,
      contentChanged: row.content_changed,
    })),
    snapshots: labels.map((row) => ({ revision: Number(row.revision), label: row.label, createdAt: row.named_at.toISOString(), createdBy: row.named_by })),
  };
}
