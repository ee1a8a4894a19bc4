/**
 * `npm run bench`: reads the settings once (DATABASE_URL, BENCH_SCALE), creates a throw-away schema,
 * runs every benchmark in sequence and prints each part's figures as a table on stdout, then a summary
 * of all figures against their targets. Progress goes to stderr. A missed target is reported, not
 * failed: the run exits 0 whenever the benchmarks themselves ran.
 */
import os from 'node:os';
import { z } from 'zod';
import {
  BATCH_SIZE,
  benchDurations,
  countEvents,
  createBaselineTable,
  fillLog,
  measureAppendToProjected,
  COMPARISON_ROUNDS,
  measureBatchAppends,
  measureReadAll,
  measureSingleAppendsAgainstBaseline,
  PROJECTED_MAX_IN_FLIGHT,
  PROJECTED_RATE_PER_SECOND,
  READ_PAGE_SIZE,
  type BenchDurations,
  type ProjectedResult,
  type ReadAllResult,
} from './event-store.bench';
import { BENCH_APPLICATION_NAME, withBenchSchema, type BenchSchema } from './support/bench-schema';
import type { FixedConcurrencyResult } from './support/concurrency-runner';
import { LATE_AFTER_MS } from './support/rate-runner';
import { cpuBusyShare } from './support/machine-load';
import { ServerActivityMonitor, type ServerActivity } from './support/server-activity';
import { formatCount, formatMs, formatRatio, formatSeconds, renderTable, verdict } from './support/report';

const Settings = z.object({
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/test'),
  BENCH_SCALE: z.coerce.number().positive().max(100).default(1),
});
type Settings = z.infer<typeof Settings>;

const SINGLE_CONCURRENCIES = [1, 8, 32] as const;
const BATCH_CONCURRENCIES = [1, 8] as const;
const TARGET_RATIO = 0.5;
const TARGET_READ_PER_SECOND = 50_000;
const TARGET_PROJECTED_P99_MS = 50;

interface SingleAppendFigures {
  readonly concurrency: number;
  readonly store: FixedConcurrencyResult;
  readonly baseline: FixedConcurrencyResult;
}

interface Figures {
  readonly single: readonly SingleAppendFigures[];
  readonly batch: readonly { readonly concurrency: number; readonly result: FixedConcurrencyResult }[];
  readonly read: ReadAllResult;
  readonly projected: ProjectedResult;
  readonly activity: ServerActivity;
}

async function main(): Promise<void> {
  const settings = Settings.parse(process.env);
  const durations = benchDurations(settings.BENCH_SCALE);
  await withBenchSchema(settings.DATABASE_URL, async (db) => {
    print(await environment(db, settings));
    print(summary(await runAll(db, durations)));
  });
}

async function runAll(db: BenchSchema, durations: BenchDurations): Promise<Figures> {
  const monitor = new ServerActivityMonitor(db.knex, BENCH_APPLICATION_NAME);
  const parts = await runEach(db, durations).catch(async (error: unknown) => {
    await monitor.stop(); // it samples through the schema's knex, which is about to be destroyed
    throw error;
  });
  return { ...parts, activity: await monitor.stop() };
}

async function runEach(db: BenchSchema, durations: BenchDurations): Promise<Omit<Figures, 'activity'>> {
  const single = await runSingleAppends(db, durations);
  print(singleAppendTable(single, durations));
  const batch = await runBatchAppends(db, durations);
  print(batchAppendTable(batch, durations));
  const read = await runReadAll(db, durations);
  print(readAllTable(read));
  progress('append-to-projected latency');
  const projected = await measureAppendToProjected(db, durations);
  print(projectedTable(projected, durations));
  return { single, batch, read, projected };
}

async function runSingleAppends(db: BenchSchema, durations: BenchDurations): Promise<SingleAppendFigures[]> {
  await createBaselineTable(db.knex);
  const figures: SingleAppendFigures[] = [];
  for (const concurrency of SINGLE_CONCURRENCIES) {
    progress(`single appends and baseline INSERTs, concurrency ${concurrency}`);
    figures.push({ concurrency, ...(await measureSingleAppendsAgainstBaseline(db, concurrency, durations)) });
  }
  return figures;
}

async function runBatchAppends(db: BenchSchema, durations: BenchDurations): Promise<Figures['batch']> {
  const figures: { concurrency: number; result: FixedConcurrencyResult }[] = [];
  for (const concurrency of BATCH_CONCURRENCIES) {
    progress(`${BATCH_SIZE}-event batch appends, concurrency ${concurrency}`);
    figures.push({ concurrency, result: await measureBatchAppends(db, concurrency, durations) });
  }
  return figures;
}

