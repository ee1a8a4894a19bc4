/**
 * Draining on SIGTERM, end to end: `main.ts` runs in a child process on a test schema; a query held by
 * read-your-writes (its X-Consistency-Token names a position the log will never reach) is in flight,
 * and sign-ups have just been appended, when SIGTERM arrives. The held request must be answered (not
 * reset), the projectors must stop on a whole batch (rows and checkpoint together, no error), and the
 * process must exit 0 within ten seconds, and soon after the last answer: an idle keep-alive
 * connection must not hold the drain until the deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { LogPosition } from '../../infra/event-store/log-position';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { createTestSchema, type TestSchema } from '../support/test-database';

jest.setTimeout(60_000);

const ROOT = path.join(__dirname, '../..');
const NEVER_REACHED = LogPosition.of((1n << 64n) - 1n, 0n);
const CONSISTENCY_WAIT_MS = 3_000;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function startService(db: TestSchema): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: db.schema,
    PORT: '0', // the service prints the port it got
    CONSISTENCY_WAIT_MS: String(CONSISTENCY_WAIT_MS),
    LOG_LEVEL: 'info',
  };
  delete env.NATS_URL;
  delete env.EVENTSTORE_CONNECTION_STRING;
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 30_000);
    void exited.then(({ code }) => reject(new Error(`the service exited with ${code}:\n${output}`)));
    child.stdout!.on('data', () => {
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => output, exited });
      }
    });
  });
}

/** A GET over a keep-alive connection, reporting how it ended: a status, or the socket error. */
function heldGet(url: string, headers: Record<string, string>): Promise<{ status?: number; error?: string; at: number }> {
  return new Promise((resolve) => {
    const agent = new http.Agent({ keepAlive: true });
    const req = http.get(url, { headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, at: Date.now() }));
      res.on('error', (error) => resolve({ error: error.message, at: Date.now() }));
    });
    req.on('error', (error) => resolve({ error: error.message, at: Date.now() }));
  });
}

async function post(base: string, route: string, body: unknown): Promise<{ status: number; token: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, token: response.headers.get('x-consistency-token'), body: (await response.json()) as Record<string, unknown> };
}

describe('draining on SIGTERM', () => {
  let db: TestSchema;
  let running: Running | undefined;

  beforeAll(async () => {
    db = await createTestSchema('drain');
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
    await db.drop();
  });

  it('given a query held for read-your-writes and fresh sign-ups to project, when SIGTERM arrives, then the query is answered, the projectors stop on a whole batch, and the process exits 0 within 10 s', async () => {
    running = await startService(db);
    const password = 'correct horse battery staple';
    const signup = await post(running.url, '/api/auth/signup', { email: `drain-${randomUUID()}@example.com`, password });
    expect(signup.status).toBe(201);
    const auth = { Authorization: `Bearer ${String(signup.body.accessToken)}` };

    const held = heldGet(`${running.url}/api/workspaces`, { ...auth, 'X-Consistency-Token': NEVER_REACHED });
    await new Promise((resolve) => setTimeout(resolve, 500)); // the request is now waiting in the service
    // Work for the projectors at the moment the signal lands: the signal follows the last append at once.
    const answered = await Promise.all(
      Array.from({ length: 5 }, () => post(running!.url, '/api/auth/signup', { email: `drain-${randomUUID()}@example.com`, password })),
    );
    const signalledAt = Date.now();
    running.child.kill('SIGTERM');

    const answer = await held;
    const exit = await running.exited;
    console.log(`held query answered after ${answer.at - signalledAt} ms (status ${answer.status}), exited after ${exit.at - signalledAt} ms`);

    expect(answer.error).toBeUndefined();
    expect([200, 503]).toContain(answer.status);
    expect(answered.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(10_000);
    // Its keep-alive connection is closed with the answer, rather than holding the drain until the deadline.
    expect(exit.at - answer.at).toBeLessThan(2_000);
    const logs = running.output();
    expect(logs).toContain('"msg":"draining"');
    expect(logs).toContain('"msg":"stopped"');
    expect(logs).not.toMatch(/"level":(50|60)/); // nothing logged at error or fatal (no batch cut off by a closed pool)

    // The accounts read model holds exactly the sign-ups up to its checkpoint: the last batch committed
    // whole with its checkpoint, or not at all.
    const checkpoint = await readCheckpoint(db.knex, 'accounts');
    const { rows } = await db.knex.raw<{ rows: Array<{ transaction_id: string; global_position: string }> }>(
      "SELECT transaction_id::text AS transaction_id, global_position FROM events WHERE event_type = 'UserSignedUp'",
    );
    const signedUp = rows.map((row) => LogPosition.of(BigInt(row.transaction_id), BigInt(row.global_position)));
    expect(signedUp).toHaveLength(6);
    const projected = checkpoint === 'start' ? 0 : signedUp.filter((position) => position <= checkpoint).length;
    const users = await db.knex('users').count<Array<{ count: string }>>({ count: '*' });
    expect(Number(users[0]!.count)).toBe(projected);
    expect(projected).toBeGreaterThanOrEqual(1); // the first sign-up was projected long before the signal
    const errors = await db.knex('projection_checkpoints').whereNotNull('last_error').select('projection', 'last_error');
    expect(errors).toEqual([]);
  });
});
