/**
 * Job leases under contention: reactors in several processes claim from the same queue; each job must
 * be handed out once while its lease lives, again once it has expired (with its attempt counted), and
 * leases of finished jobs are dropped.
 */
import { randomUUID } from 'node:crypto';
import { claimJobs, dropFinishedLeases, EXPORT_JOBS, renewLease } from '../../projectors/attachments/job-leases';
import { startTestService, type TestService } from '../support/test-service';

describe('job leases', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('job-leases');
  });
  afterAll(() => t?.close());

  it('of claimers racing for the same jobs, each job goes to exactly one', async () => {
    const knex = t.service.platform.knex;
    const ids = Array.from({ length: 60 }, () => randomUUID());
    await knex('export_jobs').insert(ids.map((id, index) => ({ export_id: id, owner_id: randomUUID(), format: 'markdown', scope: JSON.stringify({ all: true }), requested_at: new Date(Date.now() + index) })));
    const claimed: string[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (;;) {
          const jobs = await claimJobs<{ export_id: string }>(knex, EXPORT_JOBS, 3, 60);
          if (jobs.length === 0) return;
          for (const job of jobs) {
            expect(job.attempts).toBe(1);
            claimed.push(job.export_id);
          }
        }
      }),
    );
    expect(claimed.sort()).toEqual([...ids].sort());

    // An expired lease is claimed again, counting the attempt; a live one is not.
    await renewLease(knex, EXPORT_JOBS, ids[0]!, 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await claimJobs<{ export_id: string }>(knex, EXPORT_JOBS, 10, 60);
    expect(again.map((job) => [job.export_id, job.attempts])).toEqual([[ids[0], 2]]);

    // Once the job is gone (its completion projected), its expired lease is dropped.
    await knex('export_jobs').where('export_id', ids[0]!).delete();
    await renewLease(knex, EXPORT_JOBS, ids[0]!, 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await dropFinishedLeases(knex, EXPORT_JOBS);
    expect(await knex('job_leases').where('job', `export:${ids[0]}`).first()).toBeUndefined();
    expect(Number((await knex('job_leases').count<{ count: string }[]>({ count: '*' }))[0]!.count)).toBe(59);
  });
});