async function runReadAll(db: BenchSchema, durations: BenchDurations): Promise<ReadAllResult> {
  progress(`filling the log to ${formatCount(durations.minLogEvents)} events`);
  const added = await fillLog(db, durations.minLogEvents);
  progress(`reading the whole log (${formatCount(await countEvents(db.knex))} events; ${formatCount(added)} added to fill it)`);
  return measureReadAll(db);
}

// --- Tables -----------------------------------------------------------------------------------------

async function environment(db: BenchSchema, settings: Settings): Promise<string> {
  const version = await db.knex.raw<{ rows: { server_version: string }[] }>('SHOW server_version');
  const syncCommit = await db.knex.raw<{ rows: { synchronous_commit: string }[] }>('SHOW synchronous_commit');
  const memoryGiB = os.totalmem() / 1024 ** 3;
  const busy = await cpuBusyShare(1_000);
  return [
    `Event store benchmark (${new Date().toISOString()})`,
    `  machine: ${os.cpus().length} cores, ${memoryGiB.toFixed(1)} GiB; Node ${process.version}`,
    `  PostgreSQL ${version.rows[0]?.server_version ?? '?'} (synchronous_commit=${syncCommit.rows[0]?.synchronous_commit ?? '?'}), schema ${db.schema}`,
    `  CPU busy before the start: ${(busy * 100).toFixed(0)}% of all cores${busy > 0.2 ? ' (the machine is not idle: expect lower figures)' : ''}`,
    `  BENCH_SCALE=${settings.BENCH_SCALE}`,
    '',
  ].join('\n');
}

function singleAppendTable(figures: readonly SingleAppendFigures[], durations: BenchDurations): string {
  return renderTable({
    title:
      `1. Single-event appends to distinct streams vs plain INSERT (${formatSeconds(durations.measureMs)} each after ` +
      `${formatSeconds(durations.warmupMs)} warm-up, interleaved in ${COMPARISON_ROUNDS} rounds; pool = concurrency)`,
    headers: ['concurrency', 'store ev/s', 'p50 ms', 'p99 ms', 'INSERT ev/s', 'p50 ms', 'p99 ms', 'ratio', `target >= ${TARGET_RATIO}`],
    rows: figures.map(({ concurrency, store, baseline }) => {
      const ratio = store.itemsPerSecond / baseline.itemsPerSecond;
      return [
        String(concurrency),
        formatCount(store.itemsPerSecond),
        formatMs(store.latency.p50Ms),
        formatMs(store.latency.p99Ms),
        formatCount(baseline.itemsPerSecond),
        formatMs(baseline.latency.p50Ms),
        formatMs(baseline.latency.p99Ms),
        formatRatio(ratio),
        concurrency === 1 ? '(none)' : verdict(ratio >= TARGET_RATIO),
      ];
    }),
    notes: ['ratio = store events/s / INSERT events/s at the same concurrency'],
  });
}

function batchAppendTable(figures: Figures['batch'], durations: BenchDurations): string {
  return renderTable({
    title: `2. ${BATCH_SIZE}-event batch appends, one call per batch, distinct streams (${formatSeconds(durations.measureMs)} each)`,
    headers: ['concurrency', 'events/s', 'appends/s', 'p50 ms', 'p99 ms'],
    rows: figures.map(({ concurrency, result }) => [
      String(concurrency),
      formatCount(result.itemsPerSecond),
      formatCount((result.operations * 1000) / result.elapsedMs),
      formatMs(result.latency.p50Ms),
      formatMs(result.latency.p99Ms),
    ]),
  });
}

function readAllTable(read: ReadAllResult): string {
  return renderTable({
    title: `3. Reading the whole log from the start with readAll, pages of ${formatCount(READ_PAGE_SIZE)}`,
    headers: ['events read', 'visible at start', 'complete', 'pages', 'time', 'events/s', 'page p50 ms', 'page p99 ms', `target >= ${formatCount(TARGET_READ_PER_SECOND)}/s`],
    rows: [
      [
        formatCount(read.events),
        formatCount(read.visibleAtStart),
        completeness(read),
        formatCount(read.pages),
        formatSeconds(read.elapsedMs),
        formatCount(read.eventsPerSecond),
        formatMs(read.pageLatency.p50Ms),
        formatMs(read.pageLatency.p99Ms),
        verdict(read.eventsPerSecond >= TARGET_READ_PER_SECOND),
      ],
    ],
    notes: ['complete: every event visible when the read began was read (fewer means the reader skipped events)'],
  });
}

