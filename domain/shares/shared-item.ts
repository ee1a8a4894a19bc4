/**
 * What a note or prayer point is shared with: one stream per item (`shares-note-<id>`), listing the
 * circles it is shared with, read-only. Only the item's owner shares and unshares, and only with a
 * circle they belong to. Members of those circles (and the owner) may mark a shared prayer point as
 * prayed for; that is recorded here too, so praying never touches the prayer point itself.
 * The caller looks up ownership and membership (from the item's and the circle's streams) and passes
 * the answers in the command; this decider stays pure.
 */
import type { Decider } from '../shared/decider';
import { notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export type ShareableType = 'note' | 'prayerPoint';

export const sharedItemStreamId = (itemType: ShareableType, itemId: string) => `shares-${itemType}-${itemId}`;

export type SharedItemEvent =
  | DomainEvent<'ItemSharedWithCircle', { itemType: ShareableType; itemId: string; circleId: string; ownerId: string; sharedAt: string }>
  | DomainEvent<'ItemUnsharedFromCircle', { itemType: ShareableType; itemId: string; circleId: string; unsharedBy: string; unsharedAt: string }>
  | DomainEvent<'PrayerPointPrayedFor', { prayerPointId: string; userId: string; prayedAt: string }>;

export interface SharedItem {
  /** The circles the item is shared with, and when. */
  readonly circles: Readonly<Record<string, string>>;
  readonly prayers: number;
}

interface Actor {
  readonly actorId: string;
  readonly at: string;
}

export type SharedItemCommand =
  /** `ownerId`: the item's owner, or null if it does not exist (or is deleted). */
  | ({ readonly type: 'ShareWithCircle'; readonly itemType: ShareableType; readonly itemId: string; readonly circleId: string; readonly ownerId: string | null; readonly actorInCircle: boolean } & Actor)
  | ({ readonly type: 'UnshareFromCircle'; readonly itemType: ShareableType; readonly itemId: string; readonly circleId: string; readonly ownerId: string | null } & Actor)
  /** `actorMayPray`: the actor owns the point, or belongs to a circle it is shared with. */
  | ({ readonly type: 'PrayFor'; readonly prayerPointId: string; readonly actorMayPray: boolean } & Actor);

export const itemNotFound = (itemType: ShareableType) =>
  itemType === 'note' ? notFound('NOTE.NOT_FOUND', 'no such note') : notFound('PRAYER_POINT.NOT_FOUND', 'no such prayer point');

export const sharedItemDecider: Decider<SharedItemCommand, SharedItemEvent, SharedItem> = {
  initialState: { circles: {}, prayers: 0 },

  decide(command, state) {
    switch (command.type) {
      case 'ShareWithCircle': {
        if (command.ownerId !== command.actorId) throw itemNotFound(command.itemType);
        if (!command.actorInCircle) throw notFound('CIRCLE.NOT_FOUND', 'no such circle');
        if (Object.hasOwn(state.circles, command.circleId)) return [];
        const { itemType, itemId, circleId, actorId, at } = command;
        return [{ type: 'ItemSharedWithCircle', data: { itemType, itemId, circleId, ownerId: actorId, sharedAt: at } }];
      }
      case 'UnshareFromCircle': {
        if (command.ownerId !== command.actorId) throw itemNotFound(command.itemType);
        if (!Object.hasOwn(state.circles, command.circleId)) throw notFound('SHARE.NOT_FOUND', 'the item is not shared with this circle');
        const { itemType, itemId, circleId, actorId, at } = command;
        return [{ type: 'ItemUnsharedFromCircle', data: { itemType, itemId, circleId, unsharedBy: actorId, unsharedAt: at } }];
      }
      case 'PrayFor': {
        if (!command.actorMayPray) throw itemNotFound('prayerPoint');
        return [{ type: 'PrayerPointPrayedFor', data: { prayerPointId: command.prayerPointId, userId: command.actorId, prayedAt: command.at } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ItemSharedWithCircle':
        return { ...state, circles: { ...state.circles, [event.data.circleId]: event.data.sharedAt } };
      case 'ItemUnsharedFromCircle': {
        const { [event.data.circleId]: _gone, ...circles } = state.circles;
        return { ...state, circles };
      }
      case 'PrayerPointPrayedFor':
        return { ...state, prayers: state.prayers + 1 };
      default:
        return unreachable(event);
    }
  },
};
