/**
 * Building projections afresh beside the live ones, and swapping one in. A scratch schema receives
 * empty copies of the projection's tables (`CREATE TABLE ... (LIKE live.t INCLUDING ALL)`, then given
 * the live index names and grants) and a `projection_checkpoints` table of its own; the log is replayed
 * into it exactly as the runner applies it: each batch's rows and the checkpoint move in one
 * transaction, through the projection's own `apply`. While that runs, the live tables keep serving.
 *
 * The swap is one transaction: lock the live tables, lock the projection's live checkpoint row, catch
 * the scratch tables up to the head of the log, drop the live tables, move the scratch ones into the
 * live schema, and set the live checkpoint to the scratch one. A running projector that was in the
 * middle of a batch finds its compare-and-set on the checkpoint failing (CheckpointMoved), re-reads the
 * checkpoint and continues from there, into the swapped-in tables. The scratch schema is dropped at the
 * end, whatever happens. `verify.ts` uses the same scratch replay to compare instead of swapping.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { assertSchemaName } from '../../infra/database/database';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store';
import { LogPosition } from '../../infra/event-store/log-position';
import { moveCheckpoint, type Checkpoint } from './checkpoints';
import type { Projection } from './projection';

// --- Errors ---------------------------------------------------------------------------------------

export class UnknownProjection extends Error {
  readonly code = 'PROJECTION.UNKNOWN';
  constructor(
    readonly projection: string,
    readonly known: readonly string[],
  ) {
    super(`no projection is named ${JSON.stringify(projection)}; known projections: ${known.join(', ')}`);
    this.name = 'UnknownProjection';
  }
}

/** The live tables are in a shape a swap would damage (foreign keys, triggers, missing tables). */
export class RebuildRefused extends Error {
  readonly code = 'PROJECTION.REBUILD_REFUSED';
  constructor(
    readonly projection: string,
    readonly reasons: readonly string[],
  ) {
    super(`cannot rebuild projection ${projection}: ${reasons.join('; ')}`);
    this.name = 'RebuildRefused';
  }
}

export function findProjection(projections: readonly Projection[], name: string): Projection {
  const projection = projections.find((candidate) => candidate.name === name);
  if (!projection) throw new UnknownProjection(name, projections.map((candidate) => candidate.name));
  return projection;
}

// --- Identifiers ----------------------------------------------------------------------------------

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

// --- Scratch schemas ------------------------------------------------------------------------------

/**
 * Creates an empty schema for one run of `purpose` against `liveSchema`. The name never starts with
 * the live schema's (test runs drop schemas by prefix); the comment says whose it is, for an operator
 * who finds one left by a killed process.
 */
