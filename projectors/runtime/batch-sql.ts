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
 * PostgreSQL would parse and plan every statement of such a text afresh: for the `documents` update
 * that is about 0.09 ms, a tenth of running it (docs/benchmarks.md). So a statement's shape (its SQL with `$1`, `$2`... where the values
 * go, exactly what knex sends with parameters) is prepared once per connection, in a round trip of its
 * own before the batch (`PREPARE`), and the batch then runs it as `EXECUTE <name>(<literals>)`: the
 * same values, now as the parameters they always stood for, with the plan PostgreSQL keeps. A shape the
 * server refuses to prepare (a parameter whose type it cannot tell) keeps running inlined, and so does
 * every shape beyond MAX_PREPARED_PER_CONNECTION. After a batch fails, the connection's prepared
 * statements are dropped (`DEALLOCATE ALL`), in case what failed was one planned against tables that
 * have changed since.
 *
 * Rows and checkpoint still commit together or not at all. A statement that cannot be written this way
 * (a Buffer binding, a builder that compiles to several queries) makes `compileBatch` answer
 * undefined, and the runner applies that batch the old way, one statement at a time in a knex transaction.
 */
import { createHash } from 'node:crypto';
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

/** A statement of a batch, compiled: inlined, and as a template with its values apart. */
export interface CompiledStatement {
  /** The statement with its values written in as literals (built when first asked for: a prepared statement never needs it). */
  readonly text: string;
  /** The same statement with `$1`, `$2`... where the values go, as knex would send it with parameters. */
  readonly template: string;
  /** The values as literals, in the order of their placeholders. */
  readonly literals: readonly string[];
}

/** An unescaped `?` (a binding, after an even run of backslashes) or an escaped one. */
const PLACEHOLDER = /(\\*)(\?)/g;

/**
 * A knex statement shape (its SQL with `?` for bindings) split where its bindings go: `pieces` has one
 * more entry than there are bindings, and `template` numbers them `$1`, `$2`... Shapes repeat (one per
 * statement a projection builds), so each is split once.
 */
interface StatementShape {
  readonly pieces: readonly string[];
  readonly template: string;
}

/** Shapes split so far, by knex SQL; a projection builds a few dozen, bounded in case one builds SQL with values in it. */
const shapes = new Map<string, StatementShape>();
const MAX_SHAPES = 1_000;

function shapeOf(sql: string): StatementShape {
  let shape = shapes.get(sql);
  if (shape) return shape;
  const pieces: string[] = [];
  let template = '';
  let piece = '';
  let last = 0;
  for (const match of sql.matchAll(PLACEHOLDER)) {
    // The whole match is replaced, backslashes included, as knex's own positionBindings does.
    const before = sql.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[1]!.length % 2) {
      // An escaped `?`: a question mark in the SQL, not a binding.
      piece += `${before}?`;
      template += `${before}?`;
      continue;
    }
    pieces.push(piece + before);
    template += `${before}$${pieces.length}`;
    piece = '';
  }
  pieces.push(piece + sql.slice(last));
  template += sql.slice(last);
  shape = { pieces, template };
  if (shapes.size >= MAX_SHAPES) shapes.clear();
  shapes.set(sql, shape);
  return shape;
}

class Compiled implements CompiledStatement {
  private inlined: string | undefined;
  constructor(
    private readonly pieces: readonly string[],
    readonly template: string,
    readonly literals: readonly string[],
  ) {}

  get text(): string {
    if (this.inlined === undefined) {
      let text = this.pieces[0]!;
      for (let i = 0; i < this.literals.length; i++) text += this.literals[i]! + this.pieces[i + 1]!;
      this.inlined = text;
    }
    return this.inlined;
  }
}

/**
 * The statement compiled for a batch: its bindings inlined exactly where knex's PostgreSQL client would
 * have put `$1`, `$2`... (an odd run of backslashes escapes a `?`), and the template with those
 * placeholders. Undefined when a binding has no text form.
 */
