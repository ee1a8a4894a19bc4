/**
 * `scriptorium projections rebuild`: the workspaces read model is built afresh and swapped in while
 * the service keeps running, writing and reading. Reads never fail, the swapped-in tables equal a
 * replay, and the live projector carries on into them, including when the swap lands in the middle
 * of one of its batches (its compare-and-set on the checkpoint fails and it resumes from the new one).
 */
import { Writable } from 'node:stream';
import type { LogPosition } from '../../infra/event-store/log-position';
import { createLogger, type Logger } from '../../infra/logging/logger';
import { projections } from '../../projectors/projections';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import type { Projection } from '../../projectors/runtime/projection';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { rebuildProjection, UnknownProjection, type RebuildOptions, type RebuildPhase } from '../../projectors/runtime/rebuild';
import { verifyProjections } from '../../projectors/runtime/verify';
import { workspacesProjection } from '../../projectors/workspaces/workspaces-projection';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { waitFor } from '../support/wait-for';
import { cli, projectionsCaughtUp, scratchSchemasOf } from './operations-support';

describe('projections rebuild', () => {
  let t: TestService;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  const logLines: Array<{ msg?: string; projection?: string; level?: number }> = [];
  let logger: Logger;
  let gateKey = 0;

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    logger = createLogger({ level: 'warn', destination });
    t = await startTestService('rebuild', { logger });
    ann = await signUp(t.http, { displayName: 'Ann' });
    bob = await signUp(t.http, { displayName: 'Bob' });
    for (let i = 0; i < 10; i++) {
      const created = await createWorkspace(`Seed ${i}`);
      if (i % 3 === 0) await t.http.post(`/api/workspaces/${created}/members`).set(ann.auth).send({ email: bob.email }).expect(201);
    }
    await projectionsCaughtUp(t);
  });
  afterAll(() => t.close());

  async function createWorkspace(name: string): Promise<string> {
    const res = await t.http.post('/api/workspaces').set(ann.auth).send({ name });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  const rebuildOptions = (overrides: Partial<RebuildOptions> = {}): RebuildOptions => ({
    store: t.service.platform.store,
    knex: t.db.knex,
    liveSchema: t.db.schema,
    projections,
    name: 'workspaces',
    batchSize: 4,
    ...overrides,
  });

  async function relationOf(table: string): Promise<string> {
    const result = await t.db.knex.raw<{ rows: Array<{ oid: string }> }>('SELECT ?::regclass::oid::text AS oid', [`${t.db.schema}.${table}`]);
    return result.rows[0]!.oid;
  }

  async function indexNames(table: string): Promise<string[]> {
    const result = await t.db.knex.raw<{ rows: Array<{ name: string }> }>('SELECT indexname AS name FROM pg_indexes WHERE schemaname = ? AND tablename = ? ORDER BY 1', [t.db.schema, table]);
    return result.rows.map((row) => row.name);
  }

  async function liveEqualsReplay(): Promise<void> {
    await projectionsCaughtUp(t);
    const report = await verifyProjections({ store: t.service.platform.store, knex: t.db.knex, liveSchema: t.db.schema, projections });
    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
  }

  it('given a service that keeps writing and reading, when workspaces is rebuilt, then reads never fail, nothing is lost, and new writes land in the new tables', async () => {
    const before = { workspaces: await relationOf('workspaces'), members: await relationOf('workspace_members') };
    const indexesBefore = await indexNames('workspace_members');
    let stop = false;
    const written: string[] = [];
    const writer = (async () => {
      while (!stop) written.push(await createWorkspace(`Written during rebuild ${written.length}`));
    })();
    const reads: Array<{ status: number; count: number }> = [];
    const reader = (async () => {
      while (!stop) {
        const res = await t.http.get('/api/workspaces').set(bob.auth);
        reads.push({ status: res.status, count: Array.isArray(res.body.items) ? res.body.items.length : -1 });
      }
    })();
    const phases: RebuildPhase[] = [];

    let result;
    try {
      await waitFor(() => written.length >= 2, 10_000, 'writes to start');
      result = await rebuildProjection(rebuildOptions({ onProgress: (progress) => void phases.push(progress.phase) }));
      await waitFor(() => written.length >= 4, 10_000, 'writes after the swap');
    } finally {
      stop = true;
      await Promise.all([writer, reader]);
    }

    expect(result.projection).toBe('workspaces');
    expect(phases[0]).toBe('replaying');
    expect(phases).toContain('swapping');
    expect(phases[phases.length - 1]).toBe('swapped');
    expect(await relationOf('workspaces')).not.toBe(before.workspaces);
    expect(await relationOf('workspace_members')).not.toBe(before.members);
    expect(await indexNames('workspace_members')).toEqual(indexesBefore);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((read) => read.status !== 200)).toEqual([]);
    // Bob is a member of the seeded workspaces only; what he sees never shrinks.
    expect(reads.every((read, i) => i === 0 || read.count >= reads[i - 1]!.count)).toBe(true);
    expect(reads[reads.length - 1]!.count).toBe(4);

    const after = await createWorkspace('Created after the swap');
    const seen = await t.http.get(`/api/workspaces/${after}`).set(ann.auth);
    expect(seen.status).toBe(200);
    await liveEqualsReplay();
    const names = (await t.db.knex('workspaces').whereIn('id', [...written, after]).select('id')).map((row) => row.id as string);
    expect(names.sort()).toEqual([...written, after].sort());
    expect(await scratchSchemasOf(t.db.knex, t.db.schema)).toEqual([]);
  });

  it('given a projector caught in the middle of a batch by the swap, when the swap commits, then its compare-and-set fails and it resumes from the new checkpoint', async () => {
    await projectionsCaughtUp(t);
    // The service's own workspaces runner steps aside for one whose batch the test can hold at a gate
    // (an advisory lock) after the batch was read, before it writes: where a swap can catch a runner.
    const serviceRunner = t.service.projectors!.runners.find((runner) => runner.name === 'workspaces')!;
    await serviceRunner.stop();
    gateKey = 1 + Math.floor(Math.random() * 1_000_000_000);
    const gate = await t.db.pool(1).connect();
    await gate.query('SELECT pg_advisory_lock($1)', [gateKey]);
    const gated: Projection = {
      ...workspacesProjection,
      apply(event, sql) {
        const statements = workspacesProjection.apply(event, sql);
        const held = event.type === 'WorkspaceCreated' && (event.data as { name?: string }).name === 'Created during the swap';
        return held ? [sql.raw('SELECT pg_advisory_xact_lock(?)', [gateKey]), ...(Array.isArray(statements) ? statements : [statements])] : statements;
      },
    };
    const runner = new ProjectionRunner({ store: t.service.platform.store, db: t.service.platform.knex, projection: gated, wakeups: t.service.platform.wakeups, logger, retryDelayMs: 10 });
    runner.start();
    const warningsBefore = logLines.length;
    let created: { status: number; body: { id: string } } | undefined;
    try {
      const creating = t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Created during the swap' }).then((res) => (created = res));
      await waitFor(() => waiting('advisory'), 10_000, 'the runner to read the batch and stop at the gate');
      let opened = false;

      const result = await rebuildProjection(
        rebuildOptions({
          onProgress: async (progress) => {
            if (progress.phase !== 'swapping' || opened) return;
            opened = true;
            // The live tables are locked: open the gate, and the runner's batch waits for them.
            await gate.query('SELECT pg_advisory_unlock($1)', [gateKey]);
            await waitFor(() => waiting('relation'), 10_000, 'the runner to wait for the locked tables');
          },
        }),
      );
      await creating;

      expect(opened).toBe(true);
      expect(created?.status).toBe(201);
      expect(result.position).not.toBe('start');
      await waitFor(
        () => logLines.slice(warningsBefore).some((line) => line.projection === 'workspaces' && line.msg === 'checkpoint moved by another runner; resuming from it'),
        10_000,
        'the runner to notice the moved checkpoint',
      );
      expect(logLines.slice(warningsBefore).filter((line) => line.msg === 'projection batch failed; will retry')).toEqual([]);
      expect(await t.db.knex('workspaces').where({ id: created!.body.id }).count({ n: '*' })).toEqual([{ n: '1' }]);

      const after = await createWorkspace('Created after the interrupted batch');
      expect((await t.http.get(`/api/workspaces/${after}`).set(ann.auth)).status).toBe(200);
      await waitFor(async () => (await readCheckpoint(t.db.knex, 'workspaces')) === runner.position, 10_000, 'the runner to commit past the swap');
    } finally {
      gate.release();
      await runner.stop();
      serviceRunner.start();
    }
    await liveEqualsReplay();
  });

  it('given events that arrive between the replay and the locks, when the swap runs, then it catches them up under the locks', async () => {
    await projectionsCaughtUp(t);
    const serviceRunner = t.service.projectors!.runners.find((runner) => runner.name === 'workspaces')!;
    let arrived: { id: string; position: string } | undefined;
    try {
      await rebuildProjection(
        rebuildOptions({
          onProgress: async (progress) => {
            if (progress.phase !== 'locking' || arrived) return;
            const res = await t.http.post('/api/workspaces').set(ann.auth).send({ name: 'Arrived before the locks' });
            arrived = { id: res.body.id, position: String(res.headers['x-consistency-token']) };
            // Projected into the old tables; with the runner stopped, only the swap can bring it over.
            await serviceRunner.stop();
          },
        }),
      );

      expect(arrived).toBeDefined();
      expect(await t.db.knex('workspaces').where({ id: arrived!.id }).count({ n: '*' })).toEqual([{ n: '1' }]);
      expect((await readCheckpoint(t.db.knex, 'workspaces')) >= (arrived!.position as LogPosition)).toBe(true);
    } finally {
      serviceRunner.start();
    }
    await liveEqualsReplay();
  });

  /** Whether a session waits for the gate (advisory), or for this schema's workspace tables (relation). */
  async function waiting(kind: 'advisory' | 'relation'): Promise<boolean> {
    const result = await t.db.knex.raw<{ rows: Array<{ n: string }> }>(
      kind === 'advisory'
        ? `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ?::oid`
        : `SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace s ON s.oid = c.relnamespace
            WHERE NOT l.granted AND s.nspname = ? AND c.relname IN ('workspaces', 'workspace_members')`,
      [kind === 'advisory' ? String(gateKey) : t.db.schema],
    );
    return Number(result.rows[0]!.n) > 0;
  }

  it('given an unknown projection name, then the library refuses it and the CLI exits with 2', async () => {
    await expect(rebuildProjection(rebuildOptions({ name: 'nope' }))).rejects.toBeInstanceOf(UnknownProjection);

    const run = await cli(t, ['projections', 'rebuild', 'nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no projection is named "nope"');
    expect(run.stderr).toContain('workspaces');
  });

  it('given live tables with storage parameters, when documents is rebuilt, then the swapped-in tables keep them', async () => {
    const parameters = async () =>
      (
        await t.db.knex.raw<{ rows: Array<{ table: string; options: string[] | null }> }>(
          `SELECT c.relname AS table, c.reloptions AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ? AND c.relname IN ('documents', 'document_versions') ORDER BY 1`,
          [t.db.schema],
        )
      ).rows;
    await t.db.knex.raw('ALTER TABLE document_versions SET (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.05)');
    const before = await parameters();
    expect(before).toEqual([
      { table: 'document_versions', options: ['fillfactor=90', 'autovacuum_vacuum_scale_factor=0.05'] },
      { table: 'documents', options: ['toast_tuple_target=8160'] },
    ]);
    const documentsBefore = await relationOf('documents');
    await rebuildProjection({ ...rebuildOptions(), name: 'documents' });
    expect(await relationOf('documents')).not.toBe(documentsBefore);
    expect(await parameters()).toEqual(before);
  });

  it('given the CLI, when it rebuilds accounts, then it reports the result and the table still equals a replay', async () => {
    const run = await cli(t, ['projections', 'rebuild', 'accounts', '--json']);

    expect(run.stderr).toContain('replaying accounts');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ projection: 'accounts', eventsSeen: expect.any(Number), swapAttempts: 1 });
    expect((await t.http.get('/api/me').set(bob.auth)).body.displayName).toBe('Bob');
    await liveEqualsReplay();
  });
});
