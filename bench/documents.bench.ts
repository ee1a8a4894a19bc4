/**
 * The document benchmarks, on the service driven over HTTP (see support/bench-service.ts; parts 5 and
 * 6 run on whichever topology they are given: the whole service in this process, or as deployed with
 * the projectors in a child process, support/deployed-service.ts): edits (PUT with If-Match) and reads
 * (GET) at a fixed concurrency next to two baselines that run one UPDATE or SELECT on a plain table (a
 * bare Express route, and seed 000's CRUD design behind the service's own middleware), and the latency
 * of one edit as a function of the document's history, with the command side's aggregate cache warm
 * and cold.
 * Each function measures one thing and answers figures; bench/run.ts decides the order and prints them.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import express, { type Request, type Response } from 'express';
import type pg from 'pg';
import { updateDocumentBody } from '../command-api/documents/document-schemas';
import { pathId } from '../command-api/respond';
import { documentStreamId, type DocumentEvent } from '../domain/documents/document';
import type { EventToAppend } from '../infra/event-store/event-store';
import type { LogPosition } from '../infra/event-store/log-position';
import { authenticate } from '../infra/http/authentication';
import { notFoundRoute, Problem, problemHandler } from '../infra/http/problem';
import type { RouteSpec } from '../infra/http/routes';
import { parseRequest } from '../infra/http/validation';
import { createMetrics } from '../infra/metrics/metrics';
import { mountApiRoutes, requestPipeline } from '../service';
import type { BenchSchema } from './support/bench-schema';
import { SERVICE_POOL_MAX, startService, type RunningService } from './support/bench-service';
import type { Operation } from './support/concurrency-runner';
import { HttpClient, jsonOf, listenOnLoopback, type HttpResponse } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { runInterleavedSettled, type SettledResult } from './support/settled-rounds';

export const DOCUMENT_CONCURRENCY = 16;
export const DOCUMENT_ROUNDS = 5;
/** Unmeasured rounds before them, interleaved the same way (settled-rounds.ts says why). */
export const DOCUMENT_WARMUP_ROUNDS = 5;
/** Events per append when a long history is written straight to the store. */
export const HISTORY_BATCH = 100;
const PASSWORD = 'correct horse battery staple';
/** How long a settle may wait for the projections before the run is called broken. */
const SETTLE_LIMIT_MS = 180_000;

export interface DocumentSizes {
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly documents: number;
  readonly priorEdits: number;
  /** Measured sequential edits per series (fresh / long history, cache warm / cold). */
  readonly sequentialEdits: number;
  readonly sequentialWarmup: number;
}

/** Durations and edit counts scale with BENCH_SCALE; the document count and history only shrink. */
export function documentSizes(scale: number): DocumentSizes {
  const shrink = Math.min(scale, 1);
  return {
    warmupMs: 1_000 * scale,
    measureMs: 5_000 * scale,
    documents: Math.max(4 * DOCUMENT_CONCURRENCY, Math.round(1_000 * shrink)),
    priorEdits: Math.max(1_000, Math.round((10_000 * shrink) / HISTORY_BATCH) * HISTORY_BATCH),
    sequentialEdits: Math.max(30, Math.round(300 * scale)),
    sequentialWarmup: Math.max(10, Math.round(30 * scale)),
  };
}

// --- Payload ------------------------------------------------------------------------------------------

const MARKDOWN = [
  '# Quarterly planning notes',
  '',
  '## Goals',
  '',
  '- Ship offline sync for the mobile apps before the end of the quarter.',
  '- Cut the p99 of document saves in half; measure it on the staging cluster first.',
  '- Move the budget table to the finance workspace and link it from here.',
  '',
  '## Decisions',
  '',
  '1. Conflicts are resolved on the client, with the server refusing stale revisions (412).',
  '2. Named versions stay forever; unnamed ones are kept for ninety days.',
  '3. Search covers titles and the first hundred thousand characters of content.',
  '',
  '## Open questions',
  '',
  '> Should shared workspaces notify members of every edit, or only of named versions?',
  '',
  '| Owner | Item                     | Due        |',
  '| ----- | ------------------------ | ---------- |',
  '| Ann   | Sync protocol draft      | 2026-12-04 |',
  '| Bob   | Load test on staging     | 2026-12-11 |',
  '| Cleo  | Retention policy review  | 2026-12-18 |',
  '',
  'Notes from the last meeting are in the linked document; the action items above replace them.',
].join('\n');

