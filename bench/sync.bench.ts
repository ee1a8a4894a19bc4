/**
 * Sync benchmarks over HTTP against the in-process service: the initial sync of many documents in pages
 * of 500, an incremental pull with a few changes pending, and how fast a held long poll answers once a
 * write in its scope is acknowledged. The documents are appended straight to the event store (as the
 * command side would) and projected by the service's own projectors, so the feed is the real one.
 */
import { randomUUID } from 'node:crypto';
import { readCheckpoint } from '../projectors/runtime/checkpoints';
import type { Service } from '../service';
import type { LogPosition } from '../infra/event-store/log-position';
import type { BenchSchema } from './support/bench-schema';
import { startService, withServiceSchema } from './support/bench-service';
import { HttpClient, jsonOf } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';

export interface SyncFigures {
  readonly documents: number;
  readonly fillMs: number;
  readonly initialSyncMs: number;
  readonly pages: number;
  readonly incremental: LatencySummary;
  readonly wakeUp: LatencySummary;
  readonly wakeUpFromSend: LatencySummary;
}

interface SyncPage {
  changes: Array<{ entity: string; id: string; revision: number }>;
  cursor: string;
  hasMore: boolean;
}

const PAGE = 500;

export async function measureSync(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<SyncFigures> {
  return withServiceSchema(db, async (schema) => {
    const running = await startService(db, schema);
    const http = new HttpClient(running.baseUrl, 40);
    try {
      const signup = jsonOf<{ user: { id: string }; accessToken: string }>(
        await http.request('POST', '/api/auth/signup', { json: { email: `sync-${randomUUID()}@example.com`, password: 'correct horse battery staple' } }),
        201,
        'sign-up',
      );
      const auth = { authorization: `Bearer ${signup.accessToken}` };
      const workspaceId = jsonOf<{ id: string }>(await http.request('POST', '/api/workspaces', { json: { name: 'Bench' }, headers: auth }), 201, 'workspace').id;

      const documents = Math.max(1_000, Math.round(100_000 * scale));
      progress(`... appending ${documents} documents to the log`);
      const fillStarted = performance.now();
      const ids = await appendDocuments(running.service, workspaceId, signup.user.id, documents);
      const lastPosition = ids.lastPosition;
      const knex = running.service.platform.knex;
      for (;;) {
        const checkpoint = await readCheckpoint(knex, 'sync');
        if (checkpoint !== 'start' && checkpoint >= lastPosition) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const fillMs = performance.now() - fillStarted;

      progress('... initial sync in pages of 500');
      let cursor: string | undefined;
      let pages = 0;
      let seen = 0;
      const syncStarted = performance.now();
      for (;;) {
        const page = jsonOf<SyncPage>(await http.request('GET', `/api/sync/since?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth }), 200, 'pull');
        pages++;
        seen += page.changes.filter((change) => change.entity === 'document').length;
        cursor = page.cursor;
        if (!page.hasMore) break;
      }
      const initialSyncMs = performance.now() - syncStarted;
      if (seen !== documents) throw new Error(`initial sync delivered ${seen} documents of ${documents}`);

      progress('... incremental pulls');
      const revisions = new Map(ids.documentIds.slice(0, 300).map((id) => [id, 0]));
      const editable = [...revisions.keys()];
      const edit = async (index: number) => {
        const id = editable[index % editable.length]!;
        const revision = revisions.get(id)!;
        const sentAt = performance.now();
        const res = await http.request('PUT', `/api/documents/${id}`, { headers: { ...auth, 'if-match': `"${revision}"` }, json: { title: `Edited ${index}`, content: `content ${index}` } });
        const body = jsonOf<{ revision: number }>(res, 200, 'edit');
        revisions.set(id, body.revision);
        return { sentAt, ackAt: performance.now(), token: String(res.headers['x-consistency-token']) };
      };
      const incremental = new LatencyRecorder();
      const rounds = Math.max(20, Math.round(100 * Math.min(scale, 1)));
      let counter = 0;
      for (let round = 0; round < rounds; round++) {
        let token = '';
        for (let i = 0; i < 3; i++) token = (await edit(counter++)).token;
        await http.request('GET', '/api/me', { headers: { ...auth, 'x-consistency-token': token } });
        const started = performance.now();
        const page: SyncPage = jsonOf<SyncPage>(await http.request('GET', `/api/sync/since?limit=${PAGE}&cursor=${cursor}`, { headers: auth }), 200, 'pull');
        incremental.record(performance.now() - started);
        if (page.changes.length === 0) throw new Error('an incremental pull missed the pending changes');
        cursor = page.cursor;
      }

      progress('... long-poll wake-ups');
      const wakeUp = new LatencyRecorder();
      const wakeUpFromSend = new LatencyRecorder();
      for (let round = 0; round < rounds; round++) {
        const held: Promise<{ res: Awaited<ReturnType<HttpClient['request']>>; at: number }> = http.request('GET', `/api/sync/since?limit=${PAGE}&wait=30&cursor=${cursor}`, { headers: auth }).then((res) => ({ res, at: performance.now() }));
        await new Promise((resolve) => setTimeout(resolve, 30));
        const write = await edit(counter++);
        const answered = await held;
        const page: SyncPage = jsonOf<SyncPage>(answered.res, 200, 'long poll');
        if (page.changes.length === 0) throw new Error('a long poll answered without the change');
        cursor = page.cursor;
        wakeUp.record(Math.max(0, answered.at - write.ackAt));
        wakeUpFromSend.record(answered.at - write.sentAt);
      }
      return { documents, fillMs, initialSyncMs, pages, incremental: incremental.summary(), wakeUp: wakeUp.summary(), wakeUpFromSend: wakeUpFromSend.summary() };
    } finally {
      http.close();
      await running.close();
    }
  });
}

/** Appends one DocumentCreated per new stream, 32 at a time, as the command side would. */
async function appendDocuments(service: Service, workspaceId: string, userId: string, count: number) {
  const documentIds: string[] = [];
  let lastPosition = '' as LogPosition;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const documentId = randomUUID();
      documentIds.push(documentId);
      const now = new Date().toISOString();
      const { position } = await service.platform.store.append(
        `document-${documentId}`,
        [
          {
            id: randomUUID(),
            type: 'DocumentCreated',
            data: { documentId, workspaceId, title: `Document ${index}`, content: `A short note number ${index} about grace and peace.`, createdAt: now, createdBy: userId },
            metadata: { correlationId: 'bench', causationId: 'bench', actorId: userId, occurredAt: now },
          },
        ],
        { expectedRevision: 'no_stream' },
      );
      if (position > lastPosition) lastPosition = position;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { documentIds, lastPosition };
}
