/**
 * Reading the sync feed: the changes in a user's scope after a cursor, in feed order, a page at a time,
 * read in one REPEATABLE READ snapshot together with the sync projection's checkpoint.
 *
 * A change's feed position is the log position of the entity's last change, except for what a user
 * gains by joining a workspace: everything in it counts as changed when they joined, so a member added
 * after your cursor receives the workspace's whole live content whatever their cursor says. Removal
 * gives one delete for the workspace and nothing more from it.
 */
import type { Knex } from 'knex';
import { documentJson } from '../documents/documents-queries';
import { noteJson, type NoteRow } from '../notes/notes-queries';
import { prayerPointJson, type PrayerPointRow } from '../prayer-points/prayer-points-queries';
import { AFTER_ALL, type SyncCursor } from './sync-cursor';
import { circleChangeData, circleFeedBranches, type CircleSyncEntity } from '../circles/circles-sync-feed';

export type SyncEntity = 'document' | 'membership' | 'workspace' | 'prayerPoint' | 'note' | CircleSyncEntity;

export interface SyncChange {
  readonly entity: SyncEntity;
  readonly id: string;
  /** null for what belongs to the user rather than to a workspace (prayer points). */
  readonly workspaceId: string | null;
  readonly op: 'upsert' | 'delete';
  readonly revision: number;
  readonly data?: unknown;
}

export interface SyncPage {
  readonly changes: SyncChange[];
  readonly cursor: Omit<SyncCursor, 'store'>;
  readonly hasMore: boolean;
  readonly checkpoint: string | undefined;
  readonly horizon: string | undefined;
}

interface ChangeRow {
  feed_position: string;
  entity: SyncEntity;
  id: string;
  workspace_id: string | null;
  gone: boolean;
  revision: string;
}

/** Each branch is ordered and limited on its own (so a page never sorts a whole workspace), then merged. */
const AFTER_CURSOR = (feed: string, entity: string, id: string) =>
  `(${feed}, ${entity} COLLATE "C", ${id} COLLATE "C") > (:position, :entity COLLATE "C", :id COLLATE "C")`;

const BRANCH_ORDER = (feed: string, id: string) => `${feed}, ${id} COLLATE "C"`;

