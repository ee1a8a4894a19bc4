/**
 * The bug this adapter exists to avoid: a transaction that takes its sequence number first but commits
 * last. A reader that follows the sequence alone would pass its event while it is invisible and never
 * see it. Here a reader must wait for the open transaction and then deliver both events, none skipped.
 */
import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { event } from './conformance';

describe('PostgreSQL event store: an append that commits late', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema('late_commit');
  });
  afterAll(() => db.drop());

  it('given an open append holding an earlier sequence number, when a later append commits, then readers wait and then see both in commit-safe order', async () => {
    const store = new PostgresEventStore({ pool: db.pool(4), wakeups: new InProcessWakeups(), fallbackPollMs: 10 });
    const subscription = store.subscribeToAll();
    const slow = await db.pool(1).connect();
    try {
      await slow.query('BEGIN');
      const late = event('Late');
      await slow.query(`SELECT * FROM append_to_stream($1, 'no_stream', NULL, $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[])`, [
        `late-${randomUUID()}`,
        [late.id],
        [late.type],
        [JSON.stringify(late.data)],
        [JSON.stringify(late.metadata)],
      ]);
      const early = await store.append(`early-${randomUUID()}`, [event('Early')], { expectedRevision: 'no_stream' });

      const sequences = await db.knex('events').select('event_type', 'global_position').orderBy('global_position');
      expect(sequences.map((r) => r.event_type)).toEqual(['Early']); // the open one is invisible...
      expect(await store.readAll()).toEqual([]); // ...and so the committed one is held back too
      expect(await store.headPosition()).toBe('start');
      const pending = subscription.nextBatch(10);
      const delivered = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('nothing yet'), 300))]);
      expect(delivered).toBe('nothing yet');

      await slow.query('COMMIT');
      const batch = await pending;
      const rest = batch.length < 2 ? await subscription.nextBatch(10) : [];
      const seen = [...batch, ...rest];
      expect(seen.map((e) => e.type)).toEqual(['Late', 'Early']);
      expect(seen[1]!.position).toBe(early.position);
      expect(seen[0]!.position < seen[1]!.position).toBe(true);
    } finally {
      slow.release();
      await subscription.close();
    }
  });
});
