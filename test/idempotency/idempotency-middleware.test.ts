/**
 * The Idempotency-Key middleware against the real PostgreSQL, on a small Express app of its own whose
 * handlers count their runs (so "the handler ran once" is a number, not a hope) and can be held open
 * on a promise the test controls (so "still in flight" and "abandoned" are states the test sets up).
 * The middleware runs where the service runs it: after authentication, before the handler.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { authenticate } from '../../infra/http/authentication';
import { idempotency, purgeExpired } from '../../infra/http/idempotency';
import { jsonBody } from '../../infra/http/json-body';
import { Problem, problemHandler } from '../../infra/http/problem';
import { requestContext } from '../../infra/http/request-context';
import { silentLogger } from '../../infra/logging/logger';
import { up as createIdempotencyTable } from '../../migrations/20261122_0007_idempotency';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** One pair of promises per run of the slow handler: it signals `entered`, then waits for `release`. */
class Gates {
  private readonly gates = new Map<number, { entered: Deferred; release: Deferred }>();
  of(run: number) {
    let gate = this.gates.get(run);
    if (!gate) {
      gate = { entered: deferred(), release: deferred() };
      this.gates.set(run, gate);
    }
    return gate;
  }
  releaseAll(): void {
    for (const gate of this.gates.values()) gate.release.resolve();
  }
}

const T0 = new Date('2026-11-22T10:00:00.000Z');
const SECOND = 1_000;
const DAY = 86_400_000;

