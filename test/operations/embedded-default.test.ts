/**
 * The embedded default: with no DATABASE_URL the service runs on PGlite in DATA_DIR. In the process:
 * PGlite has what the event store is built on (xid8, snapshots, plpgsql; the whole conformance suite
 * runs on it), transactions through the one shared connection stay isolated, a replaced connection
 * starts from a clean session, and a data directory is opened by one owner at a time. End to end:
 * `main.ts` with nothing configured signs up, logs in, creates and lists a workspace with
 * read-your-writes, and after a restart on the same DATA_DIR (and after a SIGKILL) the data is there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import pg, { type Pool } from 'pg';
import { connectEmbedded, migrate, openDatabase } from '../../infra/database/database';
import { DataDirInUse } from '../../infra/database/embedded-database';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import { describeEventStoreConformance, event } from '../event-store/conformance';

jest.setTimeout(60_000);

/**
 * Starting the service on PGlite (open the data directory, migrate, start every projection) takes
 * about 5 s on a quiet machine and several times that beside the rest of the suite on two cores; the
 * end-to-end test below starts it three times and runs a fourth process to its refusal.
 */
const STARTUP_LIMIT_MS = 90_000;
const END_TO_END_LIMIT_MS = 4 * STARTUP_LIMIT_MS;

const ROOT = path.join(__dirname, '../..');
const EMBEDDED_CHILD = path.join(__dirname, '../support/embedded-child.ts');
const SCHEMA = 'scriptorium';

/**
 * An embedded database served by a child process, reached through exactly the pools the service uses
 * in embedded mode (`connectEmbedded`). PGlite cannot load inside jest, hence the child.
 */
interface ServedDatabase {
  readonly dataDir: string;
  readonly url: string;
  readonly pool: Pool;
  readonly knex: Knex;
  close(): Promise<void>;
}

