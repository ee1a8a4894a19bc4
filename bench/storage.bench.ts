/**
 * Storage benchmarks against the in-process service and a local S3-compatible server (s3rver on
 * loopback, signatures checked): presign latency (POST /api/uploads/presign, one request at a time:
 * the document's access check from its stream, the quota from the storage account, and signing a POST
 * policy and a PUT URL), and a PDF export of 1,000 notes: time from the request to the export being
 * ready, and this process's peak memory while it was built (the export builder runs here, in the
 * projectors part). The notes are created through the API first (not counted). For comparison, the
 * same 1,000 notes are also built as one PDF (no volumes) and as Markdown, straight through the builder.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../infra/config/config';
import { silentLogger } from '../infra/logging/logger';
import { storagePolicyFrom } from '../infra/storage/storage-config';
import { buildExport, DEFAULT_PDF_VOLUME_ITEMS } from '../projectors/exports/export-builder';
import { PdfLayoutThread } from '../projectors/exports/pdf-layout-thread';
import { createService } from '../service';
import { startTestS3 } from '../test/support/s3-server';
import type { BenchSchema } from './support/bench-schema';
import { SERVICE_POOL_MAX, withServiceSchema } from './support/bench-service';
import { HttpClient, jsonOf, listenOnLoopback } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { formatCount, formatMs, formatSeconds, renderTable } from './support/report';

export interface ExportRun {
  readonly what: string;
  readonly ms: number;
  readonly peakRssMb: number;
  readonly rssBeforeMb: number;
  readonly peakHeapMb: number;
  /** The longest the event loop of this process went without running the 20 ms sampling timer. */
  readonly longestStallMs: number;
  readonly bytes: number;
}

export interface StorageFigures {
  readonly presign: LatencySummary;
  readonly notes: number;
  readonly exports: readonly ExportRun[];
}

const NOTE_COUNT = 1_000;
const PRESIGN_WARMUP = 100;

const MB = 1024 * 1024;

/**
 * Samples this process's memory every 20 ms while `work` runs, and how long the event loop went at
 * most between two samples (a stall there holds up every request and projection of the process).
 */
async function withPeakMemory<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; peakRssMb: number; rssBeforeMb: number; peakHeapMb: number; longestStallMs: number }> {
  global.gc?.();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  let lastSample = performance.now();
  let longestStall = 0;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
    longestStall = Math.max(longestStall, performance.now() - lastSample);
    lastSample = performance.now();
  }, 20);
  const started = performance.now();
  try {
    const result = await work();
    longestStall = Math.max(longestStall, performance.now() - lastSample);
    return { result, ms: performance.now() - started, peakRssMb: peakRss / MB, rssBeforeMb: before.rss / MB, peakHeapMb: peakHeap / MB, longestStallMs: longestStall };
  } finally {
    clearInterval(timer);
  }
}

function noteBody(index: number) {
  const passages = ['John 1:1', 'Romans 8:28', 'Psalm 23:1', 'Genesis 1:1', 'Hebrews 11:1'];
  return {
    title: `Study ${index}: ὁ λόγος`,
    content:
      `# Reading ${index}\n\nIn the beginning was the **Word** (${passages[index % passages.length]}); Greek *λόγος*, Hebrew דָּבָר.\n\n` +
      `- observation one\n- observation two\n\n> A quoted line for reflection.\n\n${'Notes on the passage and its context. '.repeat(12)}`,
    dateTime: new Date(Date.UTC(2026, 0, 1) + index * 3_600_000).toISOString(),
    tags: ['study', `week-${index % 52}`],
  };
}