describe('Idempotency-Key middleware', () => {
  let db: TestSchema;
  let server: http.Server;
  let api: TestAgent;
  let now: Date;
  let runs: { notes: number; slow: number; flaky: number; deletes: number; reads: number; anonymous: number };
  let failuresLeft: number;
  let gates: Gates;

  beforeAll(async () => {
    db = await createTestSchema('idempotency');
    // Until the migration is in migrations/index.ts, createTestSchema does not create the table.
    if (!(await db.knex.schema.hasTable('idempotency_keys'))) await createIdempotencyTable(db.knex);

    // Tokens are user ids in this app: "Bearer ann" is ann.
    const auth = authenticate({
      verify: async (token) => {
        if (!/^[a-z]+$/.test(token)) throw new Problem('unauthorized', 'AUTH.INVALID_TOKEN', 'invalid token');
        return { userId: token };
      },
    });
    const keyed = idempotency({ knex: db.knex, clock: () => now, retentionDays: 30, lockTimeoutMs: 60 * SECOND, logger: silentLogger });
    const wrap =
      (handler: RequestHandler): RequestHandler =>
      async (req, res, next) => {
        try {
          await handler(req, res, next);
        } catch (error) {
          next(error);
        }
      };

    const app = express();
    app.use(requestContext());
    const router = express.Router();
    router.use(...jsonBody({ limitBytes: 100_000 }));
    router.post(
      '/notes',
      auth,
      keyed,
      wrap((req, res) => {
        const body = req.body as { title?: unknown } | undefined;
        if (typeof body?.title !== 'string') throw new Problem('invalid', 'NOTE.TITLE_REQUIRED', 'a note needs a title');
        const run = ++runs.notes;
        res.setHeader('ETag', `"${run}"`);
        res.setHeader('X-Consistency-Token', `position-${run}`);
        res.setHeader('Location', `/notes/n${run}`);
        res.status(201).json({ id: `n${run}`, title: body.title, run });
      }),
    );
    router.delete(
      '/notes/:id',
      auth,
      keyed,
      wrap((_req, res) => {
        const run = ++runs.deletes;
        res.setHeader('X-Consistency-Token', `deleted-${run}`);
        res.status(204).end();
      }),
    );
    router.post(
      '/slow',
      auth,
      keyed,
      wrap(async (_req, res) => {
        const run = ++runs.slow;
        const gate = gates.of(run);
        gate.entered.resolve();
        await gate.release.promise;
        res.status(200).json({ run });
      }),
    );
    router.post(
      '/flaky',
      auth,
      keyed,
      wrap((_req, res) => {
        const run = ++runs.flaky;
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('the database went away');
        }
        res.status(200).json({ run });
      }),
    );
    router.get(
      '/notes',
      auth,
      keyed,
      wrap((_req, res) => {
        res.status(200).json({ run: ++runs.reads });
      }),
    );
    router.post(
      '/anonymous',
      keyed,
      wrap((_req, res) => {
        res.status(200).json({ run: ++runs.anonymous });
      }),
    );
    app.use(router);
    app.use(problemHandler(silentLogger));

    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    api = request(server);
  });

  afterAll(async () => {
    gates?.releaseAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.drop();
  });

  beforeEach(() => {
    now = new Date(T0);
    runs = { notes: 0, slow: 0, flaky: 0, deletes: 0, reads: 0, anonymous: 0 };
    failuresLeft = 0;
    gates = new Gates();
  });
  afterEach(() => gates.releaseAll());

  const as = (user: string) => ({ Authorization: `Bearer ${user}` });
  const rowOf = (user: string, key: string) => db.knex('idempotency_keys').where({ user_id: user, key }).first<{ state: string; response_status: number | null } | undefined>('state', 'response_status');

  it('replays a completed request: same status, body bytes and headers, marked replayed, and the handler ran once', async () => {
    // given a request that completed with a key
    const key = randomUUID();
    const first = await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'Psalm 23', tags: ['a', 'b'] });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // and its answer was stored before it left (no window where a retry would run it again)
    expect(await rowOf('ann', key)).toEqual({ state: 'completed', response_status: 201 });

    // when the client retries it, with the body serialized differently (other key order and spacing)
    const retry = await api
      .post('/notes')
      .set(as('ann'))
      .set('Idempotency-Key', key)
      .set('Content-Type', 'application/json')
      .send('{ "tags": ["a", "b"],   "title": "Psalm 23" }');

    // then it gets the first answer back, exactly, without running the handler again
    expect(retry.status).toBe(201);
    expect(retry.text).toBe(first.text);
    expect(retry.body).toEqual({ id: 'n1', title: 'Psalm 23', run: 1 });
    for (const header of ['etag', 'location', 'x-consistency-token', 'content-type', 'content-length']) {
      expect([header, retry.headers[header]]).toEqual([header, first.headers[header]]);
    }
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(runs.notes).toBe(1);
  });

  it('replays a stored 4xx and a 204 without a body', async () => {
    // given a request the handler refused, and a delete that answered 204
    const refusedKey = randomUUID();
    const refused = await api.post('/notes').set(as('ann')).set('Idempotency-Key', refusedKey).send({ text: 'no title' });
    expect(refused.status).toBe(400);
    const deleteKey = randomUUID();
    const deleted = await api.delete('/notes/n1').set(as('ann')).set('Idempotency-Key', deleteKey);
    expect(deleted.status).toBe(204);

    // when both are retried
    const refusedAgain = await api.post('/notes').set(as('ann')).set('Idempotency-Key', refusedKey).send({ text: 'no title' });
    const deletedAgain = await api.delete('/notes/n1').set(as('ann')).set('Idempotency-Key', deleteKey);

    // then the answers are the stored ones
    expect(refusedAgain.status).toBe(400);
    expect(refusedAgain.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refusedAgain.body.code).toBe('NOTE.TITLE_REQUIRED');
    expect(refusedAgain.headers['idempotent-replayed']).toBe('true');
    expect(deletedAgain.status).toBe(204);
    expect(deletedAgain.text).toBe('');
    expect(deletedAgain.headers['x-consistency-token']).toBe('deleted-1');
    expect(deletedAgain.headers['idempotent-replayed']).toBe('true');
    expect(runs.deletes).toBe(1);
  });

  it('the same key with another body, path or method is 422 IDEMPOTENCY.KEY_REUSED, and nothing runs', async () => {
    // given a completed request
    const key = randomUUID();
    expect((await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'first' })).status).toBe(201);

    // when the key comes back on different requests
    const otherBody = await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'second' });
    const otherPath = await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ title: 'first' });
    const otherMethod = await api.delete('/notes/n1').set(as('ann')).set('Idempotency-Key', key);

    // then each is refused as a reused key
    for (const res of [otherBody, otherPath, otherMethod]) {
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
    }
    expect(runs).toMatchObject({ notes: 1, slow: 0, deletes: 0 });
  });

  it('a duplicate while the first is still running is 409 IDEMPOTENCY.IN_FLIGHT with Retry-After: 1; after it, the answer replays', async () => {
    // given a request whose handler is still running
    const key = randomUUID();
    const first = api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({});
    const firstAnswer = first.then((res) => res);
    await gates.of(1).entered.promise;

    // when the client sends it again
    const duplicate = await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({});

    // then it is told to come back, and the handler did not run twice
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('IDEMPOTENCY.IN_FLIGHT');
    expect(duplicate.headers['retry-after']).toBe('1');
    expect(runs.slow).toBe(1);

    // and once the first finishes, a retry gets its answer
    gates.of(1).release.resolve();
    expect((await firstAnswer).body).toEqual({ run: 1 });
    const later = await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({});
    expect(later.status).toBe(200);
    expect(later.body).toEqual({ run: 1 });
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(runs.slow).toBe(1);
  });

  it('the answer leaves only once it is stored, so an answer a client may have seen is one a retry can replay', async () => {
    // given a request in flight, whose row another transaction holds locked (a slow write of the answer)
    const key = randomUUID();
    let arrived = false;
    const answer = api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({}).then((res) => {
      arrived = true;
      return res;
    });
    await gates.of(1).entered.promise;
    const blocker = await db.knex.transaction();
    try {
      await blocker('idempotency_keys').where({ user_id: 'ann', key }).forUpdate().first();

      // when the handler answers
      gates.of(1).release.resolve();

      // then nothing reaches the client while the answer cannot be stored
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(arrived).toBe(false);
    } finally {
      await blocker.commit();
    }
    // and once it is stored, the answer goes out
    expect((await answer).body).toEqual({ run: 1 });
    expect(await rowOf('ann', key)).toEqual({ state: 'completed', response_status: 200 });
  });

  it('a 5xx is not stored: the retry runs the handler again, and its success is what replays', async () => {
    // given a request that failed with a 500
    failuresLeft = 1;
    const key = randomUUID();
    const failed = await api.post('/flaky').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 });
    expect(failed.status).toBe(500);
    expect(await rowOf('ann', key)).toBeUndefined();

    // when it is retried, twice
    const retried = await api.post('/flaky').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 });
    const again = await api.post('/flaky').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 });

    // then the first retry ran the handler, and the second replayed that
    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ run: 2 });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(runs.flaky).toBe(2);
  });

  it('keys belong to their user: two users may send the same key, and each replays only their own', async () => {
    // given ann used a key
    const key = 'shared-key-1';
    const anns = await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: "Ann's" });

    // when bob sends the same key, with another request
    const bobs = await api.post('/notes').set(as('bob')).set('Idempotency-Key', key).send({ title: "Bob's" });

    // then bob's runs, and each retry answers its own user's request
    expect(bobs.status).toBe(201);
    expect(bobs.body).toEqual({ id: 'n2', title: "Bob's", run: 2 });
    const annsRetry = await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: "Ann's" });
    const bobsRetry = await api.post('/notes').set(as('bob')).set('Idempotency-Key', key).send({ title: "Bob's" });
    expect(annsRetry.text).toBe(anns.text);
    expect(bobsRetry.text).toBe(bobs.text);
    expect(runs.notes).toBe(2);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a non-ASCII character', 'café-1'],
    ['a tab', 'tab\there'],
    ['an unterminated quoted string', '"open'],
    ['a bad escape in a quoted string', '"a\\nb"'],
  ])('a key that is %s is 400 IDEMPOTENCY.INVALID_KEY, and nothing runs', async (_what, key) => {
    // when a request carries the invalid key
    const res = await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'x' });
    // then it is refused before the handler
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('IDEMPOTENCY.INVALID_KEY');
    expect(runs.notes).toBe(0);
  });

  it('two Idempotency-Key headers are 400 IDEMPOTENCY.INVALID_KEY', async () => {
    // when a request carries the header twice (sent raw: the test client would merge them)
    const { port } = server.address() as AddressInfo;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = JSON.stringify({ title: 'x' });
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/notes', headers: { Authorization: 'Bearer ann', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Idempotency-Key': ['one', 'two'] } },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    // then it is refused
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('IDEMPOTENCY.INVALID_KEY');
    expect(runs.notes).toBe(0);
  });

  it('accepts 255 printable characters, and the quoted form of the draft names the same key as the bare one', async () => {
    // given a request with the longest key, and one with a bare key
    const longest = await api.post('/notes').set(as('ann')).set('Idempotency-Key', `${randomUUID()}${'~'.repeat(219)}`).send({ title: 'long' });
    expect(longest.status).toBe(201);
    const bare = `bare-${randomUUID()}`;
    const first = await api.post('/notes').set(as('ann')).set('Idempotency-Key', bare).send({ title: 'quoted' });

    // when the bare key is retried as a Structured Field string
    const quoted = await api.post('/notes').set(as('ann')).set('Idempotency-Key', `"${bare}"`).send({ title: 'quoted' });

    // then it is the same key
    expect(quoted.headers['idempotent-replayed']).toBe('true');
    expect(quoted.text).toBe(first.text);
    expect(runs.notes).toBe(2);
  });

  it('does nothing without a key, on GET, or without an authenticated user', async () => {
    // when requests are repeated without a key, as a GET, and unauthenticated
    await api.post('/notes').set(as('ann')).send({ title: 'no key' });
    await api.post('/notes').set(as('ann')).send({ title: 'no key' });
    const key = randomUUID();
    await api.get('/notes').set(as('ann')).set('Idempotency-Key', key);
    const read = await api.get('/notes').set(as('ann')).set('Idempotency-Key', key);
    await api.post('/anonymous').set('Idempotency-Key', key).send({});
    const anonymous = await api.post('/anonymous').set('Idempotency-Key', key).send({});

    // then every one of them ran, and no key was recorded
    expect(runs).toMatchObject({ notes: 2, reads: 2, anonymous: 2 });
    expect(read.headers['idempotent-replayed']).toBeUndefined();
    expect(anonymous.headers['idempotent-replayed']).toBeUndefined();
    expect(await db.knex('idempotency_keys').where({ key }).count<Array<{ count: string }>>('* as count')).toEqual([{ count: '0' }]);
  });

  it('a key is kept for the retention period, then is free again, and purgeExpired removes it', async () => {
    // given a key used at T0
    const key = randomUUID();
    expect((await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'old' })).status).toBe(201);

    // when it comes back with another request 29 days later, it is still taken
    now = new Date(T0.getTime() + 29 * DAY);
    expect((await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'new' })).status).toBe(422);
    expect(await purgeExpired(db.knex, now)).toBe(0);

    // when it comes back just after 30 days, the old record is ignored and the new request runs
    now = new Date(T0.getTime() + 30 * DAY + 1);
    const reused = await api.post('/notes').set(as('ann')).set('Idempotency-Key', key).send({ title: 'new' });
    expect(reused.status).toBe(201);
    expect(reused.body).toMatchObject({ title: 'new', run: 2 });
    expect(reused.headers['idempotent-replayed']).toBeUndefined();

    // and purging 30 days after that removes it (and only what expired)
    const recent = randomUUID();
    now = new Date(T0.getTime() + 59 * DAY);
    await api.post('/notes').set(as('ann')).set('Idempotency-Key', recent).send({ title: 'recent' });
    expect(await purgeExpired(db.knex, new Date(T0.getTime() + 61 * DAY))).toBeGreaterThanOrEqual(1);
    expect(await rowOf('ann', key)).toBeUndefined();
    expect(await rowOf('ann', recent)).toEqual({ state: 'completed', response_status: 201 });
  });

  it('an in-flight request older than the lock timeout counts as abandoned: a retry takes it over, and the old one cannot overwrite the answer', async () => {
    // given a request whose handler hangs (as in a process that died)
    const key = randomUUID();
    const abandoned = api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 }).then((res) => res);
    await gates.of(1).entered.promise;

    // when a retry comes within the lock timeout, it is told to wait
    now = new Date(T0.getTime() + 59 * SECOND);
    expect((await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 })).status).toBe(409);
    expect(runs.slow).toBe(1);

    // when another request comes with the key after the lock timeout, it may not take it over
    now = new Date(T0.getTime() + 61 * SECOND);
    expect((await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ n: 2 })).status).toBe(422);

    // when a retry comes after the lock timeout, it takes the key over and runs
    const takeover = api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 }).then((res) => res);
    await gates.of(2).entered.promise;
    expect(runs.slow).toBe(2);

    // then the old request finishing meanwhile stores nothing: the key is still the takeover's
    gates.of(1).release.resolve();
    expect((await abandoned).body).toEqual({ run: 1 });
    expect((await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 })).status).toBe(409);

    // and what replays is the takeover's answer
    gates.of(2).release.resolve();
    expect((await takeover).body).toEqual({ run: 2 });
    const replayed = await api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({ n: 1 });
    expect(replayed.body).toEqual({ run: 2 });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(runs.slow).toBe(2);
  });

  it('of several retries racing to take over an abandoned request, exactly one runs', async () => {
    // given an abandoned in-flight request
    const key = randomUUID();
    const abandoned = api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({}).then((res) => res);
    await gates.of(1).entered.promise;
    now = new Date(T0.getTime() + 2 * 60 * SECOND);

    // when four retries arrive together
    let answered = 0;
    const racers = [0, 1, 2, 3].map(() =>
      api.post('/slow').set(as('ann')).set('Idempotency-Key', key).send({}).then((res) => {
        answered += 1;
        return res;
      }),
    );
    await gates.of(2).entered.promise;
    await waitFor(() => answered === 3, 10_000, 'the losing racers to be answered');
    gates.releaseAll();
    const answers = await Promise.all(racers);

    // then one ran, and the others were told it is in flight
    expect(answers.map((res) => res.status).sort()).toEqual([200, 409, 409, 409]);
    expect(runs.slow).toBe(2);
    await abandoned;
  });
});
