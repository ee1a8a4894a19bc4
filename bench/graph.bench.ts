/**
 * Cross-reference graph benchmarks over HTTP against the in-process service: one user's notes (each
 * citing one to three passages: single verses mostly, some short ranges, some whole chapters, spread
 * over the canon at random with a fixed seed) are appended to the log as NoteCreated events, as the
 * command side would, and projected by the service's own projectors; the graph tables are vacuumed
 * and analyzed (as autovacuum would do shortly after such a load). Then, one request at a time:
 * related notes of random notes (`GET /api/notes/:id/related?limit=20`) and the graph around random
 * chapters (`GET /api/graph?passage=<chapter>&limit=50`).
 */
import { randomUUID } from 'node:crypto';
import type { NoteEvent } from '../domain/notes/note';
import { chapterRange, fromVerseIndex, TOTAL_VERSES, toOsisRange, versesInChapter } from '../domain/scripture/verse-index';
import type { LogPosition } from '../infra/event-store/log-position';
import { readCheckpoint } from '../projectors/runtime/checkpoints';
import type { Service } from '../service';
import type { BenchSchema } from './support/bench-schema';
import { startService, withServiceSchema } from './support/bench-service';
import { HttpClient, jsonOf } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { formatCount, formatMs, formatSeconds, renderTable } from './support/report';

export interface GraphFigures {
  readonly notes: number;
  readonly passages: number;
  readonly fillMs: number;
  readonly projectMs: number;
  readonly related: LatencySummary;
  readonly relatedItems: number;
  readonly graph: LatencySummary;
  readonly graphNodes: number;
}

/** A small deterministic generator (mulberry32): the same corpus every run. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A passage as notes cite them: 70% one verse, 20% two to five verses, 10% a whole chapter. */
function randomPassage(next: () => number): string {
  const verse = 1 + Math.floor(next() * TOTAL_VERSES);
  const { book, chapter, verse: number } = fromVerseIndex(verse);
  const roll = next();
  if (roll < 0.7) return toOsisRange({ first: verse, last: verse });
  if (roll < 0.9) {
    const last = Math.min(verse + 1 + Math.floor(next() * 4), verse + versesInChapter(book, chapter) - number);
    return toOsisRange({ first: verse, last });
  }
  return toOsisRange(chapterRange(book, chapter)!);
}

