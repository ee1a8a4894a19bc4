/**
 * A projection batch in one round trip instead of one per statement. The statements a projection
 * builds (knex builders and raws, never run) are compiled here to SQL text with their bindings written
 * as literals: each value goes through node-postgres's own `prepareValue`, exactly what it would have
 * sent as a parameter, then node-postgres's `escapeLiteral` (rewritten here, same answers). An
 * untyped literal is resolved by PostgreSQL the way an untyped parameter is, so the statements mean what they meant when run one by one. The batch then
 * runs on one connection as one text (simple query protocol: the server runs the statements in order
 * and stops at the first error, which aborts the transaction and skips the rest, COMMIT included):
 *
 *   `BEGIN; <every statement>; SELECT move_projection_checkpoint(...); COMMIT`
 *
 * The checkpoint move fails with SQLSTATE SCR01 when the checkpoint was not where the runner expected
 * it (CheckpointMoved); after any error the runner sends `ROLLBACK`.
 *
 * A batch of large documents goes in several texts of at most MAX_ROUND_TRIP_CHARS, in the same
 * transaction; the last one ends with the checkpoint move and COMMIT.
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
  return escapeLiteral(prepared);
}

/**
 * What node-postgres's `escapeLiteral` answers (quotes doubled; backslashes doubled and the literal
 * marked E'' when there are any), built with native string search instead of a loop per character:
 * a document's content is escaped two or three times per event.
 */
export function escapeLiteral(text: string): string {
  const quoted = text.includes("'") ? text.replaceAll("'", "''") : text;
  return quoted.includes('\\') ? ` E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
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

/** The SQLSTATE with which `move_projection_checkpoint` says the checkpoint was not at `expected`. */
export const CHECKPOINT_MOVED_SQLSTATE = 'SCR01';

/**
 * The checkpoint's compare-and-set as SQL text (migration 0016): moves it from `expected` to `next`, or
 * fails with CHECKPOINT_MOVED_SQLSTATE if another runner moved it.
 */
export function checkpointMoveSql(projection: string, expected: Checkpoint, next: LogPosition, eventsSeen: number): string {
  const from = expected === 'start' ? 'NULL' : escapeLiteral(expected);
  return `SELECT move_projection_checkpoint(${escapeLiteral(projection)}, ${from}, ${escapeLiteral(next)}, ${String(Math.trunc(eventsSeen))})`;
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
 * Runs `BEGIN; statements; checkpoint move; COMMIT` (more than one text if they are long; COMMIT goes
 * with the last) on one connection of `db`'s pool. The checkpoint comes last, as it always has: a
 * rebuild's swap locks the live tables and then the checkpoint row, so a runner must take them in the
 * same order or the two deadlock. Answers false (after rolling back) when the checkpoint was not where
 * the runner expected it; throws (after rolling back) when a statement fails. The connection goes back
 * to the pool either way.
 */
export async function runBatchTransaction(db: Knex, checkpointSql: string, statements: readonly string[], maxRoundTripChars = MAX_ROUND_TRIP_CHARS): Promise<boolean> {
  const connection = (await db.client.acquireConnection()) as RawConnection;
  try {
    const texts = roundTrips([...statements, checkpointSql, 'COMMIT'], maxRoundTripChars);
    // The server stops a text at its first failing statement; the transaction is then aborted.
    for (const [index, text] of texts.entries()) await connection.query(index === 0 ? `BEGIN${SEPARATOR}${text}` : text);
    return true;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: unknown }).code === CHECKPOINT_MOVED_SQLSTATE) return false;
    throw error;
  } finally {
    await db.client.releaseConnection(connection);
  }
}
