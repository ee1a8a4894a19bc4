/**
 * A notification's own stream: what the user did with it. The notification itself is born from a
 * `ReminderFired` event (its id is that event's id) and lives in the `notifications` read model; this
 * stream records that its recipient read it. Who the recipient is, the caller looks up and passes in.
 */
import type { Decider } from '../shared/decider';
import { notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const notificationStreamId = (notificationId: string) => `notification-${notificationId}`;

export type NotificationEvent = DomainEvent<'NotificationRead', { notificationId: string; userId: string; readAt: string }>;

export type NotificationState = { readonly status: 'unread' } | { readonly status: 'read'; readonly readAt: string };

export type NotificationCommand = {
  readonly type: 'MarkNotificationRead';
  readonly notificationId: string;
  /** The recipient, from the inbox; null when there is no such notification. */
  readonly recipientId: string | null;
  readonly actorId: string;
  readonly now: string;
};

export const notificationDecider: Decider<NotificationCommand, NotificationEvent, NotificationState> = {
  initialState: { status: 'unread' },

  decide(command, state) {
    switch (command.type) {
      case 'MarkNotificationRead': {
        if (command.recipientId === null || command.recipientId !== command.actorId) throw notFound('NOTIFICATION.NOT_FOUND', 'no such notification');
        if (state.status === 'read') return [];
        return [{ type: 'NotificationRead', data: { notificationId: command.notificationId, userId: command.actorId, readAt: command.now } }];
      }
      default:
        return unreachable(command.type);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'NotificationRead':
        return { status: 'read', readAt: event.data.readAt };
      default:
        return unreachable(event.type);
    }
  },
};
