/**
 * One active projector per projection, with standbys: projector processes on one schema run each
 * projection only while holding its advisory lock. Only the holder applies events; when it is killed
 * (SIGKILL: its session ends, PostgreSQL drops the lock) a standby takes over within a few retries, and
 * the read model still equals a clean rebuild, every event counted once. In the process: a leader
 * whose connection is terminated stops its runner, and leadership ends up with exactly one holder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pgPoolConfig } from '../../infra/database/database';
import type { LogPosition } from '../../infra/event-store/log-position';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../../infra/logging/logger';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { LeadershipConnection, leadershipKey, ProjectionLeadership, type LedRunner } from '../../projectors/runtime/leadership';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { event } from '../event-store/conformance';
import { countingProjection, countingTablesContent, createCountingTables } from '../support/counting-projection';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

const CHILD = path.join(__dirname, '../support/leader-child.ts');
const RETRY_MS = 200;

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly lines: string[];
}

function startChild(name: string, env: NodeJS.ProcessEnv): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env, CHILD_NAME: name, RETRY_MS: String(RETRY_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`leader child ${name} exited with ${code}`)));
    const ready = setInterval(() => {
      if (lines.includes('ready')) {
        clearInterval(ready);
        child.removeAllListeners('exit');
        resolve({ name, process: child, lines });
      }
    }, 10);
  });
}

function kill(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

const leads = (child: Child) => child.lines.includes('leading counting');

describe('projector standby through an advisory lock', () => {
  let events: TestSchema;
  let live: TestSchema;
  let rebuilt: TestSchema;
  const children: Child[] = [];

  beforeAll(async () => {
    [events, live, rebuilt] = await Promise.all([createTestSchema('standby_events'), createTestSchema('standby_live'), createTestSchema('standby_rebuild')]);
    await createCountingTables(live.knex);
    await createCountingTables(rebuilt.knex);
    await live.knex.raw('CREATE TABLE applied_by (process text PRIMARY KEY, events bigint NOT NULL)');
  });
  afterAll(async () => {
    await Promise.all(children.map(kill));
    await Promise.all([events.drop(), live.drop(), rebuilt.drop()]);
  });

  /** The application_name of the session holding the counting projection's lock in the live schema. */
  async function lockHolder(): Promise<string | undefined> {
    const key = BigInt.asUintN(64, leadershipKey(live.schema, 'counting'));
    const { rows } = await live.knex.raw<{ rows: Array<{ application_name: string }> }>(
      `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ?::oid AND l.objid = ?::oid AND l.objsubid = 1`,
      [(key >> 32n).toString(), (key & 0xffffffffn).toString()],
    );
    return rows[0]?.application_name;
  }

  async function appliedBy(): Promise<Record<string, number>> {
    const rows = await live.knex('applied_by').select<Array<{ process: string; events: string }>>('process', 'events');
    return Object.fromEntries(rows.map((row) => [row.process, Number(row.events)]));
  }

  it('given two projector processes, then only the lock holder applies; when it is killed, the standby takes over and nothing is lost or doubled', async () => {
    const store = new PostgresEventStore({ pool: events.pool(6), wakeups: new InProcessWakeups() });
    const env = { DATABASE_URL: events.url, EVENTS_SCHEMA: events.schema, READ_SCHEMA: live.schema, SLOW_MS: '1', BATCH_SIZE: '25' };
    let counted = 0;
    let last = '' as LogPosition;
    let writing = true;
    const writers = Array.from({ length: 2 }, async (_, w) => {
      for (let n = 0; writing; n++) {
        const size = 1 + (n % 3);
        const { position } = await store.append(`stream-${w}-${n % 40}`, Array.from({ length: size }, (_, i) => event(i === 0 ? 'Counted' : 'Renamed', { w, n })), {
          expectedRevision: 'any',
        });
        if (position > last) last = position;
        counted += size;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });

    // Given: a leader, then two standbys.
    const first = await startChild('first', env);
    children.push(first);
    await waitFor(() => leads(first), 10_000, 'the first process to lead');
    const standbys = await Promise.all([startChild('second', env), startChild('third', env)]);
    children.push(...standbys);
    await waitFor(async () => (await readCheckpoint(live.knex, 'counting')) !== 'start', 10_000, 'the leader to apply events');
    await new Promise((resolve) => setTimeout(resolve, 5 * RETRY_MS)); // the standbys have tried for the lock several times

    // Then only the holder applies.
    expect(await lockHolder()).toBe('leader-child-first');
    expect(standbys.filter(leads)).toEqual([]);
    expect(Object.keys(await appliedBy())).toEqual(['first']);

    // When the leader is killed, one standby takes over within a few retries.
    const killedAt = Date.now();
    await kill(first);
    await waitFor(() => standbys.some(leads), 5_000, 'a standby to take over');
    const takeoverMs = Date.now() - killedAt;
    const [second, third] = leads(standbys[0]!) ? standbys : [standbys[1]!, standbys[0]!];
    await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_MS));
    expect(leads(third!)).toBe(false);
    expect(await lockHolder()).toBe(`leader-child-${second!.name}`);
    const appliedByFirst = (await appliedBy()).first!;
    await waitFor(async () => ((await appliedBy())[second!.name] ?? 0) > 0, 10_000, 'the new leader to apply events');

    // And again: the new leader killed, the last standby takes over.
    await kill(second!);
    await waitFor(() => leads(third!), 5_000, 'the last standby to take over');
    await waitFor(async () => ((await appliedBy())[third!.name] ?? 0) > 0, 10_000, 'the last leader to apply events');

    writing = false;
    await Promise.all(writers);
    await waitFor(async () => (await readCheckpoint(live.knex, 'counting')) === last, 30_000, 'the last leader to catch up');
    await kill(third);

    const rebuild = new ProjectionRunner({ store, db: rebuilt.knex, projection: countingProjection(), wakeups: new InProcessWakeups(), logger: silentLogger });
    rebuild.start();
    await waitFor(async () => (await readCheckpoint(rebuilt.knex, 'counting')) === last, 30_000, 'the clean rebuild');
    await rebuild.stop();

    expect(await countingTablesContent(live.knex)).toEqual(await countingTablesContent(rebuilt.knex));
    const totals = await live.knex('counting_totals').sum({ total: 'total' });
    expect(Number(totals[0]!.total)).toBe(counted);
    const applied = await appliedBy();
    expect(applied.first).toBe(appliedByFirst); // a killed leader applies nothing more
    expect(Object.keys(applied).sort()).toEqual(['first', 'second', 'third']);
    expect(applied.first! + applied.second! + applied.third!).toBe(counted);
    console.log(`standby takeover after ${takeoverMs} ms; applied ${JSON.stringify(applied)} of ${counted} events`);
  });
});

