/**
 * Chooses the event store adapter: EventStoreDB when a connection string is configured (production),
 * otherwise the PostgreSQL store in the service's own database (the built-in default).
 */
import type pg from 'pg';
import type { Wakeups } from '../wakeups/wakeups';
import type { EventStore } from './event-store';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import { PostgresEventStore } from './postgres/postgres-event-store';

export interface EventStoreChoice {
  readonly eventStoreConnectionString: string | undefined;
  readonly pool: pg.Pool;
  readonly wakeups: Wakeups;
  readonly livePollMs: number;
  readonly fallbackPollMs: number;
}

export function createEventStore(choice: EventStoreChoice): EventStore {
  if (choice.eventStoreConnectionString) return EventStoreDbEventStore.fromConnectionString(choice.eventStoreConnectionString);
  return new PostgresEventStore({
    pool: choice.pool,
    wakeups: choice.wakeups,
    livePollMs: choice.livePollMs,
    fallbackPollMs: choice.fallbackPollMs,
  });
}
