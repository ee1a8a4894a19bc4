/**
 * `scriptorium verify`: the live read models of a running service against a replay of its log. A
 * healthy service verifies equal; a tampered row is reported, alone, and the answer is "different".
 */
import { userStreamId } from '../../domain/users/user';
import { accountsProjection } from '../../projectors/accounts/accounts-projection';
import { projections } from '../../projectors/projections';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { verifyProjections, type VerifyOptions } from '../../projectors/runtime/verify';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { cli, projectionsCaughtUp, scratchSchemasOf } from './operations-support';

describe('verify', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('verify');
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
    const study = await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Study' }).expect(201);
    await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Library' }).expect(201);
    await t.http.post(`/api/workspaces/${study.body.id}/members`).set(ann.auth).send({ email: bob.email, role: 'member' }).expect(201);
    await t.http.patch(`/api/workspaces/${study.body.id}`).set(ann.auth).send({ name: 'Study hall' }).expect(200);
    await t.http.patch('/api/me').set(ann.auth).send({ displayName: 'Ann B.' }).expect(200);
    await projectionsCaughtUp(t);
  });
  afterAll(() => t.close());

  const options = (): VerifyOptions => ({ store: t.service.platform.store, knex: t.db.knex, liveSchema: t.db.schema, projections, batchSize: 3 });

  it('given a healthy service, when verified, then every table equals its replay and no scratch schema is left', async () => {
    const report = await verifyProjections(options());

    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
    const rows = (table: string) => report.tables.find((candidate) => candidate.table === table);
    expect(rows('users')).toMatchObject({ liveRows: 2, rebuiltRows: 2, differingRows: 0 });
    expect(rows('workspaces')).toMatchObject({ liveRows: 2, rebuiltRows: 2, differingRows: 0 });
    expect(rows('workspace_members')).toMatchObject({ liveRows: 3, rebuiltRows: 3, differingRows: 0 });
    expect(report.projections.every((projection) => projection.equal && projection.live.position !== 'start')).toBe(true);
    expect(report.scratchSchemas).toHaveLength(2);
    expect(await scratchSchemasOf(t.db.knex, t.db.schema)).toEqual([]);
  });

  it('given a tampered row, when verified, then exactly that row is reported and the answer is different', async () => {
    await t.db.knex('users').where({ id: bob.id }).update({ display_name: 'tampered' });
    try {
      const report = await verifyProjections(options());

      expect(report.equal).toBe(false);
      expect(report.differences).toEqual([
        {
          table: 'users',
          key: { id: bob.id },
          live: expect.objectContaining({ id: bob.id, display_name: 'tampered', email: bob.email }),
          rebuilt: expect.objectContaining({ id: bob.id, display_name: 'Bob', email: bob.email }),
        },
      ]);
      expect(report.tables.filter((table) => table.differingRows > 0).map((table) => [table.table, table.differingRows])).toEqual([['users', 1]]);

      const run = await cli(t, ['verify']);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`users {"id":"${bob.id}"}`);
      expect(run.stdout).toContain('display_name: live "tampered", rebuilt "Bob"');
      expect(run.stdout).toContain('verify: DIFFERENT: 1 differing rows');
    } finally {
      await t.db.knex('users').where({ id: bob.id }).update({ display_name: 'Bob' });
    }
    const repaired = await cli(t, ['verify', '--json']);
    expect(repaired.code).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ equal: true, differences: [] });
  });

  it('given a row missing from the live side and one too many, when verified, then both are reported', async () => {
    const [member] = await t.db.knex('workspace_members').where({ user_id: bob.id });
    await t.db.knex('workspace_members').where({ user_id: bob.id }).delete();
    const stray = { ...member, workspace_id: '00000000-0000-4000-8000-000000000000' };
    await t.db.knex('workspace_members').insert(stray);
    try {
      const report = await verifyProjections(options());

      expect(report.equal).toBe(false);
      expect(report.differences).toEqual([
        { table: 'workspace_members', key: { workspace_id: stray.workspace_id, user_id: bob.id }, live: expect.objectContaining({ role: 'member' }), rebuilt: null },
        { table: 'workspace_members', key: { workspace_id: member.workspace_id, user_id: bob.id }, live: null, rebuilt: expect.objectContaining({ role: 'member' }) },
      ]);
    } finally {
      await t.db.knex('workspace_members').where({ workspace_id: stray.workspace_id }).delete();
      await t.db.knex('workspace_members').insert(member);
    }
  });

  it('given a projector that stopped behind the log, when verified, then the replay stops exactly at its checkpoint', async () => {
    const accounts = t.service.projectors!.runners.find((runner) => runner.name === 'accounts')!;
    await accounts.stop();
    try {
      const carol = await signUp(t.http, { displayName: 'Carol' });
      const checkpoint = await readCheckpoint(t.db.knex, 'accounts');
      // Readers see an event once every older transaction has ended (other projectors' batches too).
      await waitFor(async () => (await t.service.platform.store.readStream(userStreamId(carol.id))).length === 1, 5_000, "Carol's sign-up");
      await waitFor(async () => checkpoint < (await t.service.platform.store.headPosition()), 5_000, 'the log to pass the stopped checkpoint');

      const report = await verifyProjections(options());

      expect(report.equal).toBe(true);
      expect(report.projections.find((projection) => projection.projection === 'accounts')).toMatchObject({ live: { position: checkpoint }, rebuilt: { position: checkpoint } });
      expect(report.tables.find((table) => table.table === 'users')).toMatchObject({ liveRows: 2, rebuiltRows: 2 });
    } finally {
      accounts.start();
    }
    await projectionsCaughtUp(t);
  });

  it('given a replay that fails, when verified, then the error surfaces and the scratch schemas are dropped', async () => {
    const broken = { ...accountsProjection, apply: () => { throw new Error('projection bug'); } };
    const others = projections.filter((projection) => projection.name !== 'accounts');

    await expect(verifyProjections({ ...options(), projections: [broken, ...others] })).rejects.toThrow('projection bug');

    expect(await scratchSchemasOf(t.db.knex, t.db.schema)).toEqual([]);
  });
});
