/**
 * The runner's batches in one round trip: statements compiled with their values as literals must
 * store exactly what the same statements stored when run with parameters, a failing statement must
 * roll the whole batch back (rows and checkpoint), and a moved checkpoint must refuse the batch.
 * Also: the pages several subscriptions of one store read are read once and shared.
 */
import { randomUUID } from 'node:crypto';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store';
import { LogPosition } from '../../infra/event-store/log-position';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { SharedPages } from '../../infra/event-store/shared-pages';
import { silentLogger } from '../../infra/logging/logger';
import { InProcessWakeups } from '../../infra/wakeups/wakeups';
import pg from 'pg';
import { checkpointMoveSql, compileBatch, compileStatement, escapeLiteral, inlineStatement, roundTrips, runBatchTransaction, statementBuilder } from '../../projectors/runtime/batch-sql';
import { createKnex } from '../../infra/database/database';
import { seededRandom } from '../support/seeded-random';
import { readCheckpoint } from '../../projectors/runtime/checkpoints';
import { upsertIfNewer, type Projection } from '../../projectors/runtime/projection';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { event } from '../event-store/conformance';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

/** Values that have tripped up hand-written escaping: quotes, backslashes, `?`, `$1`, `--`, NUL-free unicode. */
const AWKWARD = [
  "it's",
  'back\\slash \\\\ and \\x41',
  'question? marks?? $1 $2 ::text',
  "'; DROP TABLE t; --",
  'line one\nline two\r\n\ttabbed',
  'emoji 📝 and ü and 漢字',
  '',
];

