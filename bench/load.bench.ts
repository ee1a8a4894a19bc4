/**
 * `npm run load`: a steady mixed load at a fixed rate for LOAD_SECONDS (default 60) against the whole
 * service running as its own process (`main.ts`, as deployed in one process) on a private PostgreSQL
 * cluster of its own (or a throw-away schema of LOAD_DATABASE_URL), so that neither the figures nor
 * the connections it takes depend on what else uses the machine's shared server. One autocannon instance per route, each held to its own
 * fixed rate, so every route gets its own latency histogram: reads of a document, lists, searches,
 * sync pulls, the profile, edits with If-Match (each in-flight edit owns its document, so a 412 would
 * be a real error) and creates. Prints per route the rate achieved, p50 and p99, non-2xx answers and
 * errors, and the service's resident memory (VmRSS, sampled every second) with its growth between
 * the 20th and the last second. Exits 1 when any request failed. Not part of the jest suite.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { PrivatePostgres } from '../test/faults/private-postgres';
import { formatMs, renderTable } from './support/report';

const ROOT = resolve(__dirname, '..');
/** A PostgreSQL server to load (a throw-away schema in it); unset: a private cluster of this run's own. */
const LOAD_DATABASE_URL = process.env.LOAD_DATABASE_URL;
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
/** Multiplies every route's rate (LOAD_RATE_SCALE=2: twice the load). */
const RATE_SCALE = Number(process.env.LOAD_RATE_SCALE ?? 1);
const EDIT_POOL = 40;

interface RouteLoad {
  readonly name: string;
  readonly rate: number;
  readonly connections: number;
  readonly request: autocannon.Request;
}

interface RouteResult {
  readonly name: string;
  readonly target: number;
  readonly achieved: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

/** Slope of a least-squares line through the samples, in MiB per minute. */
function trendMiBPerMinute(samples: ReadonlyArray<{ second: number; kib: number }>): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const meanX = samples.reduce((sum, sample) => sum + sample.second, 0) / n;
  const meanY = samples.reduce((sum, sample) => sum + sample.kib, 0) / n;
  const covariance = samples.reduce((sum, sample) => sum + (sample.second - meanX) * (sample.kib - meanY), 0);
  const variance = samples.reduce((sum, sample) => sum + (sample.second - meanX) ** 2, 0);
  return ((covariance / variance) * 60) / 1024;
}

async function json(url: string, init: RequestInit & { expect: number }): Promise<{ body: any; headers: Headers }> {
  const res = await fetch(url, { ...init, headers: { 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) } });
  if (res.status !== init.expect) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return { body: res.status === 204 ? undefined : await res.json(), headers: res.headers };
}

