/**
 * The shared conformance suite against EventStoreDB. No server can be installed on the development
 * and CI machines, so this runs only where EVENTSTORE_CONNECTION_STRING points at one
 * (for example `esdb://localhost:2113?tls=false` with the docker-compose file).
 */
import { EventStoreDbEventStore } from '../../infra/event-store/eventstoredb/eventstoredb-event-store';
import { describeEventStoreConformance } from './conformance';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  describeEventStoreConformance('EventStoreDB', async () => {
    const store = EventStoreDbEventStore.fromConnectionString(connectionString);
    const others: EventStoreDbEventStore[] = [];
    return {
      store,
      newInstance: async () => {
        const other = EventStoreDbEventStore.fromConnectionString(connectionString);
        others.push(other);
        return other;
      },
      cleanup: async () => {
        await Promise.all([store, ...others].map((s) => s.close()));
      },
    };
  });
} else {
  describe('event store conformance: EventStoreDB', () => {
    it('is skipped: set EVENTSTORE_CONNECTION_STRING to run the shared suite against an EventStoreDB server', () => {
      console.info('EventStoreDB conformance skipped: EVENTSTORE_CONNECTION_STRING is not set (no server can run on this machine).');
      expect(connectionString).toBeUndefined();
    });
  });
}
