import { given } from '../../test/support/decider-spec';
import { fold } from '../shared/decider';
import { reminderDecider, type ReminderEvent } from './reminder';
import { replayReviews } from './spaced-repetition';

const ann = '00000000-0000-4000-8000-00000000000a';
const eve = '00000000-0000-4000-8000-00000000000e';
const noteId = '00000000-0000-4000-8000-0000000000b1';
const reminderId = '00000000-0000-4000-8000-0000000000c1';

const schedule = (overrides: Record<string, unknown> = {}) =>
  ({ type: 'ScheduleReminder', reminderId, noteId, note: 'owned', kind: 'once', at: '2026-05-01T10:00:00+02:00', actorId: ann, now: '2026-04-01T00:00:00.000Z', ...overrides }) as const;

const scheduledOnce: ReminderEvent = {
  type: 'ReminderScheduled',
  data: { reminderId, noteId, ownerId: ann, kind: 'once', at: '2026-05-01T08:00:00.000Z', rule: null, timezone: null, card: null, nextDueAt: '2026-05-01T08:00:00.000Z', scheduledAt: '2026-04-01T00:00:00.000Z' },
};
const scheduledWeekly: ReminderEvent = {
  type: 'ReminderScheduled',
  data: {
    reminderId,
    noteId,
    ownerId: ann,
    kind: 'recurring',
    at: null,
    rule: 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=8;BYMINUTE=0',
    timezone: 'Europe/Berlin',
    card: null,
    nextDueAt: '2026-03-22T07:00:00.000Z',
    scheduledAt: '2026-03-16T00:00:00.000Z',
  },
};
const fire = (now: string) => ({ type: 'FireReminder', noteTitle: 'Romans 8', noteLive: true, now }) as const;

