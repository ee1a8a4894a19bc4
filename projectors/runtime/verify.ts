/**
 * Verification: do the live read models equal what replaying the log builds? It takes a consistent
 * picture of the live side first: in one REPEATABLE READ, READ ONLY transaction it reads every
 * projection's checkpoint and copies every table's rows (as JSON) into a snapshot schema. A read-only
 * transaction holds no transaction id, so it never holds back the log's readers while it copies.
 * Then it replays the log into a scratch schema (tables LIKE the live ones) up to exactly each
 * projection's live checkpoint, and compares each table with its snapshot in SQL: rows joined on the
 * primary key, all columns compared as JSON text. Both schemas are dropped at the end, even on error.
 */
import type { Knex } from 'knex';
import { assertSchemaName } from '../../infra/database/database';
import type { EventStore, JsonValue } from '../../infra/event-store/event-store';
import type { Checkpoint } from './checkpoints';
import type { Projection } from './projection';
import {
  createScratchSchema,
  createScratchTables,
  dropScratchSchema,
  qualified,
  quoteIdentifier,
  readCheckpointRow,
  replayIntoScratch,
  type CheckpointRow,
} from './rebuild';

export type VerifyPhase = 'snapshot' | 'replaying' | 'comparing';

export interface VerifyProgress {
  readonly phase: VerifyPhase;
  /** Events read from the log so far (of any type). */
  readonly eventsRead: number;
  /** How many events the log held when verification started, when known. */
  readonly eventsTotal: number | undefined;
  readonly position: Checkpoint;
}

export interface VerifyOptions {
  readonly store: EventStore;
  /** Knex on the live schema's database. */
  readonly knex: Knex;
  readonly liveSchema: string;
  readonly projections: readonly Projection[];
  readonly batchSize?: number;
  /** At most this many differing rows are reported (all are counted). */
  readonly maxDifferences?: number;
  readonly countEventsAfter?: (position: Checkpoint) => Promise<number | undefined>;
  readonly onProgress?: (progress: VerifyProgress) => void | Promise<void>;
  /** Abandons verification; the scratch schemas are dropped. */
  readonly signal?: AbortSignal;
}

export interface ProjectionComparison {
  readonly projection: string;
  readonly live: CheckpointRow;
  readonly rebuilt: CheckpointRow;
  readonly equal: boolean;
}

export interface TableComparison {
  readonly table: string;
  readonly projection: string;
  readonly liveRows: number;
  readonly rebuiltRows: number;
  readonly differingRows: number;
}

export type Row = Record<string, JsonValue>;

export interface RowDifference {
  readonly table: string;
  /** The primary key's columns; null for a table without one (its rows compare as a multiset). */
  readonly key: Row | null;
  /** null: the row is missing on that side. */
  readonly live: Row | null;
  readonly rebuilt: Row | null;
}

export interface VerifyReport {
  readonly equal: boolean;
  readonly projections: readonly ProjectionComparison[];
  readonly tables: readonly TableComparison[];
  /** Up to `maxDifferences`, table by table in primary-key order. */
  readonly differences: readonly RowDifference[];
  /** Differing rows counted but not listed. */
  readonly differencesOmitted: number;
  /** The scratch schemas used (already dropped). */
  readonly scratchSchemas: readonly string[];
}

const COPY_CHUNK_ROWS = 2_000;