export function compileStatement(statement: SqlStatement): CompiledStatement | undefined {
  const compiled = statement.toSQL() as Knex.Sql | Knex.Sql[];
  if (Array.isArray(compiled)) return undefined;
  const bindings = (compiled.bindings ?? []) as readonly unknown[];
  const shape = shapeOf(compiled.sql);
  if (shape.pieces.length !== bindings.length + 1) return undefined;
  const literals: string[] = [];
  for (const binding of bindings) {
    const literal = sqlLiteral(binding);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  return new Compiled(shape.pieces, shape.template, literals);
}

/** The statement as one SQL text with its bindings inlined (see compileStatement). */
export function inlineStatement(statement: SqlStatement): string | undefined {
  return compileStatement(statement)?.text;
}

/** Every statement compiled, in order; undefined if any one cannot be. */
export function compileBatch(statements: readonly SqlStatement[]): CompiledStatement[] | undefined {
  const compiled: CompiledStatement[] = [];
  for (const statement of statements) {
    const one = compileStatement(statement);
    if (one === undefined) return undefined;
    compiled.push(one);
  }
  return compiled;
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

/** How many statement shapes one connection keeps prepared at most; beyond that, statements go inlined. */
export const MAX_PREPARED_PER_CONNECTION = 256;

/** SQLSTATE duplicate_prepared_statement: the name is taken on this connection, by this very shape. */
const DUPLICATE_PREPARED_STATEMENT = '42P05';

/** The shapes prepared on one connection: template -> statement name, or null when the server refused it. */
const preparedByConnection = new WeakMap<RawConnection, Map<string, string | null>>();

/** The SQL text that runs `statement` on `connection`: EXECUTE of its prepared shape (prepared now if new), or the statement inlined. */
async function textOn(connection: RawConnection, statement: BatchStatement): Promise<string> {
  if (typeof statement === 'string') return statement;
  if (statement.literals.length === 0) return statement.text;
  let prepared = preparedByConnection.get(connection);
  if (!prepared) preparedByConnection.set(connection, (prepared = new Map()));
  let name = prepared.get(statement.template);
  if (name === undefined) {
    if (prepared.size >= MAX_PREPARED_PER_CONNECTION) return statement.text;
    name = await prepare(connection, statement.template);
    if (name === undefined) return statement.text;
    prepared.set(statement.template, name);
  }
  return name === null ? statement.text : `EXECUTE ${name}(${statement.literals.join(', ')})`;
}

/**
 * Prepares `template` under a name derived from it. Null when the server will not prepare this shape
 * (an error of SQLSTATE class 42, such as a parameter whose type it cannot tell: it never will);
 * undefined after any other failure (a lost connection, a table being swapped), so it is tried again.
 */
async function prepare(connection: RawConnection, template: string): Promise<string | null | undefined> {
  const name = `scriptorium_${createHash('sha256').update(template).digest('hex').slice(0, 32)}`;
  try {
    await connection.query(`PREPARE ${name} AS ${template}`);
    return name;
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (code === DUPLICATE_PREPARED_STATEMENT) return name;
    return code.startsWith('42') ? null : undefined;
  }
}

/** Forgets (on the server too) what was prepared on `connection`. */
async function forgetPrepared(connection: RawConnection): Promise<void> {
  if (!preparedByConnection.delete(connection)) return;
  await connection.query('DEALLOCATE ALL').catch(() => undefined);
}

/** A statement for runBatchTransaction: compiled (prepared when it can be), or SQL text run as it is. */
export type BatchStatement = CompiledStatement | string;

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
export async function runBatchTransaction(db: Knex, checkpointSql: string, statements: readonly BatchStatement[], maxRoundTripChars = MAX_ROUND_TRIP_CHARS): Promise<boolean> {
  const connection = (await db.client.acquireConnection()) as RawConnection;
  try {
    const sql: string[] = [];
    for (const statement of statements) sql.push(await textOn(connection, statement));
    const texts = roundTrips([...sql, checkpointSql, 'COMMIT'], maxRoundTripChars);
    // The server stops a text at its first failing statement; the transaction is then aborted.
    for (const [index, text] of texts.entries()) await connection.query(index === 0 ? `BEGIN${SEPARATOR}${text}` : text);
    return true;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: unknown }).code === CHECKPOINT_MOVED_SQLSTATE) return false;
    await forgetPrepared(connection);
    throw error;
  } finally {
    await db.client.releaseConnection(connection);
  }
}