async function main(): Promise<number> {
  const schema = `load_${Math.floor(Date.now() / 1000)}_${randomUUID().slice(0, 8).replace(/-/g, '')}`;
  const cluster = LOAD_DATABASE_URL ? undefined : await PrivatePostgres.start();
  const DATABASE_URL = LOAD_DATABASE_URL ?? cluster!.url;
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_MAX: '16',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NATS_URL: '',
    RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: '1000000',
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    // e.g. --max-old-space-size=96: a leak then ends in an out-of-memory crash instead of a slow climb.
    ...(process.env.LOAD_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.LOAD_SERVICE_NODE_OPTIONS } : {}),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let childErrors = '';
  child.stderr!.on('data', (chunk: Buffer) => (childErrors = (childErrors + chunk.toString()).slice(-5_000)));
  const base = `http://127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    for (let waited = 0; ; waited += 100) {
      const up = await fetch(`${base}/healthz`).then((res) => res.ok, () => false);
      if (up) break;
      if (child.exitCode !== null || waited > 60_000) throw new Error(`the service did not start:\n${childErrors}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stderr.write(`load: service (pid ${child.pid}) on ${base}, schema ${schema}\n`);

    // ---- fixtures: a user, a workspace, documents to read and to edit ----
    const { body: session } = await json(`${base}/api/auth/signup`, { method: 'POST', expect: 201, body: JSON.stringify({ email: `load-${randomUUID()}@example.com`, password: 'a steady load of passwords' }) });
    const auth = { Authorization: `Bearer ${session.accessToken}` };
    const { body: workspace } = await json(`${base}/api/workspaces`, { method: 'POST', expect: 201, headers: auth, body: JSON.stringify({ name: 'Load' }) });
    const documents: Array<{ id: string; etag: string; busy: boolean }> = [];
    for (let i = 0; i < 200; i++) {
      const { body, headers } = await json(`${base}/api/workspaces/${workspace.id}/documents`, {
        method: 'POST',
        expect: 201,
        headers: auth,
        body: JSON.stringify({ title: `Document ${i} about grace and truth`, content: `Paragraph ${i}. `.repeat(40) }),
      });
      documents.push({ id: body.id, etag: headers.get('etag')!, busy: false });
    }
    const editable = documents.slice(0, EDIT_POOL);
    let readCursor = 0;
    const words = ['grace', 'truth', 'paragraph', 'document', 'light'];

    const headers = { ...auth, 'content-type': 'application/json' };
    const loads: RouteLoad[] = [
      { name: 'GET /api/documents/:id', rate: 40, connections: 4, request: { method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/documents/${documents[readCursor++ % documents.length]!.id}` }) } },
      { name: 'GET /api/workspaces/:wid/documents', rate: 15, connections: 2, request: { method: 'GET', path: `/api/workspaces/${workspace.id}/documents?limit=20` } },
      { name: 'GET .../documents?query= (search)', rate: 10, connections: 2, request: { method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/workspaces/${workspace.id}/documents?limit=20&query=${words[readCursor++ % words.length]}` }) } },
      { name: 'GET /api/sync/since', rate: 15, connections: 3, request: { method: 'GET', path: '/api/sync/since?limit=100' } },
      { name: 'GET /api/me', rate: 20, connections: 2, request: { method: 'GET', path: '/api/me' } },
      {
        name: 'PUT /api/documents/:id (If-Match)',
        rate: 25,
        connections: 5,
        request: {
          method: 'PUT',
          setupRequest: (req, context) => {
            const document = editable.find((candidate) => !candidate.busy)!;
            document.busy = true;
            (context as Record<string, unknown>).document = document;
            const body = JSON.stringify({ title: 'Edited under load', content: `Revision text ${randomUUID()}` });
            return { ...req, path: `/api/documents/${document.id}`, headers: { ...headers, 'if-match': document.etag }, body } as autocannon.Request;
          },
          onResponse: (_status, _body, context, responseHeaders) => {
            const document = (context as Record<string, unknown>).document as { etag: string; busy: boolean };
            const etag = (responseHeaders as Record<string, string>).etag ?? (responseHeaders as Record<string, string>).ETag;
            if (etag) document.etag = etag;
            document.busy = false;
          },
        },
      },
      {
        name: 'POST /api/workspaces/:wid/documents',
        rate: 10,
        connections: 2,
        request: { method: 'POST', setupRequest: (req) => ({ ...req, path: `/api/workspaces/${workspace.id}/documents`, body: JSON.stringify({ title: `New ${randomUUID()}`, content: 'Fresh content under load.' }) }) },
      },
    ];

    // ---- the run, with the service's memory sampled every second ----
    const samples: Array<{ second: number; kib: number }> = [];
    const started = Date.now();
    const sampler = setInterval(() => samples.push({ second: (Date.now() - started) / 1000, kib: rssKiB(child.pid!) }), 1_000);
    const serviceDied = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`the service exited during the run (code ${code}, signal ${signal}):\n${childErrors}`))));
    const results = await Promise.race([serviceDied, Promise.all(
      loads.map(
        (load) =>
          new Promise<RouteResult>((resolveResult, reject) => {
            const rate = load.rate * RATE_SCALE;
            autocannon(
              { url: base, connections: load.connections, overallRate: rate, duration: SECONDS, headers, timeout: 10, requests: [load.request] },
              (error, result) => {
                if (error) return reject(error);
                resolveResult({
                  name: load.name,
                  target: rate,
                  achieved: result.requests.total / SECONDS,
                  p50: result.latency.p50,
                  p99: result.latency.p99,
                  max: result.latency.max,
                  total: result.requests.total,
                  non2xx: result.non2xx,
                  errors: result.errors,
                  timeouts: result.timeouts,
                });
              },
            );
          }),
      ),
    )]);
    clearInterval(sampler);

    // ---- the report ----
    const around = (second: number) => {
      const near = samples.filter((sample) => Math.abs(sample.second - second) <= 1.5).map((sample) => sample.kib);
      return near.reduce((sum, kib) => sum + kib, 0) / Math.max(1, near.length);
    };
    const from = Math.min(20, SECONDS / 3);
    const at20 = around(from);
    const atEnd = around(samples[samples.length - 1]?.second ?? SECONDS);
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    const failed = results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0);
    const total = results.reduce((sum, result) => sum + result.total, 0);
    process.stdout.write(
      renderTable({
        title: `Steady mixed load: ${SECONDS} s at ${results.reduce((sum, r) => sum + r.target, 0)} requests/s against one service process (${total} requests)`,
        headers: ['route', 'target/s', 'achieved/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors'],
        rows: results.map((r) => [r.name, String(r.target), r.achieved.toFixed(1), formatMs(r.p50), formatMs(r.p99), formatMs(r.max), String(r.non2xx), String(r.errors + r.timeouts)]),
        notes: [
          `resident memory (VmRSS) of the service: ${mib(at20)} MiB at ${from.toFixed(0)} s, ${mib(atEnd)} MiB at ${SECONDS} s: growth ${mib(atEnd - at20)} MiB (${(((atEnd - at20) / at20) * 100).toFixed(1)} %); min ${mib(Math.min(...samples.map((s) => s.kib)))}, max ${mib(Math.max(...samples.map((s) => s.kib)))} MiB`,
          `trend of VmRSS from ${from.toFixed(0)} s on (least squares, a sawtooth of garbage collection is not growth): ${trendMiBPerMinute(samples.filter((sample) => sample.second >= from)).toFixed(1)} MiB/min`,
          `VmRSS every 10 s (MiB): ${samples.filter((sample, i) => i % 10 === 9).map((sample) => mib(sample.kib)).join(', ')}`,
          `failed requests (non-2xx, errors, timeouts): ${failed}`,
        ],
      }),
    );
    return failed === 0 ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
    await cluster?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`load: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
