/**
 * The `notifications` projection: the in-app inbox (`notifications`, one row per reminder firing, whose
 * id is the `ReminderFired` event's id and whose `position` is that event's log position, the order of
 * the live stream), and each user's `notification_channels` (webhook and e-mail, for the delivery
 * worker; `webhook_secret` holds the secret sealed, as the event does, and only the worker opens it). Deliveries themselves are the worker's own state, never written here: rebuilding this
 * projection must not send anything again.
 */
import type { NotificationEvent } from '../../domain/notifications/notification';
import type { ReminderSettingsEvent } from '../../domain/reminders/reminder-settings';
import type { ReminderEvent } from '../../domain/reminders/reminder';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

type Handled = Extract<ReminderEvent, { type: 'ReminderFired' }> | NotificationEvent | Extract<ReminderSettingsEvent, { type: 'NotificationChannelsSet' }>;

export const notificationsProjection: Projection = {
  name: 'notifications',
  tables: ['notifications', 'notification_channels'],
  handles: ['ReminderFired', 'NotificationRead', 'NotificationChannelsSet'],
  apply(recorded, sql) {
    const event = recorded as unknown as Handled;
    switch (event.type) {
      case 'ReminderFired': {
        const { reminderId, noteId, ownerId, noteTitle, dueAt, firedAt } = event.data;
        return sql.raw(
          `INSERT INTO notifications (id, user_id, kind, reminder_id, note_id, title, due_at, created_at, position)
           VALUES (?, ?, 'reminder', ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
          [recorded.id, ownerId, reminderId, noteId, noteTitle, dueAt, firedAt, recorded.position],
        );
      }
      case 'NotificationRead':
        return sql('notifications').where({ id: event.data.notificationId, user_id: event.data.userId }).whereNull('read_at').update({ read_at: event.data.readAt });
      case 'NotificationChannelsSet': {
        const { userId, webhook, email, setAt } = event.data;
        return upsertIfNewer(sql, 'notification_channels', ['user_id'], {
          user_id: userId,
          webhook_url: webhook?.url ?? null,
          // Sealed. An event from before secrets were sealed has none: that webhook must be set again.
          webhook_secret: webhook?.sealedSecret ?? null,
          email,
          updated_at: setAt,
          revision: recorded.streamRevision,
        });
      }
      default:
        return unreachable(event);
    }
  },
};