function completeness(read: ReadAllResult): string {
  const skipped = read.visibleAtStart - read.events;
  return skipped <= 0 ? 'yes' : `NO: ${formatCount(skipped)} skipped`;
}

function projectedTable(projected: ProjectedResult, durations: BenchDurations): string {
  return renderTable({
    title: `4. Append-to-projected latency, open loop at ${PROJECTED_RATE_PER_SECOND} appends/s for ${formatSeconds(durations.projectedMs)} (max ${PROJECTED_MAX_IN_FLIGHT} in flight)`,
    headers: ['appends', 'appends/s', 'append p50', 'append p99', 'projected p50', 'projected p99', 'max', `target p99 < ${TARGET_PROJECTED_P99_MS} ms`],
    rows: [
      [
        formatCount(projected.appends),
        formatCount(projected.appendsPerSecond),
        formatMs(projected.append.p50Ms),
        formatMs(projected.append.p99Ms),
        formatMs(projected.projected.p50Ms),
        formatMs(projected.projected.p99Ms),
        formatMs(projected.projected.maxMs),
        verdict(projected.projected.p99Ms < TARGET_PROJECTED_P99_MS && projected.unprojected === 0),
      ],
    ],
    notes: [
      'latencies in ms, measured from calling append to the runner committing a checkpoint at or past its position',
      `starts more than ${LATE_AFTER_MS} ms behind schedule: ${formatCount(projected.lateStarts)} (max lag ${formatMs(projected.maxStartLagMs)} ms); never projected: ${formatCount(projected.unprojected)}`,
    ],
  });
}

function summary(figures: Figures): string {
  const ratioAt = (concurrency: number): number => {
    const row = figures.single.find((f) => f.concurrency === concurrency);
    return row ? row.store.itemsPerSecond / row.baseline.itemsPerSecond : Number.NaN;
  };
  const withTarget = (figure: string, measured: string, target: string, met: boolean): string[] => [figure, measured, target, verdict(met)];
  const noTarget = (figure: string, measured: string): string[] => [figure, measured, '', ''];
  const { read, projected, activity } = figures;
  return renderTable({
    title: 'Summary',
    headers: ['figure', 'measured', 'target', ''],
    rows: [
      ...figures.single.map((f) => noTarget(`single append, c=${f.concurrency}`, `${formatCount(f.store.itemsPerSecond)} ev/s`)),
      ...figures.single.map((f) => noTarget(`plain INSERT, c=${f.concurrency}`, `${formatCount(f.baseline.itemsPerSecond)} ev/s`)),
      noTarget('store/INSERT ratio, c=1', formatRatio(ratioAt(1))),
      withTarget('store/INSERT ratio, c=8', formatRatio(ratioAt(8)), `>= ${TARGET_RATIO}`, ratioAt(8) >= TARGET_RATIO),
      withTarget('store/INSERT ratio, c=32', formatRatio(ratioAt(32)), `>= ${TARGET_RATIO}`, ratioAt(32) >= TARGET_RATIO),
      ...figures.batch.map((f) => noTarget(`${BATCH_SIZE}-event batch append, c=${f.concurrency}`, `${formatCount(f.result.itemsPerSecond)} ev/s`)),
      withTarget('readAll, whole log', `${formatCount(read.eventsPerSecond)} ev/s`, `>= ${formatCount(TARGET_READ_PER_SECOND)} ev/s`, read.eventsPerSecond >= TARGET_READ_PER_SECOND),
      withTarget('readAll, events read', `${formatCount(read.events)} of ${formatCount(read.visibleAtStart)}`, 'all visible', read.events >= read.visibleAtStart),
      noTarget('append-to-projected p50', `${formatMs(projected.projected.p50Ms)} ms`),
      withTarget(
        'append-to-projected p99',
        `${formatMs(projected.projected.p99Ms)} ms`,
        `< ${TARGET_PROJECTED_P99_MS} ms`,
        projected.projected.p99Ms < TARGET_PROJECTED_P99_MS && projected.unprojected === 0,
      ),
    ],
    notes: [activityNote(activity)],
  });
}

function activityNote(activity: ServerActivity): string {
  if (activity.busySamples === 0) return `other sessions on the server: none seen (${activity.samples} one-second samples)`;
  return (
    `other sessions on the server were busy in ${activity.busySamples} of ${activity.samples} one-second samples ` +
    `(up to ${activity.maxOtherSessions} at once; longest open transaction ${formatMs(activity.longestOtherTransactionMs)} ms): ` +
    'they share the CPU, and their open transactions hold back log readers'
  );
}

// --- Output -----------------------------------------------------------------------------------------

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function progress(step: string): void {
  process.stderr.write(`... ${step}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
