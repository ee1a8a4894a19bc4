/**
 * `npm run test:faults`: the fault-injection suite. Starts a private PostgreSQL cluster (behind a TCP
 * proxy that can drop and stall connections) and a private NATS, runs the service's three real
 * processes against them, drives a steady mixed load, and meanwhile, in turn: SIGKILLs and restarts the
 * command API, SIGKILLs and restarts the projectors, restarts PostgreSQL, stops NATS for a while, drops
 * every database connection, stalls them, and crashes PostgreSQL (immediate shutdown). Then it checks the history against the log, the read
 * models against a replay, and every sync client against the server (checker.ts), prints a report,
 * and exits 0 only when no anomaly was found.
 *
 * Knobs (environment): FAULT_ROUNDS (default 2), FAULT_GAP_MS (pause between faults, default 6000),
 * FAULT_ACTORS (default 6), FAULT_KEEP_LOGS=1 (keep the processes' logs even when all is well).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from '../../infra/cli/cli';
import { LogPosition } from '../../infra/event-store/log-position';
import { checkLog, checkReadYourWrites, compareReplicas, type Anomaly } from './checker';
import { freePort } from './ports';
import { PrivateNats } from './private-nats';
import { PrivatePostgres } from './private-postgres';
import { ServiceProcess, type UnexpectedExit } from './service-processes';
import { FaultyProxy } from './tcp-proxy';
import { Workload, type Operation } from './workload';

const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 2);
const GAP_MS = Number(process.env.FAULT_GAP_MS ?? 6_000);
const ACTORS = Number(process.env.FAULT_ACTORS ?? 6);
const OVERALL_LIMIT_MS = 12 * 60_000;
const SCHEMA = 'faults';

interface InjectedFault {
  readonly name: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly detail?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const began = Date.now();
  const logDirectory = mkdtempSync(join(tmpdir(), 'scriptorium-faults-logs-'));
  const anomalies: Anomaly[] = [];
  const exits: UnexpectedExit[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  const say = (text: string) => process.stdout.write(`[faults ${seconds(Date.now() - began).padStart(7)}] ${text}\n`);

  try {
    const postgres = await PrivatePostgres.start();
    cleanups.unshift(() => postgres.stop());
    const nats = await PrivateNats.start();
    cleanups.unshift(() => nats.stop());
    const proxy = await FaultyProxy.start(postgres.port);
    cleanups.unshift(() => proxy.close());
    say(`private PostgreSQL on ${postgres.port} (proxy ${proxy.port}), private NATS on ${nats.port}; logs in ${logDirectory}`);

    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
      DATABASE_SCHEMA: SCHEMA,
      DATABASE_POOL_MAX: '6',
      NATS_URL: nats.url,
      NATS_SUBJECT_PREFIX: 'faults',
      LOG_LEVEL: 'info',
      TRACES_EXPORTER: 'none',
      RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: '1000000',
      RATE_LIMIT_LOGIN_FAILURES_PER_IP: '1000000',
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      // A request killed with its process holds its Idempotency-Key this long before a retry may take it over.
      IDEMPOTENCY_LOCK_TIMEOUT_MS: '3000',
    };
    const onExit = (exit: UnexpectedExit) => {
      exits.push(exit);
      say(`ANOMALY: ${exit.part} exited by itself (code ${exit.code}, signal ${exit.signal}); restarting it`);
    };
    const commandApi = new ServiceProcess('command-api', env, logDirectory, onExit, await freePort());
    const queryApi = new ServiceProcess('query-api', env, logDirectory, onExit, await freePort());
    const projectors = new ServiceProcess('projectors', env, logDirectory, onExit);
    const parts = [commandApi, queryApi, projectors];
    cleanups.unshift(() => Promise.all(parts.map((part) => part.stop())));
    await commandApi.start(); // migrates the schema first, alone
    await Promise.all([queryApi.start(), projectors.start()]);
    say('command API, query API and projectors are up');

    const workload = new Workload({ commandUrl: commandApi.url, queryUrl: queryApi.url, actors: ACTORS, pauseMs: 150, retryForMs: 45_000 });
    await workload.setUp();
    workload.start();
    say(`load running: ${ACTORS} users`);
    await sleep(GAP_MS);

    const faults: Array<{ name: string; inject: () => Promise<string | void> }> = [
      { name: 'SIGKILL the command API, restart it', inject: async () => (await commandApi.kill(), await commandApi.start()) },
      { name: 'SIGKILL the projectors, restart them', inject: async () => (await projectors.kill(), await projectors.start()) },
      { name: 'restart PostgreSQL (fast shutdown)', inject: () => postgres.restart('fast') },
      { name: 'stop NATS for 6 s, start it again', inject: async () => (await nats.pause(), await sleep(6_000), await nats.resume()) },
      { name: 'drop every database connection (proxy)', inject: async () => `${proxy.drop()} connections cut` },
      { name: 'stall every database connection for 4 s (proxy)', inject: () => proxy.stall(4_000) },
      { name: 'crash PostgreSQL (immediate shutdown, WAL recovery on start)', inject: () => postgres.restart('immediate') },
    ];
    const injected: InjectedFault[] = [];
    // FAULT_ONLY=3,5 injects only those faults (1-based), for chasing one problem.
    const only = process.env.FAULT_ONLY?.split(',').map(Number);
    const chosen = only ? faults.filter((_, index) => only.includes(index + 1)) : faults;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const fault of chosen) {
        const startedAt = Date.now();
        const detail = (await fault.inject()) ?? undefined;
        injected.push({ name: fault.name, startedAt, endedAt: Date.now(), ...(detail ? { detail } : {}) });
        say(`fault ${injected.length}: ${fault.name}${detail ? ` (${detail})` : ''}, took ${seconds(Date.now() - startedAt)}`);
        await sleep(GAP_MS);
      }
    }
    await workload.stop();
    say(`load stopped: ${workload.operations.length} operations recorded`);

    // ---- quiesce, then check ----
    const direct = new pg.Client({ connectionString: postgres.url });
    await direct.connect();
    cleanups.unshift(() => direct.end());
    const caughtUp = await waitUntil(async () => (await projectionsBehind(direct)).length === 0, 60_000, 'every projection to reach the head of the log').then(
      () => true,
      () => false,
    );
    if (!caughtUp) anomalies.push({ check: 'projections-catch-up', detail: `60 s after the load stopped: ${(await projectionsBehind(direct)).join('; ')}` });

    const logSummary = await checkLog(direct, SCHEMA, workload.operations, anomalies);
    say(`log: ${logSummary.events} events; ${logSummary.acked} acknowledged writes checked (${logSummary.checkedTokens} consistency tokens)`);

    const verify = await verifyReadModels(postgres.url);
    if (!verify.equal) anomalies.push({ check: 'read-models-equal-replay', detail: verify.summary });
    say(`read models: ${verify.summary}`);

    await workload.drainReplicas();
    let entities = 0;
    for (let i = 0; i < workload.actors.length; i++) {
      const fresh = await workload.freshReplica(i);
      entities += compareReplicas(workload.actors[i]!.name, workload.actors[i]!.replica, fresh, anomalies);
    }
    const documentsChecked = await checkDocumentsAgainstServer(workload, queryApi.url, anomalies);
    say(`sync: ${workload.actors.length} clients, ${entities} entities compared, ${documentsChecked} documents equal to the query API's`);

    checkReadYourWrites(workload.readChecks, anomalies);
    for (const part of [commandApi, queryApi]) {
      const ready = await waitUntil(() => isReadyAndLive(part.url), 30_000, `${part.part} to be ready with live wake-ups`).then(() => true, () => false);
      if (!ready) anomalies.push({ check: 'recovered-without-restart', detail: `${part.part} is not ready with live wake-ups 30 s after the last fault` });
    }
    for (const exit of exits) anomalies.push({ check: 'no-manual-restart', detail: `${exit.part} exited by itself at ${exit.at} (code ${exit.code}, signal ${exit.signal}):\n${exit.logTail}` });

    printReport({ injected, operations: workload.operations, workload, parts, anomalies, logSummary, elapsedMs: Date.now() - began });
    const keep = anomalies.length > 0 || process.env.FAULT_KEEP_LOGS === '1';
    if (keep) say(`the processes' logs are kept in ${logDirectory}`);
    else cleanups.push(async () => rmSync(logDirectory, { recursive: true, force: true }));
    return anomalies.length === 0 ? 0 : 1;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => say(`cleanup failed: ${String(error)}`));
  }
}

/** The projections whose checkpoint is not the head of the log, described; empty when all are there. */
async function projectionsBehind(client: pg.Client): Promise<string[]> {
  const last = await client.query<{ transaction_id: string; global_position: string }>(
    `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position FROM ${SCHEMA}.events ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`,
  );
  const head = last.rows[0];
  if (!head) return [];
  const headPosition = LogPosition.of(BigInt(head.transaction_id), BigInt(head.global_position));
  // The projections the projectors process runs each keep a checkpoint row. (The registry is not read
  // here: in a checkout being edited it may name a projection the running process did not load.)
  const { rows } = await client.query<{ projection: string; position: string | null; last_error: string | null }>(
    `SELECT projection, position, last_error FROM ${SCHEMA}.projection_checkpoints ORDER BY projection`,
  );
  if (rows.length === 0) return ['no projection has a checkpoint'];
  return rows
    .filter((row) => row.position !== headPosition)
    .map((row) => `${row.projection} at ${row.position} (head ${headPosition})${row.last_error ? `, last error: ${row.last_error}` : ''}`);
}

