/**
 * What an export contains, read from the read models page by page (keyset on the id), so that an
 * export of any size holds one page in memory: the owner's notes (all of them, or the named ones) and
 * the documents of the workspaces they belong to (all of them, or one workspace's). Access is checked
 * again here, at build time: a note is read only if it is the owner's, a document only while the
 * owner is a member of its workspace.
 */
import type { Knex } from 'knex';
import type { ExportScope } from '../../domain/exports/export';

export interface ExportItem {
  readonly kind: 'note' | 'document';
  readonly id: string;
  readonly title: string;
  /** ISO-8601: a note's date, a document's last change. */
  readonly date: string;
  readonly tags: readonly string[];
  readonly topics: readonly string[];
  /** OSIS ranges of the passages a note cites. */
  readonly passages: readonly string[];
  readonly content: string;
  /** A document's workspace name. */
  readonly workspace?: string;
}

const PAGE = 200;

interface NoteRow {
  id: string;
  title: string | null;
  content: string | null;
  date_time: Date;
  tags: string[];
  topics: string[];
  scripture: string[];
}

interface DocumentRow {
  id: string;
  title: string;
  content: string;
  updated_at: Date;
  workspace: string;
}

const includesNotes = (scope: ExportScope) => !('workspaceId' in scope);
const includesDocuments = (scope: ExportScope) => !('noteIds' in scope);

function notesQuery(db: Knex, ownerId: string, scope: ExportScope) {
  const query = db('notes').where({ owner_id: ownerId, deleted: false });
  if ('noteIds' in scope) query.whereIn('id', scope.noteIds as string[]);
  return query;
}

function documentsQuery(db: Knex, ownerId: string, scope: ExportScope) {
  const query = db('documents as d')
    .join('workspaces as w', 'w.id', 'd.workspace_id')
    .join('workspace_members as m', function joinMembers() {
      this.on('m.workspace_id', '=', 'd.workspace_id').andOnVal('m.user_id', '=', ownerId);
    })
    .where({ 'd.deleted': false, 'w.deleted': false });
  if ('workspaceId' in scope) query.andWhere('d.workspace_id', scope.workspaceId);
  return query;
}

export async function countExportItems(db: Knex, ownerId: string, scope: ExportScope): Promise<number> {
  let total = 0;
  if (includesNotes(scope)) total += Number((await notesQuery(db, ownerId, scope).count<{ count: string }[]>({ count: '*' }))[0]?.count ?? 0);
  if (includesDocuments(scope)) total += Number((await documentsQuery(db, ownerId, scope).count<{ count: string }[]>({ count: 'd.id' }))[0]?.count ?? 0);
  return total;
}

/** Whether the owner may still read the scope: a workspace export needs a membership that lasts. */
export async function scopeStillReadable(db: Knex, ownerId: string, scope: ExportScope): Promise<boolean> {
  if (!('workspaceId' in scope)) return true;
  const row = await db('workspace_members as m')
    .join('workspaces as w', 'w.id', 'm.workspace_id')
    .where({ 'm.workspace_id': scope.workspaceId, 'm.user_id': ownerId, 'w.deleted': false })
    .first('m.role');
  return row !== undefined;
}

export async function* exportItems(db: Knex, ownerId: string, scope: ExportScope): AsyncGenerator<ExportItem> {
  if (includesNotes(scope)) {
    for (let after = ''; ; ) {
      const query = notesQuery(db, ownerId, scope).orderBy('id').limit(PAGE).select<NoteRow[]>('id', 'title', 'content', 'date_time', 'tags', 'topics', 'scripture');
      if (after) query.andWhere('id', '>', after);
      const rows = await query;
      for (const row of rows) {
        yield {
          kind: 'note',
          id: row.id,
          title: row.title ?? '',
          date: row.date_time.toISOString(),
          tags: row.tags,
          topics: row.topics,
          passages: row.scripture,
          content: row.content ?? '',
        };
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.id;
    }
  }
  if (includesDocuments(scope)) {
    for (let after = ''; ; ) {
      const query = documentsQuery(db, ownerId, scope).orderBy('d.id').limit(PAGE).select<DocumentRow[]>('d.id', 'd.title', 'd.content', 'd.updated_at', 'w.name as workspace');
      if (after) query.andWhere('d.id', '>', after);
      const rows = await query;
      for (const row of rows) {
        yield { kind: 'document', id: row.id, title: row.title, date: row.updated_at.toISOString(), tags: [], topics: [], passages: [], content: row.content, workspace: row.workspace };
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.id;
    }
  }
}
