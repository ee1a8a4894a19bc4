/**
 * Circles and sharing over HTTP against the in-process service: the latency of accepting an invite, of
 * sharing and unsharing a note (each command answers only once the `circles` and `sync` projections
 * have applied it, so this is write-to-readable latency), of `GET /api/shared` for a member of several
 * circles with a few hundred shared notes, and of that member's sync pulls (a first full pull and the
 * pull that follows one edit).
 */
import { randomUUID } from 'node:crypto';
import type { BenchSchema } from './support/bench-schema';
import { startService, withServiceSchema } from './support/bench-service';
import { HttpClient, jsonOf } from './support/http-client';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { formatCount, formatMs, renderTable } from './support/report';

export interface CirclesFigures {
  readonly circles: number;
  readonly sharedNotes: number;
  readonly accepts: LatencySummary;
  readonly shares: LatencySummary;
  readonly unshares: LatencySummary;
  readonly sharedList: LatencySummary;
  readonly fullPull: LatencySummary;
  readonly incrementalPull: LatencySummary;
  readonly changesPerFullPull: number;
}

const CIRCLES = 5;

export async function measureCircles(db: BenchSchema, scale: number, progress: (line: string) => void): Promise<CirclesFigures> {
  return withServiceSchema(db, async (schema) => {
    const running = await startService(db, schema);
    const http = new HttpClient(running.baseUrl, 4);
    const signUp = async (label: string) => {
      const body = jsonOf<{ user: { id: string }; accessToken: string }>(
        await http.request('POST', '/api/auth/signup', { json: { email: `${label}-${randomUUID()}@example.com`, password: 'correct horse battery staple' } }),
        201,
        'sign-up',
      );
      return { id: body.user.id, auth: { authorization: `Bearer ${body.accessToken}` } };
    };
    const timed = async <T>(recorder: LatencyRecorder | undefined, run: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await run();
      recorder?.record(performance.now() - started);
      return result;
    };
    try {
      const owner = await signUp('owner');
      const reader = await signUp('reader');
      const circleIds: string[] = [];
      for (let i = 0; i < CIRCLES; i++) {
        const circle = jsonOf<{ id: string }>(await http.request('POST', '/api/circles', { headers: owner.auth, json: { name: `Group ${i}` } }), 201, 'create circle');
        await http.request('PATCH', `/api/circles/${circle.id}`, { headers: owner.auth, json: { openInvites: true } });
        circleIds.push(circle.id);
      }

      const acceptCount = Math.max(50, Math.round(100 * Math.min(scale, 5)));
      progress(`... ${acceptCount} invite acceptances (the reader's first, then new members')`);
      const accepts = new LatencyRecorder();
      for (let i = 0; i < acceptCount; i++) {
        const member = i < CIRCLES ? reader : await signUp('member');
        const circleId = circleIds[i % CIRCLES]!;
        const invite = jsonOf<{ token: string }>(await http.request('POST', `/api/circles/${circleId}/invites`, { headers: owner.auth, json: {} }), 201, 'invite');
        await timed(accepts, async () => jsonOf(await http.request('POST', `/api/invites/${invite.token}/accept`, { headers: member.auth }), 200, 'accept'));
      }

      const noteCount = Math.max(100, Math.round(300 * Math.min(scale, 5)));
      progress(`... ${noteCount} notes created and shared (one circle each), one at a time`);
      const shares = new LatencyRecorder();
      const noteIds: string[] = [];
      for (let i = 0; i < noteCount; i++) {
        const note = jsonOf<{ id: string }>(
          await http.request('POST', '/api/notes', { headers: owner.auth, json: { title: `Shared ${i}`, content: 'Read Romans 8:28 together and pray.', dateTime: new Date().toISOString() } }),
          201,
          'note',
        );
        noteIds.push(note.id);
        await timed(shares, async () => jsonOf(await http.request('POST', `/api/notes/${note.id}/shares`, { headers: owner.auth, json: { circleId: circleIds[i % CIRCLES] } }), 201, 'share'));
      }

      progress('... GET /api/shared and sync pulls by a member of every circle');
      const queries = Math.max(50, Math.round(200 * Math.min(scale, 5)));
      const sharedList = new LatencyRecorder();
      for (let i = -10; i < queries; i++) {
        await timed(i >= 0 ? sharedList : undefined, async () => jsonOf(await http.request('GET', '/api/shared', { headers: reader.auth }), 200, 'shared'));
      }
      const fullPull = new LatencyRecorder();
      let changes = 0;
      let cursor = '';
      for (let i = -5; i < Math.round(queries / 4); i++) {
        const page = await timed(i >= 0 ? fullPull : undefined, async () =>
          jsonOf<{ changes: unknown[]; cursor: string }>(await http.request('GET', '/api/sync/since?limit=1000', { headers: reader.auth }), 200, 'pull'),
        );
        changes = page.changes.length;
        cursor = page.cursor;
      }
      const incrementalPull = new LatencyRecorder();
      for (let i = 0; i < Math.round(queries / 4); i++) {
        const noteId = noteIds[i % noteIds.length]!;
        const edited = await http.request('PUT', `/api/notes/${noteId}`, {
          headers: { ...owner.auth, 'if-match': '*' },
          json: { title: `Edited ${i}`, content: 'Read Romans 8:28 together and pray.', dateTime: new Date().toISOString() },
        });
        const token = String(edited.headers['x-consistency-token'] ?? '');
        const page = await timed(incrementalPull, async () =>
          jsonOf<{ cursor: string }>(await http.request('GET', `/api/sync/since?limit=1000&cursor=${encodeURIComponent(cursor)}`, { headers: { ...reader.auth, 'x-consistency-token': token } }), 200, 'pull'),
        );
        cursor = page.cursor;
      }

      progress('... unsharing');
      const unshares = new LatencyRecorder();
      for (let i = 0; i < Math.min(noteIds.length, 100); i++) {
        await timed(unshares, async () => {
          const res = await http.request('DELETE', `/api/notes/${noteIds[i]}/shares/${circleIds[i % CIRCLES]}`, { headers: owner.auth });
          if (res.status !== 204) throw new Error(`unshare: ${res.status} ${res.text}`);
        });
      }
      return {
        circles: CIRCLES,
        sharedNotes: noteCount,
        accepts: accepts.summary(),
        shares: shares.summary(),
        unshares: unshares.summary(),
        sharedList: sharedList.summary(),
        fullPull: fullPull.summary(),
        incrementalPull: incrementalPull.summary(),
        changesPerFullPull: changes,
      };
    } finally {
      http.close();
      await running.close();
    }
  });
}

