import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { createTestSchema } from '../support/test-database';
import { describeEventStoreConformance } from './conformance';

describeEventStoreConformance('PostgreSQL', async () => {
  const db = await createTestSchema('conformance');
  const wakeups = new InProcessWakeups();
  const store = new PostgresEventStore({ pool: db.pool(20), wakeups });
  return {
    store,
    newInstance: async () => new PostgresEventStore({ pool: db.pool(4), wakeups: new InProcessWakeups() }),
    cleanup: () => db.drop(),
  };
});
