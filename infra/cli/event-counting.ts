/**
 * Counting the events that follow a position, for lag figures and progress estimates. A store may
 * offer it itself (an optional `countEventsAfter` capability); for the PostgreSQL store one query
 * counts them; any other store is counted by paging through readAll. Every count stops at a cap, so
 * a projection far behind costs a bounded amount to report ("at least N").
 */
import type pg from 'pg';
import type { EventStore } from '../event-store/event-store';
import { LogPosition } from '../event-store/log-position';
import { PostgresEventStore } from '../event-store/postgres/postgres-event-store';

export type CountFrom = LogPosition | 'start';

export interface EventCount {
  /** Never more than the cap. */
  readonly count: number;
  /** True when more events than the cap follow: `count` is then a lower bound. */
  readonly capped: boolean;
}

export interface EventCounter {
  countEventsAfter(position: CountFrom, cap: number): Promise<EventCount>;
}

/** The capability a store may offer; none of the adapters has to. */
function hasCounting(store: EventStore): store is EventStore & EventCounter {
  return typeof (store as Partial<EventCounter>).countEventsAfter === 'function';
}

export function eventCounterFor(store: EventStore, pool: pg.Pool): EventCounter {
  if (hasCounting(store)) return store;
  if (store instanceof PostgresEventStore) return postgresEventCounter(pool);
  return pagingEventCounter(store);
}

/** Pages through readAll, at most `pageSize` events a read, until the cap. */
export function pagingEventCounter(store: EventStore, pageSize = 1_000): EventCounter {
  return {
    async countEventsAfter(position, cap) {
      let count = 0;
      let from = position;
      while (count <= cap) {
        const page = await store.readAll({ fromPosition: from, maxCount: Math.min(pageSize, cap + 1 - count) });
        if (page.length === 0) break;
        count += page.length;
        from = page[page.length - 1]!.position;
      }
      return count > cap ? { count: cap, capped: true } : { count, capped: false };
    },
  };
}

/**
 * One query on the PostgreSQL store's `events` table, with the adapter's own visibility rule: only
 * events of transactions older than every running one are in the log a reader can see.
 */
export function postgresEventCounter(pool: pg.Pool): EventCounter {
  return {
    async countEventsAfter(position, cap) {
      const after = position === 'start' ? LogPosition.of(0n, 0n) : position;
      const result = await pool.query<{ count: string }>(
        `SELECT count(*) AS count FROM (
           SELECT 1 FROM events
            WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
              AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            LIMIT $3) AS page`,
        [LogPosition.major(after).toString(), LogPosition.minor(after).toString(), cap + 1],
      );
      const count = Number(result.rows[0]?.count ?? 0);
      return count > cap ? { count: cap, capped: true } : { count, capped: false };
    },
  };
}
