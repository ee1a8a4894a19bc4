/**
 * The global order is numeric in transaction ids, also where their digit count changes (99 -> 100):
 * a text comparison anywhere would put 100 before 99 and make paging readers skip events.
 */
import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { createTestSchema, type TestSchema } from '../support/test-database';

describe('PostgreSQL event store: order across transaction id digit counts', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema('ordering');
  });
  afterAll(() => db.drop());

  it('given events of transactions 98 to 1001, when paged one by one, then every event comes once in numeric order', async () => {
    const transactionIds = [98, 99, 100, 101, 999, 1000, 1001];
    for (const [i, transactionId] of transactionIds.entries()) {
      // Old transaction ids (long finished on any server) written directly, as if appended long ago.
      await db.knex.raw(
        `INSERT INTO events (transaction_id, stream_id, stream_revision, event_id, event_type, data, metadata)
         VALUES (?::text::xid8, 'old', ?, ?, 'Old', '{}', '{}')`,
        [String(transactionId), i, randomUUID()],
      );
    }
    const store = new PostgresEventStore({ pool: db.pool(2), wakeups: new InProcessWakeups() });
    const seen: string[] = [];
    let from: Parameters<typeof store.readAll>[0] = {};
    for (;;) {
      const page = await store.readAll({ ...from, maxCount: 1 });
      if (page.length === 0) break;
      seen.push(String(page[0]!.streamRevision));
      from = { fromPosition: page[0]!.position };
    }
    expect(seen).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    const head = await store.headPosition();
    expect(head).not.toBe('start');
    expect((await store.readAll()).at(-1)!.position).toBe(head);
  });
});