const FEED = `
  WITH scope AS (
    SELECT workspace_id, joined_position, removed, position AS member_position, revision AS member_revision
      FROM sync_members WHERE user_id = :user
  ),
  live AS (SELECT * FROM scope WHERE NOT removed)
  SELECT * FROM (
    -- documents changed after the cursor, in workspaces joined before it
    (SELECT d.position AS feed_position, 'document' AS entity, d.id::text AS id, d.workspace_id, d.deleted AS gone, d.revision
       FROM live s JOIN sync_documents d ON d.workspace_id = s.workspace_id
      WHERE s.joined_position < :position AND d.position >= :position AND ${AFTER_CURSOR('d.position', "'document'", 'd.id::text')}
      ORDER BY ${BRANCH_ORDER('d.position', 'd.id::text')} LIMIT :limit)
    UNION ALL
    -- in workspaces joined after the cursor: what was there when the caller joined...
    (SELECT s.joined_position, 'document', d.id::text, d.workspace_id, false, d.revision
       FROM live s JOIN sync_documents d ON d.workspace_id = s.workspace_id
      WHERE s.joined_position >= :position AND d.position <= s.joined_position AND NOT d.deleted
        AND ${AFTER_CURSOR('s.joined_position', "'document'", 'd.id::text')}
      ORDER BY ${BRANCH_ORDER('s.joined_position', 'd.id::text')} LIMIT :limit)
    UNION ALL
    -- ...and what changed since (tombstones too: the caller may have had it from an earlier page)
    (SELECT d.position, 'document', d.id::text, d.workspace_id, d.deleted, d.revision
       FROM live s JOIN sync_documents d ON d.workspace_id = s.workspace_id
      WHERE s.joined_position >= :position AND d.position > s.joined_position AND ${AFTER_CURSOR('d.position', "'document'", 'd.id::text')}
      ORDER BY ${BRANCH_ORDER('d.position', 'd.id::text')} LIMIT :limit)
    UNION ALL
    -- the workspaces themselves: their data or the caller's role in them changed
    (SELECT GREATEST(w.position, s.member_position), 'workspace', w.id::text, w.id, false, GREATEST(w.revision, s.member_revision)
       FROM live s JOIN sync_workspaces w ON w.id = s.workspace_id
      WHERE ${AFTER_CURSOR('GREATEST(w.position, s.member_position)', "'workspace'", 'w.id::text')}
      ORDER BY ${BRANCH_ORDER('GREATEST(w.position, s.member_position)', 'w.id::text')} LIMIT :limit)
    UNION ALL
    -- memberships of the caller's workspaces (removals before the caller joined are not theirs to know)
    (SELECT GREATEST(m.position, s.joined_position), 'membership', m.workspace_id::text || ':' || m.user_id::text, m.workspace_id, m.removed, m.revision
       FROM live s JOIN sync_members m ON m.workspace_id = s.workspace_id
      WHERE NOT (m.removed AND m.position <= s.joined_position)
        AND ${AFTER_CURSOR('GREATEST(m.position, s.joined_position)', "'membership'", "m.workspace_id::text || ':' || m.user_id::text")}
      ORDER BY ${BRANCH_ORDER('GREATEST(m.position, s.joined_position)', "m.workspace_id::text || ':' || m.user_id::text")} LIMIT :limit)
    UNION ALL
    -- workspaces the caller left or lost: one delete, and nothing more from them
    (SELECT s.member_position, 'workspace', s.workspace_id::text, s.workspace_id, true, s.member_revision
       FROM scope s
      WHERE s.removed AND ${AFTER_CURSOR('s.member_position', "'workspace'", 's.workspace_id::text')}
      ORDER BY ${BRANCH_ORDER('s.member_position', 's.workspace_id::text')} LIMIT :limit)
    UNION ALL
    -- the caller's own prayer points, tombstones too (they belong to no workspace)
    (SELECT p.position, 'prayerPoint', p.id::text, NULL::uuid, p.deleted, p.revision
       FROM sync_prayer_points p
      WHERE p.owner_id = :user AND ${AFTER_CURSOR('p.position', "'prayerPoint'", 'p.id::text')}
      ORDER BY ${BRANCH_ORDER('p.position', 'p.id::text')} LIMIT :limit)
    UNION ALL
    -- the caller's own notes, tombstones too (they belong to no workspace)
    (SELECT n.position, 'note', n.id::text, NULL::uuid, n.deleted, n.revision
       FROM sync_notes n
      WHERE n.owner_id = :user AND ${AFTER_CURSOR('n.position', "'note'", 'n.id::text')}
      ORDER BY ${BRANCH_ORDER('n.position', 'n.id::text')} LIMIT :limit)${circleFeedBranches(AFTER_CURSOR, BRANCH_ORDER)}
  ) changes
  ORDER BY feed_position, entity COLLATE "C", id COLLATE "C"
  LIMIT :limit`;

