/**
 * GET /api/ai/usage: the caller's own AI usage, from the `ai_usage` read model: totals and a per-day
 * breakdown over the last `days` UTC days (today included), and the most recent calls. Only ever the
 * caller's rows; there is no id to name anyone else's. GET /api/workspaces/:id/ai: the workspace's AI
 * policy, for its members (404 for anyone else, as for the workspace itself).
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { visibleWorkspace } from '../workspaces/workspaces-queries';

const usageQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(30),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

interface DayRow {
  day: string;
  requests: string;
  tokens_in: string;
  tokens_out: string;
  cost: string;
}

export function aiUsageQueries(deps: { db: Knex; clock?: () => Date }): RouteSpec[] {
  const { db } = deps;
  const clock = deps.clock ?? (() => new Date());

  async function usage(req: Request, res: Response) {
    const params = parseRequest(usageQuery, req.query, 'query');
    const userId = req.auth!.userId;
    const now = clock();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (params.days - 1)));
    const [days, recent] = await Promise.all([
      db('ai_usage')
        .where('user_id', userId)
        .andWhere('occurred_at', '>=', from)
        .groupByRaw(`to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`)
        .orderBy('day', 'desc')
        .select<DayRow[]>(
          db.raw(`to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day`),
          db.raw('count(*) AS requests'),
          db.raw('sum(tokens_in) AS tokens_in'),
          db.raw('sum(tokens_out) AS tokens_out'),
          db.raw('sum(cost_micro_usd) AS cost'),
        ),
      db('ai_usage').where('user_id', userId).orderBy([{ column: 'occurred_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(params.limit),
    ]);
    const byDay = days.map((row) => ({
      date: row.day,
      requests: Number(row.requests),
      tokensIn: Number(row.tokens_in),
      tokensOut: Number(row.tokens_out),
      costUsd: Number(row.cost) / 1e6,
    }));
    const totals = byDay.reduce(
      (sum, day) => ({ requests: sum.requests + day.requests, tokensIn: sum.tokensIn + day.tokensIn, tokensOut: sum.tokensOut + day.tokensOut, costUsd: sum.costUsd + day.costUsd }),
      { requests: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 },
    );
    res.json({
      from: from.toISOString().slice(0, 10),
      to: now.toISOString().slice(0, 10),
      totals: { ...totals, costUsd: Math.round(totals.costUsd * 1e6) / 1e6 },
      byDay,
      recent: recent.map((row) => ({
        id: row.id,
        at: row.occurred_at.toISOString(),
        workspaceId: row.workspace_id,
        purpose: row.purpose,
        provider: row.provider,
        model: row.model,
        tokensIn: row.tokens_in,
        tokensOut: row.tokens_out,
        latencyMs: row.latency_ms,
        outcome: row.outcome,
      })),
    });
  }

  async function policy(req: Request, res: Response) {
    const workspace = await visibleWorkspace(db, req.auth!.userId, typeof req.params.id === 'string' ? req.params.id : undefined);
    const row = await db('workspace_ai_policies').where('workspace_id', workspace.id).first<{ ai_proxy: boolean; set_by: string; set_at: Date } | undefined>();
    res.json({ workspaceId: workspace.id, aiProxy: row?.ai_proxy ?? false, setBy: row?.set_by ?? null, setAt: row?.set_at.toISOString() ?? null });
  }

  return [
    { method: 'get', path: '/api/workspaces/:id/ai', access: 'user', summary: "A workspace's AI policy: may its members use the AI proxy", responses: { 200: '{workspaceId, aiProxy, setBy, setAt}' }, handler: policy },
    { method: 'get', path: '/api/ai/usage', access: 'user', summary: "The caller's AI usage: totals, per day, recent calls", query: usageQuery, responses: { 200: '{from, to, totals, byDay, recent}' }, handler: usage },
  ];
}