/** About 1 KB of markdown, different for every edit number (an unchanged document is not an edit). */
export function documentContent(edit: number): string {
  return `${MARKDOWN}\n\n_Edit ${edit}._\n`;
}

// --- The service side: a user, a workspace, documents whose revisions the bench tracks ----------------

export interface TrackedDocument {
  readonly id: string;
  readonly title: string;
  /** The revision the last answer's ETag named: the next edit's If-Match. */
  revision: number;
  edits: number;
}

export type StatusCounts = Map<number, number>;

/** What the documents benchmarks share: an authenticated client of the service, and its documents. */
export class DocumentsSession {
  /** The furthest log position any write answered with (positions sort as strings). */
  private latest: LogPosition | undefined;

  constructor(
    public api: HttpClient,
    readonly auth: Readonly<Record<string, string>>,
    readonly userId: string,
    readonly workspaceId: string,
    readonly documents: TrackedDocument[],
  ) {}

  static async open(service: RunningService, documents: number): Promise<DocumentsSession> {
    const api = new HttpClient(service.baseUrl, DOCUMENT_CONCURRENCY);
    const email = `bench-documents-${Date.now()}@example.com`;
    const signup = jsonOf<{ user: { id: string }; accessToken: string }>(
      await api.request('POST', '/api/auth/signup', { json: { email, password: PASSWORD, displayName: 'Bench' } }),
      201,
      'sign-up',
    );
    const auth = { authorization: `Bearer ${signup.accessToken}` };
    const workspace = jsonOf<{ id: string }>(await api.request('POST', '/api/workspaces', { headers: auth, json: { name: 'Bench' } }), 201, 'workspace');
    const session = new DocumentsSession(api, auth, signup.user.id, workspace.id, []);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < documents) {
        next++;
        session.documents.push(await session.create(`Planning ${next}`));
      }
    };
    await Promise.all(Array.from({ length: DOCUMENT_CONCURRENCY }, worker));
    return session;
  }

  async create(title: string): Promise<TrackedDocument> {
    const response = await this.api.request('POST', `/api/workspaces/${this.workspaceId}/documents`, { headers: this.auth, json: { title, content: documentContent(0) } });
    const created = jsonOf<{ id: string }>(response, 201, 'create document');
    this.notePosition(response);
    return { id: created.id, title, revision: revisionOf(response), edits: 0 };
  }

  /** One edit with the tracked If-Match; the answer's ETag (200, or 412 if the bookkeeping failed) becomes the next one. */
  async edit(document: TrackedDocument, client: HttpClient = this.api): Promise<HttpResponse> {
    document.edits++;
    const response = await client.request('PUT', `/api/documents/${document.id}`, {
      headers: { ...this.auth, 'if-match': `"${document.revision}"` },
      json: { title: document.title, content: documentContent(document.edits) },
    });
    if (response.status === 200 || response.status === 412) document.revision = revisionOf(response);
    if (response.status === 200) this.notePosition(response);
    return response;
  }

  notePosition(response: HttpResponse): void {
    const token = response.headers['x-consistency-token'];
    if (typeof token === 'string' && (this.latest === undefined || token > this.latest)) this.latest = token as LogPosition;
  }

  notePositionOf(position: LogPosition): void {
    if (this.latest === undefined || position > this.latest) this.latest = position;
  }

  /** Waits until every projection has reached the furthest position written (read-your-writes GET). */
  async settle(): Promise<void> {
    const position = this.latest;
    const document = this.documents[0];
    if (position === undefined || document === undefined) return;
    const deadline = performance.now() + SETTLE_LIMIT_MS;
    for (;;) {
      const response = await this.api.request('GET', `/api/documents/${document.id}`, { headers: { ...this.auth, 'x-consistency-token': position } });
      if (response.status === 200) return;
      if (response.status !== 503 || performance.now() > deadline) throw new Error(`projections did not catch up: HTTP ${response.status} ${response.text.slice(0, 300)}`);
    }
  }

  /** From now on, talks to `service` (same schema: the user, its token and the documents stay valid). */
  moveTo(service: RunningService): void {
    this.api.close();
    this.api = new HttpClient(service.baseUrl, DOCUMENT_CONCURRENCY);
  }

  close(): void {
    this.api.close();
  }
}