export async function measureStorage(db: BenchSchema, scale: number, progress: (step: string) => void): Promise<StorageFigures> {
  const s3 = await startTestS3('scriptorium-bench');
  try {
    return await withServiceSchema(db, async (schema) => {
      const config = loadConfig({
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: schema,
        DATABASE_POOL_MAX: String(SERVICE_POOL_MAX),
        LOG_LEVEL: 'silent',
        RATE_LIMIT_SIGNUPS_PER_IP_PER_HOUR: '1000000',
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        ...s3.env,
      });
      const service = await createService(config, silentLogger);
      const server = await listenOnLoopback(service.app);
      const http = new HttpClient(server.baseUrl, 8);
      try {
        const signup = jsonOf<{ accessToken: string; user: { id: string } }>(
          await http.request('POST', '/api/auth/signup', { json: { email: `storage-${randomUUID()}@example.com`, password: 'correct horse battery staple' } }),
          201,
          'sign-up',
        );
        const auth = { authorization: `Bearer ${signup.accessToken}` };
        const workspace = jsonOf<{ id: string }>(await http.request('POST', '/api/workspaces', { headers: auth, json: { name: 'Bench' } }), 201, 'workspace');
        const document = jsonOf<{ id: string }>(await http.request('POST', `/api/workspaces/${workspace.id}/documents`, { headers: auth, json: { title: 'Scans', content: '' } }), 201, 'document');

        const presigns = Math.round(2_000 * scale);
        progress(`presign latency: ${formatCount(presigns)} requests, one at a time`);
        const recorder = new LatencyRecorder();
        for (let index = 0; index < PRESIGN_WARMUP + presigns; index++) {
          const started = performance.now();
          const response = await http.request('POST', '/api/uploads/presign', { headers: auth, json: { documentId: document.id, fileName: `scan-${index}.png`, contentType: 'image/png', size: 200_000 } });
          const ms = performance.now() - started;
          jsonOf(response, 200, 'presign');
          if (index >= PRESIGN_WARMUP) recorder.record(ms);
        }

        progress(`creating ${formatCount(NOTE_COUNT)} notes through the API`);
        for (let start = 0; start < NOTE_COUNT; start += 8) {
          await Promise.all(
            Array.from({ length: Math.min(8, NOTE_COUNT - start) }, (_, offset) =>
              http.request('POST', '/api/notes', { headers: auth, json: noteBody(start + offset) }).then((response) => jsonOf(response, 201, 'note')),
            ),
          );
        }
        const knex = service.platform.knex;
        for (;;) {
          const [row] = await knex('notes').where('owner_id', signup.user.id).count<{ count: string }[]>({ count: '*' });
          if (Number(row?.count) === NOTE_COUNT) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        progress(`PDF export of ${formatCount(NOTE_COUNT)} notes through the service`);
        const exports: ExportRun[] = [];
        const viaService = await withPeakMemory(async () => {
          const response = await http.request('POST', '/api/exports', { headers: auth, json: { format: 'pdf', scope: { all: true } } });
          const requested = jsonOf<{ id: string }>(response, 202, 'export');
          const token = { ...auth, 'x-consistency-token': String(response.headers['x-consistency-token']) };
          for (;;) {
            const answer = await http.request('GET', `/api/exports/${requested.id}`, { headers: token });
            // 503 CONSISTENCY.NOT_YET: the read models are still behind the request (the projectors busy on
            // a slow stretch); a client asks again, as the answer says.
            if (answer.status === 503 && answer.text.includes('"CONSISTENCY.NOT_YET"')) continue;
            const status = jsonOf<{ status: string; size?: number }>(answer, 200, 'export status');
            if (status.status === 'ready') return status.size ?? 0;
            if (status.status === 'failed') throw new Error('the export failed');
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        });
        exports.push({ what: `service: PDF, ${formatCount(NOTE_COUNT)} notes (volumes of ${DEFAULT_PDF_VOLUME_ITEMS}, zipped)`, ...viaService, bytes: viaService.result });

        const storage = storagePolicyFrom(config).storage;
        const pdfLayout = new PdfLayoutThread();
        if (storage) {
          for (const [what, format, volume] of [
            [`builder: one PDF of ${formatCount(NOTE_COUNT)} notes`, 'pdf', NOTE_COUNT],
            [`builder: Markdown zip of ${formatCount(NOTE_COUNT)} notes`, 'markdown', undefined],
          ] as const) {
            progress(what);
            const run = await withPeakMemory(() =>
              buildExport(
                { exportId: randomUUID(), ownerId: signup.user.id, format, scope: { all: true } },
                { db: knex, storage, now: new Date(), onProgress: () => undefined, pdfLayout, ...(volume ? { pdfVolumeItems: volume } : {}) },
              ),
            );
            exports.push({ what, ...run, bytes: run.result.size });
          }
        }
        await pdfLayout.close();
        return { presign: recorder.summary(), notes: NOTE_COUNT, exports };
      } finally {
        http.close();
        await server.close();
        await service.close();
      }
    });
  } finally {
    await s3.close();
  }
}

export function storageTable(figures: StorageFigures): string {
  return [
    renderTable({
      title: `Storage 1. Presign latency: POST /api/uploads/presign, one request at a time (after ${PRESIGN_WARMUP} warm-up), against s3rver on loopback`,
      headers: ['requests', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [[formatCount(figures.presign.count), formatMs(figures.presign.p50Ms), formatMs(figures.presign.p99Ms), formatMs(figures.presign.maxMs)]],
      notes: ['each: the document read from its stream (snapshot + tail), membership, the storage account for the quota, a POST policy and a PUT URL signed'],
    }),
    renderTable({
      title: `Storage 2. Exports of ${formatCount(figures.notes)} notes (~1 KB of Markdown each, Greek and Hebrew): time and this process's peak memory`,
      headers: ['export', 'time', 'longest stall ms', 'RSS before MB', 'peak RSS MB', 'peak heap MB', 'size'],
      rows: figures.exports.map((run) => [
        run.what,
        formatSeconds(run.ms),
        formatMs(run.longestStallMs),
        run.rssBeforeMb.toFixed(0),
        run.peakRssMb.toFixed(0),
        run.peakHeapMb.toFixed(0),
        `${(run.bytes / MB).toFixed(2)} MB`,
      ]),
      notes: [
        "longest stall: the longest this process's event loop went between two 20 ms samples (PDF layout runs in a thread of its own)",
        "peak heap: this thread's; the layout threads' heaps count in RSS",
        'service: from POST /api/exports to GET answering ready (the reactor builds in this process, uploading multipart to s3rver)',
        'builder: buildExport called directly with the same data; one PDF means pdfmake lays out all 1,000 notes at once',
      ],
    }),
  ].join('\n');
}