export async function verifyProjections(options: VerifyOptions): Promise<VerifyReport> {
  const { knex, store, liveSchema, projections } = options;
  assertSchemaName(liveSchema);
  const owners = tableOwners(projections);
  let eventsRead = 0;
  const eventsTotal = await options.countEventsAfter?.('start');
  const report = async (phase: VerifyPhase, position: Checkpoint) => options.onProgress?.({ phase, eventsRead, eventsTotal, position });

  const scratchSchemas: string[] = [];
  try {
    const rebuiltSchema = await createScratchSchema(knex, liveSchema, 'verify');
    scratchSchemas.push(rebuiltSchema);
    const snapshotSchema = await createScratchSchema(knex, liveSchema, 'verify_live');
    scratchSchemas.push(snapshotSchema);
    const tables = [...owners.keys()];
    await createScratchTables(knex, { liveSchema, scratchSchema: rebuiltSchema, tables, likeLive: false });
    for (const table of tables) {
      // Columns only: the copy must accept every value as it is (no identity, no generated columns).
      await knex.raw(`CREATE TABLE ${qualified(snapshotSchema, table)} (LIKE ${qualified(liveSchema, table)})`);
    }

    await report('snapshot', 'start');
    const live = await snapshotLiveSide(knex, { liveSchema, snapshotSchema, tables, projections, signal: options.signal });

    await report('replaying', 'start');
    const rebuilt = await replayIntoScratch({
      knex,
      store,
      scratchSchema: rebuiltSchema,
      targets: projections.map((projection) => ({ projection, until: live.get(projection.name)!.position })),
      batchSize: options.batchSize ?? 500,
      signal: options.signal,
      onBatch: async (batch) => {
        eventsRead += batch.events;
        await report('replaying', batch.position);
      },
    });

    await report('comparing', latest([...rebuilt.values()]));
    const projectionComparisons: ProjectionComparison[] = [];
    for (const projection of projections) {
      const liveRow = live.get(projection.name)!;
      const rebuiltRow = await readCheckpointRow(knex, rebuiltSchema, projection.name);
      const equal = liveRow.position === rebuiltRow.position && liveRow.eventsSeen === rebuiltRow.eventsSeen;
      projectionComparisons.push({ projection: projection.name, live: liveRow, rebuilt: rebuiltRow, equal });
    }

    const maxDifferences = options.maxDifferences ?? 50;
    const tableComparisons: TableComparison[] = [];
    const differences: RowDifference[] = [];
    for (const [table, projection] of owners) {
      const compared = await compareTable(knex, {
        table,
        liveTable: qualified(snapshotSchema, table),
        rebuiltTable: qualified(rebuiltSchema, table),
        key: await primaryKey(knex, liveSchema, table),
        limit: Math.max(0, maxDifferences - differences.length),
      });
      tableComparisons.push({ table, projection, ...compared.counts });
      differences.push(...compared.differences);
    }
    const differingRows = tableComparisons.reduce((sum, table) => sum + table.differingRows, 0);
    return {
      equal: differingRows === 0 && projectionComparisons.every((comparison) => comparison.equal),
      projections: projectionComparisons,
      tables: tableComparisons,
      differences,
      differencesOmitted: differingRows - differences.length,
      scratchSchemas,
    };
  } finally {
    for (const schema of scratchSchemas) await dropScratchSchema(knex, schema);
  }
}

function latest(checkpoints: readonly Checkpoint[]): Checkpoint {
  return checkpoints.reduce<Checkpoint>((highest, position) => (position !== 'start' && (highest === 'start' || position > highest) ? position : highest), 'start');
}

/** Every table belongs to one projection; two claiming one table cannot be verified apart. */
function tableOwners(projections: readonly Projection[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const projection of projections) {
    for (const table of projection.tables) {
      const other = owners.get(table);
      if (other !== undefined) throw new Error(`table ${table} is declared by both projections ${other} and ${projection.name}`);
      owners.set(table, projection.name);
    }
  }
  return owners;
}

/**
 * Reads the live checkpoints and copies the live rows within one snapshot, so that each table is
 * exactly what its projection's checkpoint says. The rows travel as JSON text through a cursor and are
 * inserted over another connection (jsonb_populate_recordset reads back exactly what to_jsonb wrote).
 */
