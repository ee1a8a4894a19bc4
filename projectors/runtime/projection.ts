/**
 * What a projection is: data plus a function. It names itself, lists the event types it handles, and
 * maps one event to the SQL statements that apply it (built with knex on the transaction it is given,
 * not yet run). The runner runs them, in order, in the transaction that also moves the checkpoint.
 */
import type { Knex } from 'knex';
import type { RecordedEvent } from '../../infra/event-store/event-store';

export type SqlStatement = Knex.QueryBuilder | Knex.Raw;

export interface Projection {
  /** Stable name: the checkpoint's key. Renaming a projection rebuilds it. */
  readonly name: string;
  readonly handles: readonly string[];
  /** The read-model tables it alone writes (what a rebuild recreates and swaps in). */
  readonly tables: readonly string[];
  apply(event: RecordedEvent, sql: Knex.Transaction): SqlStatement | readonly SqlStatement[];
}

/**
 * An upsert that only ever moves a row forward: the row keeps the stream revision it reflects, and an
 * event at or below that revision (a replay) changes nothing.
 */
export function upsertIfNewer(
  sql: Knex.Transaction,
  table: string,
  key: readonly string[],
  row: Record<string, unknown> & { revision: bigint | string },
): Knex.Raw {
  const values: Record<string, unknown> = { ...row, revision: row.revision.toString() };
  const columns = Object.keys(values);
  const updates = columns.filter((c) => !key.includes(c));
  return sql.raw(
    `INSERT INTO ?? (${columns.map(() => '??').join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
     ON CONFLICT (${key.map(() => '??').join(', ')}) DO UPDATE SET ${updates.map(() => '?? = EXCLUDED.??').join(', ')}
     WHERE ??.revision < EXCLUDED.revision`,
    [table, ...columns, ...columns.map((c) => values[c] as Knex.Value), ...key, ...updates.flatMap((c) => [c, c]), table],
  );
}
