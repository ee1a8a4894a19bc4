/**
 * The sync feed's branches for circles (merged into ../sync/sync-feed.ts's query, same snapshot, same
 * cursor order). A member receives:
 *  - `circle` (id = circle id): upserts while they belong to it, one delete when they leave, are
 *    removed, or the circle is deleted;
 *  - `sharedNote` / `sharedPrayerPoint` (id = `circleId:itemId`, one entity per circle an item is shared
 *    with): the item whole, read-only, at the latest of the share's, the item's and the sharer's
 *    membership's positions (and no earlier than when the caller joined, so joining brings everything
 *    already shared); a delete when it is unshared, deleted, or its owner leaves the circle.
 * On losing a circle, the caller gets a delete for every item shared there before they lost it, and
 * from then on nothing from that circle, whatever cursor they pull with.
 * Items the caller owns are left out: they have them as `note` / `prayerPoint` already.
 */
import type { Knex } from 'knex';
import { noteJson, type NoteRow } from '../notes/notes-queries';
import { prayerPointJson, type PrayerPointRow } from '../prayer-points/prayer-points-queries';

export type CircleSyncEntity = 'circle' | 'sharedNote' | 'sharedPrayerPoint';

type AfterCursor = (feed: string, entity: string, id: string) => string;
type BranchOrder = (feed: string, id: string) => string;

const SHARED: ReadonlyArray<{ entity: 'sharedNote' | 'sharedPrayerPoint'; itemType: string; table: string }> = [
  { entity: 'sharedNote', itemType: 'note', table: 'sync_notes' },
  { entity: 'sharedPrayerPoint', itemType: 'prayerPoint', table: 'sync_prayer_points' },
];

/** `UNION ALL (...)` branches yielding (feed_position, entity, id, workspace_id, gone, revision), as the feed's others. */
export function circleFeedBranches(after: AfterCursor, order: BranchOrder): string {
  const key = "s.circle_id::text || ':' || s.item_id::text";
  const live = `GREATEST(s.position, i.position, o.position, m.joined_position)`;
  const shared = SHARED.map(
    ({ entity, itemType, table }) => `
    UNION ALL
    -- ${entity}: items shared with the caller's circles, whole; a delete once unshared, deleted or their owner left
    (SELECT ${live}, '${entity}', ${key}, NULL::uuid, (s.unshared OR i.deleted OR o.removed), i.revision
       FROM sync_circle_members m
       JOIN sync_circle_shares s ON s.circle_id = m.circle_id AND s.item_type = '${itemType}' AND s.owner_id <> m.user_id
       JOIN ${table} i ON i.id = s.item_id
       JOIN sync_circle_members o ON o.circle_id = s.circle_id AND o.user_id = s.owner_id
      WHERE m.user_id = :user AND NOT m.removed
        AND NOT ((s.unshared OR i.deleted OR o.removed) AND GREATEST(s.position, i.position, o.position) <= m.joined_position)
        AND ${after(live, `'${entity}'`, key)}
      ORDER BY ${order(live, key)} LIMIT :limit)
    UNION ALL
    -- ${entity}: in circles the caller lost, one delete for each item shared there before
    (SELECT m.position, '${entity}', ${key}, NULL::uuid, true, s.revision
       FROM sync_circle_members m
       JOIN sync_circle_shares s ON s.circle_id = m.circle_id AND s.item_type = '${itemType}' AND s.owner_id <> m.user_id
      WHERE m.user_id = :user AND m.removed AND s.shared_position < m.position
        AND NOT (s.unshared AND s.position <= m.joined_position)
        AND ${after('m.position', `'${entity}'`, key)}
      ORDER BY ${order('m.position', key)} LIMIT :limit)`,
  ).join('');
  return `
    UNION ALL
    -- circles the caller belongs to: their data or the caller's membership changed
    (SELECT GREATEST(c.position, m.position), 'circle', c.id::text, NULL::uuid, false, GREATEST(c.revision, m.revision)
       FROM sync_circle_members m JOIN sync_circles c ON c.id = m.circle_id
      WHERE m.user_id = :user AND NOT m.removed AND ${after('GREATEST(c.position, m.position)', "'circle'", 'c.id::text')}
      ORDER BY ${order('GREATEST(c.position, m.position)', 'c.id::text')} LIMIT :limit)
    UNION ALL
    -- circles the caller left, lost, or saw deleted: one delete
    (SELECT m.position, 'circle', m.circle_id::text, NULL::uuid, true, m.revision
       FROM sync_circle_members m
      WHERE m.user_id = :user AND m.removed AND ${after('m.position', "'circle'", 'm.circle_id::text')}
      ORDER BY ${order('m.position', 'm.circle_id::text')} LIMIT :limit)${shared}`;
}

interface Row {
  readonly entity: string;
  readonly id: string;
  readonly gone: boolean;
}

/** The data of the upserts among `rows` that are circle entities, by `${entity}|${id}`. */
export async function circleChangeData(trx: Knex.Transaction, userId: string, rows: readonly Row[]): Promise<Map<string, unknown>> {
  const data = new Map<string, unknown>();
  const ids = (entity: CircleSyncEntity) => rows.filter((row) => row.entity === entity && !row.gone).map((row) => row.id);
  const circleIds = ids('circle');
  if (circleIds.length) {
    const circles = await trx('sync_circles as c')
      .join('sync_circle_members as m', 'm.circle_id', 'c.id')
      .where('m.user_id', userId)
      .whereIn('c.id', circleIds)
      .select('c.id', 'c.name', 'c.description', 'c.created_at', 'm.role');
    for (const row of circles) data.set(`circle|${row.id}`, { id: row.id, name: row.name, description: row.description, role: row.role, createdAt: row.created_at.toISOString() });
  }
  // One query after the other: they share the snapshot's single connection.
  for (const { entity, itemType, table } of SHARED) {
    const keys = ids(entity).map((key) => key.split(':') as [string, string]);
    if (keys.length === 0) continue;
    const shares = await trx('sync_circle_shares')
      .where('item_type', itemType)
      .whereIn(['circle_id', 'item_id'], keys)
      .select('circle_id', 'item_id', 'owner_id', 'shared_at');
    const items = await trx(table).whereIn('id', [...new Set(keys.map(([, itemId]) => itemId))]);
    const byId = new Map(items.map((item: { id: string }) => [item.id, item]));
    for (const share of shares) {
      const item = byId.get(share.item_id);
      if (!item) continue;
      const shared = { circleId: share.circle_id, ownerId: share.owner_id, sharedAt: share.shared_at.toISOString() };
      data.set(
        `${entity}|${share.circle_id}:${share.item_id}`,
        entity === 'sharedNote' ? { ...shared, note: noteJson(item as NoteRow) } : { ...shared, prayerPoint: prayerPointJson(item as PrayerPointRow) },
      );
    }
  }
  return data;
}