describe('a leader whose connection dies', () => {
  let db: TestSchema;

  beforeAll(async () => {
    db = await createTestSchema('standby_conn');
  });
  afterAll(async () => {
    await db.drop();
  });

  /** A runner that only records whether it runs. */
  function recordingRunner(name = 'recorded'): LedRunner & { running: boolean; starts: number; stops: number } {
    return {
      name,
      running: false,
      starts: 0,
      stops: 0,
      start() {
        this.running = true;
        this.starts++;
      },
      async stop() {
        this.running = false;
        this.stops++;
      },
    };
  }

  it('given a leader and a standby, when the leader session is terminated, then its runner stops and exactly one of them leads again', async () => {
    const { max: _max, ...settings } = pgPoolConfig({ url: db.url, schema: db.schema });
    const make = (name: string, runner: LedRunner) =>
      new ProjectionLeadership({ connection: { ...settings, application_name: `conn-test-${name}` }, schema: db.schema, runner, logger: silentLogger, retryMs: 100 });
    const firstRunner = recordingRunner();
    const secondRunner = recordingRunner();
    const first = make('first', firstRunner);
    first.start();
    await waitFor(() => first.isLeader, 5_000, 'the first to lead');
    const second = make('second', secondRunner);
    second.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect([firstRunner.running, secondRunner.running]).toEqual([true, false]);

      const terminated = await db.knex.raw<{ rows: Array<{ done: boolean }> }>(
        "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = 'conn-test-first'",
      );
      expect(terminated.rows.map((row) => row.done)).toEqual([true]);

      await waitFor(() => firstRunner.stops === 1, 5_000, 'the first runner to stop');
      await waitFor(() => first.isLeader !== second.isLeader, 5_000, 'one leader again');
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(first.isLeader !== second.isLeader).toBe(true);
      expect(firstRunner.running).toBe(first.isLeader);
      expect(secondRunner.running).toBe(second.isLeader);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect([firstRunner.running, secondRunner.running]).toEqual([false, false]);
  });

  it('given several projections sharing one connection, then one backend holds every lock; when it is terminated, all stop and all lead again on a new one', async () => {
    const { max: _max, ...settings } = pgPoolConfig({ url: db.url, schema: db.schema });
    const shared = new LeadershipConnection({ ...settings, application_name: 'conn-test-shared' }, 100);
    const runners = ['a', 'b', 'c', 'd'].map((name) => recordingRunner(`shared-${name}`));
    const leaderships = runners.map((runner) => new ProjectionLeadership({ connection: settings, shared, schema: db.schema, runner, logger: silentLogger, retryMs: 100 }));
    const lockHolders = async () =>
      (
        await db.knex.raw<{ rows: Array<{ pid: number; locks: string }> }>(
          `SELECT l.pid, count(*) AS locks FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND a.application_name = 'conn-test-shared' GROUP BY l.pid`,
        )
      ).rows;
    for (const led of leaderships) led.start();
    try {
      await waitFor(() => leaderships.every((led) => led.isLeader), 5_000, 'all to lead');
      const before = await lockHolders();
      expect(before.map((row) => Number(row.locks))).toEqual([4]);

      await db.knex.raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'conn-test-shared'");
      await waitFor(() => runners.every((runner) => runner.stops >= 1), 5_000, 'every runner to stop');
      await waitFor(() => leaderships.every((led) => led.isLeader) && runners.every((runner) => runner.running), 5_000, 'all to lead again');
      const after = await lockHolders();
      expect(after.map((row) => Number(row.locks))).toEqual([4]);
      expect(after[0]?.pid).not.toBe(before[0]?.pid);
    } finally {
      await Promise.all(leaderships.map((led) => led.stop()));
    }
    expect(await lockHolders()).toEqual([]);
  });
});
