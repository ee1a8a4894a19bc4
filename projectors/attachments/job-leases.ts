/**
 * Leases on the jobs the storage reactors work through (`storage_deletions`, `export_jobs`: rows the
 * projections write). A lease lives in `job_leases`, apart from the projected rows, and says who holds
 * a job until when and how many times it was taken. Claiming is one statement: it picks jobs without a
 * live lease, skipping any another claimer has locked, and takes the lease with an upsert that only
 * replaces an expired one, so that two reactors racing for a job cannot both get it.
 */
import type { Knex } from 'knex';

export interface JobQueue {
  /** The projected table of pending jobs. */
  readonly table: 'storage_deletions' | 'export_jobs';
  readonly keyColumn: string;
  readonly orderColumn: string;
  /** Prefix of this queue's lease names (`export:` + id). */
  readonly kind: string;
}

export const EXPORT_JOBS: JobQueue = { table: 'export_jobs', keyColumn: 'export_id', orderColumn: 'requested_at', kind: 'export:' };
export const DELETION_JOBS: JobQueue = { table: 'storage_deletions', keyColumn: 'attachment_id', orderColumn: 'requested_at', kind: 'deletion:' };

/** Claims up to `limit` jobs for `leaseSeconds`; each comes with how many times it has been claimed (this time included). */
export async function claimJobs<Row extends object>(db: Knex, queue: JobQueue, limit: number, leaseSeconds: number): Promise<Array<Row & { attempts: number }>> {
  const { table, keyColumn, orderColumn, kind } = queue;
  const result = await db.raw<{ rows: Array<Row & { attempts: number }> }>(
    `WITH candidates AS (
       SELECT j.* FROM ?? j LEFT JOIN job_leases l ON l.job = ? || j.??::text
        WHERE l.job IS NULL OR l.lease_until < now()
        ORDER BY j.?? LIMIT ? FOR UPDATE OF j SKIP LOCKED
     ), leased AS (
       INSERT INTO job_leases (job, lease_until, attempts)
       SELECT ? || c.??::text, now() + make_interval(secs => ?), 1 FROM candidates c
       ON CONFLICT (job) DO UPDATE SET lease_until = EXCLUDED.lease_until, attempts = job_leases.attempts + 1
        WHERE job_leases.lease_until < now()
       RETURNING job, attempts
     )
     SELECT c.*, leased.attempts FROM candidates c JOIN leased ON leased.job = ? || c.??::text`,
    [table, kind, keyColumn, orderColumn, limit, kind, keyColumn, leaseSeconds, kind, keyColumn],
  );
  return result.rows;
}

/** Extends (or shortens: a pause before the next attempt) the lease on one job. */
export async function renewLease(db: Knex, queue: JobQueue, key: string, seconds: number): Promise<void> {
  await db.raw('UPDATE job_leases SET lease_until = now() + make_interval(secs => ?) WHERE job = ?', [seconds, `${queue.kind}${key}`]);
}

/** Drops expired leases whose job is gone (the projection took it off when the work was recorded). */
export async function dropFinishedLeases(db: Knex, queue: JobQueue): Promise<void> {
  await db.raw(
    `DELETE FROM job_leases l WHERE l.job LIKE ? AND l.lease_until < now()
       AND NOT EXISTS (SELECT 1 FROM ?? j WHERE ? || j.??::text = l.job)`,
    [`${queue.kind}%`, queue.table, queue.kind, queue.keyColumn],
  );
}
