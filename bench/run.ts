/**
 * `npm run bench`: reads the settings once (DATABASE_URL, BENCH_SCALE, NATS_URL), creates a throw-away
 * schema, runs every benchmark in sequence and prints each part's figures as a table on stdout, then a
 * summary of all figures against their targets. The event store parts come first; then the service, on
 * a schema of its own, is driven over HTTP (documents, accounts). Parts 5 and 6 run twice: as deployed
 * (the APIs in this process, the projectors in a child process, NATS between them), then with all three
 * parts in this process, which then serves parts 7 and 8. Progress
 * goes to stderr. A missed target is reported, not failed: the run exits 0 whenever the benchmarks
 * themselves ran.
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
import { accountSizes, measureAccounts, type AccountsResult } from './accounts.bench';
import { measureSync, type SyncFigures } from './sync.bench';
import { runGraphBench } from './graph.bench';
import { measureReminders, remindersTable } from './reminders.bench';
import { measureStorage, storageTable } from './storage.bench';
import { measureNotes, notesTable } from './notes.bench';
import { circlesTable, measureCircles } from './circles.bench';
import {
  DOCUMENT_CONCURRENCY,
  DOCUMENT_ROUNDS,
  DOCUMENT_WARMUP_ROUNDS,
  DocumentsSession,
  documentSizes,
  HISTORY_BATCH,
  measureEditLatencyByHistory,
  measureEditsAndReads,
  otherStatuses,
  type DocumentSizes,
  type EditSeries,
  type EditsAndReads,
  type HistoryResult,
  type ServiceComparison,
} from './documents.bench';
import { DOCUMENT_SNAPSHOTS } from '../command-api/documents/documents-routes';
import { BENCH_APPLICATION_NAME, withBenchSchema, type BenchSchema } from './support/bench-schema';
import { SERVICE_APPLICATION_NAMES, SERVICE_POOL_MAX, startService, withServiceSchema } from './support/bench-service';
import { startDeployedService } from './support/deployed-service';
import type { FixedConcurrencyResult } from './support/concurrency-runner';
import type { LatencySummary } from './support/latency-recorder';
import { LATE_AFTER_MS } from './support/rate-runner';
import { cpuBusyShare } from './support/machine-load';
import { ServerActivityMonitor, type ServerActivity } from './support/server-activity';
import { formatCount, formatMs, formatRatio, formatSeconds, renderTable, verdict } from './support/report';

const Settings = z.object({
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/test'),
  BENCH_SCALE: z.coerce.number().positive().max(100).default(1),
  /** Parts 5 and 6 also measure the service as deployed, its processes talking through this NATS server. */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
});
type Settings = z.infer<typeof Settings>;

const SINGLE_CONCURRENCIES = [1, 8, 32] as const;
const BATCH_CONCURRENCIES = [1, 8] as const;
const TARGET_RATIO = 0.5;
const TARGET_READ_PER_SECOND = 50_000;
const TARGET_PROJECTED_P99_MS = 50;
const TARGET_EDIT_RATIO = 0.6;
const TARGET_HISTORY_RATIO = 1.5;

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

/** Parts 5 and 6 on the service as deployed (projectors in a child process), or why they could not run. */
type DeployedFigures = EditsAndReads | { readonly unavailable: string };

interface ServiceFigures {
  readonly sizes: DocumentSizes;
  /** Parts 5 and 6 with the whole service in this process (not judged). */
  readonly edits: ServiceComparison;
  readonly reads: ServiceComparison;
  /** Parts 5 and 6 as deployed (judged). */
  readonly deployed: DeployedFigures;
  readonly history: HistoryResult;
  readonly accounts: AccountsResult;
  readonly activity: ServerActivity;
}

async function main(): Promise<void> {
  const settings = Settings.parse(process.env);
  const durations = benchDurations(settings.BENCH_SCALE);
  await withBenchSchema(settings.DATABASE_URL, async (db) => {
    print(await environment(db, settings));
    const store = await runAll(db, durations);
    const service = await runService(db, settings);
    const sync = await measureSync(db, settings.BENCH_SCALE, progress);
    print(syncTable(sync));
    print(summary(store, service, sync));
    print(await runGraphBench(db, settings.BENCH_SCALE, progress));
    print(notesTable(await measureNotes(db, settings.BENCH_SCALE, progress)));
    print(circlesTable(await measureCircles(db, settings.BENCH_SCALE, progress)));
    print(storageTable(await measureStorage(db, settings.BENCH_SCALE, progress)));
    print(remindersTable(await measureReminders(db, settings.BENCH_SCALE, progress)));
  });
}