export function circlesTable(figures: CirclesFigures): string {
  const row = (measure: string, latency: LatencySummary) => [measure, formatCount(latency.count), formatMs(latency.p50Ms), formatMs(latency.p99Ms), formatMs(latency.maxMs)];
  return renderTable({
    title: `Circles and sharing: ${figures.circles} circles, ${formatCount(figures.sharedNotes)} shared notes, one reader in every circle`,
    headers: ['measure', 'requests', 'p50 ms', 'p99 ms', 'max ms'],
    rows: [
      row('POST /api/invites/:token/accept (answers once queries and sync see it)', figures.accepts),
      row('POST /api/notes/:id/shares (answers once queries and sync see it)', figures.shares),
      row('DELETE /api/notes/:id/shares/:circleId (the same)', figures.unshares),
      row(`GET /api/shared (${formatCount(figures.sharedNotes)} notes over ${figures.circles} circles)`, figures.sharedList),
      row(`GET /api/sync/since, first pull (${formatCount(figures.changesPerFullPull)} changes)`, figures.fullPull),
      row('GET /api/sync/since after one shared note was edited', figures.incrementalPull),
    ],
    notes: [
      'one request at a time over keep-alive HTTP, the projectors running in the same process',
      'accept, share and unshare wait for the circles and sync projections before answering: their latency includes projection',
    ],
  });
}
