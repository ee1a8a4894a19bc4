/**
 * Reminders end to end, with a clock the test moves: setting them on my notes only, listing by due
 * time, cancelling, firing exactly once per occurrence (also with three dispatchers racing), recurring
 * reminders that stay at local time across DST and fire once after downtime, spaced reminders whose
 * reviews follow FSRS with my target retention and whose schedule the review log recomputes.
 */
import { replayReviews } from '../../domain/reminders/spaced-repetition';
import { silentLogger } from '../../infra/logging/logger';
import { ReminderDispatcher } from '../../projectors/reminders/reminder-dispatcher';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { createNote, DAY, firings, HOUR, logIn, TestClock } from './reminders-support';

jest.setTimeout(90_000);

describe('reminders', () => {
  const clock = new TestClock(new Date('2026-03-15T12:00:00.000Z')); // a Sunday
  let t: TestService;
  let ann: SignedUpUser;
  let eve: SignedUpUser;
  let annNote: string;

  beforeAll(async () => {
    t = await startTestService('reminders', { service: { clock: clock.now }, env: { REMINDER_DISPATCH_INTERVAL_MS: '100' } });
    ann = await signUp(t.http);
    eve = await signUp(t.http);
    annNote = await createNote(t.http, ann);
  });
  afterAll(() => t.close());

  /** Moves the clock, and signs both users in again (their tokens expire with the jump). */
  async function jump(to: string | number) {
    if (typeof to === 'number') clock.advance(to);
    else clock.set(to);
    ann = { ...ann, ...(await logIn(t.http, ann)) };
    eve = { ...eve, ...(await logIn(t.http, eve)) };
  }

  /** Runs a scan now instead of waiting for the dispatcher's own. */
  const tick = () => t.service.reminders!.dispatcher.tick();

  it('sets reminders on my notes only, validates them, and lists mine by due time', async () => {
    const once = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'once', at: '2026-03-16T09:00:00+01:00' });
    expect(once.status).toBe(201);
    expect(once.body).toMatchObject({ noteId: annNote, kind: 'once', status: 'active', nextDueAt: '2026-03-16T08:00:00.000Z' });
    expect(once.headers.location).toBe(`/api/reminders/${once.body.id}`);
    const weekly = await t.http
      .post(`/api/notes/${annNote}/reminders`)
      .set(ann.auth)
      .send({ kind: 'recurring', rule: 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=8', timezone: 'Europe/Berlin' });
    expect(weekly.status).toBe(201);
    expect(weekly.body).toMatchObject({ rule: 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=8;BYMINUTE=0', nextDueAt: '2026-03-22T07:00:00.000Z' });

    const eveNote = await createNote(t.http, eve, 'Eve');
    expect((await t.http.post(`/api/notes/${eveNote}/reminders`).set(ann.auth).send({ kind: 'spaced' })).status).toBe(404);
    expect((await t.http.post(`/api/notes/${crypto.randomUUID()}/reminders`).set(ann.auth).send({ kind: 'spaced' })).status).toBe(404);
    const badRule = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'recurring', rule: 'FREQ=HOURLY', timezone: 'Europe/Berlin' });
    expect([badRule.status, badRule.body.code]).toEqual([400, 'REMINDER.INVALID_RULE']);
    const badZone = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'recurring', rule: 'FREQ=DAILY;BYHOUR=8', timezone: 'Europe/Nowhere' });
    expect([badZone.status, badZone.body.code]).toEqual([400, 'REMINDER.INVALID_TIMEZONE']);
    const noAt = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'once' });
    expect([noAt.status, noAt.body.code]).toEqual([400, 'REMINDER.AT_REQUIRED']);
    expect((await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'once', at: 'tomorrow' })).status).toBe(400);

    const token = String(weekly.headers['x-consistency-token']);
    const all = await t.http.get('/api/reminders').set(ann.auth).set('X-Consistency-Token', token);
    expect(all.body.items.map((r: { id: string }) => r.id)).toEqual([once.body.id, weekly.body.id]);
    const soon = await t.http.get('/api/reminders').query({ dueBefore: '2026-03-17T00:00:00Z' }).set(ann.auth);
    expect(soon.body.items.map((r: { id: string }) => r.id)).toEqual([once.body.id]);
    expect((await t.http.get('/api/reminders').set(eve.auth)).body.items).toEqual([]);
    expect((await t.http.get(`/api/reminders/${once.body.id}`).set(eve.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/reminders/${once.body.id}`).set(eve.auth)).status).toBe(404);

    const cancelled = await t.http.delete(`/api/reminders/${once.body.id}`).set(ann.auth);
    expect(cancelled.status).toBe(204);
    const after = await t.http.get('/api/reminders').set(ann.auth).set('X-Consistency-Token', String(cancelled.headers['x-consistency-token']));
    expect(after.body.items.map((r: { id: string }) => r.id)).toEqual([weekly.body.id]);
    await t.http.delete(`/api/reminders/${weekly.body.id}`).set(ann.auth).expect(204);
  });

  it('fires a once reminder exactly once when its time comes, into the inbox', async () => {
    const created = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'once', at: new Date(clock.now().getTime() + HOUR).toISOString() });
    await t.http.get(`/api/reminders/${created.body.id}`).set(ann.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).expect(200);
    await tick();
    expect(await firings(t.db.knex, created.body.id)).toHaveLength(0);

    await jump(HOUR);
    await tick();
    await tick();
    const fired = await firings(t.db.knex, created.body.id);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.data).toMatchObject({ dueAt: created.body.nextDueAt, firedAt: clock.now().toISOString() });
    await jump(DAY);
    await tick();
    expect(await firings(t.db.knex, created.body.id)).toHaveLength(1);

    let inbox: { items: { id: string; reminderId: string; title: string; read: boolean }[]; unread: number } = { items: [], unread: 0 };
    await waitFor(async () => {
      inbox = (await t.http.get('/api/notifications').set(ann.auth)).body;
      return inbox.items.some((item) => item.reminderId === created.body.id);
    }, 10_000, 'the notification');
    const notification = inbox.items.find((item) => item.reminderId === created.body.id)!;
    expect(notification).toMatchObject({ title: 'Romans 8:28', read: false });
    await waitFor(async () => (await t.http.get(`/api/reminders/${created.body.id}`).set(ann.auth)).body.status === 'completed', 10_000, 'the reminder to be done');
    expect((await t.http.get(`/api/reminders/${created.body.id}`).set(ann.auth)).body).toMatchObject({ nextDueAt: null, lastFiredAt: fired[0]!.data.firedAt });

    expect((await t.http.get('/api/notifications').set(eve.auth)).body.items).toEqual([]);
    expect((await t.http.post(`/api/notifications/${notification.id}/read`).set(eve.auth)).status).toBe(404);
    const read = await t.http.post(`/api/notifications/${notification.id}/read`).set(ann.auth);
    expect(read.status).toBe(200);
    const unread = await t.http.get('/api/notifications').query({ unread: 'true' }).set(ann.auth).set('X-Consistency-Token', String(read.headers['x-consistency-token']));
    expect(unread.body.items.map((item: { id: string }) => item.id)).not.toContain(notification.id);
    expect(unread.body.unread).toBe(inbox.unread - 1);
  });

  it('a weekly reminder stays at 08:00 Berlin across the March change, and after downtime fires once, not once per missed week', async () => {
    await jump('2026-03-20T12:00:00.000Z');
    const created = await t.http
      .post(`/api/notes/${annNote}/reminders`)
      .set(ann.auth)
      .send({ kind: 'recurring', rule: 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=8;BYMINUTE=0', timezone: 'Europe/Berlin' });
    const id = created.body.id;
    expect(created.body.nextDueAt).toBe('2026-03-22T07:00:00.000Z'); // 08:00 CET
    const reminder = async () => (await t.http.get(`/api/reminders/${id}`).set(ann.auth)).body as { nextDueAt: string };
    await t.http.get(`/api/reminders/${id}`).set(ann.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).expect(200);

    await jump('2026-03-22T07:00:00.000Z');
    await tick();
    await waitFor(async () => (await reminder()).nextDueAt === '2026-03-29T06:00:00.000Z', 10_000, 'the next Sunday, 08:00 CEST'); // the change is that night

    // Down for three weeks: on return it fires once, and next on the first Sunday after now.
    await jump('2026-04-15T10:00:00.000Z');
    await Promise.all([tick(), tick()]);
    await tick();
    const fired = await firings(t.db.knex, id);
    expect(fired.map((event) => event.data.dueAt)).toEqual(['2026-03-22T07:00:00.000Z', '2026-03-29T06:00:00.000Z']);
    await waitFor(async () => (await reminder()).nextDueAt === '2026-04-19T06:00:00.000Z', 10_000, 'the first Sunday after the return');
    await t.http.delete(`/api/reminders/${id}`).set(ann.auth).expect(204);
  });

  it('spaced reminders: fire, wait for the review, follow FSRS with my target retention; the log recomputes the schedule', async () => {
    await jump('2026-05-01T09:00:00.000Z');
    const created = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'spaced' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.nextDueAt).toBe('2026-05-02T09:00:00.000Z');
    await t.http.get(`/api/reminders/${id}`).set(ann.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).expect(200);

    await jump('2026-05-02T09:00:00.000Z');
    await tick();
    await jump(3 * DAY); // unreviewed: it does not fire again
    await tick();
    expect(await firings(t.db.knex, id)).toHaveLength(1);

    const settings = await t.http.get('/api/me/reminder-settings').set(ann.auth);
    expect(settings.body).toEqual({ targetRetention: 0.9, webhook: null, email: false });
    const good = await t.http.post(`/api/reminders/${id}/review`).set(ann.auth).send({ rating: 'good' });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ id, rating: 'good', targetRetention: 0.9, reviews: 1 });
    expect(Date.parse(good.body.nextDueAt)).toBeGreaterThan(clock.now().getTime() + DAY);

    const set = await t.http.put('/api/me/reminder-settings').set(ann.auth).send({ targetRetention: 0.8 });
    expect(set.status).toBe(200);
    expect(set.body.targetRetention).toBe(0.8);
    expect((await t.http.put('/api/me/reminder-settings').set(ann.auth).send({ targetRetention: 0.5 })).status).toBe(400);
    expect((await t.http.get('/api/me/reminder-settings').set(ann.auth).set('X-Consistency-Token', String(set.headers['x-consistency-token']))).body.targetRetention).toBe(0.8);

    await jump(good.body.nextDueAt);
    await tick();
    expect(await firings(t.db.knex, id)).toHaveLength(2);
    const hard = await t.http.post(`/api/reminders/${id}/review`).set(ann.auth).send({ rating: 'hard' });
    expect(hard.body).toMatchObject({ targetRetention: 0.8, reviews: 2 });
    await jump(2 * DAY); // an early review is allowed
    const again = await t.http.post(`/api/reminders/${id}/review`).set(ann.auth).send({ rating: 'again' });
    expect(again.status).toBe(200);
    expect((await t.http.post(`/api/reminders/${id}/review`).set(eve.auth).send({ rating: 'easy' })).status).toBe(404);
    expect((await t.http.post(`/api/reminders/${id}/review`).set(ann.auth).send({ rating: 'perfect' })).status).toBe(400);

    // Recompute the schedule from nothing but the review log.
    const reviews = await t.db.knex('events').where({ stream_id: `reminder-${id}`, event_type: 'ReminderReviewed' }).orderBy('stream_revision').select('data');
    expect(reviews).toHaveLength(3);
    const card = replayReviews(created.body.createdAt, reviews.map(({ data }) => ({ rating: data.rating, reviewedAt: data.reviewedAt, targetRetention: data.targetRetention })));
    expect(card.due).toBe(again.body.nextDueAt);
    expect(card.stability).toBeCloseTo(again.body.stability, 10);
    const listed = await t.http.get(`/api/reminders/${id}`).set(ann.auth).set('X-Consistency-Token', String(again.headers['x-consistency-token']));
    expect(listed.body).toMatchObject({ nextDueAt: card.due, reviews: 3, awaitingReview: false });
    await t.http.delete(`/api/reminders/${id}`).set(ann.auth).expect(204);
  });

  it('holds back the reminders of a deleted note, and fires them once after it is restored', async () => {
    await jump('2026-06-01T09:00:00.000Z');
    const note = await createNote(t.http, ann, 'Psalm 23');
    const created = await t.http.post(`/api/notes/${note}/reminders`).set(ann.auth).send({ kind: 'once', at: '2026-06-01T10:00:00Z' });
    const deleted = await t.http.delete(`/api/notes/${note}`).set(ann.auth).set('If-Match', '*');
    expect(deleted.status).toBe(204);
    await t.http.get(`/api/reminders/${created.body.id}`).set(ann.auth).set('X-Consistency-Token', String(deleted.headers['x-consistency-token'])).expect(200);
    expect((await t.http.post(`/api/notes/${note}/reminders`).set(ann.auth).send({ kind: 'spaced' })).body.code).toBe('NOTE.DELETED');
    await jump('2026-06-02T09:00:00.000Z');
    await tick();
    expect(await firings(t.db.knex, created.body.id)).toHaveLength(0);
    const restored = await t.http.post(`/api/notes/${note}/restore`).set(ann.auth);
    expect(restored.status).toBe(200);
    await t.http.get(`/api/reminders/${created.body.id}`).set(ann.auth).set('X-Consistency-Token', String(restored.headers['x-consistency-token'])).expect(200);
    await tick();
    await tick();
    expect(await firings(t.db.knex, created.body.id)).toHaveLength(1);
  });

  it('of three dispatchers scanning at once, each due reminder is fired exactly once', async () => {
    await jump('2026-07-01T09:00:00.000Z');
    const ids: string[] = [];
    let token = '';
    for (let i = 0; i < 150; i++) {
      const res = await t.http.post(`/api/notes/${annNote}/reminders`).set(ann.auth).send({ kind: 'once', at: `2026-07-01T09:${String(10 + (i % 40)).padStart(2, '0')}:00Z` });
      ids.push(res.body.id);
      token = String(res.headers['x-consistency-token']);
    }
    await t.http.get('/api/reminders').set(ann.auth).set('X-Consistency-Token', token).expect(200);
    const others = [1, 2].map(
      () => new ReminderDispatcher({ store: t.service.platform.store, db: t.service.platform.knex, clock: clock.now, logger: silentLogger, intervalMs: 1_000, concurrency: 4 }),
    );
    clock.set('2026-07-01T10:00:00.000Z');
    const results = await Promise.all([tick(), ...others.map((dispatcher) => dispatcher.tick())]);
    const fired = (await firings(t.db.knex)).filter((event) => ids.includes(event.stream_id.slice('reminder-'.length)));
    const perReminder = new Map<string, number>();
    for (const event of fired) perReminder.set(event.stream_id, (perReminder.get(event.stream_id) ?? 0) + 1);
    expect(perReminder.size).toBe(150);
    expect([...perReminder.values()].every((count) => count === 1)).toBe(true);
    expect(results.reduce((sum, result) => sum + result.fired, 0)).toBeLessThanOrEqual(150);
    expect(results.every((result) => result.failed === 0)).toBe(true);
  });
});