async function runAll(db: BenchSchema, durations: BenchDurations): Promise<Figures> {
  const monitor = new ServerActivityMonitor(db.knex, [BENCH_APPLICATION_NAME]);
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
  // Section 3 just wrote a large log: let PostgreSQL flush it now, so that section 4 measures the steady
  // state rather than the write-back burst of our own bulk load (a real checkpoint can still fall inside).
  progress('checkpoint after the bulk load');
  await db.knex.raw('CHECKPOINT').catch(() => undefined);
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

// --- The service over HTTP ---------------------------------------------------------------------------

async function runService(db: BenchSchema, settings: Settings): Promise<ServiceFigures> {
  const monitor = new ServerActivityMonitor(db.knex, [BENCH_APPLICATION_NAME, ...SERVICE_APPLICATION_NAMES]);
  const parts = await withServiceSchema(db, (schema) => runServiceParts(db, schema, settings)).catch(async (error: unknown) => {
    await monitor.stop();
    throw error;
  });
  return { ...parts, activity: await monitor.stop() };
}

/**
 * Parts 5 and 6 run on two topologies of the service, on the same schema and documents: first as
 * deployed (the command and query APIs in this process, the projectors in a child process, NATS
 * between them), then with all three parts in this process, which stays up for parts 7 and 8.
 */
async function runServiceParts(db: BenchSchema, schema: string, settings: Settings): Promise<Omit<ServiceFigures, 'activity'>> {
  const scale = settings.BENCH_SCALE;
  const sizes = documentSizes(scale);
  let session: DocumentsSession | undefined;
  try {
    progress(`starting the service as deployed on schema ${schema}: command and query APIs here, projectors in a child process`);
    const deployed = await measureDeployed(db, schema, settings.NATS_URL, sizes, (opened) => (session = opened));
    progress(`starting the whole service in this process on schema ${schema}`);
    const main = await startService(db, schema);
    try {
      if (session) {
        session.moveTo(main);
      } else {
        progress(`signing up and creating ${formatCount(sizes.documents)} documents`);
        session = await DocumentsSession.open(main, sizes.documents);
      }
      const { edits, reads } = await measureEditsAndReads(db, main, session, sizes, { label: 'single process', progress });
      print(editsTable(edits, deployed, sizes));
      print(readsTable(reads, deployed, sizes));
      progress(`edit latency by history: writing ${formatCount(sizes.priorEdits)} edits, then sequential edits`);
      const history = await measureEditLatencyByHistory(db, schema, main, session, sizes);
      print(historyTable(history, sizes));
      progress('sign-up and log-in latency');
      const accounts = await measureAccounts(main, accountSizes(scale));
      print(accountsTable(accounts));
      return { sizes, edits, reads, deployed, history, accounts };
    } finally {
      await main.close();
    }
  } finally {
    session?.close();
  }
}

/** Parts 5 and 6 as deployed; the session (user, workspace, documents) is opened here and handed on. */
async function measureDeployed(
  db: BenchSchema,
  schema: string,
  natsUrl: string,
  sizes: DocumentSizes,
  opened: (session: DocumentsSession) => void,
): Promise<DeployedFigures> {
  const deployed = await startDeployedService(db, schema, natsUrl);
  if ('unavailable' in deployed) {
    progress(`the deployed topology is not measured: ${deployed.unavailable}`);
    return deployed;
  }
  try {
    const { api, projectors } = deployed;
    progress(`projector process pid ${projectors.pid}; signing up and creating ${formatCount(sizes.documents)} documents`);
    const session = await projectors.whileRunning(DocumentsSession.open(api, sizes.documents));
    opened(session);
    return await projectors.whileRunning(measureEditsAndReads(db, api, session, sizes, { label: 'deployed', progress, otherCpuMs: () => projectors.cpuMs() }));
  } finally {
    await deployed.close();
  }
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

function comparisonTitle(number: number, what: string, sizes: DocumentSizes): string {
  return (
    `${number}. ${what}, concurrency ${DOCUMENT_CONCURRENCY}, over ${formatCount(sizes.documents)} documents (${formatSeconds(sizes.measureMs)} each, interleaved in ` +
    `${DOCUMENT_ROUNDS} rounds, after ${DOCUMENT_WARMUP_ROUNDS} warm-up rounds of ${formatSeconds(sizes.warmupMs)} each, interleaved alike; keep-alive HTTP, ${DOCUMENT_CONCURRENCY} connections; pools of ${SERVICE_POOL_MAX})`
  );
}

/** How parts 5 and 6 name the two topologies of the service they measure. */
const DEPLOYED = 'deployed';
const SINGLE = 'single process';

const TOPOLOGY_NOTE =
  `${DEPLOYED} = as docker-compose.yml runs the service: the command and query APIs in this process, the projectors part (every projection, ` +
  "its reactors and workers) in a child process (node --import tsx projectors/main.ts, same schema and settings), NATS wake-ups between them; " +
  `${SINGLE} = all three parts in this process. In both, the load generator and the two baseline routes run in this process, and the baselines are measured again beside each`;

function statusNote(comparison: ServiceComparison, topology: string, service: string, baseline: string): string {
  return (
    `${topology}: only 200s count; other answers (warm-up included): ${service} ${otherStatuses(comparison.serviceStatuses, 200)}, ` +
    `CRUD ${baseline} ${otherStatuses(comparison.crudStatuses, 200)}, bare ${baseline} ${otherStatuses(comparison.baselineStatuses, 200)}`
  );
}

/** CPU time per counted request, settles included (see settled-rounds.ts): this process's, and the projector process's when there is one. */
function cpuPerRequest(result: ServiceComparison['service']): { here: number; projectors: number | undefined } {
  const items = Math.max(result.items, 1);
  return { here: result.processCpuMs / items, projectors: result.otherCpuMs === undefined ? undefined : result.otherCpuMs / items };
}

function cpuNote(comparison: ServiceComparison, topology: string, service: string, baseline: string): string {
  const here = (result: ServiceComparison['service']): string => formatMs(cpuPerRequest(result).here);
  const own = cpuPerRequest(comparison.service);
  if (own.projectors === undefined) {
    return (
      `${topology}: CPU of this process per request (server, client${service === 'PUT' ? ', projectors' : ''}): ` +
      `${service} ${here(comparison.service)} ms, CRUD ${baseline} ${here(comparison.crud)} ms, bare ${baseline} ${here(comparison.baseline)} ms`
    );
  }
  const idle = (result: ServiceComparison['service']): string => formatMs(cpuPerRequest(result).projectors ?? Number.NaN);
  return (
    `${topology}: CPU per ${service}: ${formatMs(own.here)} ms in this process (APIs, client) + ${formatMs(own.projectors)} ms in the projector process ` +
    `= ${formatMs(own.here + own.projectors)} ms; this process per CRUD ${baseline} ${here(comparison.crud)} ms, per bare ${baseline} ${here(comparison.baseline)} ms ` +
    `(the projector process meanwhile: ${idle(comparison.crud)} / ${idle(comparison.baseline)} ms per request)`
  );
}

/** Edits per second with the time the projections needed afterwards added to the measured time. */
function sustainedRate(result: ServiceComparison['service']): number {
  return (result.items * 1000) / (result.elapsedMs + result.totalSettleMs);
}

function catchUpNote(edits: ServiceComparison, topology: string): string {
  const sustained = sustainedRate(edits.service);
  return (
    `${topology}: every window starts and ends with every projection at the last position written; catching up after a PUT window took up to ` +
    `${formatMs(edits.service.maxSettleMs)} ms (${formatSeconds(edits.service.totalSettleMs)} over ${DOCUMENT_ROUNDS} windows). Counting that time: ` +
    `${formatCount(sustained)} PUT/s, ratio ${formatRatio(sustained / edits.crud.itemsPerSecond)} vs the CRUD route, ` +
    `${formatRatio(sustained / edits.baseline.itemsPerSecond)} vs the bare route`
  );
}

/** The service's rate over each baseline's: the CRUD route (like-for-like, the one judged) and the bare route. */
function comparisonRatios(comparison: ServiceComparison): { crud: number; bare: number } {
  return {
    crud: comparison.service.itemsPerSecond / comparison.crud.itemsPerSecond,
    bare: comparison.service.itemsPerSecond / comparison.baseline.itemsPerSecond,
  };
}

const CRUD_ROUTE_NOTE =
  "CRUD route = seed 000's design like-for-like: the service's own middleware (request context, tracing, pino-http, metrics, " +
  'bearer authentication with the same tokens, JSON body checks, zod), then one statement on a documents table; bare route = express.json and one statement';

/** Three rows for one topology; `judge`: the CRUD ratio is held against `target` (else printed, not judged). */
function comparisonRows(comparison: ServiceComparison, topology: string, service: string, statement: string, target: number | undefined, judge: boolean): string[][] {
  const ratios = comparisonRatios(comparison);
  const figures = (result: ServiceComparison['service']): string[] => [formatCount(result.itemsPerSecond), formatMs(result.latency.p50Ms), formatMs(result.latency.p99Ms)];
  const crudVerdict = target === undefined ? '(none)' : judge ? verdict(ratios.crud >= target) : '(not judged)';
  return [
    [topology, service, ...figures(comparison.service), '', ''],
    ['', `CRUD route: service middleware + one ${statement}`, ...figures(comparison.crud), formatRatio(ratios.crud), crudVerdict],
    ['', `bare route: express.json + one ${statement}`, ...figures(comparison.baseline), formatRatio(ratios.bare), target === undefined ? '' : '(not judged)'],
  ];
}

function notMeasuredRow(deployed: { readonly unavailable: string }): string[] {
  return [DEPLOYED, `not measured: ${deployed.unavailable}`, '', '', '', '', ''];
}

function editsTable(edits: ServiceComparison, deployed: DeployedFigures, sizes: DocumentSizes): string {
  const service = 'service PUT (If-Match, event append)';
  return renderTable({
    title: comparisonTitle(5, 'Document edits: PUT /api/documents/:id with If-Match vs two Express UPDATE routes, the service deployed and in one process', sizes),
    headers: ['topology', 'route', 'req/s', 'p50 ms', 'p99 ms', 'PUT/route ratio', `target >= ${TARGET_EDIT_RATIO}`],
    rows: [
      ...('unavailable' in deployed ? [notMeasuredRow(deployed)] : comparisonRows(deployed.edits, DEPLOYED, service, 'UPDATE', TARGET_EDIT_RATIO, true)),
      ...comparisonRows(edits, SINGLE, service, 'UPDATE', TARGET_EDIT_RATIO, false),
    ],
    notes: [
      "ratio = service PUTs/s / the route's UPDATEs/s (~1 KB markdown content each); the target is judged on the deployed topology against the CRUD route; " +
        'the single-process figure is printed beside it, not judged',
      TOPOLOGY_NOTE,
      CRUD_ROUTE_NOTE,
      ...('unavailable' in deployed ? [] : [statusNote(deployed.edits, DEPLOYED, 'PUT', 'UPDATE'), cpuNote(deployed.edits, DEPLOYED, 'PUT', 'UPDATE'), catchUpNote(deployed.edits, DEPLOYED)]),
      statusNote(edits, SINGLE, 'PUT', 'UPDATE'),
      cpuNote(edits, SINGLE, 'PUT', 'UPDATE'),
      catchUpNote(edits, SINGLE),
    ],
  });
}

function readsTable(reads: ServiceComparison, deployed: DeployedFigures, sizes: DocumentSizes): string {
  const service = 'service GET (read model, membership join)';
  return renderTable({
    title: comparisonTitle(6, 'Document reads: GET /api/documents/:id vs two Express SELECT routes, the service deployed and in one process', sizes),
    headers: ['topology', 'route', 'req/s', 'p50 ms', 'p99 ms', 'GET/route ratio', 'target'],
    rows: [
      ...('unavailable' in deployed ? [notMeasuredRow(deployed)] : comparisonRows(deployed.reads, DEPLOYED, service, 'SELECT', undefined, false)),
      ...comparisonRows(reads, SINGLE, service, 'SELECT', undefined, false),
    ],
    notes: [
      "ratio = service GETs/s / the route's SELECTs/s",
      TOPOLOGY_NOTE,
      CRUD_ROUTE_NOTE,
      ...('unavailable' in deployed ? [] : [statusNote(deployed.reads, DEPLOYED, 'GET', 'SELECT'), cpuNote(deployed.reads, DEPLOYED, 'GET', 'SELECT')]),
      statusNote(reads, SINGLE, 'GET', 'SELECT'),
      cpuNote(reads, SINGLE, 'GET', 'SELECT'),
    ],
  });
}

/**
 * History against no history under the same cache: warm against warm, cold against cold (the judged
 * pair). `coldToWarm` mixes the cache miss, which a fresh document pays too (`missCost`), into the
 * history figure; it is printed, not judged.
 */
function historyRatios(history: HistoryResult): { warm: number; cold: number; coldToWarm: number; missCost: number } {
  const freshWarm = history.freshWarm.latency.p50Ms;
  return {
    warm: history.longWarm.latency.p50Ms / freshWarm,
    cold: history.longCold.latency.p50Ms / history.freshCold.latency.p50Ms,
    coldToWarm: history.longCold.latency.p50Ms / freshWarm,
    missCost: history.freshCold.latency.p50Ms / freshWarm,
  };
}

function historyTable(history: HistoryResult, sizes: DocumentSizes): string {
  const ratios = historyRatios(history);
  const row = (series: EditSeries, ratio: string, target: string): string[] => [
    series.label,
    formatCount(series.historyAtStart),
    formatCount(series.latency.count),
    formatMs(series.latency.p50Ms),
    formatMs(series.latency.p99Ms),
    formatMs(series.meanMs),
    ratio,
    target,
  ];
  return renderTable({
    title:
      `7. Edit latency by history: sequential PUTs (concurrency 1), ${formatCount(sizes.sequentialEdits)} per series after ${formatCount(sizes.sequentialWarmup)} ` +
      `warm-up edits, one document per series, the four edited in rotating order; snapshots every ${DOCUMENT_SNAPSHOTS.every} events`,
    headers: ['series', 'events before', 'edits', 'p50 ms', 'p99 ms', 'mean ms', 'p50 / fresh, same cache', `target <= ${TARGET_HISTORY_RATIO}`],
    rows: [
      row(history.freshWarm, '1.000', ''),
      row(history.longWarm, formatRatio(ratios.warm), verdict(ratios.warm <= TARGET_HISTORY_RATIO)),
      row(history.freshCold, '1.000', ''),
      row(history.longCold, formatRatio(ratios.cold), verdict(ratios.cold <= TARGET_HISTORY_RATIO)),
    ],
    notes: [
      `cold: each edit goes to the other of two service instances than the last one (the second: command API only, same schema), so the instance's cached copy is one edit behind and it reads the snapshot and the events after it`,
      `each long document is compared with the fresh one under the same cache; the cache miss itself costs a fresh document ${formatRatio(ratios.missCost)} x its warm p50, ` +
        `and the long document's cold p50 is ${formatRatio(ratios.coldToWarm)} x the fresh warm p50 (judged until 2026-11-22, which charged the miss to the history)`,
      `the ${formatCount(history.priorEdits)} prior edits of each long document were appended straight to the event store as DocumentEdited events, ${HISTORY_BATCH} per append ` +
        `(both: ${formatSeconds(history.buildMs)}; projections caught up ${formatSeconds(history.catchUpMs)} later), then one PUT each made the first snapshot`,
      `first PUT after that, no snapshot yet (folds all ${formatCount(history.priorEdits + 1)} events, saves one): ${formatMs(history.firstEditWithoutSnapshotMs)} ms; ` +
        `second instance's first PUT (empty cache, snapshot + tail): ${formatMs(history.firstEditOnSecondInstanceMs)} ms`,
    ],
  });
}

function accountsTable(accounts: AccountsResult): string {
  const row = (what: string, endpoint: LatencySummary, alone: LatencySummary, call: string): string[] => [
    what,
    formatCount(endpoint.count),
    formatMs(endpoint.p50Ms),
    formatMs(endpoint.p99Ms),
    call,
    formatMs(alone.p50Ms),
    formatMs(alone.p99Ms),
    `${((alone.p50Ms / endpoint.p50Ms) * 100).toFixed(0)}%`,
  ];
  return renderTable({
    title: '8. Sign-up and log-in latency, one request at a time, next to the argon2id call alone (ARGON2_OPTIONS: 19 MiB, t=2, p=1)',
    headers: ['endpoint', 'requests', 'p50 ms', 'p99 ms', 'argon2 call', 'p50 ms', 'p99 ms', 'argon2 share of p50'],
    rows: [
      row('POST /api/auth/signup', accounts.signUp, accounts.hash, 'hash'),
      row('POST /api/auth/login', accounts.logIn, accounts.verify, 'verify'),
    ],
    notes: ['each request is followed by one argon2 call in this process; share = argon2 p50 / endpoint p50'],
  });
}

const TARGET_INITIAL_SYNC_MS = 20_000;
const TARGET_WAKE_UP_P99_MS = 50;

function syncTable(sync: SyncFigures): string {
  const latency = (summary: LatencySummary) => [formatMs(summary.p50Ms), formatMs(summary.p99Ms), formatMs(summary.maxMs)];
  return [
    renderTable({
      title: `9. Sync: initial sync of ${formatCount(sync.documents)} documents in pages of 500, over HTTP`,
      headers: ['documents', 'pages', 'time', 'documents/s', `target < ${formatSeconds(TARGET_INITIAL_SYNC_MS)} (100,000)`],
      rows: [[formatCount(sync.documents), formatCount(sync.pages), formatSeconds(sync.initialSyncMs), formatCount(sync.documents / (sync.initialSyncMs / 1000)), verdict(sync.initialSyncMs < TARGET_INITIAL_SYNC_MS)]],
      notes: [`the documents were appended to the log and projected first (${formatSeconds(sync.fillMs)}, not counted)`],
    }),
    renderTable({
      title: 'Incremental pulls (3 changes pending) and long-poll wake-ups',
      headers: ['measure', 'count', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [
        ['incremental pull', formatCount(sync.incremental.count), ...latency(sync.incremental)],
        ['wake-up after the write is acknowledged', formatCount(sync.wakeUp.count), ...latency(sync.wakeUp)],
        ['wake-up from sending the write', formatCount(sync.wakeUpFromSend.count), ...latency(sync.wakeUpFromSend)],
      ],
      notes: [
        'wake-up: a pull held with wait=30 answers after a PUT in its scope; measured from the PUT\'s 200 (the commit) to the held answer',
        `target: wake-up p99 < ${TARGET_WAKE_UP_P99_MS} ms`,
      ],
    }),
  ].join('\n');
}

function summary(figures: Figures, service: ServiceFigures, sync: SyncFigures): string {
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
      ...serviceSummaryRows(service, withTarget, noTarget),
      withTarget(`initial sync, ${formatCount(sync.documents)} documents`, formatSeconds(sync.initialSyncMs), `< ${formatSeconds(TARGET_INITIAL_SYNC_MS)}`, sync.initialSyncMs < TARGET_INITIAL_SYNC_MS),
      noTarget('incremental pull p50 / p99', `${formatMs(sync.incremental.p50Ms)} / ${formatMs(sync.incremental.p99Ms)} ms`),
      noTarget('long-poll wake-up p50', `${formatMs(sync.wakeUp.p50Ms)} ms`),
      withTarget('long-poll wake-up p99', `${formatMs(sync.wakeUp.p99Ms)} ms`, `< ${TARGET_WAKE_UP_P99_MS} ms`, sync.wakeUp.p99Ms < TARGET_WAKE_UP_P99_MS),
    ],
    notes: [`parts 1-4: ${activityNote(activity)}`, `parts 5-8, not counting this run's own service sessions: ${activityNote(service.activity)}`],
  });
}