async function serveEmbedded(label: string): Promise<ServedDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `scriptorium-${label}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', EMBEDDED_CHILD], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`embedded-child exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^url (\S+)$/m.exec(output);
      if (match) resolve(match[1]!);
    });
  });
  child.removeAllListeners('exit');
  const { pool, knex } = connectEmbedded(url, SCHEMA, `embedded-test-${label}`);
  await migrate(knex, SCHEMA);
  return {
    dataDir,
    url,
    pool,
    knex,
    async close() {
      await knex.destroy();
      await pool.end();
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// One served database for the checks below and the conformance suite (creating one takes seconds).
let served: Promise<ServedDatabase> | undefined;
const servedDatabase = () => (served ??= serveEmbedded('embedded'));
afterAll(async () => {
  await (await served)?.close();
});

describe('the embedded database through the shared connection', () => {
  let database: ServedDatabase;

  beforeAll(async () => {
    database = await servedDatabase();
  });

  it('given PGlite, then the event store functions it relies on exist and answer', async () => {
    const { rows } = await database.pool.query<{ xid: string; xmin: string; plpgsql: boolean; append: boolean }>(`
      SELECT pg_current_xact_id()::text AS xid,
             pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
             EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plpgsql') AS plpgsql,
             to_regprocedure('append_to_stream(text, text, bigint, uuid[], text[], jsonb[], jsonb[])') IS NOT NULL AS append`);
    const row = rows[0]!;
    expect(BigInt(row.xmin)).toBeLessThanOrEqual(BigInt(row.xid));
    expect(row.plpgsql).toBe(true);
    expect(row.append).toBe(true);
  });

  it('given a transaction writing through knex, when the event store pool reads meanwhile, then it waits for the end and never sees uncommitted rows', async () => {
    await database.knex.raw('CREATE TABLE IF NOT EXISTS isolation_probe (id int PRIMARY KEY)');
    let transactionEnded = 0;
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const transaction = database.knex
      .transaction(async (trx) => {
        await trx('isolation_probe').insert({ id: 1 });
        inside();
        await new Promise((resolve) => setTimeout(resolve, 300));
        throw new Error('roll back');
      })
      .catch(() => (transactionEnded = Date.now()));
    await started;
    const read = await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM isolation_probe');
    const readAt = Date.now();
    await transaction;
    expect(read.rows[0]!.n).toBe('0');
    expect(readAt).toBeGreaterThanOrEqual(transactionEnded);
  });

  it('given the connection dies inside a transaction, when the store appends again, then the new session is clean: no leftover transaction, prepared statements re-made', async () => {
    await database.knex.raw('CREATE TABLE IF NOT EXISTS isolation_probe (id int PRIMARY KEY)');
    const store = new PostgresEventStore({ pool: database.pool, wakeups: new InProcessWakeups() });
    const stream = `reset-${randomUUID()}`;
    await store.append(stream, [event('First')], { expectedRevision: 'no_stream' }); // prepares append_to_stream
    const client = await database.pool.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO isolation_probe (id) VALUES (2)');
    client.release(new Error('connection lost')); // destroys the client with its transaction open
    await store.append(stream, [event('Second')], { expectedRevision: 0n });
    expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['First', 'Second']);
    const { rows } = await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM isolation_probe WHERE id = 2');
    expect(rows[0]!.n).toBe('0');
  });

  it('given the pool holds the one connection, when another client connects, then the server refuses it (one session, one client)', async () => {
    await database.pool.query('SELECT 1'); // the pool's connection is open (and stays: no idle timeout)
    const intruder = new pg.Client({ connectionString: database.url });
    intruder.on('error', () => undefined);
    await expect(intruder.connect().then(() => intruder.query('SELECT 1'))).rejects.toThrow();
    await intruder.end().catch(() => undefined);
    expect((await database.pool.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]!.ok).toBe(1);
  });

  it('given the directory is open in another process, when it is opened here, then that is refused', async () => {
    await expect(openDatabase({ url: undefined, dataDir: database.dataDir, schema: SCHEMA, poolMax: 1, applicationName: 'second' })).rejects.toBeInstanceOf(
      DataDirInUse,
    );
  });
});

describeEventStoreConformance('PostgreSQL on the embedded database', async () => {
  const database = await servedDatabase();
  const store = new PostgresEventStore({ pool: database.pool, wakeups: new InProcessWakeups() });
  return {
    store,
    // The one connection is the process's: a second instance shares it, as a second process cannot exist.
    newInstance: async () => new PostgresEventStore({ pool: database.pool, wakeups: new InProcessWakeups() }),
    cleanup: async () => undefined, // closed with the file
  };
});

// ---------------------------------------------------------------------------------------------------
// npm start, end to end

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** `node --import tsx main.ts` with no database, NATS or EventStoreDB configured. */
function startService(dataDir: string): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
  for (const name of ['DATABASE_URL', 'DATABASE_SCHEMA', 'NATS_URL', 'EVENTSTORE_CONNECTION_STRING']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), STARTUP_LIMIT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code}:\n${output}`));
    });
    child.stdout!.on('data', () => {
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url, output: () => output });
      }
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function runToExit(dataDir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), STARTUP_LIMIT_MS);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    }),
  );
}

async function call(base: string, method: string, route: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

describe('npm start with nothing configured', () => {
  let dataDir: string;
  let running: Started | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'scriptorium-embedded-service-'));
  });
  afterAll(async () => {
    if (running) await stop(running.child);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('given an empty DATA_DIR, then the service starts on the embedded database, reads its own writes, refuses a second process, and keeps the data across a restart and a SIGKILL', async () => {
    running = await startService(dataDir);
    const email = `embedded-${randomUUID()}@example.com`;
    const password = 'correct horse battery staple';

    const signup = await call(running.url, 'POST', '/api/auth/signup', { body: { email, password } });
    expect(signup.status).toBe(201);
    const login = await call(running.url, 'POST', '/api/auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    const auth = { Authorization: `Bearer ${String(login.body.accessToken)}` };
    const created = await call(running.url, 'POST', '/api/workspaces', { body: { name: 'Embedded notes' }, headers: auth });
    expect(created.status).toBe(201);
    const token = created.headers.get('x-consistency-token')!;
    const listed = await call(running.url, 'GET', '/api/workspaces', { headers: { ...auth, 'X-Consistency-Token': token } });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.body.id, name: 'Embedded notes', role: 'owner' })]);

    const second = await runToExit(dataDir);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain('is in use by process');

    expect(await stop(running.child)).toBe(0);
    running = await startService(dataDir);

    const again = await call(running.url, 'POST', '/api/auth/login', { body: { email, password } });
    expect(again.status).toBe(200);
    const relisted = await call(running.url, 'GET', '/api/workspaces', { headers: { Authorization: `Bearer ${String(again.body.accessToken)}` } });
    expect(relisted.status).toBe(200);
    expect(relisted.body.items).toEqual([expect.objectContaining({ id: created.body.id, name: 'Embedded notes' })]);

    // A process killed outright leaves its commits and a stale lock behind; the next start takes both.
    const secondAuth = { Authorization: `Bearer ${String(again.body.accessToken)}` };
    const more = await call(running.url, 'POST', '/api/workspaces', { body: { name: 'Written before the kill' }, headers: secondAuth });
    expect(more.status).toBe(201);
    await kill(running.child);
    running = await startService(dataDir);
    const afterKill = await call(running.url, 'POST', '/api/auth/login', { body: { email, password } });
    expect(afterKill.status).toBe(200);
    const listedAfterKill = await call(running.url, 'GET', '/api/workspaces', { headers: { Authorization: `Bearer ${String(afterKill.body.accessToken)}` } });
    expect((listedAfterKill.body.items as Array<{ name: string }>).map((item) => item.name).sort()).toEqual(['Embedded notes', 'Written before the kill']);
    expect(await stop(running.child)).toBe(0);
    running = undefined;
  }, END_TO_END_LIMIT_MS);
});
