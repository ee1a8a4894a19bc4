/**
 * Deletes the objects of removed attachments. The attachments projection queues each removal in
 * `storage_deletions`; this reactor takes a few at a time under a lease (so that of several projector
 * processes one deletes each), deletes the object (deleting one already gone is no error), and records
 * it with `AttachmentObjectDeleted`, whose projection takes the row off the queue. A crash between the
 * two steps only means deleting the same object again.
 */
import type { Knex } from 'knex';
import { storageAccountDecider, storageAccountStreamId } from '../../domain/attachments/storage-account';
import { handleCommand } from '../../command-api/command-handling';
import type { EventStore } from '../../infra/event-store/event-store';
import type { Logger } from '../../infra/logging/logger';
import type { ObjectStorage } from '../../infra/storage/object-storage';
import type { Wakeups } from '../../infra/wakeups/wakeups';
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
  return new ReactorLoop({
    name: 'attachment-object-deletion',
    projections: ['attachments'],
    wakeups: deps.wakeups,
    logger: deps.logger,
    pollMs: deps.pollMs ?? 1_000,
    async round() {
      const claimed = await deps.db.raw<{ rows: Array<{ attachment_id: string; owner_id: string; key: string }> }>(
        `UPDATE storage_deletions SET lease_until = now() + make_interval(secs => ?), attempts = attempts + 1
          WHERE attachment_id IN (SELECT attachment_id FROM storage_deletions WHERE lease_until IS NULL OR lease_until < now()
                                  ORDER BY requested_at LIMIT 20 FOR UPDATE SKIP LOCKED)
          RETURNING attachment_id, owner_id, key`,
        [lease],
      );
      for (const job of claimed.rows) {
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
      return claimed.rows.length > 0;
    },
  });
}