async function verifyReadModels(url: string): Promise<{ equal: boolean; summary: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['verify', '--json'], {
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    env: { DATABASE_URL: url, DATABASE_SCHEMA: SCHEMA, LOG_LEVEL: 'silent' },
  });
  if (code === 2) return { equal: false, summary: `verify failed: ${stderr.trim().slice(0, 500)}` };
  const report = JSON.parse(stdout) as { equal: boolean; tables: Array<{ table: string; liveRows: number; differingRows: number }>; differences: unknown[] };
  const rows = report.tables.reduce((sum, table) => sum + table.liveRows, 0);
  return report.equal
    ? { equal: true, summary: `verify: equal to a fresh replay (${report.tables.length} tables, ${rows} rows)` }
    : { equal: false, summary: `verify: ${report.differences.length} differences, first: ${JSON.stringify(report.differences.slice(0, 3)).slice(0, 800)}` };
}

/** Every document a client holds is the one the query API serves, and every live document of its workspaces is held. */
async function checkDocumentsAgainstServer(workload: Workload, queryUrl: string, anomalies: Anomaly[]): Promise<number> {
  let checked = 0;
  for (const actor of workload.actors) {
    const held = actor.replica.documents();
    const workspaces = [...actor.replica.entities.values()].filter((change) => change.entity === 'workspace').map((change) => change.id);
    const served = new Set<string>();
    for (const workspaceId of workspaces) {
      let cursor: string | undefined;
      do {
        const query = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
        const res = await fetch(`${queryUrl}/api/workspaces/${workspaceId}/documents?${query}`, { headers: actor.auth });
        if (res.status !== 200) {
          anomalies.push({ check: 'sync-converges', detail: `${actor.name}: listing workspace ${workspaceId} answered ${res.status}` });
          break;
        }
        const page = (await res.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
        for (const item of page.items) served.add(item.id);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    for (const id of served) if (!held.has(id)) anomalies.push({ check: 'sync-converges', detail: `${actor.name}: document ${id} is served but missing from the client` });
    for (const [id, doc] of held) {
      if (!served.has(id)) anomalies.push({ check: 'sync-converges', detail: `${actor.name}: the client holds document ${id}, which the server does not list` });
      const res = await fetch(`${queryUrl}/api/documents/${id}`, { headers: actor.auth });
      const body = res.status === 200 ? ((await res.json()) as { title: string; content: string; revision: number }) : undefined;
      checked++;
      if (!body || body.title !== doc.title || body.content !== doc.content || body.revision !== doc.revision) {
        anomalies.push({ check: 'sync-converges', detail: `${actor.name}: document ${id} is revision ${doc.revision} on the client, ${body ? `revision ${body.revision}` : res.status} on the server` });
      }
    }
  }
  return checked;
}

async function isReadyAndLive(url: string): Promise<boolean> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (res?.status !== 200) return false;
  const body = (await res.json()) as { wakeups?: string };
  return body.wakeups === 'live';
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (await check().catch((error: unknown) => ((lastError = error), false))) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(200);
  }
}

function printReport(run: {
  injected: readonly InjectedFault[];
  operations: readonly Operation[];
  workload: Workload;
  parts: readonly ServiceProcess[];
  anomalies: readonly Anomaly[];
  logSummary: { events: number; uncorrelatedEvents: number };
  elapsedMs: number;
}): void {
  const { injected, operations, workload, parts, anomalies } = run;
  const count = (predicate: (op: Operation) => boolean) => operations.filter(predicate).length;
  const attempts = operations.reduce((sum, op) => sum + op.attempts.length, 0);
  const serverErrors = operations.flatMap((op) => op.attempts.filter((a) => (a.status ?? 0) >= 500)).map((a) => `${a.status}${a.code ? ` ${a.code}` : ''}`);
  const serverErrorKinds = [...new Set(serverErrors)].map((kind) => `${serverErrors.filter((other) => other === kind).length}x ${kind}`).join(', ');
  const noAnswer = operations.reduce((sum, op) => sum + op.attempts.filter((a) => a.error !== undefined).length, 0);
  const byKind = new Map<string, number>();
  for (const op of operations) byKind.set(op.kind, (byKind.get(op.kind) ?? 0) + 1);

  const lines: string[] = [];
  lines.push('', '==== fault suite report ====');
  lines.push(`duration ${seconds(run.elapsedMs)}; faults injected: ${injected.length}`);
  for (const fault of injected) {
    const recovery = operations
      .filter((op) => op.outcome === 'acked' && op.settledAt !== undefined && op.settledAt >= fault.endedAt)
      .reduce((first, op) => Math.min(first, op.settledAt!), Number.POSITIVE_INFINITY);
    const after = Number.isFinite(recovery) ? `next acknowledged write ${seconds(recovery - fault.endedAt)} after` : 'no acknowledged write after it';
    lines.push(`  - ${fault.name}${fault.detail ? ` (${fault.detail})` : ''}: took ${seconds(fault.endedAt - fault.startedAt)}; ${after}`);
  }
  lines.push(`operations recorded: ${operations.length} (${[...byKind].map(([kind, n]) => `${kind} ${n}`).join(', ')})`);
  lines.push(
    `  outcomes: acknowledged ${count((op) => op.outcome === 'acked')}, refused ${count((op) => op.outcome === 'rejected')}, refused after a lost answer ${count((op) => op.outcome === 'ambiguous')}, never answered ${count((op) => op.outcome === 'unknown')}`,
  );
  const refusals = operations.filter((op) => op.outcome === 'rejected' || op.outcome === 'ambiguous').map((op) => `${op.status} ${op.attempts[op.attempts.length - 1]?.code ?? ''}`.trim());
  if (refusals.length > 0) lines.push(`  refusals: ${[...new Set(refusals)].map((kind) => `${refusals.filter((other) => other === kind).length}x ${kind}`).join(', ')}`);
  lines.push(`  attempts ${attempts} (retries ${attempts - operations.length}; 5xx answers ${serverErrors.length}${serverErrorKinds ? ` (${serverErrorKinds})` : ''}; no answer ${noAnswer})`);
  lines.push(`  sync pulls ${workload.pulls} (failed, then resumed from the cursor: ${workload.pullFailures}); read-your-writes reads ${workload.readChecks.length}`);
  lines.push(`log: ${run.logSummary.events} events (${run.logSummary.uncorrelatedEvents} not from a recorded operation)`);
  lines.push(`processes: ${parts.map((part) => `${part.part} started ${part.starts}x, ${errorLines(part)} error log lines`).join('; ')}`);
  lines.push(`anomalies: ${anomalies.length}`);
  for (const anomaly of anomalies.slice(0, 30)) lines.push(`  ! [${anomaly.check}] ${anomaly.detail}`);
  if (anomalies.length > 30) lines.push(`  ... and ${anomalies.length - 30} more`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function errorLines(part: ServiceProcess): number {
  try {
    return readFileSync(part.logPath, 'utf8').split('\n').filter((line) => /"level":(50|60)/.test(line)).length;
  } catch {
    return 0;
  }
}

const limit = setTimeout(() => {
  process.stderr.write(`fault suite: gave up after ${OVERALL_LIMIT_MS / 60_000} minutes\n`);
  process.exit(2);
}, OVERALL_LIMIT_MS);
limit.unref();

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`fault suite failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
