/**
 * Export status from the `exports` read model: status, progress (items done of total) and, once
 * ready, a presigned download. Only the export's owner sees it.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { requireStorage, type StoragePolicy } from '../../infra/storage/storage-config';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ExportRow {
  id: string;
  format: string;
  scope: unknown;
  status: 'requested' | 'running' | 'ready' | 'failed' | 'expired';
  done: number;
  total: number | null;
  key: string | null;
  file_name: string | null;
  size: string | null;
  error_code: string | null;
  requested_at: Date;
  completed_at: Date | null;
  expires_at: Date | null;
}

export function exportsQueries(deps: { db: Knex; policy: StoragePolicy; clock?: () => Date }): RouteSpec[] {
  const { db, policy } = deps;
  const clock = deps.clock ?? (() => new Date());

  async function get(req: Request, res: Response) {
    const id = req.params.id;
    const row =
      typeof id === 'string' && UUID.test(id)
        ? await db('exports').where({ id: id.toLowerCase(), owner_id: req.auth!.userId }).first<ExportRow | undefined>()
        : undefined;
    if (!row) throw new Problem('not_found', 'EXPORT.NOT_FOUND', 'no such export');
    const ready = row.status === 'ready' && row.key !== null && row.expires_at !== null && row.expires_at.getTime() > clock().getTime();
    let download: { url: string; expiresAt: string } | undefined;
    if (ready) {
      const storage = requireStorage(policy);
      const seconds = Math.max(1, Math.min(policy.downloadUrlSeconds, Math.floor((row.expires_at!.getTime() - clock().getTime()) / 1000)));
      download = { url: await storage.presignGet(row.key!, seconds, row.file_name ?? undefined), expiresAt: new Date(clock().getTime() + seconds * 1000).toISOString() };
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      id: row.id,
      format: row.format,
      scope: row.scope,
      // Past its expiry but not yet swept: already as good as expired.
      status: row.status === 'ready' && !ready ? 'expired' : row.status,
      progress: { done: row.done, total: row.total },
      requestedAt: row.requested_at.toISOString(),
      completedAt: row.completed_at?.toISOString() ?? null,
      expiresAt: row.expires_at?.toISOString() ?? null,
      ...(row.status === 'ready' ? { fileName: row.file_name, size: row.size === null ? null : Number(row.size) } : {}),
      ...(row.error_code ? { error: { code: row.error_code } } : {}),
      ...(download ? { download } : {}),
    });
  }

  return [
    {
      method: 'get',
      path: '/api/exports/:id',
      access: 'user',
      summary: 'An export: status, progress {done, total}, and when ready a presigned download',
      responses: { 200: '{id, format, scope, status, progress, requestedAt, completedAt, expiresAt, fileName?, size?, download?: {url, expiresAt}}' },
      handler: get,
    },
  ];
}