function revisionOf(response: HttpResponse): number {
  const match = /^"(\d+)"$/.exec(String(response.headers.etag ?? ''));
  if (!match) throw new Error(`no ETag in an HTTP ${response.status} answer: ${response.text.slice(0, 300)}`);
  return Number(match[1]);
}

function count(statuses: StatusCounts, status: number): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
}

/** "none", or e.g. "412 x 3, 500 x 1": answers other than the one a workload counts. */
export function otherStatuses(statuses: StatusCounts, counted: number): string {
  const others = [...statuses].filter(([status]) => status !== counted).sort(([a], [b]) => a - b);
  return others.length === 0 ? 'none' : others.map(([status, n]) => `${status} x ${n}`).join(', ');
}

/**
 * Hands out documents round-robin, one worker at a time: a document comes back to the end of the queue
 * when its request has answered, so no two requests ever carry the same document's If-Match.
 */
function roundRobin<T>(items: readonly T[]): <R>(use: (item: T) => Promise<R>) => Promise<R> {
  const queue = [...items];
  return async (use) => {
    const item = queue.shift();
    if (item === undefined) throw new Error('more workers than documents');
    try {
      return await use(item);
    } finally {
      queue.push(item);
    }
  };
}

// --- The bare baseline: a tiny Express app, one statement per request, on a plain table ---------------

export class Baseline {
  private constructor(
    readonly api: HttpClient,
    readonly ids: readonly string[],
    private readonly server: { close(): Promise<void> },
    private readonly pool: pg.Pool,
  ) {}

