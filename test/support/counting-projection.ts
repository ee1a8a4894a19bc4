/**
 * A test projection whose effects are deliberately not idempotent (it increments counters), so any
 * event applied twice, or lost, shows up as a wrong count. It also keeps one revision-guarded row per
 * stream, the way real read models do.
 */
import type { Knex } from 'knex';
import { upsertIfNewer, type Projection } from '../../projectors/runtime/projection';

export function countingProjection(options: { slowMs?: number; failOnce?: (eventId: string) => boolean } = {}): Projection {
  return {
    name: 'counting',
    tables: ['counting_streams', 'counting_totals', 'counting_latest'],
    handles: ['Counted', 'Renamed'],
    apply(event, sql) {
      if (options.failOnce?.(event.id)) throw new Error(`injected failure on ${event.id}`);
      const statements = [
        sql.raw(
          `INSERT INTO counting_streams (stream_id, events) VALUES (?, 1)
           ON CONFLICT (stream_id) DO UPDATE SET events = counting_streams.events + 1`,
          [event.streamId],
        ),
        sql.raw(
          `INSERT INTO counting_totals (type, total) VALUES (?, 1)
           ON CONFLICT (type) DO UPDATE SET total = counting_totals.total + 1`,
          [event.type],
        ),
        upsertIfNewer(sql, 'counting_latest', ['stream_id'], {
          stream_id: event.streamId,
          last_type: event.type,
          revision: event.streamRevision,
        }),
      ];
      if (options.slowMs) statements.push(sql.raw('SELECT pg_sleep(?)', [options.slowMs / 1000]));
      return statements;
    },
  };
}

export async function createCountingTables(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE counting_streams (stream_id text PRIMARY KEY, events bigint NOT NULL);
    CREATE TABLE counting_totals (type text PRIMARY KEY, total bigint NOT NULL);
    CREATE TABLE counting_latest (stream_id text PRIMARY KEY, last_type text NOT NULL, revision bigint NOT NULL);
  `);
}

/** Every row of the projection's tables, in a stable order, for comparing two builds. */
export async function countingTablesContent(knex: Knex): Promise<unknown> {
  return {
    streams: await knex('counting_streams').orderBy('stream_id'),
    totals: await knex('counting_totals').orderBy('type'),
    latest: await knex('counting_latest').orderBy('stream_id'),
  };
}