describe('batch statements as literals', () => {
  let db: TestSchema;

  beforeAll(async () => {
    db = await createTestSchema('batchsql');
    await db.knex.raw(`
      CREATE TABLE kinds (
        id int PRIMARY KEY, t text, n bigint, i integer, b boolean, ts timestamptz, j jsonb, u uuid, arr text[], nothing text
      )`);
  });
  afterAll(async () => {
    await db.drop();
  });

  function row(id: number, t: string) {
    return {
      id,
      t,
      n: 9007199254740993n,
      i: -42,
      b: id % 2 === 0,
      ts: new Date('2026-11-22T10:11:12.345Z'),
      j: { text: t, list: [1, 'two', null], nested: { ok: true } },
      u: randomUUID(),
      arr: ['a', t, 'c,d', '"quoted"'],
      nothing: null,
    };
  }

  it('stores exactly what the same statements store with parameters', async () => {
    await db.knex('kinds').del();
    const viaParameters = AWKWARD.map((t, k) => row(k, t));
    const viaLiterals = AWKWARD.map((t, k) => row(100 + k, t));
    for (const values of viaParameters) await db.knex('kinds').insert(values);
    const texts = compileBatch(viaLiterals.map((values) => statementBuilder('kinds').insert(values)));
    expect(texts).toBeDefined();
    await db.pool(1).query(texts!.map((statement) => statement.text).join(';\n')); // straight to the server: knex would number the question marks
    const stored = await db.knex('kinds').orderBy('id');
    const parameters = stored.filter((r) => r.id < 100);
    const literals = stored.filter((r) => r.id >= 100).map((r) => ({ ...r, id: r.id - 100 }));
    expect(literals.map(({ u: _u, ...rest }) => rest)).toEqual(parameters.map(({ u: _u, ...rest }) => rest));
    expect(literals.map((r) => r.t)).toEqual(AWKWARD);
  });

  describe('prepared shapes', () => {
    /** One connection, so that what a batch prepared is what the next query sees. */
    let single: ReturnType<typeof createKnex>;
    beforeAll(() => {
      single = createKnex({ url: db.url, schema: db.schema, poolMax: 1 });
    });
    afterAll(() => single.destroy());
    const preparedHere = async () =>
      (await single.raw<{ rows: { name: string; statement: string }[] }>("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'scriptorium\\_%' ORDER BY statement")).rows;

    it('runs a shape seen before as a prepared statement, storing exactly what parameters store', async () => {
      await db.knex('kinds').del();
      for (const values of AWKWARD.map((t, k) => row(k, t))) await db.knex('kinds').insert(values);
      const first = LogPosition.of(4n, 1n);
      const second = LogPosition.of(4n, 2n);
      const batch = (offset: number) => compileBatch(AWKWARD.map((t, k) => statementBuilder('kinds').insert(row(offset + k, t))))!;
      expect(await runBatchTransaction(single, checkpointMoveSql('batch-prepared', 'start', first, AWKWARD.length), batch(100))).toBe(true);
      expect(await runBatchTransaction(single, checkpointMoveSql('batch-prepared', first, second, AWKWARD.length), batch(200))).toBe(true);
      const prepared = await preparedHere();
      expect(prepared).toHaveLength(1);
      expect(prepared[0]!.statement).toContain('$10');
      const stored = await db.knex('kinds').orderBy('id');
      const parameters = stored.filter((r) => r.id < 100).map(({ u: _u, ...rest }) => rest);
      for (const offset of [100, 200]) {
        const viaBatch = stored.filter((r) => r.id >= offset && r.id < offset + 100).map(({ u: _u, ...rest }) => ({ ...rest, id: rest.id - offset }));
        expect(viaBatch).toEqual(parameters);
      }
      expect(await readCheckpoint(db.knex, 'batch-prepared')).toBe(second);
    });

    it('keeps a shape the server will not prepare inlined', async () => {
      const untyped = compileStatement(statementBuilder.raw('SELECT ? IS NULL', ['no type to tell']))!;
      expect(untyped.template).toBe('SELECT $1 IS NULL');
      const before = await preparedHere();
      expect(await runBatchTransaction(single, checkpointMoveSql('batch-untyped', 'start', LogPosition.of(5n, 1n), 1), [untyped])).toBe(true);
      expect(await runBatchTransaction(single, checkpointMoveSql('batch-untyped', LogPosition.of(5n, 1n), LogPosition.of(5n, 2n), 1), [untyped])).toBe(true);
      expect(await preparedHere()).toEqual(before);
    });

    it('after a failing batch, drops what the connection prepared, and prepares again', async () => {
      await db.knex('kinds').del();
      const insert = (id: number) => compileStatement(statementBuilder('kinds').insert({ id, t: 'x' }))!;
      const failing = compileStatement(statementBuilder.raw('SELECT 1 / (?::int - ?)', [2, 2]))!;
      expect(await runBatchTransaction(single, checkpointMoveSql('batch-forget', 'start', LogPosition.of(6n, 1n), 1), [insert(1)])).toBe(true);
      expect((await preparedHere()).length).toBeGreaterThan(0);
      await expect(runBatchTransaction(single, checkpointMoveSql('batch-forget', LogPosition.of(6n, 1n), LogPosition.of(6n, 2n), 2), [insert(2), failing])).rejects.toThrow(/division by zero/);
      expect(await preparedHere()).toEqual([]);
      expect(await runBatchTransaction(single, checkpointMoveSql('batch-forget', LogPosition.of(6n, 1n), LogPosition.of(6n, 3n), 1), [insert(3)])).toBe(true);
      expect(await preparedHere()).toHaveLength(1);
      expect((await db.knex('kinds').orderBy('id').select('id')).map((r) => r.id)).toEqual([1, 3]);
    });
  });

  it('inlines raws in the places knex would number, and keeps an escaped question mark', () => {
    const text = inlineStatement(statementBuilder.raw("SELECT ?, '\\?', ?? FROM t WHERE a = ?", ["o'k", 'col', 7]));
    expect(text).toBe(`SELECT 'o''k', '?', "col" FROM t WHERE a = '7'`);
  });

  it('declines what has no text form (a Buffer), so the runner applies that batch one statement at a time', () => {
    expect(inlineStatement(statementBuilder.raw('SELECT ?', [Buffer.from([1, 2, 3])]))).toBeUndefined();
  });

  it('refuses to run anything itself: the builder has no connection', async () => {
    await expect(statementBuilder.raw('SELECT 1')).rejects.toThrow();
  });

  it('given a failing statement, rolls back the rows and the checkpoint together', async () => {
    await db.knex('kinds').del();
    const position = LogPosition.of(1n, 1n);
    const good = inlineStatement(statementBuilder('kinds').insert({ id: 1, t: 'first' }))!;
    const bad = inlineStatement(statementBuilder.raw('SELECT 1 / (?::int - ?)', [3, 3]))!;
    await expect(runBatchTransaction(db.knex, checkpointMoveSql('batch-fail', 'start', position, 2), [good, bad])).rejects.toThrow(/division by zero/);
    expect(await db.knex('kinds').count({ n: '*' })).toEqual([{ n: '0' }]);
    expect(await readCheckpoint(db.knex, 'batch-fail')).toBe('start');
    // The connection went back to the pool usable, outside any transaction.
    expect(await runBatchTransaction(db.knex, checkpointMoveSql('batch-fail', 'start', position, 1), [good])).toBe(true);
    expect(await db.knex('kinds').count({ n: '*' })).toEqual([{ n: '1' }]);
    expect(await readCheckpoint(db.knex, 'batch-fail')).toBe(position);
  });

  it('sends a long batch in several texts, still in one transaction', async () => {
    await db.knex('kinds').del();
    expect(roundTrips(['aa', 'bb', 'cc'], 7)).toEqual(['aa\n;\nbb', 'cc']);
    expect(roundTrips(['a-very-long-statement', 'b'], 5)).toEqual(['a-very-long-statement', 'b']);
    const inserts = [1, 2, 3].map((id) => inlineStatement(statementBuilder('kinds').insert({ id, t: 'x'.repeat(50) }))!);
    const failing = inlineStatement(statementBuilder.raw('SELECT 1 / (?::int - ?)', [1, 1]))!;
    const position = LogPosition.of(2n, 1n);
    await expect(runBatchTransaction(db.knex, checkpointMoveSql('batch-long', 'start', position, 4), [...inserts, failing], 100)).rejects.toThrow(/division by zero/);
    expect(await db.knex('kinds').count({ n: '*' })).toEqual([{ n: '0' }]);
    expect(await readCheckpoint(db.knex, 'batch-long')).toBe('start');
    expect(await runBatchTransaction(db.knex, checkpointMoveSql('batch-long', 'start', position, 3), inserts, 100)).toBe(true);
    expect(await db.knex('kinds').count({ n: '*' })).toEqual([{ n: '3' }]);
    expect(await readCheckpoint(db.knex, 'batch-long')).toBe(position);
  });

  it('commits the batch durably, as every commit is: progress announced after it must survive a crash', async () => {
    await db.knex('kinds').del();
    const seen = inlineStatement(statementBuilder.raw("INSERT INTO kinds (id, t) VALUES (7, current_setting('synchronous_commit'))"))!;
    expect(await runBatchTransaction(db.knex, checkpointMoveSql('batch-durable', 'start', LogPosition.of(3n, 1n), 1), [seen])).toBe(true);
    expect(await db.knex('kinds').where({ id: 7 }).first('t')).toEqual({ t: 'on' });
  });

  it('given a checkpoint that another runner moved, applies nothing and says so', async () => {
    await db.knex('kinds').del();
    const first = LogPosition.of(1n, 5n);
    const second = LogPosition.of(1n, 9n);
    expect(await runBatchTransaction(db.knex, checkpointMoveSql('batch-moved', 'start', first, 0), [inlineStatement(statementBuilder.raw('SELECT 1'))!])).toBe(true);
    const insert = inlineStatement(statementBuilder('kinds').insert({ id: 2, t: 'late' }))!;
    expect(await runBatchTransaction(db.knex, checkpointMoveSql('batch-moved', 'start', second, 1), [insert])).toBe(false);
    expect(await runBatchTransaction(db.knex, checkpointMoveSql('batch-moved', second, second, 1), [insert])).toBe(false);
    expect(await db.knex('kinds').count({ n: '*' })).toEqual([{ n: '0' }]);
    expect(await readCheckpoint(db.knex, 'batch-moved')).toBe(first);
  });
});