function serviceSummaryRows(
  figures: ServiceFigures,
  withTarget: (figure: string, measured: string, target: string, met: boolean) => string[],
  noTarget: (figure: string, measured: string) => string[],
): string[][] {
  const { edits, reads, deployed, history, accounts } = figures;
  const rate = (comparison: ServiceComparison['service'], unit: string): string =>
    `${formatCount(comparison.itemsPerSecond)} ${unit} (${formatMs(comparison.latency.p50Ms)} / ${formatMs(comparison.latency.p99Ms)} ms)`;
  const editRatios = comparisonRatios(edits);
  const readRatios = comparisonRatios(reads);
  const ratios = historyRatios(history);
  const share = (alone: LatencySummary, endpoint: LatencySummary): string => `${((alone.p50Ms / endpoint.p50Ms) * 100).toFixed(0)}%`;
  const c = DOCUMENT_CONCURRENCY;
  const ratioText = (r: { crud: number; bare: number }): string => `${formatRatio(r.crud)} (bare route: ${formatRatio(r.bare)})`;
  const deployedRows = (): string[][] => {
    if ('unavailable' in deployed) {
      return [[`PUT / CRUD UPDATE route ratio, ${DEPLOYED}, c=${c}`, `not measured: ${deployed.unavailable}`, `>= ${TARGET_EDIT_RATIO}`, 'not measured']];
    }
    const deployedEdits = comparisonRatios(deployed.edits);
    const cpu = cpuPerRequest(deployed.edits.service);
    return [
      noTarget(`document PUT, ${DEPLOYED}, c=${c} (p50 / p99)`, rate(deployed.edits.service, 'req/s')),
      noTarget(`CRUD UPDATE route (service middleware), beside it`, rate(deployed.edits.crud, 'req/s')),
      noTarget(`bare UPDATE route, beside it`, rate(deployed.edits.baseline, 'req/s')),
      withTarget(`PUT / CRUD UPDATE route ratio, ${DEPLOYED}, c=${c}`, ratioText(deployedEdits), `>= ${TARGET_EDIT_RATIO}`, deployedEdits.crud >= TARGET_EDIT_RATIO),
      noTarget(
        `CPU per PUT, ${DEPLOYED}: APIs + client / projector process`,
        `${formatMs(cpu.here)} + ${formatMs(cpu.projectors ?? Number.NaN)} = ${formatMs(cpu.here + (cpu.projectors ?? Number.NaN))} ms`,
      ),
      noTarget(`projections' catch-up after a PUT window, ${DEPLOYED} (max)`, `${formatMs(deployed.edits.service.maxSettleMs)} ms`),
      noTarget(`document GET, ${DEPLOYED}, c=${c} (p50 / p99)`, rate(deployed.reads.service, 'req/s')),
      noTarget(`GET / CRUD SELECT route ratio, ${DEPLOYED}, c=${c}`, ratioText(comparisonRatios(deployed.reads))),
    ];
  };
  return [
    ...deployedRows(),
    noTarget(`document PUT, ${SINGLE}, c=${c} (p50 / p99)`, rate(edits.service, 'req/s')),
    noTarget(`CRUD UPDATE route (service middleware), beside it`, rate(edits.crud, 'req/s')),
    noTarget(`bare UPDATE route, beside it`, rate(edits.baseline, 'req/s')),
    noTarget(`PUT / CRUD UPDATE route ratio, ${SINGLE} (not judged)`, ratioText(editRatios)),
    noTarget(`projections' catch-up after a PUT window, ${SINGLE} (max)`, `${formatMs(edits.service.maxSettleMs)} ms`),
    noTarget(`document GET, ${SINGLE}, c=${c} (p50 / p99)`, rate(reads.service, 'req/s')),
    noTarget(`CRUD SELECT route (service middleware), beside it`, rate(reads.crud, 'req/s')),
    noTarget(`bare SELECT route, beside it`, rate(reads.baseline, 'req/s')),
    noTarget(`GET / CRUD SELECT route ratio, ${SINGLE}, c=${c}`, ratioText(readRatios)),
    noTarget('edit p50, fresh document', `${formatMs(history.freshWarm.latency.p50Ms)} ms`),
    withTarget(`edit p50 ${formatCount(history.priorEdits)}-edit / fresh, warm`, formatRatio(ratios.warm), `<= ${TARGET_HISTORY_RATIO}`, ratios.warm <= TARGET_HISTORY_RATIO),
    withTarget(`edit p50 ${formatCount(history.priorEdits)}-edit / fresh, cold`, formatRatio(ratios.cold), `<= ${TARGET_HISTORY_RATIO}`, ratios.cold <= TARGET_HISTORY_RATIO),
    noTarget(`edit p50 ${formatCount(history.priorEdits)}-edit cold / fresh warm (cache miss included)`, formatRatio(ratios.coldToWarm)),
    noTarget('sign-up p50 / p99', `${formatMs(accounts.signUp.p50Ms)} / ${formatMs(accounts.signUp.p99Ms)} ms`),
    noTarget('argon2 hash share of sign-up p50', share(accounts.hash, accounts.signUp)),
    noTarget('log-in p50 / p99', `${formatMs(accounts.logIn.p50Ms)} / ${formatMs(accounts.logIn.p99Ms)} ms`),
    noTarget('argon2 verify share of log-in p50', share(accounts.verify, accounts.logIn)),
  ];
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
