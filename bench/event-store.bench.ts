/**
 * The event store benchmarks, on the PostgreSQL adapter exactly as the application uses it: single
 * and batch appends (closed loop, fixed concurrency) next to a plain-INSERT baseline, a full read of
 * the global log, and append-to-projected latency under a steady open-loop load with a real
 * ProjectionRunner. Each function runs one measurement on a pool of its own and answers figures;
 * bench/run.ts decides the order and prints them.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import { performance } from 'node:perf_hooks';
import type { EventStore, LogPosition } from '../infra/event-store/event-store';
import { PostgresEventStore } from '../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../infra/logging/logger';
import { InProcessWakeups, type Wakeups } from '../infra/wakeups/wakeups';
import { moveCheckpoint } from '../projectors/runtime/checkpoints';
import { upsertIfNewer, type Projection } from '../projectors/runtime/projection';
import { ProjectionRunner } from '../projectors/runtime/projection-runner';
import type { BenchSchema } from './support/bench-schema';
import { runAtFixedConcurrency, runInterleaved, type FixedConcurrencyResult, type Operation } from './support/concurrency-runner';
import { documentEdited, documentEditedBatch, documentStream, EVENT_TYPE } from './support/fixtures';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { ProjectedLatencyTracker } from './support/projected-latency';
import { runAtFixedRate } from './support/rate-runner';

/** How long each part runs; everything scales with BENCH_SCALE. */
export interface BenchDurations {
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly minLogEvents: number;
  readonly projectedMs: number;
}

export function benchDurations(scale: number): BenchDurations {
  return {
    warmupMs: 1_000 * scale,
    measureMs: 5_000 * scale,
    minLogEvents: Math.round(100_000 * scale),
    projectedMs: 10_000 * scale,
  };
}

export const BATCH_SIZE = 100;
export const READ_PAGE_SIZE = 1_000;
export const PROJECTED_RATE_PER_SECOND = 500;
export const PROJECTED_MAX_IN_FLIGHT = 64;

function storeOn(pool: pg.Pool, wakeups: Wakeups = new InProcessWakeups()): EventStore {
  return new PostgresEventStore({ pool, wakeups });
}

// --- 1. Single-event appends and the plain-INSERT baseline ------------------------------------------

/** Rounds the measured time of the store/baseline comparison is split into (see runInterleaved). */
export const COMPARISON_ROUNDS = 5;

export interface SingleAppendComparison {
  readonly store: FixedConcurrencyResult;
  readonly baseline: FixedConcurrencyResult;
}

/** Single-event appends and plain INSERTs of the same event, interleaved, each on its own pool. */
export async function measureSingleAppendsAgainstBaseline(
  db: BenchSchema,
  concurrency: number,
  durations: BenchDurations,
): Promise<SingleAppendComparison> {
  return db.withPool(concurrency, (storePool) =>
    db.withPool(concurrency, async (baselinePool) => {
      const [store, baseline] = await runInterleaved({
        concurrency,
        warmupMs: durations.warmupMs,
        durationMs: durations.measureMs,
        rounds: COMPARISON_ROUNDS,
        workloads: [singleAppend(storeOn(storePool)), baselineInsert(baselinePool)],
      });
      return { store: store!, baseline: baseline! };
    }),
  );
}

function singleAppend(store: EventStore): Operation {
  return async () => {
    await store.append(documentStream(), [documentEdited()], { expectedRevision: 'no_stream' });
    return 1;
  };
}

