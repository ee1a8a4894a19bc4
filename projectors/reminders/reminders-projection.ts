/**
 * The `reminders` projection: `reminder_schedule`, one row per reminder with its next due time and
 * `fire_at` (when the dispatcher owes it a firing: null once it is done, cancelled, or a spaced
 * reminder waits for its review), and `reminder_settings`. A deleted note's reminders are held back
 * (`note_deleted`) until the note is restored.
 */
import type { NoteEvent } from '../../domain/notes/note';
import type { ReminderSettingsEvent } from '../../domain/reminders/reminder-settings';
import type { ReminderEvent } from '../../domain/reminders/reminder';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

type Handled = ReminderEvent | Extract<ReminderSettingsEvent, { type: 'TargetRetentionSet' }> | Extract<NoteEvent, { type: 'NoteDeleted' | 'NoteRestored' }>;

export const remindersProjection: Projection = {
  name: 'reminders',
  tables: ['reminder_schedule', 'reminder_settings'],
  handles: ['ReminderScheduled', 'ReminderReviewed', 'ReminderFired', 'ReminderCancelled', 'TargetRetentionSet', 'NoteDeleted', 'NoteRestored'],
  apply(recorded, sql) {
    const event = recorded as unknown as Handled;
    const revision = recorded.streamRevision.toString();
    const reminder = (id: string) => sql('reminder_schedule').where('reminder_id', id).andWhere('revision', '<', revision);

    switch (event.type) {
      case 'ReminderScheduled': {
        const { reminderId, noteId, ownerId, kind, at, rule, timezone, card, nextDueAt, scheduledAt } = event.data;
        return upsertIfNewer(sql, 'reminder_schedule', ['reminder_id'], {
          reminder_id: reminderId,
          owner_id: ownerId,
          note_id: noteId,
          kind,
          at,
          rule,
          timezone,
          status: 'active',
          next_due_at: nextDueAt,
          fire_at: nextDueAt,
          stability: card?.stability ?? null,
          difficulty: card?.difficulty ?? null,
          created_at: scheduledAt,
          revision,
        });
      }
      case 'ReminderReviewed': {
        const { reminderId, card, nextDueAt, reviewedAt } = event.data;
        return reminder(reminderId).update({
          next_due_at: nextDueAt,
          fire_at: sql.raw("CASE WHEN status = 'active' THEN ?::timestamptz END", [nextDueAt]),
          stability: card.stability,
          difficulty: card.difficulty,
          last_reviewed_at: reviewedAt,
          reviews: sql.raw('reviews + 1'),
          revision,
        });
      }
      case 'ReminderFired': {
        const { reminderId, kind, firedAt, nextDueAt } = event.data;
        if (kind === 'once') return reminder(reminderId).update({ status: 'completed', fire_at: null, last_fired_at: firedAt, revision });
        if (kind === 'recurring') return reminder(reminderId).update({ next_due_at: nextDueAt, fire_at: nextDueAt, last_fired_at: firedAt, revision });
        return reminder(reminderId).update({ fire_at: null, last_fired_at: firedAt, revision });
      }
      case 'ReminderCancelled':
        return reminder(event.data.reminderId).update({ status: 'cancelled', fire_at: null, revision });
      case 'TargetRetentionSet':
        return upsertIfNewer(sql, 'reminder_settings', ['user_id'], { user_id: event.data.userId, target_retention: event.data.targetRetention, revision });
      case 'NoteDeleted':
        return sql('reminder_schedule').where('note_id', event.data.noteId).update({ note_deleted: true });
      case 'NoteRestored':
        return sql('reminder_schedule').where('note_id', event.data.noteId).update({ note_deleted: false });
      default:
        return unreachable(event);
    }
  },
};
