/**
 * The `circles` projection: circles, their members and invites (from circle streams), what is shared
 * with them and the prayers for shared prayer points (from `shares-*` streams), and public links.
 * The query side authorizes circle reads and `GET /api/shared` with these rows, so the command side
 * waits for this projection after membership and sharing changes before it answers.
 */
import type { CircleEvent } from '../../domain/circles/circle';
import type { PublicLinkEvent } from '../../domain/public-links/public-link';
import type { SharedItemEvent } from '../../domain/shares/shared-item';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const CIRCLE_EVENT_TYPES: readonly CircleEvent['type'][] = [
  'CircleCreated',
  'CircleUpdated',
  'CircleDeleted',
  'CircleMemberAdded',
  'CircleMemberRemoved',
  'CircleInviteIssued',
  'CircleInviteRevoked',
  'CircleInviteAccepted',
];
export const SHARED_ITEM_EVENT_TYPES: readonly SharedItemEvent['type'][] = ['ItemSharedWithCircle', 'ItemUnsharedFromCircle', 'PrayerPointPrayedFor'];
const PUBLIC_LINK_EVENT_TYPES: readonly PublicLinkEvent['type'][] = ['PublicLinkCreated', 'PublicLinkRevoked'];

export const circlesProjection: Projection = {
  name: 'circles',
  tables: ['circles', 'circle_members', 'circle_invites', 'circle_shares', 'prayer_records', 'public_links'],
  handles: [...CIRCLE_EVENT_TYPES, ...SHARED_ITEM_EVENT_TYPES, ...PUBLIC_LINK_EVENT_TYPES],
  apply(recorded, sql) {
    const event = recorded as unknown as CircleEvent | SharedItemEvent | PublicLinkEvent;
    const revision = recorded.streamRevision.toString();
    const circle = (id: string) => sql('circles').where('id', id).andWhere('revision', '<', revision);
    switch (event.type) {
      case 'CircleCreated': {
        const { circleId, name, description, ownerId, createdAt } = event.data;
        return upsertIfNewer(sql, 'circles', ['id'], { id: circleId, name, description, open_invites: false, owner_id: ownerId, created_at: createdAt, updated_at: createdAt, deleted: false, revision });
      }
      case 'CircleUpdated':
        return circle(event.data.circleId).update({
          name: event.data.name,
          description: event.data.description,
          open_invites: event.data.openInvites,
          updated_at: event.data.updatedAt,
          revision,
        });
      case 'CircleDeleted':
        return [
          circle(event.data.circleId).update({ deleted: true, updated_at: event.data.deletedAt, revision }),
          sql('circle_members').where('circle_id', event.data.circleId).delete(),
          sql('circle_invites').where({ circle_id: event.data.circleId, status: 'pending' }).update({ status: 'revoked', revision }),
        ];
      // Member and invite changes move the circle's revision too: its ETag is the stream revision.
      case 'CircleMemberAdded':
        return [
          upsertIfNewer(sql, 'circle_members', ['circle_id', 'user_id'], {
            circle_id: event.data.circleId,
            user_id: event.data.userId,
            role: event.data.role,
            added_at: event.data.addedAt,
            revision,
          }),
          circle(event.data.circleId).update({ revision }),
        ];
      case 'CircleMemberRemoved':
        return [
          sql('circle_members').where({ circle_id: event.data.circleId, user_id: event.data.userId }).andWhere('revision', '<', revision).delete(),
          circle(event.data.circleId).update({ revision }),
        ];
      case 'CircleInviteIssued': {
        const { inviteId, circleId, email, expiresAt, issuedBy, issuedAt } = event.data;
        return [
          upsertIfNewer(sql, 'circle_invites', ['id'], { id: inviteId, circle_id: circleId, email, expires_at: expiresAt, status: 'pending', issued_by: issuedBy, issued_at: issuedAt, accepted_by: null, revision }),
          circle(circleId).update({ revision }),
        ];
      }
      case 'CircleInviteRevoked':
        return [
          sql('circle_invites').where('id', event.data.inviteId).andWhere('revision', '<', revision).update({ status: 'revoked', revision }),
          circle(event.data.circleId).update({ revision }),
        ];
      case 'CircleInviteAccepted':
        return [
          sql('circle_invites').where('id', event.data.inviteId).andWhere('revision', '<', revision).update({ status: 'accepted', accepted_by: event.data.userId, revision }),
          circle(event.data.circleId).update({ revision }),
        ];
      case 'ItemSharedWithCircle': {
        const { itemType, itemId, circleId, ownerId, sharedAt } = event.data;
        return upsertIfNewer(sql, 'circle_shares', ['item_type', 'item_id', 'circle_id'], { item_type: itemType, item_id: itemId, circle_id: circleId, owner_id: ownerId, shared_at: sharedAt, revision });
      }
      case 'ItemUnsharedFromCircle':
        return sql('circle_shares')
          .where({ item_type: event.data.itemType, item_id: event.data.itemId, circle_id: event.data.circleId })
          .andWhere('revision', '<', revision)
          .delete();
      case 'PrayerPointPrayedFor':
        // The stream's revisions only grow, so a replayed prayer (revision not above the row's) adds nothing.
        return sql.raw(
          `INSERT INTO prayer_records (prayer_point_id, user_id, times, last_prayed_at, revision) VALUES (?, ?, 1, ?, ?)
           ON CONFLICT (prayer_point_id, user_id) DO UPDATE
             SET times = prayer_records.times + 1, last_prayed_at = EXCLUDED.last_prayed_at, revision = EXCLUDED.revision
           WHERE prayer_records.revision < EXCLUDED.revision`,
          [event.data.prayerPointId, event.data.userId, event.data.prayedAt, revision],
        );
      case 'PublicLinkCreated': {
        const { linkId, itemType, itemId, tokenHash, expiresAt, createdBy, createdAt } = event.data;
        return upsertIfNewer(sql, 'public_links', ['id'], { id: linkId, item_type: itemType, item_id: itemId, token_hash: tokenHash, expires_at: expiresAt, created_by: createdBy, created_at: createdAt, revoked: false, revision });
      }
      case 'PublicLinkRevoked':
        return sql('public_links').where('id', event.data.linkId).andWhere('revision', '<', revision).update({ revoked: true, revision });
      default:
        return unreachable(event);
    }
  },
};
