/**
 * The sync projection's part for circles (see ../sync/sync-projection.ts): `sync_circles`,
 * `sync_circle_members` (who is or was in each circle, and from which log position) and
 * `sync_circle_shares` (what is or was shared with each circle), stamped with log positions like every
 * sync row. The feed (query-api/circles/circles-sync-feed.ts) joins these with `sync_notes` and
 * `sync_prayer_points` so that members receive shared items, and a delete once they lose them.
 * Rows are never deleted: a removal or an unshare is a change that the feed still has to send.
 */
import type { Knex } from 'knex';
import type { CircleEvent } from '../../domain/circles/circle';
import type { SharedItemEvent } from '../../domain/shares/shared-item';
import { unreachable } from '../../domain/shared/events';
import type { RecordedEvent } from '../../infra/event-store/event-store';
import type { SqlStatement } from '../runtime/projection';

const HANDLED = ['CircleCreated', 'CircleUpdated', 'CircleDeleted', 'CircleMemberAdded', 'CircleMemberRemoved', 'ItemSharedWithCircle', 'ItemUnsharedFromCircle'] as const;

export const CIRCLE_SYNC_EVENTS: readonly string[] = HANDLED;
export const CIRCLE_SYNC_TABLES = ['sync_circles', 'sync_circle_members', 'sync_circle_shares'] as const;

type HandledEvent = Extract<CircleEvent | SharedItemEvent, { type: (typeof HANDLED)[number] }>;

export function isCircleSyncEvent(recorded: RecordedEvent): boolean {
  return CIRCLE_SYNC_EVENTS.includes(recorded.type);
}

export function circleSyncStatements(recorded: RecordedEvent, sql: Knex.Transaction): SqlStatement | readonly SqlStatement[] {
  const event = recorded as unknown as HandledEvent;
  const revision = recorded.streamRevision.toString();
  const position = recorded.position;
  const changedAt = recorded.metadata.occurredAt;
  const change = { revision, position, changed_at: changedAt };
  const circle = (id: string) => sql('sync_circles').where('id', id).andWhere('revision', '<', revision);
  switch (event.type) {
    case 'CircleCreated':
      return sql('sync_circles')
        .insert({ id: event.data.circleId, name: event.data.name, description: event.data.description, created_at: event.data.createdAt, deleted: false, ...change })
        .onConflict('id')
        .ignore();
    case 'CircleUpdated':
      return circle(event.data.circleId).update({ name: event.data.name, description: event.data.description, ...change });
    case 'CircleDeleted':
      return [
        circle(event.data.circleId).update({ deleted: true, ...change }),
        // Every member loses the circle: each gets its delete, and the deletes of what was shared there.
        sql('sync_circle_members').where({ circle_id: event.data.circleId, removed: false }).update({ removed: true, ...change }),
      ];
    case 'CircleMemberAdded':
      return sql.raw(
        `INSERT INTO sync_circle_members (circle_id, user_id, role, removed, joined_position, revision, position, changed_at)
         VALUES (?, ?, ?, false, ?, ?, ?, ?)
         ON CONFLICT (circle_id, user_id) DO UPDATE
           SET role = EXCLUDED.role, removed = false, joined_position = EXCLUDED.joined_position,
               revision = EXCLUDED.revision, position = EXCLUDED.position, changed_at = EXCLUDED.changed_at
         WHERE sync_circle_members.revision < EXCLUDED.revision`,
        [event.data.circleId, event.data.userId, event.data.role, position, revision, position, changedAt],
      );
    case 'CircleMemberRemoved':
      return sql('sync_circle_members').where({ circle_id: event.data.circleId, user_id: event.data.userId }).andWhere('revision', '<', revision).update({ removed: true, ...change });
    case 'ItemSharedWithCircle':
      return sql.raw(
        `INSERT INTO sync_circle_shares (item_type, item_id, circle_id, owner_id, shared_at, unshared, shared_position, revision, position, changed_at)
         VALUES (?, ?, ?, ?, ?, false, ?, ?, ?, ?)
         ON CONFLICT (item_type, item_id, circle_id) DO UPDATE
           SET owner_id = EXCLUDED.owner_id, shared_at = EXCLUDED.shared_at, unshared = false,
               revision = EXCLUDED.revision, position = EXCLUDED.position, changed_at = EXCLUDED.changed_at
         WHERE sync_circle_shares.revision < EXCLUDED.revision`,
        [event.data.itemType, event.data.itemId, event.data.circleId, event.data.ownerId, event.data.sharedAt, position, revision, position, changedAt],
      );
    case 'ItemUnsharedFromCircle':
      return sql('sync_circle_shares')
        .where({ item_type: event.data.itemType, item_id: event.data.itemId, circle_id: event.data.circleId })
        .andWhere('revision', '<', revision)
        .update({ unshared: true, ...change });
    default:
      return unreachable(event);
  }
}