describe('a runner whose projection stores awkward text', () => {
  let db: TestSchema;
  let store: EventStore;
  const wakeups = new InProcessWakeups();

  beforeAll(async () => {
    db = await createTestSchema('batchrun');
    await db.knex.raw('CREATE TABLE notes_seen (stream_id text PRIMARY KEY, body jsonb NOT NULL, title text NOT NULL, revision bigint NOT NULL)');
    store = new PostgresEventStore({ pool: db.pool(), wakeups });
  });
  afterAll(async () => {
    await db.drop();
  });

  const projection: Projection = {
    name: 'notes-seen',
    tables: ['notes_seen'],
    handles: ['Noted'],
    apply(recorded, sql) {
      const data = recorded.data as { title: string };
      return upsertIfNewer(sql, 'notes_seen', ['stream_id'], { stream_id: recorded.streamId, body: recorded.data as never, title: data.title, revision: recorded.streamRevision });
    },
  };

  it('stores every value as written, in batches that commit with their checkpoint', async () => {
    let last: LogPosition | undefined;
    for (const [k, title] of AWKWARD.entries()) {
      last = (await store.append(`note-${k}`, [{ ...event('Noted'), data: { title, n: k } }, event('Ignored')], { expectedRevision: 'any' })).position;
    }
    const runner = new ProjectionRunner({ store, db: db.knex, projection, wakeups, logger: silentLogger, batchSize: 3, retryDelayMs: 10 });
    runner.start();
    try {
      await waitFor(async () => (await readCheckpoint(db.knex, 'notes-seen')) === last, 10_000, 'the projection to catch up');
    } finally {
      await runner.stop();
    }
    const rows = await db.knex('notes_seen').orderBy('stream_id');
    expect(rows.map((r) => r.title)).toEqual(AWKWARD);
    expect(rows.map((r) => r.body)).toEqual(AWKWARD.map((title, n) => ({ title, n })));
    const checkpoint = await db.knex('projection_checkpoints').where({ projection: 'notes-seen' }).first();
    expect(checkpoint.events_seen).toBe(String(AWKWARD.length));
  });
});

