/**
 * Reminder dispatch benchmark: 10,000 once reminders (times BENCH_SCALE) due within the same minute,
 * against the in-process service (its projectors run the `reminders` projection and one dispatcher)
 * plus a second dispatcher racing it on the same schema; first with the due times spread over the
 * minute, then (another 10,000) all due at the same instant. The reminders and their notes are appended
 * straight to the log, as the command side would, before the minute starts. Measured from the log
 * itself: dispatch lag = the ReminderFired event's commit time minus the occurrence's due time; and
 * the number of reminders fired more than once (must be 0) or never.
 */
import { randomUUID } from 'node:crypto';
import { noteDecider, noteStreamId } from '../domain/notes/note';
import { reminderDecider, reminderStreamId } from '../domain/reminders/reminder';
import type { Knex } from 'knex';
import type { EventStore, EventToAppend } from '../infra/event-store/event-store';
import { silentLogger } from '../infra/logging/logger';
import { ReminderDispatcher } from '../projectors/reminders/reminder-dispatcher';
import type { BenchSchema } from './support/bench-schema';
import { startService, withServiceSchema } from './support/bench-service';
import { formatCount, formatMs, formatSeconds, renderTable, verdict } from './support/report';

export interface ScenarioFigures {
  readonly scenario: string;
  readonly reminders: number;
  readonly setupMs: number;
  /** How long before the first due time the setup was done (negative: it overran). */
  readonly slackMs: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly firedTwice: number;
  readonly neverFired: number;
  /** From the first due time to the last firing. */
  readonly spanMs: number;
}

export interface ReminderFigures {
  readonly dispatchers: number;
  /** Due times spread evenly over one minute (the figure asked for). */
  readonly spread: ScenarioFigures;
  /** The same number all due at the same instant (the worst case). */
  readonly burst: ScenarioFigures;
}

const NOTES = 100;
const LEAD_MS = 30_000;
const metadata = () => ({ correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: new Date().toISOString() });

