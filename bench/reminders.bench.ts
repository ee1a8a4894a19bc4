/**
 * Reminder dispatch benchmark: 10,000 once reminders (times BENCH_SCALE) due within the same minute,
 * against the in-process service (its projectors run the `reminders` projection and one dispatcher)
 * plus a second dispatcher racing it on the same schema. The reminders and their notes are appended
 * straight to the log, as the command side would, before the minute starts. Measured from the log
 * itself: dispatch lag = the ReminderFired event's commit time minus the occurrence's due time; and
 * the number of reminders fired more than once (must be 0) or never.
 */
import { randomUUID } from 'node:crypto';
import { noteDecider, noteStreamId } from '../domain/notes/note';
import { reminderDecider, reminderStreamId } from '../domain/reminders/reminder';
import type { EventStore, EventToAppend } from '../infra/event-store/event-store';
import { silentLogger } from '../infra/logging/logger';
import { ReminderDispatcher } from '../projectors/reminders/reminder-dispatcher';
import type { BenchSchema } from './support/bench-schema';
import { startService, withServiceSchema } from './support/bench-service';
import { formatCount, formatMs, formatSeconds, renderTable, verdict } from './support/report';

export interface ReminderFigures {
  readonly reminders: number;
  readonly dispatchers: number;
  readonly setupMs: number;
  /** How long before the minute began the setup was done (negative: it overran into the minute). */
  readonly slackMs: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly firedTwice: number;
  readonly neverFired: number;
  /** From the first due time to the last firing. */
  readonly spanMs: number;
}

const NOTES = 100;
const LEAD_MS = 45_000;
const metadata = () => ({ correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: new Date().toISOString() });

export async function measureReminders(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<ReminderFigures> {
  const reminders = Math.max(1_000, Math.round(10_000 * scale));
  return withServiceSchema(db, async (schema) => {
    const running = await startService(db, schema);
    const { store, knex } = running.service.platform;
    const second = new ReminderDispatcher({ store, db: knex, clock: () => new Date(), logger: silentLogger, wakeups: running.service.platform.wakeups, intervalMs: 1_000, concurrency: 8 });
    try {
      const setupStarted = performance.now();
      const minute = Math.ceil((Date.now() + LEAD_MS) / 60_000) * 60_000;
      progress(`... appending ${formatCount(NOTES)} notes and ${formatCount(reminders)} reminders due in the minute from ${new Date(minute).toISOString()}`);
      const owner = randomUUID();
      const notes = Array.from({ length: NOTES }, () => randomUUID());
      await inParallel(notes, 16, (noteId) => {
        const events = noteDecider.decide(
          { type: 'CreateNote', noteId, title: `Bench note ${noteId.slice(0, 8)}`, content: 'Romans 8:28', dateTime: '2026-11-22T08:00:00Z', tags: [], topics: [], actorId: owner, at: new Date().toISOString() },
          noteDecider.initialState,
        );
        return append(store, noteStreamId(noteId), events);
      });
      await inParallel(
        Array.from({ length: reminders }, (_, i) => i),
        16,
        (i) => {
          const reminderId = randomUUID();
          const at = new Date(minute + Math.floor((i * 60_000) / reminders)).toISOString();
          const events = reminderDecider.decide(
            { type: 'ScheduleReminder', reminderId, noteId: notes[i % NOTES]!, note: 'owned', kind: 'once', at, actorId: owner, now: new Date().toISOString() },
            reminderDecider.initialState,
          );
          return append(store, reminderStreamId(reminderId), events);
        },
      );
      for (;;) {
        const row = await knex('reminder_schedule').count<{ count: string }[]>({ count: '*' });
        if (Number(row[0]!.count) >= reminders) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const setupMs = performance.now() - setupStarted;
      const slackMs = minute - Date.now();
      progress(`... scheduled and projected in ${formatSeconds(setupMs)}; ${formatSeconds(Math.max(0, slackMs))} until the minute; two dispatchers running`);
      second.start();

      const deadline = minute + 60_000 + 180_000;
      const fired = async () => Number((await knex('events').where('event_type', 'ReminderFired').countDistinct<{ count: string }[]>({ count: 'stream_id' }))[0]!.count);
      while ((await fired()) < reminders && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // room for a double firing to show up

      const lag = await knex.raw<{ rows: { p50: number; p99: number; max: number; first_due: Date; last_fired: Date }[] }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max,
                min(due) AS first_due, max(recorded_at) AS last_fired
           FROM (SELECT extract(epoch FROM recorded_at - (data->>'dueAt')::timestamptz) * 1000 AS ms, (data->>'dueAt')::timestamptz AS due, recorded_at
                   FROM events WHERE event_type = 'ReminderFired') lags`,
      );
      const twice = await knex.raw<{ rows: { count: string }[] }>(
        `SELECT count(*) AS count FROM (SELECT stream_id FROM events WHERE event_type = 'ReminderFired' GROUP BY stream_id HAVING count(*) > 1) doubled`,
      );
      const figures = lag.rows[0]!;
      const distinct = await fired();
      return {
        reminders,
        dispatchers: 2,
        setupMs,
        slackMs,
        lagP50Ms: Number(figures.p50),
        lagP99Ms: Number(figures.p99),
        lagMaxMs: Number(figures.max),
        firedTwice: Number(twice.rows[0]!.count),
        neverFired: reminders - distinct,
        spanMs: figures.last_fired.getTime() - figures.first_due.getTime(),
      };
    } finally {
      await second.stop();
      await running.close();
    }
  });
}

export const TARGET_DISPATCH_P99_MS = 1_000;

export function remindersTable(figures: ReminderFigures): string {
  return renderTable({
    title: `10. Reminder dispatch: ${formatCount(figures.reminders)} once reminders due within one minute, ${figures.dispatchers} dispatchers racing`,
    headers: ['reminders', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'fired twice', 'never fired', `target: 0 twice, p99 < ${formatCount(TARGET_DISPATCH_P99_MS)} ms`],
    rows: [
      [
        formatCount(figures.reminders),
        formatMs(figures.lagP50Ms),
        formatMs(figures.lagP99Ms),
        formatMs(figures.lagMaxMs),
        formatCount(figures.firedTwice),
        formatCount(figures.neverFired),
        verdict(figures.firedTwice === 0 && figures.neverFired === 0 && figures.lagP99Ms < TARGET_DISPATCH_P99_MS),
      ],
    ],
    notes: [
      'lag = commit time of ReminderFired minus the due time, read from the log; each firing also reads the note (its title) and appends with the expected revision',
      `the notes and reminders were appended to the log and projected first (${formatSeconds(figures.setupMs)}, ${figures.slackMs >= 0 ? `${formatSeconds(figures.slackMs)} before the minute` : `OVERRAN the minute's start by ${formatSeconds(-figures.slackMs)}`})`,
      `first due time to last firing: ${formatSeconds(figures.spanMs)}`,
    ],
  });
}

async function append(store: EventStore, stream: string, events: readonly { type: string; data: object }[]): Promise<void> {
  const toAppend: EventToAppend[] = events.map((event) => ({ id: randomUUID(), type: event.type, data: event.data as never, metadata: metadata() }));
  await store.append(stream, toAppend, { expectedRevision: 'no_stream' });
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}
