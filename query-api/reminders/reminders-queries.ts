/**
 * Reminder queries from the `reminder_schedule` and settings read models: my active reminders (those
 * due before a time with `dueBefore`), one reminder, and my reminder settings (never the webhook's
 * secret). Someone else's reminder is the same 404 as a missing one.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_TARGET_RETENTION = 0.9;

interface ScheduleRow {
  reminder_id: string;
  note_id: string;
  kind: string;
  status: string;
  at: Date | null;
  rule: string | null;
  timezone: string | null;
  next_due_at: Date | null;
  fire_at: Date | null;
  last_fired_at: Date | null;
  reviews: number;
  stability: number | null;
  difficulty: number | null;
  last_reviewed_at: Date | null;
  note_deleted: boolean;
  created_at: Date;
  revision: string;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

function reminderJson(row: ScheduleRow) {
  return {
    id: row.reminder_id,
    noteId: row.note_id,
    kind: row.kind,
    status: row.status,
    at: iso(row.at),
    rule: row.rule,
    timezone: row.timezone,
    nextDueAt: row.status === 'active' ? iso(row.next_due_at) : null,
    awaitingReview: row.kind === 'spaced' && row.status === 'active' && row.fire_at === null,
    lastFiredAt: iso(row.last_fired_at),
    reviews: row.reviews,
    stability: row.stability,
    difficulty: row.difficulty,
    lastReviewedAt: iso(row.last_reviewed_at),
    noteDeleted: row.note_deleted,
    createdAt: row.created_at.toISOString(),
    revision: Number(row.revision),
  };
}

const listQuery = z.strictObject({
  dueBefore: z.iso.datetime({ offset: true }).optional(),
  noteId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function remindersQueries(deps: { db: Knex }): RouteSpec[] {
  const { db } = deps;

  async function list(req: Request, res: Response) {
    const params = parseRequest(listQuery, req.query, 'query');
    const query = db('reminder_schedule')
      .where({ owner_id: req.auth!.userId, status: 'active' })
      .orderBy([{ column: 'next_due_at', order: 'asc' }, { column: 'reminder_id' }])
      .limit(params.limit);
    if (params.dueBefore) query.andWhere('next_due_at', '<=', new Date(params.dueBefore));
    if (params.noteId) query.andWhere('note_id', params.noteId.toLowerCase());
    const rows: ScheduleRow[] = await query;
    res.json({ items: rows.map(reminderJson) });
  }

  async function get(req: Request, res: Response) {
    const id = req.params.id;
    const row: ScheduleRow | undefined = typeof id === 'string' && UUID.test(id) ? await db('reminder_schedule').where({ reminder_id: id, owner_id: req.auth!.userId }).first() : undefined;
    if (!row) throw new Problem('not_found', 'REMINDER.NOT_FOUND', 'no such reminder');
    res.json(reminderJson(row));
  }

  async function settings(req: Request, res: Response) {
    const userId = req.auth!.userId;
    const [retention, channels] = await Promise.all([
      db('reminder_settings').where({ user_id: userId }).first<{ target_retention: number } | undefined>('target_retention'),
      // Whether a (sealed) secret is set, never the secret itself.
      db('notification_channels')
        .where({ user_id: userId })
        .first<{ webhook_url: string | null; has_secret: boolean; email: boolean } | undefined>('webhook_url', db.raw('webhook_secret IS NOT NULL AS has_secret'), 'email'),
    ]);
    res.json({
      targetRetention: retention?.target_retention ?? DEFAULT_TARGET_RETENTION,
      webhook: channels?.webhook_url ? { url: channels.webhook_url, hasSecret: channels.has_secret } : null,
      email: channels?.email ?? false,
    });
  }

  return [
    { method: 'get', path: '/api/reminders', access: 'user', summary: 'My active reminders, soonest first (dueBefore: only those due by then)', query: listQuery, responses: { 200: '{items}' }, handler: list },
    { method: 'get', path: '/api/reminders/:id', access: 'user', summary: 'One of my reminders', responses: { 200: 'The reminder' }, handler: get },
    { method: 'get', path: '/api/me/reminder-settings', access: 'user', summary: 'My target retention and notification channels (no secrets)', responses: { 200: '{targetRetention, webhook: {url, hasSecret} | null, email}' }, handler: settings },
  ];
}