export async function readSyncPage(db: Knex, userId: string, after: Omit<SyncCursor, 'store'>, limit: number): Promise<SyncPage> {
  return db.transaction(
    async (trx) => {
      const checkpointRow = await trx('projection_checkpoints').where({ projection: 'sync' }).first<{ position: string | null } | undefined>('position');
      const horizonRow = await trx('sync_horizon').first<{ position: string } | undefined>('position');
      const checkpoint = checkpointRow?.position ?? undefined;
      const rows = (await trx.raw<{ rows: ChangeRow[] }>(FEED, { user: userId, position: after.position, entity: after.entity, id: after.id, limit: limit + 1 })).rows;
      const page = rows.slice(0, limit);
      const hasMore = rows.length > limit;
      const changes = await withData(trx, userId, page);
      const last = page[page.length - 1];
      // A short page showed everything up to the checkpoint: continue after it.
      const cursor = hasMore && last ? { position: last.feed_position, entity: last.entity, id: last.id } : checkpoint && (!last || checkpoint >= last.feed_position) ? { position: checkpoint, entity: AFTER_ALL, id: '' } : last ? { position: last.feed_position, entity: last.entity, id: last.id } : after;
      return { changes, cursor, hasMore, checkpoint, horizon: horizonRow?.position };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

async function withData(trx: Knex.Transaction, userId: string, rows: readonly ChangeRow[]): Promise<SyncChange[]> {
  const ids = (entity: SyncEntity) => rows.filter((row) => row.entity === entity && !row.gone).map((row) => row.id);
  const documentIds = ids('document');
  const workspaceIds = ids('workspace');
  const membershipKeys = ids('membership').map((key) => key.split(':') as [string, string]);
  // One after the other: they share the snapshot's single connection.
  const documents = documentIds.length ? await trx('sync_documents').whereIn('id', documentIds) : [];
  const circleData = await circleChangeData(trx, userId, rows);
  const prayerPointIds = ids('prayerPoint');
  const prayerPoints: PrayerPointRow[] = prayerPointIds.length ? await trx('sync_prayer_points').whereIn('id', prayerPointIds) : [];
  const noteIds = ids('note');
  const notes: NoteRow[] = noteIds.length ? await trx('sync_notes').whereIn('id', noteIds) : [];
  const workspaces = workspaceIds.length
    ? await trx('sync_workspaces as w').join('sync_members as m', 'm.workspace_id', 'w.id').where('m.user_id', userId).whereIn('w.id', workspaceIds).select('w.id', 'w.name', 'w.created_at', 'm.role')
    : [];
  const memberships = membershipKeys.length
    ? await trx('sync_members as m')
        .leftJoin('sync_users as u', 'u.id', 'm.user_id')
        .whereIn(['m.workspace_id', 'm.user_id'], membershipKeys)
        .select('m.workspace_id', 'm.user_id', 'm.role', 'm.added_at', 'u.email', 'u.display_name')
    : [];
  const documentById = new Map(documents.map((row: Parameters<typeof documentJson>[0]) => [row.id, documentJson(row)]));
  const workspaceById = new Map(workspaces.map((row: { id: string; name: string; created_at: Date; role: string }) => [row.id, { id: row.id, name: row.name, role: row.role, createdAt: row.created_at.toISOString() }]));
  const membershipByKey = new Map(
    memberships.map((row: { workspace_id: string; user_id: string; role: string; added_at: Date; email: string | null; display_name: string | null }) => [
      `${row.workspace_id}:${row.user_id}`,
      { workspaceId: row.workspace_id, userId: row.user_id, email: row.email ?? null, displayName: row.display_name ?? null, role: row.role, addedAt: row.added_at.toISOString() },
    ]),
  );
  const prayerPointById = new Map(prayerPoints.map((row) => [row.id, prayerPointJson(row)]));
  const noteById = new Map(notes.map((row) => [row.id, noteJson(row)]));
  const dataOf = (row: ChangeRow) => circleData.get(`${row.entity}|${row.id}`) ?? (row.entity === 'note' ? noteById.get(row.id) : row.entity === 'prayerPoint' ? prayerPointById.get(row.id) : (row.entity === 'document' ? documentById : row.entity === 'workspace' ? workspaceById : membershipByKey).get(row.id));
  return rows.map((row) => ({
    entity: row.entity,
    id: row.id,
    workspaceId: row.workspace_id,
    op: row.gone ? 'delete' : 'upsert',
    revision: Number(row.revision),
    ...(row.gone ? {} : { data: dataOf(row) }),
  }));
}