async function snapshotLiveSide(
  knex: Knex,
  options: { liveSchema: string; snapshotSchema: string; tables: readonly string[]; projections: readonly Projection[]; signal: AbortSignal | undefined },
): Promise<Map<string, CheckpointRow>> {
  return knex.transaction(
    async (reader) => {
      const checkpoints = new Map<string, CheckpointRow>();
      for (const projection of options.projections) {
        checkpoints.set(projection.name, await readCheckpointRow(reader, options.liveSchema, projection.name));
      }
      for (const [i, table] of options.tables.entries()) {
        const cursor = quoteIdentifier(`verify_snapshot_${i}`);
        await reader.raw(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT to_jsonb(t.*)::text AS row FROM ${qualified(options.liveSchema, table)} t`);
        for (;;) {
          options.signal?.throwIfAborted();
          const chunk = await reader.raw<{ rows: Array<{ row: string }> }>(`FETCH ${COPY_CHUNK_ROWS} FROM ${cursor}`);
          if (chunk.rows.length === 0) break;
          const target = qualified(options.snapshotSchema, table);
          await knex.raw(`INSERT INTO ${target} SELECT * FROM jsonb_populate_recordset(NULL::${target}, ?::jsonb)`, [`[${chunk.rows.map((r) => r.row).join(',')}]`]);
        }
        await reader.raw(`CLOSE ${cursor}`);
      }
      return checkpoints;
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

async function primaryKey(knex: Knex, schema: string, table: string): Promise<string[]> {
  const result = await knex.raw<{ rows: Array<{ column: string }> }>(
    `SELECT a.attname AS column
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = ?::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [qualified(schema, table)],
  );
  return result.rows.map((row) => row.column);
}

async function compareTable(
  knex: Knex,
  options: { table: string; liveTable: string; rebuiltTable: string; key: readonly string[]; limit: number },
): Promise<{ counts: { liveRows: number; rebuiltRows: number; differingRows: number }; differences: RowDifference[] }> {
  const { liveTable, rebuiltTable, key, limit } = options;
  const sizes = await knex.raw<{ rows: Array<{ live_rows: string; rebuilt_rows: string }> }>(
    `SELECT (SELECT count(*) FROM ${liveTable}) AS live_rows, (SELECT count(*) FROM ${rebuiltTable}) AS rebuilt_rows`,
  );
  const liveRows = Number(sizes.rows[0]!.live_rows);
  const rebuiltRows = Number(sizes.rows[0]!.rebuilt_rows);

  if (key.length === 0) {
    // No primary key: rows compare as a multiset of JSON texts.
    const multiset = `WITH l AS (SELECT to_jsonb(x.*)::text AS row, count(*) AS n FROM ${liveTable} x GROUP BY 1),
                          r AS (SELECT to_jsonb(x.*)::text AS row, count(*) AS n FROM ${rebuiltTable} x GROUP BY 1)
                     SELECT coalesce(l.row, r.row) AS row, coalesce(l.n, 0) AS live_n, coalesce(r.n, 0) AS rebuilt_n
                       FROM l FULL JOIN r ON l.row = r.row WHERE l.n IS DISTINCT FROM r.n`;
    const counted = await knex.raw<{ rows: Array<{ n: string }> }>(`SELECT coalesce(sum(abs(live_n - rebuilt_n)), 0) AS n FROM (${multiset}) d`);
    const rows = await knex.raw<{ rows: Array<{ row: string; live_n: string; rebuilt_n: string }> }>(`${multiset} ORDER BY 1 LIMIT ${limit}`);
    return {
      counts: { liveRows, rebuiltRows, differingRows: Number(counted.rows[0]!.n) },
      differences: rows.rows.map((row) => {
        const value = JSON.parse(row.row) as Row;
        const moreLive = Number(row.live_n) > Number(row.rebuilt_n);
        return { table: options.table, key: null, live: moreLive ? value : null, rebuilt: moreLive ? null : value };
      }),
    };
  }

  const columns = key.map(quoteIdentifier).join(', ');
  const differing = `FROM ${liveTable} l FULL JOIN ${rebuiltTable} r USING (${columns})
                    WHERE to_jsonb(l.*)::text IS DISTINCT FROM to_jsonb(r.*)::text`;
  const counted = await knex.raw<{ rows: Array<{ n: string }> }>(`SELECT count(*) AS n ${differing}`);
  const keyObject = `jsonb_build_object(${key.map((column) => `'${column.replace(/'/g, "''")}', ${quoteIdentifier(column)}`).join(', ')})::text`;
  const rows = await knex.raw<{ rows: Array<{ key: string; live: string | null; rebuilt: string | null }> }>(
    `SELECT ${keyObject} AS key, to_jsonb(l.*)::text AS live, to_jsonb(r.*)::text AS rebuilt ${differing} ORDER BY ${columns} LIMIT ${limit}`,
  );
  return {
    counts: { liveRows, rebuiltRows, differingRows: Number(counted.rows[0]!.n) },
    differences: rows.rows.map((row) => ({
      table: options.table,
      key: JSON.parse(row.key) as Row,
      live: row.live === null ? null : (JSON.parse(row.live) as Row),
      rebuilt: row.rebuilt === null ? null : (JSON.parse(row.rebuilt) as Row),
    })),
  };
}