export async function measureReminders(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<ReminderFigures> {
  const reminders = Math.max(1_000, Math.round(10_000 * scale));
  return withServiceSchema(db, async (schema) => {
    const running = await startService(db, schema);
    const { store, knex, wakeups } = running.service.platform;
    const second = new ReminderDispatcher({ store, db: knex, clock: () => new Date(), logger: silentLogger, wakeups, intervalMs: 1_000, concurrency: 8 });
    second.start();
    try {
      const owner = randomUUID();
      const notes = Array.from({ length: NOTES }, () => randomUUID());
      await inParallel(notes, 16, (noteId) => {
        const events = noteDecider.decide(
          { type: 'CreateNote', noteId, title: `Bench note ${noteId.slice(0, 8)}`, content: 'Romans 8:28', dateTime: '2026-11-22T08:00:00Z', tags: [], topics: [], actorId: owner, at: new Date().toISOString() },
          noteDecider.initialState,
        );
        return append(store, noteStreamId(noteId), events);
      });
      const run = (scenario: string, dueAt: (minute: number, i: number) => number) => runScenario({ store, knex, owner, notes, reminders, scenario, dueAt, progress });
      const spread = await run('spread over one minute', (minute, i) => minute + Math.floor((i * 60_000) / reminders));
      const burst = await run('all at one instant', (minute) => minute);
      return { dispatchers: 2, spread, burst };
    } finally {
      await second.stop();
      await running.close();
    }
  });
}

async function runScenario(options: {
  store: EventStore;
  knex: Knex;
  owner: string;
  notes: readonly string[];
  reminders: number;
  scenario: string;
  dueAt: (minute: number, i: number) => number;
  progress: (line: string) => void;
}): Promise<ScenarioFigures> {
  const { store, knex, owner, notes, reminders, scenario, progress } = options;
  const setupStarted = performance.now();
  const minute = Math.ceil((Date.now() + LEAD_MS) / 60_000) * 60_000;
  const window = [new Date(minute).toISOString(), new Date(minute + 60_000).toISOString()];
  progress(`... ${scenario}: appending ${formatCount(reminders)} reminders due in the minute from ${window[0]}`);
  const before = Number((await knex('reminder_schedule').count<{ count: string }[]>({ count: '*' }))[0]!.count);
  await inParallel(
    Array.from({ length: reminders }, (_, i) => i),
    16,
    (i) => {
      const reminderId = randomUUID();
      const at = new Date(options.dueAt(minute, i)).toISOString();
      const events = reminderDecider.decide(
        { type: 'ScheduleReminder', reminderId, noteId: notes[i % notes.length]!, note: 'owned', kind: 'once', at, actorId: owner, now: new Date().toISOString() },
        reminderDecider.initialState,
      );
      return append(store, reminderStreamId(reminderId), events);
    },
  );
  for (;;) {
    const row = await knex('reminder_schedule').count<{ count: string }[]>({ count: '*' });
    if (Number(row[0]!.count) >= before + reminders) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const setupMs = performance.now() - setupStarted;
  const slackMs = minute - Date.now();
  progress(`... ${scenario}: scheduled and projected in ${formatSeconds(setupMs)}; ${formatSeconds(Math.max(0, slackMs))} until the first is due; two dispatchers running`);

  const inWindow = (query: Knex.QueryBuilder) => query.where('event_type', 'ReminderFired').andWhereRaw(`(data->>'dueAt')::timestamptz >= ? AND (data->>'dueAt')::timestamptz < ?`, window);
  const fired = async () => Number((await inWindow(knex('events')).countDistinct<{ count: string }[]>({ count: 'stream_id' }))[0]!.count);
  const deadline = minute + 60_000 + 180_000;
  while ((await fired()) < reminders && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // room for a double firing to show up

  const lag = await knex.raw<{ rows: { p50: number; p99: number; max: number; first_due: Date; last_fired: Date }[] }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max,
            min(due) AS first_due, max(recorded_at) AS last_fired
       FROM (SELECT extract(epoch FROM recorded_at - (data->>'dueAt')::timestamptz) * 1000 AS ms, (data->>'dueAt')::timestamptz AS due, recorded_at
               FROM events WHERE event_type = 'ReminderFired' AND (data->>'dueAt')::timestamptz >= ? AND (data->>'dueAt')::timestamptz < ?) lags`,
    window,
  );
  const twice = await knex.raw<{ rows: { count: string }[] }>(
    `SELECT count(*) AS count FROM (SELECT stream_id FROM events WHERE event_type = 'ReminderFired' AND (data->>'dueAt')::timestamptz >= ? AND (data->>'dueAt')::timestamptz < ?
      GROUP BY stream_id HAVING count(*) > 1) doubled`,
    window,
  );
  const figures = lag.rows[0]!;
  return {
    scenario,
    reminders,
    setupMs,
    slackMs,
    lagP50Ms: Number(figures.p50),
    lagP99Ms: Number(figures.p99),
    lagMaxMs: Number(figures.max),
    firedTwice: Number(twice.rows[0]!.count),
    neverFired: reminders - (await fired()),
    spanMs: figures.last_fired.getTime() - figures.first_due.getTime(),
  };
}

export const TARGET_DISPATCH_P99_MS = 1_000;

export function remindersTable(figures: ReminderFigures): string {
  const row = (scenario: ScenarioFigures, target: boolean): string[] => [
    scenario.scenario,
    formatCount(scenario.reminders),
    formatMs(scenario.lagP50Ms),
    formatMs(scenario.lagP99Ms),
    formatMs(scenario.lagMaxMs),
    formatCount(scenario.firedTwice),
    formatCount(scenario.neverFired),
    formatSeconds(scenario.spanMs),
    target ? verdict(scenario.firedTwice === 0 && scenario.neverFired === 0 && scenario.lagP99Ms < TARGET_DISPATCH_P99_MS) : verdict(scenario.firedTwice === 0 && scenario.neverFired === 0),
  ];
  const setup = (scenario: ScenarioFigures) =>
    `${scenario.scenario}: set up in ${formatSeconds(scenario.setupMs)}, ${scenario.slackMs >= 0 ? `${formatSeconds(scenario.slackMs)} before the first due time` : `OVERRAN the first due time by ${formatSeconds(-scenario.slackMs)}`}`;
  return renderTable({
    title: `10. Reminder dispatch: once reminders due within one minute, ${figures.dispatchers} dispatchers racing (the service's and a second one)`,
    headers: ['due times', 'reminders', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'fired twice', 'never fired', 'first due to last fired', 'target'],
    rows: [row(figures.spread, true), row(figures.burst, false)],
    notes: [
      `target: none fired twice or never; spread: p99 < ${formatCount(TARGET_DISPATCH_P99_MS)} ms (a burst has no latency target: it measures throughput)`,
      'lag = commit time of ReminderFired minus the due time, read from the log; each firing reads the reminder and its note (for the title) and appends with the expected revision',
      `the notes and reminders were appended to the log and projected before the minute: ${setup(figures.spread)}; ${setup(figures.burst)}`,
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
