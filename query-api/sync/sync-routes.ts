/**
 * GET /api/sync/since: the pull side of sync. Answers the changes in the caller's scope after their
 * cursor, a page at a time; with `wait`, an empty answer is held until something in their scope is
 * projected (woken by the sync projection's progress, polling while wake-ups are down) or the wait ends.
 * A cursor this store cannot honour is 410 Gone: discard the replica, keep the outbox, pull afresh.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { nextWakeup, WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';
import { decodeCursor, encodeCursor, type SyncCursor } from './sync-cursor';
import { readSyncPage, type SyncPage } from './sync-feed';

export const MAX_WAIT_SECONDS = 30;

const sinceQuery = z.strictObject({
  cursor: z.string().max(1_000).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(0),
});

export interface SyncDeps {
  readonly db: Knex;
  readonly wakeups: Wakeups;
  /** Aborted when the service shuts down: held pulls answer at once. */
  readonly shutdown: AbortSignal;
}

const START = { position: '', entity: '', id: '' } as const;

function gone(code: string, detail: string): Problem {
  return new Problem('gone', code, `${detail}: discard the local replica (keep the outbox of unsent changes) and pull again without a cursor`, {
    action: 'resync',
  });
}

export function syncRoutes(deps: SyncDeps): RouteSpec[] {
  let storeId: string | undefined;
  async function ourStore(): Promise<string> {
    storeId ??= (await deps.db('sync_store').first<{ id: string }>('id')).id;
    return storeId;
  }

  async function since(req: Request, res: Response) {
    const params = parseRequest(sinceQuery, req.query, 'query');
    const store = await ourStore();
    const after: Omit<SyncCursor, 'store'> = params.cursor === undefined ? START : checked(decodeCursor(params.cursor), store);
    const userId = req.auth!.userId;

    const closed = new AbortController();
    res.once('close', () => closed.abort());
    const deadline = Date.now() + params.wait * 1_000;
    let page: SyncPage = await readSyncPage(deps.db, userId, after, params.limit);
    assertUsable(page, after);
    while (page.changes.length === 0 && Date.now() < deadline && !closed.signal.aborted && !deps.shutdown.aborted) {
      // Woken when the sync projection writes (or the request or the service ends).
      await nextWakeup(deps.wakeups, WakeupTopics.projectionChanged('sync'), Math.min(deadline - Date.now(), deps.wakeups.live ? 1_000 : 100), closed.signal, deps.shutdown);
      if (closed.signal.aborted) return;
      page = await readSyncPage(deps.db, userId, page.cursor, params.limit);
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json({ changes: page.changes, cursor: encodeCursor({ store, ...page.cursor }), hasMore: page.hasMore });
  }

  return [{ method: 'get', path: '/api/sync/since', access: 'user', summary: 'Changes in my scope after a cursor (long poll with wait)', query: sinceQuery, responses: { 200: '{changes, cursor, hasMore}' }, handler: since }];
}

function checked(cursor: SyncCursor, store: string): Omit<SyncCursor, 'store'> {
  if (cursor.store !== store) throw gone('SYNC.CURSOR_FROM_OTHER_STORE', 'the cursor comes from another store');
  return cursor;
}

function assertUsable(page: SyncPage, after: Omit<SyncCursor, 'store'>): void {
  if (after.position === '') return;
  if (page.horizon !== undefined && after.position < page.horizon) throw gone('SYNC.CURSOR_EXPIRED', 'the cursor is older than the tombstone retention');
  if (page.checkpoint === undefined || after.position > page.checkpoint) throw gone('SYNC.CURSOR_AHEAD', 'the cursor is ahead of this store');
}
