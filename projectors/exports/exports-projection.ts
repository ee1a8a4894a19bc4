/**
 * The `exports` read model (status, progress, where the finished file is) and `export_jobs`, the
 * exports the builder still has to build: a row appears with `ExportRequested` and goes when the export
 * is completed or has failed. Expired exports keep their row (status `expired`) so that their owner
 * learns why the download is gone.
 */
import type { ExportEvent } from '../../domain/exports/export';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const exportsProjection: Projection = {
  name: 'exports',
  tables: ['exports', 'export_jobs'],
  handles: ['ExportRequested', 'ExportProgressed', 'ExportCompleted', 'ExportFailed', 'ExportExpired'],
  apply(recorded, sql) {
    const event = recorded as unknown as ExportEvent;
    const revision = recorded.streamRevision.toString();
    const row = (id: string) => sql('exports').where('id', id).andWhere('revision', '<', revision);
    switch (event.type) {
      case 'ExportRequested': {
        const { exportId, ownerId, format, scope, requestedAt } = event.data;
        return [
          upsertIfNewer(sql, 'exports', ['id'], { id: exportId, owner_id: ownerId, format, scope: JSON.stringify(scope), status: 'requested', done: 0, requested_at: requestedAt, revision }),
          sql.raw('INSERT INTO export_jobs (export_id, owner_id, format, scope, requested_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
            exportId,
            ownerId,
            format,
            JSON.stringify(scope),
            requestedAt,
          ]),
        ];
      }
      case 'ExportProgressed':
        return row(event.data.exportId).update({ status: 'running', done: event.data.done, total: event.data.total, revision });
      case 'ExportCompleted': {
        const { exportId, key, fileName, size, items, completedAt, expiresAt } = event.data;
        return [
          row(exportId).update({ status: 'ready', done: items, total: items, key, file_name: fileName, size, completed_at: completedAt, expires_at: expiresAt, revision }),
          sql('export_jobs').where('export_id', exportId).delete(),
        ];
      }
      case 'ExportFailed':
        return [row(event.data.exportId).update({ status: 'failed', error_code: event.data.code, completed_at: event.data.failedAt, revision }), sql('export_jobs').where('export_id', event.data.exportId).delete()];
      case 'ExportExpired':
        return row(event.data.exportId).update({ status: 'expired', revision });
      default:
        return unreachable(event);
    }
  },
};