describe('reminder decider', () => {
  it('schedules a once reminder at its time, normalised to UTC', () => {
    given(reminderDecider).when(schedule()).then([scheduledOnce]);
  });

  it('refuses notes that are not the actor\'s, deleted notes, and malformed requests', () => {
    given(reminderDecider).when(schedule({ note: 'none' })).thenFails('NOTE.NOT_FOUND');
    given(reminderDecider).when(schedule({ note: 'deleted' })).thenFails('NOTE.DELETED');
    given(reminderDecider).when(schedule({ at: undefined })).thenFails('REMINDER.AT_REQUIRED');
    given(reminderDecider).when(schedule({ kind: 'recurring', rule: 'FREQ=DAILY;BYHOUR=8' })).thenFails('REMINDER.TIMEZONE_REQUIRED');
    given(reminderDecider).when(schedule({ kind: 'recurring', timezone: 'Europe/Berlin' })).thenFails('REMINDER.RULE_REQUIRED');
    given(reminderDecider).when(schedule({ kind: 'recurring', rule: 'FREQ=HOURLY', timezone: 'Europe/Berlin' })).thenFails('REMINDER.INVALID_RULE');
    given(reminderDecider).when(schedule({ timezone: 'Mars/Olympus' })).thenFails('REMINDER.INVALID_TIMEZONE');
    given(reminderDecider).when(schedule({ kind: 'spaced', rule: 'FREQ=DAILY;BYHOUR=8' })).thenFails('REMINDER.RULE_NOT_ALLOWED');
    given(reminderDecider, scheduledOnce).when(schedule()).thenFails('REMINDER.ALREADY_EXISTS');
  });

  it('schedules a recurring reminder at the first occurrence in its time zone', () => {
    given(reminderDecider)
      .when(schedule({ kind: 'recurring', at: undefined, rule: 'freq=weekly;byday=su;byhour=8', timezone: 'Europe/Berlin', now: '2026-03-16T00:00:00.000Z' }))
      .then([scheduledWeekly]);
  });

  it('fires once per occurrence: not before it is due, and not twice for the same occurrence', () => {
    given(reminderDecider, scheduledOnce).when(fire('2026-05-01T07:59:59.999Z')).thenNothing();
    const fired: ReminderEvent = {
      type: 'ReminderFired',
      data: { reminderId, noteId, ownerId: ann, kind: 'once', noteTitle: 'Romans 8', dueAt: '2026-05-01T08:00:00.000Z', firedAt: '2026-05-01T08:00:01.000Z', nextDueAt: null },
    };
    given(reminderDecider, scheduledOnce).when(fire('2026-05-01T08:00:01.000Z')).then([fired]);
    given(reminderDecider, scheduledOnce, fired).when(fire('2026-05-01T09:00:00.000Z')).thenNothing();
    expect(fold(reminderDecider, [scheduledOnce, fired])).toMatchObject({ status: 'completed' });
  });

  it('does not fire for a deleted note', () => {
    given(reminderDecider, scheduledOnce).when({ ...fire('2026-05-02T00:00:00.000Z'), noteLive: false }).thenNothing();
  });

  it('a recurring reminder that came due long ago fires once, and next at the first occurrence after now', () => {
    const events = reminderDecider.decide(fire('2026-04-15T12:00:00.000Z'), fold(reminderDecider, [scheduledWeekly]));
    expect(events).toEqual([
      {
        type: 'ReminderFired',
        data: expect.objectContaining({ dueAt: '2026-03-22T07:00:00.000Z', firedAt: '2026-04-15T12:00:00.000Z', nextDueAt: '2026-04-19T06:00:00.000Z' }),
      },
    ]);
    given(reminderDecider, scheduledWeekly, ...events).when(fire('2026-04-15T12:00:01.000Z')).thenNothing();
  });

  it('a spaced reminder fires once, then waits for a review whose rating sets the next due time', () => {
    const [scheduled] = reminderDecider.decide(schedule({ kind: 'spaced', at: undefined }), reminderDecider.initialState);
    expect(scheduled!.data).toMatchObject({ kind: 'spaced', nextDueAt: '2026-04-02T00:00:00.000Z' });
    const [fired] = reminderDecider.decide(fire('2026-04-02T00:00:00.500Z'), fold(reminderDecider, [scheduled!]));
    expect(fired!.data).toMatchObject({ dueAt: '2026-04-02T00:00:00.000Z', nextDueAt: null });
    given(reminderDecider, scheduled!, fired!).when(fire('2026-04-09T00:00:00.000Z')).thenNothing();
    const [reviewed] = reminderDecider.decide(
      { type: 'ReviewReminder', rating: 'good', targetRetention: 0.9, actorId: ann, now: '2026-04-02T09:00:00.000Z' },
      fold(reminderDecider, [scheduled!, fired!]),
    );
    expect(reviewed!.type).toBe('ReminderReviewed');
    const next = (reviewed!.data as { nextDueAt: string }).nextDueAt;
    expect(Date.parse(next)).toBeGreaterThan(Date.parse('2026-04-03T00:00:00.000Z'));
    given(reminderDecider, scheduled!, fired!, reviewed!).when(fire(next)).then([
      { type: 'ReminderFired', data: expect.objectContaining({ dueAt: next }) as never },
    ]);
  });

  it("the schedule recomputed from the review log equals the recorded one", () => {
    const history: ReminderEvent[] = [...reminderDecider.decide(schedule({ kind: 'spaced', at: undefined }), reminderDecider.initialState)];
    const ratings = ['good', 'again', 'hard', 'easy', 'good'] as const;
    let now = Date.parse('2026-04-02T09:00:00.000Z');
    for (const [i, rating] of ratings.entries()) {
      const targetRetention = i < 3 ? 0.9 : 0.8;
      history.push(...reminderDecider.decide({ type: 'ReviewReminder', rating, targetRetention, actorId: ann, now: new Date(now).toISOString() }, fold(reminderDecider, history)));
      now += (i + 1) * 86_400_000 + 3_600_000;
    }
    const recorded = fold(reminderDecider, JSON.parse(JSON.stringify(history)) as ReminderEvent[]);
    const reviews = history.flatMap((event) => (event.type === 'ReminderReviewed' ? [{ rating: event.data.rating, reviewedAt: event.data.reviewedAt, targetRetention: event.data.targetRetention }] : []));
    expect(reviews).toHaveLength(5);
    const recomputed = replayReviews('2026-04-01T00:00:00.000Z', reviews);
    expect(recorded).toMatchObject({ card: recomputed, nextDueAt: recomputed.due, reviews: 5 });
  });

  it('only the owner reviews or cancels; only spaced reminders are reviewed; retention is bounded', () => {
    given(reminderDecider, scheduledOnce).when({ type: 'CancelReminder', actorId: eve, now: '2026-04-02T00:00:00.000Z' }).thenFails('REMINDER.NOT_FOUND');
    given(reminderDecider, scheduledOnce).when({ type: 'ReviewReminder', rating: 'good', targetRetention: 0.9, actorId: ann, now: '2026-04-02T00:00:00.000Z' }).thenFails('REMINDER.NOT_SPACED');
    const [spaced] = reminderDecider.decide(schedule({ kind: 'spaced' }), reminderDecider.initialState);
    given(reminderDecider, spaced!).when({ type: 'ReviewReminder', rating: 'good', targetRetention: 0.99, actorId: ann, now: '2026-04-02T00:00:00.000Z' }).thenFails('REMINDER.INVALID_RETENTION');
    given(reminderDecider, spaced!).when({ type: 'ReviewReminder', rating: 'good', targetRetention: 0.9, actorId: eve, now: '2026-04-02T00:00:00.000Z' }).thenFails('REMINDER.NOT_FOUND');
  });

  it('a cancelled reminder never fires, and cancelling twice records nothing more', () => {
    const cancelled: ReminderEvent = { type: 'ReminderCancelled', data: { reminderId, cancelledAt: '2026-04-02T00:00:00.000Z', cancelledBy: ann } };
    given(reminderDecider, scheduledOnce).when({ type: 'CancelReminder', actorId: ann, now: '2026-04-02T00:00:00.000Z' }).then([cancelled]);
    given(reminderDecider, scheduledOnce, cancelled).when({ type: 'CancelReminder', actorId: ann, now: '2026-04-03T00:00:00.000Z' }).thenNothing();
    given(reminderDecider, scheduledOnce, cancelled).when(fire('2026-06-01T00:00:00.000Z')).thenNothing();
  });
});
