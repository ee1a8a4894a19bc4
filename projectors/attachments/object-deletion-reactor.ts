/**
 * Deletes the objects of removed attachments. The attachments projection queues each removal in
 * `storage_deletions`; this reactor takes a few at a time under a lease (so that of several projector
 * processes one deletes each), deletes the object (deleting one already gone is no error), and records
 * it with `AttachmentObjectDeleted`, whose projection takes the row off the queue. A crash between the
 * two steps only means deleting the same object again.
 *
 * It also sweeps uploads that were signed but never completed (`upload_intents` past their URLs'
 * expiry and UNCOMPLETED_UPLOAD_GRACE_MS): their objects, if any were uploaded, are deleted, unless the
 * key did become an attachment (then only the forgotten intent goes).
 */
import type { Knex } from 'knex';
import { storageAccountDecider, storageAccountStreamId } from '../../domain/attachments/storage-account';
import { handleCommand } from '../../command-api/command-handling';
import type { EventStore } from '../../infra/event-store/event-store';
import type { Logger } from '../../infra/logging/logger';
import type { ObjectStorage } from '../../infra/storage/object-storage';
import { UNCOMPLETED_UPLOAD_GRACE_MS } from '../../infra/storage/storage-config';
import type { Wakeups } from '../../infra/wakeups/wakeups';
import { claimJobs, DELETION_JOBS, dropFinishedLeases } from './job-leases';
import { ReactorLoop } from './reactor-loop';

export interface ObjectDeletionDeps {
  readonly store: EventStore;
  readonly db: Knex;
  readonly storage: ObjectStorage;
  readonly wakeups: Wakeups;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly pollMs?: number;
  readonly leaseSeconds?: number;
}

export function objectDeletionReactor(deps: ObjectDeletionDeps): ReactorLoop {
  const lease = deps.leaseSeconds ?? 60;

  async function sweepUncompleted(): Promise<number> {
    const due = new Date(deps.clock().getTime() - UNCOMPLETED_UPLOAD_GRACE_MS);
    const claimed = await deps.db.raw<{ rows: Array<{ key: string }> }>(
      `UPDATE upload_intents SET lease_until = now() + make_interval(secs => ?)
        WHERE key IN (SELECT key FROM upload_intents WHERE expires_at < ? AND (lease_until IS NULL OR lease_until < now())
                      ORDER BY expires_at LIMIT 50 FOR UPDATE SKIP LOCKED)
        RETURNING key`,
      [lease, due],
    );
    for (const { key } of claimed.rows) {
      const attached = await deps.db('attachments').where('key', key).first('id');
      if (!attached) await deps.storage.delete(key);
      await deps.db('upload_intents').where('key', key).delete();
    }
    return claimed.rows.length;
  }
  return new ReactorLoop({
    name: 'attachment-object-deletion',
    projections: ['attachments'],
    wakeups: deps.wakeups,
    logger: deps.logger,
    pollMs: deps.pollMs ?? 1_000,
    async round() {
      const claimed = await claimJobs<{ attachment_id: string; owner_id: string; key: string }>(deps.db, DELETION_JOBS, 20, lease);
      for (const job of claimed) {
        await deps.storage.delete(job.key);
        const now = deps.clock();
        await handleCommand(
          deps.store,
          storageAccountStreamId(job.owner_id),
          storageAccountDecider,
          { type: 'RecordObjectDeleted', attachmentId: job.attachment_id, ownerId: job.owner_id, at: now.toISOString() },
          { actorId: null, correlationId: `attachment-${job.attachment_id}`, causationId: `attachment-${job.attachment_id}`, now },
        );
      }
      await dropFinishedLeases(deps.db, DELETION_JOBS);
      return claimed.length > 0 || (await sweepUncompleted()) > 0;
    },
  });
}