export async function createBaselineTable(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE baseline_events (
      id uuid PRIMARY KEY,
      stream text,
      type text,
      data jsonb,
      metadata jsonb,
      created_at timestamptz DEFAULT now()
    )`);
}

/** The same event as an append, as one autocommitted INSERT (prepared, like the store's own call). */
function baselineInsert(pool: pg.Pool): Operation {
  return async () => {
    const event = documentEdited();
    await pool.query({
      name: 'baseline_insert',
      text: 'INSERT INTO baseline_events (id, stream, type, data, metadata) VALUES ($1, $2, $3, $4, $5)',
      values: [event.id, documentStream(), event.type, JSON.stringify(event.data), JSON.stringify(event.metadata)],
    });
    return 1;
  };
}

// --- 2. Batch appends -------------------------------------------------------------------------------

export async function measureBatchAppends(db: BenchSchema, concurrency: number, durations: BenchDurations): Promise<FixedConcurrencyResult> {
  return db.withPool(concurrency, (pool) => {
    const store = storeOn(pool);
    return runAtFixedConcurrency({
      concurrency,
      warmupMs: durations.warmupMs,
      durationMs: durations.measureMs,
      operation: async () => {
        await store.append(documentStream(), documentEditedBatch(BATCH_SIZE), { expectedRevision: 'no_stream' });
        return BATCH_SIZE;
      },
    });
  });
}

// --- 3. Reading the whole log -----------------------------------------------------------------------

export async function countEvents(knex: Knex): Promise<number> {
  const row = await knex('events').count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/** Adds batch appends until the log holds at least `minEvents`; answers how many events it added. */
export async function fillLog(db: BenchSchema, minEvents: number): Promise<number> {
  const missing = minEvents - (await countEvents(db.knex));
  if (missing <= 0) return 0;
  const batches = Math.ceil(missing / BATCH_SIZE);
  const concurrency = 8;
  await db.withPool(concurrency, async (pool) => {
    const store = storeOn(pool);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next++ < batches) await store.append(documentStream(), documentEditedBatch(BATCH_SIZE), { expectedRevision: 'no_stream' });
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  });
  return batches * BATCH_SIZE;
}

export interface ReadAllResult {
  readonly events: number;
  /** Events a reader could see when the read began: every one of them must have been read. */
  readonly visibleAtStart: number;
  readonly pages: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly pageLatency: LatencySummary;
}

async function countVisibleEvents(knex: Knex): Promise<number> {
  const result = await knex.raw<{ rows: { n: string }[] }>(
    'SELECT count(*) AS n FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())',
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** One reader paging through the whole log from the start, as a projection rebuild does. */
export async function measureReadAll(db: BenchSchema): Promise<ReadAllResult> {
  const visibleAtStart = await countVisibleEvents(db.knex);
  return db.withPool(1, async (pool) => {
    const store = storeOn(pool);
    const pageLatency = new LatencyRecorder();
    let events = 0;
    let from: LogPosition | 'start' = 'start';
    const begin = performance.now();
    for (;;) {
      const pageBegin = performance.now();
      const page = await store.readAll({ fromPosition: from, maxCount: READ_PAGE_SIZE });
      pageLatency.record(performance.now() - pageBegin);
      if (page.length === 0) break;
      events += page.length;
      from = page[page.length - 1]!.position;
    }
    const elapsedMs = performance.now() - begin;
    return {
      events,
      visibleAtStart,
      pages: pageLatency.count,
      elapsedMs,
      eventsPerSecond: (events * 1000) / elapsedMs,
      pageLatency: pageLatency.summary(),
    };
  });
}

// --- 4. Append-to-projected latency -----------------------------------------------------------------

const DOCUMENTS_TABLE = 'bench_documents';

/** The simplest real read model: one row per stream, revision-guarded. */
const documentsProjection: Projection = {
  name: 'bench_documents',
  handles: [EVENT_TYPE],
  tables: [DOCUMENTS_TABLE],
  apply: (event, sql) =>
    upsertIfNewer(sql, DOCUMENTS_TABLE, ['stream_id'], { stream_id: event.streamId, last_event_id: event.id, revision: event.streamRevision }),
};

export interface ProjectedResult {
  readonly appends: number;
  readonly elapsedMs: number;
  readonly appendsPerSecond: number;
  readonly projected: LatencySummary;
  readonly append: LatencySummary;
  /** Appends never seen projected within the drain time. */
  readonly unprojected: number;
  readonly lateStarts: number;
  readonly maxStartLagMs: number;
}

export async function measureAppendToProjected(db: BenchSchema, durations: BenchDurations): Promise<ProjectedResult> {
  await db.knex.raw(`CREATE TABLE ${DOCUMENTS_TABLE} (stream_id text PRIMARY KEY, last_event_id uuid NOT NULL, revision bigint NOT NULL)`);
  const wakeups = new InProcessWakeups();
  return db.withPool(PROJECTED_MAX_IN_FLIGHT, (appendPool) =>
    db.withPool(2, async (runnerPool) => {
      const store = storeOn(appendPool, wakeups);
      const runnerStore = storeOn(runnerPool, wakeups);
      await startProjectionAtHead(db.knex, runnerStore);
      const runner = new ProjectionRunner({ store: runnerStore, db: db.knex, projection: documentsProjection, wakeups, logger: silentLogger });
      runner.start();
      try {
        await appendAtSteadyRate(store, runner, durations.warmupMs);
        return await appendAtSteadyRate(store, runner, durations.projectedMs);
      } finally {
        await runner.stop();
        await wakeups.close();
      }
    }),
  );
}

/** The log already holds the earlier parts' events; the projection starts at its head, not at a rebuild. */
async function startProjectionAtHead(knex: Knex, store: EventStore): Promise<void> {
  const head = await store.headPosition();
  if (head === 'start') return;
  await knex.transaction((trx) => moveCheckpoint(trx, documentsProjection.name, 'start', head, 0));
}

async function appendAtSteadyRate(store: EventStore, runner: ProjectionRunner, durationMs: number): Promise<ProjectedResult> {
  const tracker = new ProjectedLatencyTracker(runner);
  const append = new LatencyRecorder();
  try {
    const run = await runAtFixedRate({
      ratePerSecond: PROJECTED_RATE_PER_SECOND,
      durationMs,
      maxInFlight: PROJECTED_MAX_IN_FLIGHT,
      operation: async () => {
        const startedAt = performance.now();
        const { position } = await store.append(documentStream(), [documentEdited()], { expectedRevision: 'no_stream' });
        append.record(performance.now() - startedAt);
        tracker.track(position, startedAt);
      },
    });
    const unprojected = await tracker.drain(10_000);
    return {
      appends: run.started,
      elapsedMs: run.elapsedMs,
      appendsPerSecond: (run.started * 1000) / run.elapsedMs,
      projected: tracker.latency.summary(),
      append: append.summary(),
      unprojected,
      lateStarts: run.lateStarts,
      maxStartLagMs: run.maxStartLagMs,
    };
  } finally {
    tracker.close();
  }
}