  /** The table and its app on a loopback port; the pool is the caller's (SERVICE_POOL_MAX connections). */
  static async start(pool: pg.Pool, documents: number, jsonLimitBytes: number): Promise<Baseline> {
    await pool.query(`
      CREATE TABLE baseline_documents (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        content text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    const inserted = await pool.query<{ id: string }>(
      `INSERT INTO baseline_documents (id, title, content)
       SELECT gen_random_uuid(), 'Planning ' || n, $1 FROM generate_series(1, $2::int) AS n RETURNING id::text`,
      [documentContent(0), documents],
    );
    await pool.query('VACUUM ANALYZE baseline_documents');

    const app = express();
    app.disable('x-powered-by');
    app.use(express.json({ limit: jsonLimitBytes, strict: true }));
    app.put('/baseline/documents/:id', async (req, res) => {
      const { title, content } = req.body as { title: string; content: string };
      const updated = await pool.query('UPDATE baseline_documents SET title = $1, content = $2, updated_at = now() WHERE id = $3', [title, content, req.params.id]);
      if (updated.rowCount === 0) res.status(404).end();
      else res.status(200).json({ id: req.params.id, title, content });
    });
    app.get('/baseline/documents/:id', async (req, res) => {
      const selected = await pool.query('SELECT * FROM baseline_documents WHERE id = $1', [req.params.id]);
      if (selected.rows.length === 0) res.status(404).end();
      else res.status(200).json(selected.rows[0]);
    });
    const server = await listenOnLoopback(app);
    return new Baseline(new HttpClient(server.baseUrl, DOCUMENT_CONCURRENCY), inserted.rows.map((row) => row.id), server, pool);
  }

  /** Stops the app and drops the table, so that a later measurement starts its own on fresh rows. */
  async close(): Promise<void> {
    this.api.close();
    await this.server.close();
    await this.pool.query('DROP TABLE IF EXISTS baseline_documents');
  }
}

// --- The like-for-like baseline: seed 000's CRUD design behind the service's own middleware -----------

/** Seed 000's `documents` table, less the ETag column (this route takes no If-Match). */
interface CrudDocumentRow {
  id: string;
  workspace_id: string;
  title: string;
  content: string;
  deleted: boolean;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

const CRUD_COLUMNS = 'id, workspace_id, title, content, deleted, updated_by, created_at, updated_at';

function crudDocumentJson(row: CrudDocumentRow) {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    title: row.title,
    content: row.content,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
    deleted: row.deleted,
  };
}

/**
 * The design of seed 000 done like-for-like: documents are rows updated in place, and the routes run
 * the middleware the service's own routes run, from the service's own modules and settings: request
 * context, request tracing, pino-http with the service's logger and options, HTTP metrics (the PUT
 * counted as a command), bearer authentication with the service's access-token verifier (so the
 * session's tokens work), and for the PUT the JSON body checks with the service's limit and the zod
 * schema of a document edit; errors are problem+json through the service's handler. Then one
 * statement: `UPDATE ... RETURNING` the row, or one `SELECT`. What it leaves out is what the
 * event-sourced service adds on top of a CRUD app: the membership check, If-Match, the event append
 * and its projections, idempotency keys and read-your-writes.
 */
export class CrudBaseline {
  private constructor(
    readonly api: HttpClient,
    readonly ids: readonly string[],
    private readonly server: { close(): Promise<void> },
    private readonly pool: pg.Pool,
  ) {}

  /** The table (rows in the session's workspace) and its app on a loopback port; the pool is the caller's. */
  static async start(pool: pg.Pool, main: RunningService, session: DocumentsSession, documents: number): Promise<CrudBaseline> {
    await pool.query(`
      CREATE TABLE crud_documents (
        id uuid PRIMARY KEY,
        workspace_id uuid NOT NULL,
        title text NOT NULL,
        content text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_by uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    const inserted = await pool.query<{ id: string }>(
      `INSERT INTO crud_documents (id, workspace_id, title, content, updated_by)
       SELECT gen_random_uuid(), $1, 'Planning ' || n, $2, $3 FROM generate_series(1, $4::int) AS n RETURNING id::text`,
      [session.workspaceId, documentContent(0), session.userId, documents],
    );
    await pool.query('VACUUM ANALYZE crud_documents');

    const { config, logger } = main;
    const maxContentBytes = config.DOCUMENT_MAX_CONTENT_BYTES;
    const notFound = () => new Problem('not_found', 'DOCUMENT.NOT_FOUND', 'no such document');
    async function update(req: Request, res: Response) {
      const id = pathId(req, 'id', 'DOCUMENT.NOT_FOUND');
      const body = parseRequest(updateDocumentBody, req.body, 'body');
      if (Buffer.byteLength(body.content, 'utf8') > maxContentBytes) {
        throw new Problem('payload_too_large', 'DOCUMENT.CONTENT_TOO_LARGE', `content may be at most ${maxContentBytes} bytes`);
      }
      const updated = await pool.query<CrudDocumentRow>(
        `UPDATE crud_documents SET title = $1, content = $2, updated_by = $3, updated_at = now() WHERE id = $4 AND NOT deleted RETURNING ${CRUD_COLUMNS}`,
        [body.title, body.content, req.auth!.userId, id],
      );
      const row = updated.rows[0];
      if (!row) throw notFound();
      res.status(200).json(crudDocumentJson(row));
    }
    async function get(req: Request, res: Response) {
      const id = pathId(req, 'id', 'DOCUMENT.NOT_FOUND');
      const selected = await pool.query<CrudDocumentRow>(`SELECT ${CRUD_COLUMNS} FROM crud_documents WHERE id = $1 AND NOT deleted`, [id]);
      const row = selected.rows[0];
      if (!row) throw notFound();
      res.status(200).json(crudDocumentJson(row));
    }
    const queryRoutes: RouteSpec[] = [{ method: 'get', path: '/crud/documents/:id', access: 'user', summary: 'One document (CRUD baseline)', handler: get }];
    const commandRoutes: RouteSpec[] = [
      { method: 'put', path: '/crud/documents/:id', access: 'user', summary: 'Edit a document in place (CRUD baseline)', body: updateDocumentBody, handler: update },
    ];

    // Assembled as service.ts assembles the service's app: the same middleware in the same order.
    const app = express();
    app.disable('x-powered-by');
    app.use(...requestPipeline(logger, createMetrics({ processMetrics: false }), commandRoutes));
    mountApiRoutes(app, { queryRoutes, commandRoutes, authenticate: authenticate(main.service.accessTokens), jsonBodyLimitBytes: config.JSON_BODY_LIMIT_BYTES });
    app.use(notFoundRoute);
    app.use(problemHandler(logger));
    const server = await listenOnLoopback(app);
    return new CrudBaseline(new HttpClient(server.baseUrl, DOCUMENT_CONCURRENCY), inserted.rows.map((row) => row.id), server, pool);
  }

  /** Stops the app and drops the table, so that a later measurement starts its own on fresh rows. */
  async close(): Promise<void> {
    this.api.close();
    await this.server.close();
    await this.pool.query('DROP TABLE IF EXISTS crud_documents');
  }
}

// --- Parts 5 and 6: edits and reads at fixed concurrency, next to both baselines ----------------------

export interface ServiceComparison {
  readonly service: SettledResult;
  /** The bare route: express.json and one statement. */
  readonly baseline: SettledResult;
  /** The like-for-like CRUD route (CrudBaseline): the service's middleware and one statement. */
  readonly crud: SettledResult;
  /** Every answer each workload got, warm-up included, by status. */
  readonly serviceStatuses: StatusCounts;
  readonly baselineStatuses: StatusCounts;
  readonly crudStatuses: StatusCounts;
}

/** The service's PUTs, the bare route's and the CRUD route's UPDATEs, interleaved (same documents, rows and content). */
export async function measureEditsAgainstBaseline(
  session: DocumentsSession,
  baseline: Baseline,
  crud: CrudBaseline,
  sizes: DocumentSizes,
  otherCpuMs?: () => Promise<number>,
): Promise<ServiceComparison> {
  const statuses = noStatuses();
  const nextDocument = roundRobin(session.documents);
  const nextRow = roundRobin(baseline.ids.map((id) => ({ id, edits: 0 })));
  const nextCrudRow = roundRobin(crud.ids.map((id) => ({ id, edits: 0 })));
  const serviceEdit: Operation = () =>
    nextDocument(async (document) => {
      const response = await session.edit(document);
      count(statuses.service, response.status);
      return response.status === 200 ? 1 : 0;
    });
  const baselineEdit: Operation = () =>
    nextRow(async (row) => {
      row.edits++;
      const response = await baseline.api.request('PUT', `/baseline/documents/${row.id}`, { json: { title: 'Planning', content: documentContent(row.edits) } });
      count(statuses.baseline, response.status);
      return response.status === 200 ? 1 : 0;
    });
  const crudEdit: Operation = () =>
    nextCrudRow(async (row) => {
      row.edits++;
      const response = await crud.api.request('PUT', `/crud/documents/${row.id}`, { headers: session.auth, json: { title: 'Planning', content: documentContent(row.edits) } });
      count(statuses.crud, response.status);
      return response.status === 200 ? 1 : 0;
    });
  return compare(session, sizes, [serviceEdit, baselineEdit, crudEdit], statuses, otherCpuMs);
}

export async function measureReadsAgainstBaseline(
  session: DocumentsSession,
  baseline: Baseline,
  crud: CrudBaseline,
  sizes: DocumentSizes,
  otherCpuMs?: () => Promise<number>,
): Promise<ServiceComparison> {
  const statuses = noStatuses();
  const nextDocument = roundRobin(session.documents);
  const nextRow = roundRobin(baseline.ids);
  const nextCrudRow = roundRobin(crud.ids);
  const serviceRead: Operation = () =>
    nextDocument(async (document) => {
      const response = await session.api.request('GET', `/api/documents/${document.id}`, { headers: session.auth });
      count(statuses.service, response.status);
      return response.status === 200 ? 1 : 0;
    });
  const baselineRead: Operation = () =>
    nextRow(async (id) => {
      const response = await baseline.api.request('GET', `/baseline/documents/${id}`);
      count(statuses.baseline, response.status);
      return response.status === 200 ? 1 : 0;
    });
  const crudRead: Operation = () =>
    nextCrudRow(async (id) => {
      const response = await crud.api.request('GET', `/crud/documents/${id}`, { headers: session.auth });
      count(statuses.crud, response.status);
      return response.status === 200 ? 1 : 0;
    });
  return compare(session, sizes, [serviceRead, baselineRead, crudRead], statuses, otherCpuMs);
}

interface ComparisonStatuses {
  readonly service: StatusCounts;
  readonly baseline: StatusCounts;
  readonly crud: StatusCounts;
}

function noStatuses(): ComparisonStatuses {
  return { service: new Map(), baseline: new Map(), crud: new Map() };
}

async function compare(
  session: DocumentsSession,
  sizes: DocumentSizes,
  workloads: readonly [service: Operation, baseline: Operation, crud: Operation],
  statuses: ComparisonStatuses,
  otherCpuMs: (() => Promise<number>) | undefined,
): Promise<ServiceComparison> {
  const [service, baseline, crud] = await runInterleavedSettled({
    concurrency: DOCUMENT_CONCURRENCY,
    warmupMs: sizes.warmupMs,
    warmupRounds: DOCUMENT_WARMUP_ROUNDS,
    durationMs: sizes.measureMs,
    rounds: DOCUMENT_ROUNDS,
    workloads,
    settle: () => session.settle(),
    ...(otherCpuMs ? { otherCpuMs } : {}),
  });
  return {
    service: service!,
    baseline: baseline!,
    crud: crud!,
    serviceStatuses: statuses.service,
    baselineStatuses: statuses.baseline,
    crudStatuses: statuses.crud,
  };
}

/** Parts 5 and 6 on one topology of the service. */
export interface EditsAndReads {
  readonly edits: ServiceComparison;
  readonly reads: ServiceComparison;
}

/**
 * Parts 5 and 6 on `service`: both baselines started on a pool of SERVICE_POOL_MAX (their tables made
 * afresh and dropped afterwards, so each topology measured gets the same), then the edits, then the
 * reads. `otherCpuMs` samples the CPU time of the service's other processes (the projector child).
 */
export async function measureEditsAndReads(
  db: BenchSchema,
  service: RunningService,
  session: DocumentsSession,
  sizes: DocumentSizes,
  options: { readonly label: string; readonly progress: (step: string) => void; readonly otherCpuMs?: () => Promise<number> },
): Promise<EditsAndReads> {
  return db.withPool(SERVICE_POOL_MAX, async (pool) => {
    const baseline = await Baseline.start(pool, sizes.documents, service.config.JSON_BODY_LIMIT_BYTES);
    let crud: CrudBaseline | undefined;
    try {
      crud = await CrudBaseline.start(pool, service, session, sizes.documents);
      options.progress(`${options.label}: document edits (PUT), bare and CRUD baseline UPDATEs, concurrency ${DOCUMENT_CONCURRENCY}`);
      const edits = await measureEditsAgainstBaseline(session, baseline, crud, sizes, options.otherCpuMs);
      options.progress(`${options.label}: document reads (GET), bare and CRUD baseline SELECTs, concurrency ${DOCUMENT_CONCURRENCY}`);
      const reads = await measureReadsAgainstBaseline(session, baseline, crud, sizes, options.otherCpuMs);
      return { edits, reads };
    } finally {
      await crud?.close();
      await baseline.close();
    }
  });
}

// --- Part 7: edit latency by history, aggregate cache warm and cold -----------------------------------

export interface EditSeries {
  readonly label: string;
  /** The document's events before the series' first measured edit. */
  readonly historyAtStart: number;
  readonly latency: LatencySummary;
  readonly meanMs: number;
}

export interface HistoryResult {
  readonly priorEdits: number;
  /** Wall time to append both long histories straight to the store, and for the projections to catch up. */
  readonly buildMs: number;
  readonly catchUpMs: number;
  /** The first PUT on a long document: no snapshot yet, so it folds the whole stream (and saves one). */
  readonly firstEditWithoutSnapshotMs: number;
  /** The second instance's first PUT on the cold long document: an empty cache, so it reads snapshot and tail. */
  readonly firstEditOnSecondInstanceMs: number;
  readonly freshWarm: EditSeries;
  readonly longWarm: EditSeries;
  readonly longCold: EditSeries;
  readonly freshCold: EditSeries;
}

interface SeriesPlan {
  readonly label: string;
  readonly document: TrackedDocument;
  readonly cold: boolean;
}

/**
 * Sequential edits (concurrency 1) on four documents, one edit each per step in a rotating order, so
 * drift in the machine falls on all four series alike: a fresh document and one with `priorEdits`
 * edits, each once with the aggregate cache warm and once cold. Warm: every edit goes to the main
 * instance, whose cache holds the document. Cold: the edits alternate between the main instance and a
 * second one (command API only, same schema), so the cached copy of whichever instance gets the edit is
 * one edit behind: it finds its cache stale and reads the snapshot and the events after it, as a
 * process that has never seen the document does.
 */
export async function measureEditLatencyByHistory(db: BenchSchema, schema: string, main: RunningService, session: DocumentsSession, sizes: DocumentSizes): Promise<HistoryResult> {
  const history = sizes.priorEdits.toLocaleString('en-US');
  const plans: SeriesPlan[] = [
    { label: 'fresh document, cache warm', document: await session.create('Fresh, cache warm'), cold: false },
    { label: `${history}-edit document, cache warm`, document: await session.create('Long history, cache warm'), cold: false },
    { label: `${history}-edit document, cache cold`, document: await session.create('Long history, cache cold'), cold: true },
    { label: 'fresh document, cache cold', document: await session.create('Fresh, cache cold'), cold: true },
  ];
  const [, longWarm, longCold] = plans.map((plan) => plan.document);
  const buildBegin = performance.now();
  await appendHistory(main, session, longWarm!, sizes.priorEdits);
  await appendHistory(main, session, longCold!, sizes.priorEdits);
  const buildMs = performance.now() - buildBegin;
  const catchUpBegin = performance.now();
  await session.settle();
  const catchUpMs = performance.now() - catchUpBegin;

  const sequential = new HttpClient(main.baseUrl, 1);
  const second = await startService(db, schema, ['command-api']);
  const secondClient = new HttpClient(second.baseUrl, 1);
  try {
    const firstEditWithoutSnapshotMs = await timedEdit(session, longWarm!, sequential);
    await timedEdit(session, longCold!, sequential); // makes its first snapshot too
    const firstEditOnSecondInstanceMs = await timedEdit(session, longCold!, secondClient);
    // A cold document's edit goes to the other instance than its last one did.
    const lastOnSecond = new Set<TrackedDocument>([longCold!]);
    const clientFor = (plan: SeriesPlan): HttpClient => {
      if (!plan.cold) return sequential;
      const toSecond = !lastOnSecond.has(plan.document);
      if (toSecond) lastOnSecond.add(plan.document);
      else lastOnSecond.delete(plan.document);
      return toSecond ? secondClient : sequential;
    };
    await rotate(session, plans, sizes.sequentialWarmup, clientFor);
    await session.settle();
    const samples = await rotate(session, plans, sizes.sequentialEdits, clientFor);
    await session.settle();
    const [freshWarmSeries, longWarmSeries, longColdSeries, freshColdSeries] = plans.map((plan, index) => series(plan.label, samples[index]!, sizes.sequentialEdits));
    return {
      priorEdits: sizes.priorEdits,
      buildMs,
      catchUpMs,
      firstEditWithoutSnapshotMs,
      firstEditOnSecondInstanceMs,
      freshWarm: freshWarmSeries!,
      longWarm: longWarmSeries!,
      longCold: longColdSeries!,
      freshCold: freshColdSeries!,
    };
  } finally {
    sequential.close();
    secondClient.close();
    await second.close();
  }
}

/** Writes `edits` DocumentEdited events to the document's stream, HISTORY_BATCH per append, as the service would. */
async function appendHistory(main: RunningService, session: DocumentsSession, document: TrackedDocument, edits: number): Promise<void> {
  const store = main.service.platform.store;
  const stream = documentStreamId(document.id);
  let revision = BigInt(document.revision);
  for (let written = 0; written < edits; written += HISTORY_BATCH) {
    const at = new Date().toISOString();
    const correlationId = randomUUID();
    const events = Array.from({ length: Math.min(HISTORY_BATCH, edits - written) }, (_, i): EventToAppend => {
      const edited: Extract<DocumentEvent, { type: 'DocumentEdited' }> = {
        type: 'DocumentEdited',
        data: { documentId: document.id, title: document.title, content: documentContent(document.edits + i + 1), editedAt: at, editedBy: session.userId },
      };
      return { id: randomUUID(), type: edited.type, data: edited.data, metadata: { correlationId, causationId: correlationId, actorId: session.userId, occurredAt: at } };
    });
    const result = await store.append(stream, events, { expectedRevision: revision });
    revision = result.nextExpectedRevision;
    document.edits += events.length;
    session.notePositionOf(result.position);
  }
  document.revision = Number(revision);
}

async function timedEdit(session: DocumentsSession, document: TrackedDocument, client: HttpClient): Promise<number> {
  const begin = performance.now();
  const response = await session.edit(document, client);
  const elapsed = performance.now() - begin;
  if (response.status !== 200) throw new Error(`edit of ${document.title}: HTTP ${response.status} ${response.text.slice(0, 300)}`);
  return elapsed;
}

interface Samples {
  readonly recorder: LatencyRecorder;
  totalMs: number;
  historyAtStart: number;
}

/** `steps` rounds of one edit per series, the order rotated every round; `client` picks the instance for each edit. */
async function rotate(session: DocumentsSession, plans: readonly SeriesPlan[], steps: number, client: (plan: SeriesPlan) => HttpClient): Promise<Samples[]> {
  const samples = plans.map(({ document }): Samples => ({ recorder: new LatencyRecorder(), totalMs: 0, historyAtStart: document.revision + 1 }));
  for (let step = 0; step < steps; step++) {
    for (let offset = 0; offset < plans.length; offset++) {
      const index = (step + offset) % plans.length;
      const plan = plans[index]!;
      const ms = await timedEdit(session, plan.document, client(plan));
      samples[index]!.recorder.record(ms);
      samples[index]!.totalMs += ms;
    }
  }
  return samples;
}

function series(label: string, samples: Samples, edits: number): EditSeries {
  return { label, historyAtStart: samples.historyAtStart, latency: samples.recorder.summary(), meanMs: samples.totalMs / edits };
}
