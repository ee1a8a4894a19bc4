/**
 * Exactly once under crashes: two dispatcher processes fire the same due reminders at once, one of
 * them is SIGKILLed again and again mid-way (appends in flight) and restarted; every due occurrence
 * ends up in the log exactly once, including recurring reminders that missed many periods.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import { reminderDecider, reminderStreamId } from '../../domain/reminders/reminder';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../../infra/logging/logger';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { remindersProjection } from '../../projectors/reminders/reminders-projection';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { killHard, startTsxChild } from '../support/child-process';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180_000);

const CHILD = path.join(__dirname, 'dispatcher-child.ts');
const NOW = '2026-10-25T09:00:00.000Z';

const metadata = () => ({ correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: '2026-10-01T00:00:00.000Z' });

describe('reminder dispatch under SIGKILL', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema('reminder_crash');
  });
  afterAll(() => db.drop());

  it('given two dispatchers and one killed repeatedly mid-way, then every due occurrence is fired exactly once', async () => {
    const store = new PostgresEventStore({ pool: db.pool(6), wakeups: new InProcessWakeups() });
    const owner = randomUUID();
    const notes = Array.from({ length: 20 }, () => randomUUID());
    for (const noteId of notes) {
      const [created] = noteDecider.decide(
        { type: 'CreateNote', noteId, title: `Note ${noteId.slice(0, 4)}`, content: '', dateTime: '2026-10-01T00:00:00Z', tags: [], topics: [], actorId: owner, at: '2026-10-01T00:00:00.000Z' },
        noteDecider.initialState,
      );
      await store.append(noteStreamId(noteId), [{ id: randomUUID(), type: created!.type, data: created!.data as never, metadata: metadata() }], { expectedRevision: 'no_stream' });
    }
    // 900 once reminders due over the last hour, and 100 daily ones last due weeks ago (many missed periods).
    const reminders: string[] = [];
    const schedules = [
      ...Array.from({ length: 900 }, (_, i) => ({ kind: 'once' as const, at: new Date(Date.parse(NOW) - (i % 60) * 60_000).toISOString() })),
      ...Array.from({ length: 100 }, () => ({ kind: 'recurring' as const, rule: 'FREQ=DAILY;BYHOUR=7', timezone: 'Europe/Berlin' })),
    ];
    await Promise.all(
      schedules.map(async (schedule, i) => {
        const reminderId = randomUUID();
        reminders.push(reminderId);
        const [scheduled] = reminderDecider.decide(
          { type: 'ScheduleReminder', reminderId, noteId: notes[i % notes.length]!, note: 'owned', actorId: owner, now: '2026-10-01T00:00:00.000Z', ...schedule },
          reminderDecider.initialState,
        );
        await store.append(reminderStreamId(reminderId), [{ id: randomUUID(), type: scheduled!.type, data: scheduled!.data as never, metadata: metadata() }], { expectedRevision: 'no_stream' });
      }),
    );
    const projection = new ProjectionRunner({ store, db: db.knex, projection: remindersProjection, wakeups: new InProcessWakeups(), logger: silentLogger, batchSize: 200 });
    projection.start();
    const fired = async () => Number((await db.knex('events').where('event_type', 'ReminderFired').count<{ count: string }[]>({ count: '*' }))[0]!.count);
    try {
      await waitFor(async () => Number((await db.knex('reminder_schedule').count<{ count: string }[]>({ count: '*' }))[0]!.count) === 1_000, 30_000, 'the schedule');

      const env = { DATABASE_URL: db.url, SCHEMA: db.schema, NOW, SLOW_MS: '15' };
      let victim = await startTsxChild(CHILD, env);
      const survivor = await startTsxChild(CHILD, env);
      let kills = 0;
      try {
        while ((await fired()) < 900 && kills < 20) {
          await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
          await killHard(victim);
          kills++;
          victim = await startTsxChild(CHILD, env);
        }
        await waitFor(async () => (await fired()) >= 1_000, 90_000, 'every reminder to fire');
        // Give both a few more scans to fire anything twice, were they going to.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      } finally {
        await killHard(victim);
        await killHard(survivor);
      }
      const counts = await db.knex('events').where('event_type', 'ReminderFired').groupBy('stream_id').select('stream_id').count<{ stream_id: string; count: string }[]>({ count: '*' });
      expect(counts).toHaveLength(1_000);
      expect(counts.filter((row) => Number(row.count) !== 1)).toEqual([]);
      expect(new Set(counts.map((row) => row.stream_id))).toEqual(new Set(reminders.map(reminderStreamId)));
      // The recurring ones fired once for their last missed occurrence and wait for tomorrow 07:00 Berlin.
      const recurring = await db.knex('events').where('event_type', 'ReminderFired').whereRaw("data->>'kind' = 'recurring'").select('data');
      expect(recurring).toHaveLength(100);
      expect(new Set(recurring.map((row) => `${row.data.dueAt} -> ${row.data.nextDueAt}`))).toEqual(new Set(['2026-10-01T05:00:00.000Z -> 2026-10-26T06:00:00.000Z']));
      expect(kills).toBeGreaterThanOrEqual(5);
      console.info(`reminder dispatch under SIGKILL: ${kills} kills, ${counts.length} reminders fired once each`);
    } finally {
      await projection.stop();
    }
  });
});
