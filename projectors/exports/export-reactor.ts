/**
 * The export builder and sweeper, a reactor in the projectors process. Each round it
 *  - expires finished exports past their time: deletes the object, then records `ExportExpired`
 *    (in that order: a crash in between deletes again, never leaks the object);
 *  - takes one export job under a lease (of several projector processes, one builds each export),
 *    waits for the read models it reads to reach the request (so a note written just before is in),
 *    builds it into object storage (export-builder.ts), recording progress about once a second and
 *    renewing the lease as it goes, and records `ExportCompleted`. A build that fails is retried with
 *    a growing pause; after `maxAttempts` the export is recorded as failed.
 * Everything it learns goes back into the log as commands on the export's stream.
 */
import type { Knex } from 'knex';
import { handleCommand, type CommandContext } from '../../command-api/command-handling';
import { exportDecider, exportStreamId, type ExportCommand, type ExportFormat, type ExportScope } from '../../domain/exports/export';
import type { EventStore } from '../../infra/event-store/event-store';
import type { Logger } from '../../infra/logging/logger';
import type { ObjectStorage } from '../../infra/storage/object-storage';
import type { Wakeups } from '../../infra/wakeups/wakeups';
import type { ProjectionProgress } from '../runtime/projection-progress';
import { claimJobs, dropFinishedLeases, EXPORT_JOBS, renewLease } from '../attachments/job-leases';
import { ReactorLoop } from '../attachments/reactor-loop';
import { buildExport } from './export-builder';
import type { PdfLayoutThread } from './pdf-layout-thread';
import { scopeStillReadable } from './export-items';

export interface ExportReactorDeps {
  readonly store: EventStore;
  readonly db: Knex;
  readonly storage: ObjectStorage;
  readonly wakeups: Wakeups;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly expiryHours: number;
  readonly pollMs?: number;
  readonly leaseSeconds?: number;
  readonly maxAttempts?: number;
  /** Least time between two progress events of one export. */
  readonly progressEveryMs?: number;
  readonly pdfVolumeItems?: number;
  /** Where PDF volumes are laid out (a thread the reactor's owner closes). */
  readonly pdfLayout: PdfLayoutThread;
  /** Given, a build first waits (up to 30 s) for the read models it reads to reach the request. */
  readonly progress?: ProjectionProgress;
}

/** The read models an export reads: it must see everything written before it was requested. */
const SOURCE_PROJECTIONS = ['notes', 'documents', 'workspaces'];

interface JobRow {
  export_id: string;
  owner_id: string;
  format: ExportFormat;
  scope: ExportScope;
  attempts: number;
}

export function exportReactor(deps: ExportReactorDeps): ReactorLoop {
  const lease = deps.leaseSeconds ?? 120;
  const maxAttempts = deps.maxAttempts ?? 3;
  const progressEveryMs = deps.progressEveryMs ?? 1_000;

  const feed = (exportId: string, command: ExportCommand) => {
    const now = deps.clock();
    const context: CommandContext = { actorId: null, correlationId: `export-${exportId}`, causationId: `export-${exportId}`, now };
    return handleCommand(deps.store, exportStreamId(exportId), exportDecider, command, context);
  };

  async function expire(): Promise<boolean> {
    const now = deps.clock();
    const due = await deps.db('exports').where('status', 'ready').andWhere('expires_at', '<=', now).orderBy('expires_at').limit(20).select<Array<{ id: string; key: string }>>('id', 'key');
    for (const row of due) {
      await deps.storage.delete(row.key);
      await feed(row.id, { type: 'ExpireExport', at: now.toISOString() });
    }
    return due.length > 0;
  }

  async function claim(): Promise<JobRow | undefined> {
    await dropFinishedLeases(deps.db, EXPORT_JOBS);
    const [job] = await claimJobs<Omit<JobRow, 'attempts'>>(deps.db, EXPORT_JOBS, 1, lease);
    return job;
  }

  const extendLease = (exportId: string, seconds = lease) => renewLease(deps.db, EXPORT_JOBS, exportId, seconds);

  async function build(job: JobRow): Promise<void> {
    const exportId = job.export_id;
    if (job.attempts > maxAttempts) {
      await feed(exportId, { type: 'FailExport', code: 'EXPORT.BUILD_FAILED', reason: `the export could not be built in ${maxAttempts} attempts`, at: deps.clock().toISOString() });
      return;
    }
    if (!(await scopeStillReadable(deps.db, job.owner_id, job.scope))) {
      await feed(exportId, { type: 'FailExport', code: 'WORKSPACE.NOT_FOUND', reason: 'the workspace is gone or you are no longer a member', at: deps.clock().toISOString() });
      return;
    }
    const [requested] = await deps.store.readStream(exportStreamId(exportId), { maxCount: 1 });
    if (requested && deps.progress) await deps.progress.waitFor(requested.position, 30_000, { projections: SOURCE_PROJECTIONS });
    let lastReport = 0;
    try {
      const built = await buildExport(
        { exportId, ownerId: job.owner_id, format: job.format, scope: job.scope },
        {
          db: deps.db,
          storage: deps.storage,
          now: deps.clock(),
          pdfVolumeItems: deps.pdfVolumeItems,
          pdfLayout: deps.pdfLayout,
          onProgress: async (done, total) => {
            if (done !== 0 && Date.now() - lastReport < progressEveryMs) return;
            lastReport = Date.now();
            await feed(exportId, { type: 'RecordExportProgress', done, total, at: deps.clock().toISOString() });
            await extendLease(exportId);
          },
        },
      );
      const now = deps.clock();
      await feed(exportId, {
        type: 'CompleteExport',
        key: built.key,
        fileName: built.fileName,
        size: built.size,
        items: built.items,
        at: now.toISOString(),
        expiresAt: new Date(now.getTime() + deps.expiryHours * 3_600_000).toISOString(),
      });
    } catch (error) {
      deps.logger.warn({ err: error, exportId, attempt: job.attempts }, 'export build failed; it will be retried');
      await extendLease(exportId, 5 * job.attempts);
    }
  }

  return new ReactorLoop({
    name: 'exports',
    projections: ['exports'],
    wakeups: deps.wakeups,
    logger: deps.logger,
    pollMs: deps.pollMs ?? 1_000,
    async round() {
      const expired = await expire();
      const job = await claim();
      if (job) await build(job);
      return expired || job !== undefined;
    },
  });
}
