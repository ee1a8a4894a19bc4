/**
 * Notification queries: my inbox (newest first, in pages), the delivery attempts of my notifications
 * to my webhook and e-mail (with each failure's reason), and a live stream of new notifications as
 * Server-Sent Events. The stream is ordered by log position: each event's `id` is the position, so a
 * reconnecting EventSource (which sends it back as `Last-Event-ID`) resumes exactly after the last one
 * it got. Without `Last-Event-ID` the stream starts with what arrives after it is opened. It is woken
 * by the notifications projection's progress (polling while wake-ups are down), sends a comment every
 * `heartbeatMs` to keep proxies from closing it, and ends after `wait` seconds (the client reconnects)
 * or when the service shuts down.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { LogPosition } from '../../infra/event-store/log-position';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { nextWakeup, WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';

export const MAX_STREAM_SECONDS = 3_600;

interface NotificationRow {
  id: string;
  kind: string;
  reminder_id: string;
  note_id: string;
  title: string;
  due_at: Date;
  created_at: Date;
  read_at: Date | null;
  position: string;
}

function notificationJson(row: NotificationRow) {
  return {
    id: row.id,
    kind: row.kind,
    reminderId: row.reminder_id,
    noteId: row.note_id,
    title: row.title,
    dueAt: row.due_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    read: row.read_at !== null,
    readAt: row.read_at ? row.read_at.toISOString() : null,
    /** Send back as Last-Event-ID to stream what came after this one. */
    cursor: row.position,
  };
}

const position = z.string().refine((value) => LogPosition.parse(value) !== undefined, { message: 'not a cursor this service issued' });

const listQuery = z.strictObject({
  unread: z.enum(['true', 'false']).optional(),
  before: position.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const streamQuery = z.strictObject({
  /** Seconds to keep the stream open (0: send what is pending after Last-Event-ID, then end). */
  wait: z.coerce.number().int().min(0).max(MAX_STREAM_SECONDS).default(300),
});

const deliveriesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export interface NotificationsQueryDeps {
  readonly db: Knex;
  readonly wakeups: Wakeups;
  /** Aborted when the service shuts down: open streams end at once. */
  readonly shutdown: AbortSignal;
  readonly heartbeatMs?: number;
}

const COLUMNS = ['id', 'kind', 'reminder_id', 'note_id', 'title', 'due_at', 'created_at', 'read_at', 'position'];

export function notificationsQueries(deps: NotificationsQueryDeps): RouteSpec[] {
  const { db } = deps;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;

  async function inbox(req: Request, res: Response) {
    const params = parseRequest(listQuery, req.query, 'query');
    const query = db('notifications').where('user_id', req.auth!.userId).orderBy('position', 'desc').limit(params.limit + 1).select<NotificationRow[]>(COLUMNS);
    if (params.unread === 'true') query.whereNull('read_at');
    if (params.before) query.andWhere('position', '<', params.before);
    const rows = await query;
    const page = rows.slice(0, params.limit);
    const unread = await db('notifications').where('user_id', req.auth!.userId).whereNull('read_at').count<{ count: string }[]>({ count: '*' });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ items: page.map(notificationJson), unread: Number(unread[0]?.count ?? 0), nextBefore: rows.length > params.limit ? page[page.length - 1]!.position : null });
  }

  async function deliveries(req: Request, res: Response) {
    const params = parseRequest(deliveriesQuery, req.query, 'query');
    const rows = await db('notification_deliveries as d')
      .where('d.user_id', req.auth!.userId)
      .orderBy([{ column: 'd.created_at', order: 'desc' }, { column: 'd.id' }])
      .limit(params.limit)
      .select(
        'd.*',
        db.raw(`COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.attempted_at, 'ok', a.ok, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) ORDER BY a.attempt)
                FROM notification_delivery_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS history`),
      );
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      items: rows.map((row) => ({
        id: row.id,
        notificationId: row.notification_id,
        channel: row.channel,
        target: row.target,
        status: row.status,
        attempts: row.attempts,
        nextAttemptAt: row.status === 'pending' && row.next_attempt_at ? row.next_attempt_at.toISOString() : null,
        lastError: row.last_error,
        deliveredAt: row.delivered_at ? row.delivered_at.toISOString() : null,
        createdAt: row.created_at.toISOString(),
        history: (row.history as { at: string }[]).map((attempt) => ({ ...attempt, at: new Date(attempt.at).toISOString() })),
      })),
    });
  }

  async function stream(req: Request, res: Response) {
    const params = parseRequest(streamQuery, req.query, 'query');
    const lastEventId = req.header('last-event-id');
    if (lastEventId !== undefined && lastEventId !== '' && !LogPosition.parse(lastEventId.trim())) {
      throw new Problem('invalid', 'NOTIFICATIONS.INVALID_LAST_EVENT_ID', 'Last-Event-ID is not an id this stream sent');
    }
    const userId = req.auth!.userId;
    let cursor: string;
    if (lastEventId) cursor = lastEventId.trim();
    else {
      const latest = await db('notifications').where('user_id', userId).max<{ max: string | null }[]>({ max: 'position' });
      cursor = latest[0]?.max ?? '';
    }

    const closed = new AbortController();
    res.once('close', () => closed.abort());
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n: connected\n\n');

    const deadline = Date.now() + params.wait * 1_000;
    let lastWrite = Date.now();
    const open = () => !closed.signal.aborted && !deps.shutdown.aborted;
    try {
      for (;;) {
        const rows = await db('notifications').where('user_id', userId).andWhere('position', '>', cursor).orderBy('position').limit(100).select<NotificationRow[]>(COLUMNS);
        if (!open()) break;
        for (const row of rows) {
          res.write(`id: ${row.position}\nevent: notification\ndata: ${JSON.stringify(notificationJson(row))}\n\n`);
          cursor = row.position;
          lastWrite = Date.now();
        }
        if (rows.length === 100) continue;
        const left = deadline - Date.now();
        if (left <= 0 || !open()) break;
        if (Date.now() - lastWrite >= heartbeatMs) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        // Woken when the notifications projection writes (or the stream or the service ends).
        await nextWakeup(deps.wakeups, WakeupTopics.projectionChanged('notifications'), Math.min(left, heartbeatMs, deps.wakeups.live ? 1_000 : 100), closed.signal, deps.shutdown);
      }
    } catch {
      // The headers are out: the only answer left is to end the stream; the client reconnects with Last-Event-ID.
    } finally {
      if (!res.writableEnded) res.end();
    }
  }

  return [
    { method: 'get', path: '/api/notifications', access: 'user', summary: 'My notifications, newest first (unread=true: only unread)', query: listQuery, responses: { 200: '{items, unread, nextBefore}' }, handler: inbox },
    { method: 'get', path: '/api/notifications/deliveries', access: 'user', summary: 'Webhook and e-mail deliveries of my notifications, with every attempt', query: deliveriesQuery, responses: { 200: '{items}' }, handler: deliveries },
    { method: 'get', path: '/api/notifications/stream', access: 'user', summary: 'New notifications as they arrive (Server-Sent Events; resume with Last-Event-ID)', query: streamQuery, responses: { 200: 'text/event-stream of `notification` events' }, handler: stream },
  ];
}