export async function createScratchSchema(knex: Knex, liveSchema: string, purpose: string): Promise<string> {
  assertSchemaName(liveSchema);
  const schema = `scratch_${purpose}_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  assertSchemaName(schema);
  await knex.raw(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  const note = `scriptorium ${purpose} of schema ${liveSchema}, started ${new Date().toISOString()}; drop it if no such command still runs`;
  await knex.raw(`COMMENT ON SCHEMA ${quoteIdentifier(schema)} IS ${quoteLiteral(note)}`);
  return schema;
}

export async function dropScratchSchema(knex: Knex, schema: string): Promise<void> {
  assertSchemaName(schema);
  await knex.raw(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Creates each of `tables` in the scratch schema like its live twin, plus a scratch checkpoint table.
 * With `likeLive`, the scratch indexes get the live names (LIKE makes up new ones), and the tables the
 * live grants and storage parameters (LIKE copies neither; `documents`' toast_tuple_target is one), so
 * that after a swap the tables are indistinguishable from what the migrations made.
 */
export async function createScratchTables(
  knex: Knex,
  options: { liveSchema: string; scratchSchema: string; tables: readonly string[]; likeLive: boolean },
): Promise<void> {
  const { liveSchema, scratchSchema } = options;
  for (const table of [...options.tables, CHECKPOINTS]) {
    await knex.raw(`CREATE TABLE ${qualified(scratchSchema, table)} (LIKE ${qualified(liveSchema, table)} INCLUDING ALL)`);
  }
  if (!options.likeLive) return;
  await renameIndexesLikeLive(knex, liveSchema, scratchSchema, options.tables);
  for (const table of options.tables) {
    await copyGrants(knex, liveSchema, scratchSchema, table);
    await copyStorageParameters(knex, liveSchema, scratchSchema, table);
  }
}

/** The live table's storage parameters (`WITH (...)`: fillfactor, toast_tuple_target, autovacuum settings) on the scratch one. */
async function copyStorageParameters(knex: Knex, liveSchema: string, scratchSchema: string, table: string): Promise<void> {
  const result = await knex.raw<{ rows: Array<{ name: string; value: string }> }>(
    `SELECT o.option_name AS name, o.option_value AS value FROM pg_class c, pg_options_to_table(c.reloptions) o WHERE c.oid = ?::regclass`,
    [qualified(liveSchema, table)],
  );
  if (result.rows.length === 0) return;
  const settings = result.rows.map((row) => `${quoteIdentifier(row.name)} = ${quoteLiteral(row.value)}`).join(', ');
  await knex.raw(`ALTER TABLE ${qualified(scratchSchema, table)} SET (${settings})`);
}

const CHECKPOINTS = 'projection_checkpoints';

interface IndexShape {
  readonly name: string;
  readonly shape: string;
}

/** The indexes of a table, each with a description of what it indexes that ignores its name. */
async function indexShapes(db: Knex | Knex.Transaction, schema: string, table: string): Promise<IndexShape[]> {
  const result = await db.raw<{ rows: IndexShape[] }>(
    `SELECT c.relname AS name,
            format('%s|%s|%s|%s|%s|%s|%s|%s|%s', i.indkey, i.indclass, i.indcollation, i.indoption, i.indisunique,
                   i.indisprimary, c.relam, pg_get_expr(i.indexprs, i.indrelid), pg_get_expr(i.indpred, i.indrelid)) AS shape
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = ?::regclass
      ORDER BY c.relname`,
    [qualified(schema, table)],
  );
  return result.rows;
}

async function renameIndexesLikeLive(knex: Knex, liveSchema: string, scratchSchema: string, tables: readonly string[]): Promise<void> {
  const renames: Array<{ from: string; to: string }> = [];
  for (const table of tables) {
    const live = await indexShapes(knex, liveSchema, table);
    const scratch = await indexShapes(knex, scratchSchema, table);
    for (const index of live) {
      const twin = scratch.findIndex((candidate) => candidate.shape === index.shape);
      if (twin < 0) throw new Error(`index ${index.name} of ${liveSchema}.${table} has no twin in the scratch table`);
      renames.push({ from: scratch[twin]!.name, to: index.name });
      scratch.splice(twin, 1);
    }
  }
  // Through temporary names: a name LIKE made up may be the live name of another index.
  const temporary = renames.map((_, i) => `scriptorium_rebuild_index_${i}`);
  for (const [i, rename] of renames.entries()) {
    await knex.raw(`ALTER INDEX ${qualified(scratchSchema, rename.from)} RENAME TO ${quoteIdentifier(temporary[i]!)}`);
  }
  for (const [i, rename] of renames.entries()) {
    await knex.raw(`ALTER INDEX ${qualified(scratchSchema, temporary[i]!)} RENAME TO ${quoteIdentifier(rename.to)}`);
  }
}

async function copyGrants(knex: Knex, liveSchema: string, scratchSchema: string, table: string): Promise<void> {
  const result = await knex.raw<{ rows: Array<{ grantee: string; privilege: string; grantable: boolean }> }>(
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
            a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = ?::regclass AND a.grantee <> c.relowner`,
    [qualified(liveSchema, table)],
  );
  for (const grant of result.rows) {
    if (!/^[A-Z ]+$/.test(grant.privilege)) throw new Error(`unexpected privilege ${grant.privilege} on ${liveSchema}.${table}`);
    await knex.raw(`GRANT ${grant.privilege} ON ${qualified(scratchSchema, table)} TO ${grant.grantee}${grant.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
}

/** What would make a swap lose something: foreign keys (LIKE copies none), triggers, missing tables. */
async function swapObstacles(knex: Knex, liveSchema: string, tables: readonly string[]): Promise<string[]> {
  const reasons: string[] = tables.length === 0 ? ['it declares no tables'] : [];
  for (const table of tables) {
    const exists = await knex.raw<{ rows: Array<{ oid: string | null }> }>('SELECT to_regclass(?)::text AS oid', [qualified(liveSchema, table)]);
    if (exists.rows[0]?.oid == null) {
      reasons.push(`table ${liveSchema}.${table} does not exist (apply the migrations first)`);
      continue;
    }
    const foreignKeys = await knex.raw<{ rows: Array<{ name: string; owner: string }> }>(
      `SELECT conname AS name, conrelid::regclass::text AS owner FROM pg_constraint
        WHERE contype = 'f' AND (conrelid = ?::regclass OR confrelid = ?::regclass)`,
      [qualified(liveSchema, table), qualified(liveSchema, table)],
    );
    for (const key of foreignKeys.rows) reasons.push(`foreign key ${key.name} on ${key.owner} involves ${table}`);
    const triggers = await knex.raw<{ rows: Array<{ name: string }> }>(
      'SELECT tgname AS name FROM pg_trigger WHERE tgrelid = ?::regclass AND NOT tgisinternal',
      [qualified(liveSchema, table)],
    );
    for (const trigger of triggers.rows) reasons.push(`trigger ${trigger.name} on ${table} would be lost`);
  }
  return reasons;
}

// --- Replay ---------------------------------------------------------------------------------------

export interface ReplayTarget {
  readonly projection: Projection;
  /** Inclusive: stop exactly at this position (`start`: replay nothing). Unset: up to the head of the log. */
  readonly until?: Checkpoint;
}

export interface ReplayBatch {
  /** Events read from the log in this batch (of any type). */
  readonly events: number;
  readonly position: LogPosition;
}

export interface ReplayOptions {
  readonly knex: Knex;
  readonly store: EventStore;
  readonly scratchSchema: string;
  readonly targets: readonly ReplayTarget[];
  readonly batchSize: number;
  readonly onBatch?: (batch: ReplayBatch) => void | Promise<void>;
  /** Apply every batch in this transaction (the swap's) instead of one transaction per batch. */
  readonly transaction?: Knex.Transaction;
  /** Stops the replay before its next batch (the caller then cleans up). */
  readonly signal?: AbortSignal;
}

interface ReplayState {
  readonly projection: Projection;
  readonly handled: ReadonlySet<string>;
  readonly until: Checkpoint | undefined;
  checkpoint: Checkpoint;
}

/**
 * Replays the log into the scratch schema, from where its checkpoints are, for each target up to its
 * `until` or the head. One read of the log serves every target. Answers the scratch checkpoints.
 */
export async function replayIntoScratch(options: ReplayOptions): Promise<Map<string, Checkpoint>> {
  const { store, scratchSchema, batchSize } = options;
  assertSchemaName(scratchSchema);
  const db = options.transaction ?? options.knex;
  const states: ReplayState[] = [];
  for (const target of options.targets) {
    states.push({
      projection: target.projection,
      handled: new Set(target.projection.handles),
      until: target.until,
      checkpoint: await readScratchCheckpoint(db, scratchSchema, target.projection.name),
    });
  }
  const finished = (state: ReplayState) => state.until !== undefined && !before(state.checkpoint, state.until);
  const wanted = (state: ReplayState, event: RecordedEvent) =>
    before(state.checkpoint, event.position) && (state.until === undefined || !before(state.until, event.position));

  let from: Checkpoint | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const active = states.filter((state) => !finished(state));
    if (active.length === 0) break;
    from ??= active.map((state) => state.checkpoint).reduce((lowest, checkpoint) => (before(checkpoint, lowest) ? checkpoint : lowest));
    const page = await store.readAll({ fromPosition: from, maxCount: batchSize });
    if (page.length === 0) break;
    const moves = new Map<ReplayState, LogPosition>();
    const applyPage = async (trx: Knex.Transaction) => {
      // Only the scratch schema: a projection writing a table it did not declare must fail, not touch live.
      await trx.raw(`SET LOCAL search_path TO ${quoteIdentifier(scratchSchema)}`);
      for (const state of active) {
        const events = page.filter((event) => wanted(state, event));
        if (events.length === 0) continue;
        moves.set(state, await applyBatch(trx, state, events));
      }
    };
    if (options.transaction) await applyPage(options.transaction);
    else await options.knex.transaction(applyPage);
    for (const [state, position] of moves) state.checkpoint = position;
    from = page[page.length - 1]!.position;
    await options.onBatch?.({ events: page.length, position: from });
  }
  return new Map(states.map((state) => [state.projection.name, state.checkpoint]));
}

/** Exactly what ProjectionRunner.applyBatch does, on the scratch tables. */
async function applyBatch(trx: Knex.Transaction, state: ReplayState, events: readonly RecordedEvent[]): Promise<LogPosition> {
  const last = events[events.length - 1]!.position;
  const relevant = events.filter((event) => state.handled.has(event.type));
  for (const event of relevant) {
    const statements = state.projection.apply(event, trx);
    for (const statement of Array.isArray(statements) ? statements : [statements]) await statement;
  }
  await moveCheckpoint(trx, state.projection.name, state.checkpoint, last, relevant.length);
  return last;
}

function before(a: Checkpoint, b: Checkpoint): boolean {
  if (b === 'start') return false;
  return a === 'start' || a < b;
}

export interface CheckpointRow {
  readonly position: Checkpoint;
  readonly eventsSeen: number;
}

export async function readCheckpointRow(db: Knex | Knex.Transaction, schema: string, projection: string): Promise<CheckpointRow> {
  const result = await db.raw<{ rows: Array<{ position: string | null; events_seen: string }> }>(
    `SELECT position, events_seen FROM ${qualified(schema, CHECKPOINTS)} WHERE projection = ?`,
    [projection],
  );
  const row = result.rows[0];
  if (row?.position == null) return { position: 'start', eventsSeen: Number(row?.events_seen ?? 0) };
  const position = LogPosition.parse(row.position);
  if (!position) throw new Error(`projection ${projection} has an unreadable checkpoint in ${schema}: ${row.position}`);
  return { position, eventsSeen: Number(row.events_seen) };
}

async function readScratchCheckpoint(db: Knex | Knex.Transaction, scratchSchema: string, projection: string): Promise<Checkpoint> {
  return (await readCheckpointRow(db, scratchSchema, projection)).position;
}

// --- Rebuild --------------------------------------------------------------------------------------

/** replaying (live tables serving) -> locking (caught up; waiting for the locks) -> swapping (locked) -> swapped. */
export type RebuildPhase = 'replaying' | 'locking' | 'swapping' | 'swapped';

export interface RebuildProgress {
  readonly phase: RebuildPhase;
  readonly projection: string;
  /** Events read from the log so far (of any type). */
  readonly eventsRead: number;
  /** How many events the log held up to its head when the rebuild started, when known. */
  readonly eventsTotal: number | undefined;
  readonly position: Checkpoint;
  /** Which attempt at the swap this is (lock conflicts make it try again). */
  readonly swapAttempt: number;
}

export interface RebuildOptions {
  readonly store: EventStore;
  /** Knex on the live schema's database. */
  readonly knex: Knex;
  readonly liveSchema: string;
  /** The registry the name is looked up in. */
  readonly projections: readonly Projection[];
  readonly name: string;
  readonly batchSize?: number;
  /** How many events follow a position (for an ETA); unknown when it answers undefined. */
  readonly countEventsAfter?: (position: Checkpoint) => Promise<number | undefined>;
  /**
   * Called as the rebuild moves, and awaited: during `locking` just before the locks are taken, during
   * `swapping` with the live tables locked (tests act at both points), so it must be quick.
   */
  readonly onProgress?: (progress: RebuildProgress) => void | Promise<void>;
  /** How long the swap waits for the live tables' locks before trying again. */
  readonly lockTimeoutMs?: number;
  readonly swapAttempts?: number;
  /** Abandons the rebuild (before the swap commits); the scratch schema is dropped. */
  readonly signal?: AbortSignal;
}

export interface RebuildResult {
  readonly projection: string;
  /** The checkpoint the swapped-in tables (and the live checkpoint) are at. */
  readonly position: Checkpoint;
  readonly eventsSeen: number;
  readonly eventsRead: number;
  readonly swapAttempts: number;
}

/** Postgres errors after which the swap is worth another attempt. */
const LOCK_CONFLICTS = new Set(['40P01', '55P03']); // deadlock_detected, lock_not_available

export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const { knex, store, liveSchema } = options;
  assertSchemaName(liveSchema);
  const projection = findProjection(options.projections, options.name);
  const batchSize = options.batchSize ?? 500;
  const obstacles = await swapObstacles(knex, liveSchema, projection.tables);
  if (obstacles.length > 0) throw new RebuildRefused(projection.name, obstacles);

  let eventsRead = 0;
  let swapAttempt = 0;
  const eventsTotal = await options.countEventsAfter?.('start');
  const report = async (phase: RebuildPhase, position: Checkpoint) =>
    options.onProgress?.({ phase, projection: projection.name, eventsRead, eventsTotal, position, swapAttempt });

  const scratchSchema = await createScratchSchema(knex, liveSchema, 'rebuild');
  try {
    await createScratchTables(knex, { liveSchema, scratchSchema, tables: projection.tables, likeLive: true });
    await report('replaying', 'start');
    const replay = (transaction?: Knex.Transaction) =>
      replayIntoScratch({
        knex,
        store,
        scratchSchema,
        targets: [{ projection }],
        batchSize,
        transaction,
        signal: options.signal,
        onBatch: async (batch) => {
          eventsRead += batch.events;
          await report(transaction ? 'swapping' : 'replaying', batch.position);
        },
      });
    await replay();

    const attempts = options.swapAttempts ?? 5;
    for (;;) {
      swapAttempt++;
      // The in-lock catch-up is rolled back with a failed attempt; count only what committed.
      const readBeforeSwap = eventsRead;
      try {
        const swapped = await knex.transaction((trx) => swap(trx, { ...options, projection, scratchSchema, replay, report }));
        await report('swapped', swapped.position);
        return { projection: projection.name, position: swapped.position, eventsSeen: swapped.eventsSeen, eventsRead, swapAttempts: swapAttempt };
      } catch (error) {
        eventsRead = readBeforeSwap;
        if (!LOCK_CONFLICTS.has(pgErrorCode(error)) || swapAttempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * swapAttempt));
        await replay(); // what arrived meanwhile, outside the locks
      }
    }
  } finally {
    await dropScratchSchema(knex, scratchSchema);
  }
}

async function swap(
  trx: Knex.Transaction,
  context: RebuildOptions & {
    projection: Projection;
    scratchSchema: string;
    replay: (transaction: Knex.Transaction) => Promise<Map<string, Checkpoint>>;
    report: (phase: RebuildPhase, position: Checkpoint) => Promise<void>;
  },
): Promise<CheckpointRow> {
  const { liveSchema, scratchSchema, projection } = context;
  await trx.raw(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(context.lockTimeoutMs ?? 5_000))}`);
  await context.report('locking', (await readCheckpointRow(trx, scratchSchema, projection.name)).position);
  // Readers wait from here to the commit; the runner's next write waits too, and then fails its
  // compare-and-set on the checkpoint moved below.
  await trx.raw(`LOCK TABLE ${projection.tables.map((table) => qualified(liveSchema, table)).join(', ')} IN ACCESS EXCLUSIVE MODE`);
  // An ACCESS EXCLUSIVE lock gives this transaction an id, so with the PostgreSQL store no event
  // committed from now on is readable before the swap commits: the catch-up below sees all that any
  // runner can have read. A runner caught between reading a batch and writing it waits for the locks.
  await context.report('swapping', (await readCheckpointRow(trx, scratchSchema, projection.name)).position);
  // A batch of only unhandled events moves the checkpoint without touching the tables: hold that too.
  await trx.raw(`SELECT 1 FROM ${qualified(liveSchema, CHECKPOINTS)} WHERE projection = ? FOR UPDATE`, [projection.name]);
  await context.replay(trx);
  const scratch = await readCheckpointRow(trx, scratchSchema, projection.name);

  const owners = new Map<string, string | undefined>();
  for (const table of projection.tables) {
    const owner = await trx.raw<{ rows: Array<{ owner: string; mine: boolean }> }>(
      'SELECT quote_ident(pg_get_userbyid(relowner)) AS owner, pg_get_userbyid(relowner) = current_user AS mine FROM pg_class WHERE oid = ?::regclass',
      [qualified(liveSchema, table)],
    );
    const row = owner.rows[0];
    owners.set(table, row && !row.mine ? row.owner : undefined);
  }
  for (const table of projection.tables) await trx.raw(`DROP TABLE ${qualified(liveSchema, table)}`);
  for (const table of projection.tables) {
    await trx.raw(`ALTER TABLE ${qualified(scratchSchema, table)} SET SCHEMA ${quoteIdentifier(liveSchema)}`);
    const owner = owners.get(table);
    if (owner) await trx.raw(`ALTER TABLE ${qualified(liveSchema, table)} OWNER TO ${owner}`);
  }
  await trx.raw(
    `INSERT INTO ${qualified(liveSchema, CHECKPOINTS)} AS c (projection, position, events_seen, updated_at, last_error, last_error_at)
     VALUES (?, ?, ?, now(), NULL, NULL)
     ON CONFLICT (projection) DO UPDATE
       SET position = EXCLUDED.position, events_seen = EXCLUDED.events_seen, updated_at = now(), last_error = NULL, last_error_at = NULL`,
    [projection.name, scratch.position === 'start' ? null : scratch.position, scratch.eventsSeen],
  );
  return scratch;
}

function pgErrorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
}