export async function measureGraph(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<GraphFigures> {
  return withServiceSchema(db, async (schema) => {
    const running = await startService(db, schema);
    const http = new HttpClient(running.baseUrl, 4);
    try {
      const signup = jsonOf<{ user: { id: string }; accessToken: string }>(
        await http.request('POST', '/api/auth/signup', { json: { email: `graph-${randomUUID()}@example.com`, password: 'correct horse battery staple' } }),
        201,
        'sign-up',
      );
      const auth = { authorization: `Bearer ${signup.accessToken}` };
      const count = Math.max(2_000, Math.round(20_000 * scale));
      progress(`... appending ${count} notes to the log`);
      const next = random(7);
      const started = performance.now();
      const { noteIds, lastPosition, passages } = await appendNotes(running.service, signup.user.id, count, next);
      const fillMs = performance.now() - started;
      for (;;) {
        const checkpoint = await readCheckpoint(running.service.platform.knex, 'graph');
        if (checkpoint !== 'start' && checkpoint >= lastPosition) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const projectMs = performance.now() - started;
      // What autovacuum does within a minute or so of a bulk load: fresh statistics (without them the
      // planner takes the new tables for empty and joins them by scanning) and the visibility map.
      await running.service.platform.knex.raw('VACUUM ANALYZE graph_notes, graph_segments, graph_links');

      const rounds = Math.max(100, Math.round(1_000 * Math.min(scale, 1)));
      progress(`... ${rounds} related-notes queries, one at a time`);
      const related = new LatencyRecorder();
      let relatedItems = 0;
      for (let i = 0; i < rounds + 20; i++) {
        const noteId = noteIds[Math.floor(next() * noteIds.length)]!;
        const began = performance.now();
        const body = jsonOf<{ items: unknown[] }>(await http.request('GET', `/api/notes/${noteId}/related?limit=20`, { headers: auth }), 200, 'related');
        if (i < 20) continue; // warm-up
        related.record(performance.now() - began);
        relatedItems += body.items.length;
      }

      progress(`... ${Math.round(rounds / 4)} graph queries around a chapter, one at a time`);
      const graph = new LatencyRecorder();
      let graphNodes = 0;
      for (let i = 0; i < Math.round(rounds / 4) + 5; i++) {
        const { book, chapter } = fromVerseIndex(1 + Math.floor(next() * TOTAL_VERSES));
        const began = performance.now();
        const body = jsonOf<{ nodes: unknown[] }>(await http.request('GET', `/api/graph?passage=${book}.${chapter}&limit=50`, { headers: auth }), 200, 'graph');
        if (i < 5) continue;
        graph.record(performance.now() - began);
        graphNodes += body.nodes.length;
      }
      return {
        notes: count,
        passages,
        fillMs,
        projectMs,
        related: related.summary(),
        relatedItems: relatedItems / Math.max(1, related.count),
        graph: graph.summary(),
        graphNodes: graphNodes / Math.max(1, graph.count),
      };
    } finally {
      http.close();
      await running.close();
    }
  });
}

/** Appends one NoteCreated per new stream, 16 at a time, as the command side would. */
export async function appendNotes(service: Service, ownerId: string, count: number, next: () => number) {
  const noteIds: string[] = [];
  let lastPosition = '' as LogPosition;
  let passages = 0;
  let index = 0;
  const worker = async () => {
    while (index < count) {
      const i = index++;
      const noteId = randomUUID();
      noteIds.push(noteId);
      const cited = [...new Set(Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomPassage(next)))];
      passages += cited.length;
      const now = new Date().toISOString();
      const event: NoteEvent = {
        type: 'NoteCreated',
        data: {
          noteId,
          ownerId,
          title: `Study ${i}`,
          content: `Reading ${cited.join(', ')} today.`,
          dateTime: now,
          tags: i % 10 === 0 ? ['providence'] : [],
          topics: [],
          detected: cited,
          scripture: cited,
          createdAt: now,
        },
      };
      const { position } = await service.platform.store.append(
        `note-${noteId}`,
        [{ id: randomUUID(), type: event.type, data: event.data as never, metadata: { correlationId: 'bench', causationId: 'bench', actorId: ownerId, occurredAt: now } }],
        { expectedRevision: 'no_stream' },
      );
      if (position > lastPosition) lastPosition = position;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { noteIds, lastPosition, passages };
}

export function graphTable(figures: GraphFigures): string {
  const row = (what: string, summary: LatencySummary, extra: string) => [what, formatCount(summary.count), formatMs(summary.p50Ms), formatMs(summary.p99Ms), formatMs(summary.maxMs), extra];
  return renderTable({
    title: `10. Cross-reference graph over ${formatCount(figures.notes)} notes of one user (${formatCount(figures.passages)} passages), one request at a time`,
    headers: ['query', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'answer size'],
    rows: [
      row('GET /api/notes/:id/related?limit=20', figures.related, `${figures.relatedItems.toFixed(1)} related notes`),
      row('GET /api/graph?passage=<chapter>&limit=50', figures.graph, `${figures.graphNodes.toFixed(1)} nodes`),
    ],
    notes: [
      `the notes were appended to the log in ${formatSeconds(figures.fillMs)} and projected into the graph by ${formatSeconds(figures.projectMs)} ` +
        `(${formatCount(figures.notes / (figures.projectMs / 1000))} notes/s, all projections running)`,
    ],
  });
}

/** What `npm run bench` calls: measures and renders the table. */
export async function runGraphBench(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<string> {
  return graphTable(await measureGraph(db, scale, progress));
}
