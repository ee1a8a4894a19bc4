/**
 * A projection batch in two round trips instead of one per statement. The statements a projection
 * builds (knex builders and raws, never run) are compiled here to SQL text with their bindings written
 * as literals: each value goes through node-postgres's own `prepareValue`, exactly what it would have
 * sent as a parameter, then `escapeLiteral`. An untyped literal is resolved by PostgreSQL the way an
 * untyped parameter is, so the statements mean what they meant when run one by one. The batch then
 * runs on one connection as:
 *
 *   1. `BEGIN; <every statement>; <checkpoint compare-and-set>` in one text (simple query protocol:
 *      the server runs them in order and stops at the first error, which aborts the transaction);
 *   2. `COMMIT` if the compare-and-set moved exactly one row, else `ROLLBACK` (CheckpointMoved); after
 *      an error, `ROLLBACK`.
 *
 * A batch of large documents goes in several texts of at most MAX_ROUND_TRIP_CHARS, in the same
 * transaction.
 *
 * Rows and checkpoint still commit together or not at all. A statement that cannot be written this way
 * (a Buffer binding, a builder that compiles to several queries) makes `compileBatch` answer
 * undefined, and the runner applies that batch the old way, one statement at a time in a knex transaction.
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { LogPosition } from '../../infra/event-store/log-position';
import type { Checkpoint } from './checkpoints';
import type { SqlStatement } from './projection';

/** node-postgres's conversion of a JS value to the text it sends as a parameter (not in its typings). */
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue;

/**
 * What projections build their statements with in a runner's batch: a knex without a connection. It
 * compiles, and it refuses to run anything, so a statement can only ever run inside the batch.
 */
export const statementBuilder: Knex.Transaction = knexFactory({ client: 'pg' }) as unknown as Knex.Transaction;

/** One value as the SQL literal of what node-postgres would send for it; undefined when it has no text form. */
export function sqlLiteral(value: unknown): string | undefined {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  if (typeof prepared !== 'string') return undefined; // a Buffer: binary, sent as bytes
  return pg.escapeLiteral(prepared);
}

/**
 * The statement as one SQL text with its bindings inlined, replacing the placeholders exactly where
 * knex's PostgreSQL client would have put `$1`, `$2`... (an odd run of backslashes escapes a `?`).
 */
export function inlineStatement(statement: SqlStatement): string | undefined {
  const compiled = statement.toSQL() as Knex.Sql | Knex.Sql[];
  if (Array.isArray(compiled)) return undefined;
  const bindings = (compiled.bindings ?? []) as readonly unknown[];
  let next = 0;
  let failed = false;
  const text = compiled.sql.replace(/(\\*)(\?)/g, (_match, escapes: string) => {
    if (escapes.length % 2) return '?';
    if (next >= bindings.length) {
      failed = true;
      return '?';
    }
    const literal = sqlLiteral(bindings[next++]);
    if (literal === undefined) failed = true;
    return literal ?? '?';
  });
  if (failed || next !== bindings.length) return undefined;
  return text;
}

/** Every statement inlined, in order; undefined if any one cannot be. */
export function compileBatch(statements: readonly SqlStatement[]): string[] | undefined {
  const texts: string[] = [];
  for (const statement of statements) {
    const text = inlineStatement(statement);
    if (text === undefined) return undefined;
    texts.push(text);
  }
  return texts;
}

/** The checkpoint's compare-and-set as SQL text: it moves one row, or none if another runner moved it. */
export function checkpointMoveSql(projection: string, expected: Checkpoint, next: LogPosition, eventsSeen: number): string {
  const name = pg.escapeLiteral(projection);
  const to = pg.escapeLiteral(next);
  const seen = String(Math.trunc(eventsSeen));
  if (expected === 'start') {
    return `INSERT INTO projection_checkpoints AS c (projection, position, events_seen, updated_at) VALUES (${name}, ${to}, ${seen}, now())
       ON CONFLICT (projection) DO UPDATE
         SET position = EXCLUDED.position, events_seen = EXCLUDED.events_seen, updated_at = now(), last_error = NULL, last_error_at = NULL
       WHERE c.position IS NULL`;
  }
  return `UPDATE projection_checkpoints
        SET position = ${to}, events_seen = events_seen + ${seen}, updated_at = now(), last_error = NULL, last_error_at = NULL
      WHERE projection = ${name} AND position = ${pg.escapeLiteral(expected)}`;
}

/** The raw connection knex hands out (a pg client); only `query` is used. */
interface RawConnection {
  query(text: string): Promise<pg.QueryResult | pg.QueryResult[]>;
}

/**
 * How much SQL text one round trip carries at most (characters). A batch of large documents is sent
 * in several texts, all in the one transaction; one statement longer than this goes alone.
 */
export const MAX_ROUND_TRIP_CHARS = 4_000_000;

/** The statements joined into texts of at most `maxChars` each (a statement is never split). */
export function roundTrips(statements: readonly string[], maxChars = MAX_ROUND_TRIP_CHARS): string[] {
  const texts: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const statement of statements) {
    if (current.length > 0 && length + statement.length > maxChars) {
      texts.push(current.join(SEPARATOR));
      current = [];
      length = 0;
    }
    current.push(statement);
    length += statement.length + SEPARATOR.length;
  }
  if (current.length > 0) texts.push(current.join(SEPARATOR));
  return texts;
}

/** Between statements: the newline first, so that a statement ending in a -- comment still ends. */
const SEPARATOR = '\n;\n';

/**
 * Runs `BEGIN; statements; checkpoint` (more than one text if they are long), then `COMMIT`, on one
 * connection of `db`'s pool. The checkpoint comes last, as it always has: a rebuild's swap locks the
 * live tables and then the checkpoint row, so a runner must take them in the same order or the two
 * deadlock. Answers false (after rolling back) when the checkpoint was not where the runner expected
 * it; throws (after rolling back) when a statement fails. The connection goes back to the pool either way.
 */
export async function runBatchTransaction(db: Knex, checkpointSql: string, statements: readonly string[], maxRoundTripChars = MAX_ROUND_TRIP_CHARS): Promise<boolean> {
  const connection = (await db.client.acquireConnection()) as RawConnection;
  try {
    const texts = roundTrips([...statements, checkpointSql], maxRoundTripChars);
    let last: pg.QueryResult | pg.QueryResult[] | undefined;
    // The server stops a text at its first failing statement; the transaction is then aborted.
    for (const [index, text] of texts.entries()) last = await connection.query(index === 0 ? `BEGIN${SEPARATOR}${text}` : text);
    const moved = Array.isArray(last) ? last[last.length - 1] : last;
    if (moved?.rowCount !== 1) {
      await connection.query('ROLLBACK');
      return false;
    }
    await connection.query('COMMIT');
    return true;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await db.client.releaseConnection(connection);
  }
}