describe('shared pages of the log', () => {
  const page = (n: number): RecordedEvent[] => Array.from({ length: n }, (_, k) => ({ id: String(k) }) as unknown as RecordedEvent);

  it('reads a page once for every reader that asks for it at the same time, or soon after', async () => {
    let reads = 0;
    let release: (() => void) | undefined;
    const shared = new SharedPages(async () => {
      reads++;
      await new Promise<void>((resolve) => (release = resolve));
      return page(5);
    });
    const together = [shared.read('start', 10), shared.read('start', 10), shared.read('start', 3)];
    release!();
    const [a, b, c] = await Promise.all(together);
    expect(reads).toBe(1);
    expect(a).toHaveLength(5);
    expect(b).toBe(a);
    expect(c).toHaveLength(3);
    expect(await shared.read('start', 10)).toBe(a); // a later reader of the same page
    expect(reads).toBe(1);
  });

  it('reads again for a bigger limit when the kept page was cut short by a smaller one', async () => {
    let reads = 0;
    const shared = new SharedPages(async (_from, limit) => {
      reads++;
      return page(Math.min(limit, 6));
    });
    expect(await shared.read('start', 3)).toHaveLength(3);
    expect(await shared.read('start', 10)).toHaveLength(6); // the kept 3 may not be all there is
    expect(reads).toBe(2);
    expect(await shared.read('start', 10)).toHaveLength(6); // 6 < 10: the log ended there, so it serves
    expect(await shared.read('start', 4)).toHaveLength(4);
    expect(reads).toBe(2);
  });

  it('never keeps an empty answer, and forgets the oldest pages beyond its limit', async () => {
    const answers = [0, 4, 4, 4];
    let reads = 0;
    const shared = new SharedPages(async () => page(answers[reads++] ?? 4), { maxKeptEvents: 8 });
    expect(await shared.read('start', 10)).toHaveLength(0);
    expect(await shared.read('start', 10)).toHaveLength(4); // read again: nothing was kept
    expect(reads).toBe(2);
    await shared.read(LogPosition.of(1n, 1n), 10);
    await shared.read(LogPosition.of(1n, 2n), 10); // 12 events: the oldest page goes
    await shared.read('start', 10);
    expect(reads).toBe(5);
  });

  it('gives two runners of one store the same events in the same order', async () => {
    const db = await createTestSchema('sharedpages');
    try {
      const wakeups = new InProcessWakeups();
      const store = new PostgresEventStore({ pool: db.pool(), wakeups });
      for (let k = 0; k < 20; k++) await store.append(`s-${k % 3}`, [event('Counted')], { expectedRevision: 'any' });
      const first = store.subscribeToAll();
      const second = store.subscribeToAll();
      const seen: string[][] = [[], []];
      for (const [k, subscription] of [first, second].entries()) {
        while (seen[k]!.length < 20) seen[k]!.push(...(await subscription.nextBatch(7)).map((e) => e.id));
      }
      await Promise.all([first.close(), second.close()]);
      expect(seen[1]).toEqual(seen[0]);
      expect(new Set(seen[0]).size).toBe(20);
    } finally {
      await db.drop();
    }
  });
});

describe('escapeLiteral', () => {
  it("answers what node-postgres's escapeLiteral answers, for any text", () => {
    const random = seededRandom(20261122);
    const pieces = ["'", '\\', "''", '\\\\', 'a', ' ', 'ü', '😀', '\n', '"', 'E', '$$', '--', ';'];
    const samples = ['', "'", '\\', 'plain'];
    for (let i = 0; i < 2_000; i++) samples.push(Array.from({ length: random.int(0, 30) }, () => random.pick(pieces)).join(''));
    for (const text of samples) expect(escapeLiteral(text)).toBe(pg.escapeLiteral(text));
  });
});
