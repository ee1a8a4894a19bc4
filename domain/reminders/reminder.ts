/**
 * The reminder aggregate: a note resurfacing at the right time. Three kinds:
 *   - `once`: fires at `at`, then is done;
 *   - `recurring`: fires at each occurrence of its rule in its time zone (recurrence.ts); after a
 *     firing the next occurrence is the first one after the firing, so a reminder that came due while
 *     nothing was running fires once on return, not once per missed period;
 *   - `spaced`: FSRS (spaced-repetition.ts). It first comes due at `at` (default: a day after it was
 *     set), fires once, and then waits for the user's review, whose rating sets the next due time.
 *     Every review is an event carrying its rating, time and target retention: the log is the
 *     schedule's source, and `replayReviews` recomputes it.
 * A firing records the occurrence it is for (`dueAt`); deciding a second firing for the same
 * occurrence yields nothing, so of two dispatchers racing, the append's expected revision lets exactly
 * one firing in. A reminder belongs to the owner of its note; to anyone else it does not exist.
 */
import type { Decider } from '../shared/decider';
import { conflict, DomainError, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';
import { formatRule, isValidTimeZone, nextOccurrence, parseRule } from './recurrence';
import { MAX_TARGET_RETENTION, MIN_TARGET_RETENTION, newCard, reviewCard, type ReviewRating, type SpacedCard } from './spaced-repetition';

export const reminderStreamId = (reminderId: string) => `reminder-${reminderId}`;

export type ReminderKind = 'spaced' | 'once' | 'recurring';

/** How long after it is set a spaced reminder first comes due, unless `at` says otherwise. */
export const FIRST_SPACED_DELAY_MS = 24 * 60 * 60 * 1000;

export type ReminderEvent =
  | DomainEvent<
      'ReminderScheduled',
      {
        reminderId: string;
        noteId: string;
        ownerId: string;
        kind: ReminderKind;
        at: string | null;
        rule: string | null;
        timezone: string | null;
        card: SpacedCard | null;
        nextDueAt: string;
        scheduledAt: string;
      }
    >
  | DomainEvent<'ReminderReviewed', { reminderId: string; rating: ReviewRating; reviewedAt: string; targetRetention: number; card: SpacedCard; nextDueAt: string }>
  | DomainEvent<
      'ReminderFired',
      { reminderId: string; noteId: string; ownerId: string; kind: ReminderKind; noteTitle: string; dueAt: string; firedAt: string; nextDueAt: string | null }
    >
  | DomainEvent<'ReminderCancelled', { reminderId: string; cancelledAt: string; cancelledBy: string }>;

export interface ExistingReminder {
  readonly status: 'active' | 'completed' | 'cancelled';
  readonly id: string;
  readonly noteId: string;
  readonly ownerId: string;
  readonly kind: ReminderKind;
  readonly at: string | null;
  readonly rule: string | null;
  readonly timezone: string | null;
  readonly card: SpacedCard | null;
  /** When it is (or was last) due; a spaced reminder keeps its due time until reviewed. */
  readonly nextDueAt: string | null;
  /** The occurrence of the last firing. */
  readonly lastFiredFor: string | null;
  readonly lastFiredAt: string | null;
  readonly reviews: number;
  readonly createdAt: string;
}

export type Reminder = { readonly status: 'none' } | ExistingReminder;

/** What the caller found out about the note before deciding. */
export type NoteAccess = 'owned' | 'deleted' | 'none';

export type ReminderCommand =
  | {
      readonly type: 'ScheduleReminder';
      readonly reminderId: string;
      readonly noteId: string;
      readonly note: NoteAccess;
      readonly kind: ReminderKind;
      readonly at?: string | undefined;
      readonly rule?: string | undefined;
      readonly timezone?: string | undefined;
      readonly actorId: string;
      readonly now: string;
    }
  | { readonly type: 'ReviewReminder'; readonly rating: ReviewRating; readonly targetRetention: number; readonly actorId: string; readonly now: string }
  | { readonly type: 'FireReminder'; readonly noteTitle: string; readonly noteLive: boolean; readonly now: string }
  | { readonly type: 'CancelReminder'; readonly actorId: string; readonly now: string };

const invalid = (code: string, message: string) => new DomainError('invalid', code, message);

function owned(state: Reminder, actorId: string): ExistingReminder {
  if (state.status === 'none' || state.ownerId !== actorId) throw notFound('REMINDER.NOT_FOUND', 'no such reminder');
  return state;
}

/** Whether a firing is owed now: active, due, and not yet fired for this occurrence. */
export function fireIsDue(reminder: Reminder, now: string): reminder is ExistingReminder & { nextDueAt: string } {
  return (
    reminder.status === 'active' &&
    reminder.nextDueAt !== null &&
    reminder.lastFiredFor !== reminder.nextDueAt &&
    Date.parse(reminder.nextDueAt) <= Date.parse(now)
  );
}

function schedule(command: Extract<ReminderCommand, { type: 'ScheduleReminder' }>): ReminderEvent {
  const { reminderId, noteId, kind, actorId, now } = command;
  if (command.timezone !== undefined && !isValidTimeZone(command.timezone)) throw invalid('REMINDER.INVALID_TIMEZONE', `unknown time zone ${command.timezone}`);
  const at = command.at === undefined ? null : new Date(command.at).toISOString();
  const timezone = command.timezone ?? null;
  const base = { reminderId, noteId, ownerId: actorId, kind, at, timezone, scheduledAt: now };
  switch (kind) {
    case 'once': {
      if (at === null) throw invalid('REMINDER.AT_REQUIRED', 'a once reminder needs `at`');
      if (command.rule !== undefined) throw invalid('REMINDER.RULE_NOT_ALLOWED', 'only recurring reminders take a rule');
      return { type: 'ReminderScheduled', data: { ...base, rule: null, card: null, nextDueAt: at } };
    }
    case 'recurring': {
      if (command.rule === undefined) throw invalid('REMINDER.RULE_REQUIRED', 'a recurring reminder needs a rule');
      if (timezone === null) throw invalid('REMINDER.TIMEZONE_REQUIRED', 'a recurring reminder needs an IANA time zone');
      const rule = parseRule(command.rule);
      const start = Math.max(Date.parse(now), at === null ? 0 : Date.parse(at));
      // The first occurrence at or after the start.
      const nextDueAt = nextOccurrence(rule, timezone, new Date(start - 1)).toISOString();
      return { type: 'ReminderScheduled', data: { ...base, rule: formatRule(rule), card: null, nextDueAt } };
    }
    case 'spaced': {
      if (command.rule !== undefined) throw invalid('REMINDER.RULE_NOT_ALLOWED', 'only recurring reminders take a rule');
      const nextDueAt = at ?? new Date(Date.parse(now) + FIRST_SPACED_DELAY_MS).toISOString();
      return { type: 'ReminderScheduled', data: { ...base, rule: null, card: newCard(now), nextDueAt } };
    }
    default:
      return unreachable(kind);
  }
}

function fire(reminder: ExistingReminder & { nextDueAt: string }, command: Extract<ReminderCommand, { type: 'FireReminder' }>): ReminderEvent {
  let nextDueAt: string | null = null;
  if (reminder.kind === 'recurring') {
    // The first occurrence after now, not after the one being fired: missed periods collapse into this one.
    nextDueAt = nextOccurrence(parseRule(reminder.rule!), reminder.timezone!, new Date(command.now)).toISOString();
  }
  return {
    type: 'ReminderFired',
    data: {
      reminderId: reminder.id,
      noteId: reminder.noteId,
      ownerId: reminder.ownerId,
      kind: reminder.kind,
      noteTitle: command.noteTitle,
      dueAt: reminder.nextDueAt,
      firedAt: command.now,
      nextDueAt,
    },
  };
}

export const reminderDecider: Decider<ReminderCommand, ReminderEvent, Reminder> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'ScheduleReminder': {
        if (command.note === 'none') throw notFound('NOTE.NOT_FOUND', 'no such note');
        if (command.note === 'deleted') throw conflict('NOTE.DELETED', 'the note is deleted; restore it first');
        if (state.status !== 'none') throw conflict('REMINDER.ALREADY_EXISTS', 'a reminder with this id already exists');
        return [schedule(command)];
      }
      case 'ReviewReminder': {
        const reminder = owned(state, command.actorId);
        if (reminder.kind !== 'spaced' || reminder.card === null) throw conflict('REMINDER.NOT_SPACED', 'only spaced reminders are reviewed');
        if (reminder.status !== 'active') throw conflict('REMINDER.CANCELLED', 'the reminder is cancelled');
        const { targetRetention } = command;
        if (!(targetRetention >= MIN_TARGET_RETENTION && targetRetention <= MAX_TARGET_RETENTION)) {
          throw invalid('REMINDER.INVALID_RETENTION', `target retention must be from ${MIN_TARGET_RETENTION} to ${MAX_TARGET_RETENTION}`);
        }
        const card = reviewCard(reminder.card, { rating: command.rating, reviewedAt: command.now, targetRetention });
        return [{ type: 'ReminderReviewed', data: { reminderId: reminder.id, rating: command.rating, reviewedAt: command.now, targetRetention, card, nextDueAt: card.due } }];
      }
      case 'FireReminder': {
        if (!fireIsDue(state, command.now) || !command.noteLive) return [];
        return [fire(state, command)];
      }
      case 'CancelReminder': {
        const reminder = owned(state, command.actorId);
        if (reminder.status === 'cancelled') return [];
        return [{ type: 'ReminderCancelled', data: { reminderId: reminder.id, cancelledAt: command.now, cancelledBy: command.actorId } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ReminderScheduled': {
        const { reminderId, noteId, ownerId, kind, at, rule, timezone, card, nextDueAt, scheduledAt } = event.data;
        return { status: 'active', id: reminderId, noteId, ownerId, kind, at, rule, timezone, card, nextDueAt, lastFiredFor: null, lastFiredAt: null, reviews: 0, createdAt: scheduledAt };
      }
      case 'ReminderReviewed':
        return state.status === 'none' ? state : { ...state, card: event.data.card, nextDueAt: event.data.nextDueAt, reviews: state.reviews + 1 };
      case 'ReminderFired': {
        if (state.status === 'none') return state;
        const { dueAt, firedAt, nextDueAt } = event.data;
        const fired = { ...state, lastFiredFor: dueAt, lastFiredAt: firedAt };
        if (state.kind === 'once') return { ...fired, status: 'completed' };
        if (state.kind === 'recurring') return { ...fired, nextDueAt };
        return fired; // spaced: stays due until reviewed
      }
      case 'ReminderCancelled':
        return state.status === 'none' ? state : { ...state, status: 'cancelled' };
      default:
        return unreachable(event);
    }
  },
};
