/**
 * The event store conformance suite: every promise of the EventStore port, run against each adapter.
 * An adapter's test file calls `describeEventStoreConformance` with a factory; tests only look at
 * streams they created (unique prefixes), so the suite also runs against a shared EventStoreDB server.
 */
import { randomUUID } from 'node:crypto';
import {
  EventIdConflict,
  WrongExpectedVersion,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../../infra/event-store/event-store';
import { LogPosition } from '../../infra/event-store/log-position';

export interface ConformanceSubject {
  readonly store: EventStore;
  /** A second, independent instance on the same log (another process, as far as the store can tell). */
  newInstance(): Promise<EventStore>;
  cleanup(): Promise<void>;
}

export function event(type: string, data: Record<string, unknown> = {}, id: string = randomUUID()): EventToAppend {
  return {
    id,
    type,
    data: data as EventToAppend['data'],
    metadata: { correlationId: 'corr-1', causationId: 'cause-1', actorId: 'user-1', occurredAt: '2026-11-22T10:00:00.000Z' },
  };
}

async function expectRejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}, but the call succeeded`);
}

/**
 * Reads the whole global log (paging), keeping only the given events. A log may expose a new event a
 * moment after its append returns (PostgreSQL waits for older transactions still open anywhere on the
 * server), so with `until` it reads again until that position is visible.
 */
async function readWholeLog(store: EventStore, keep: (event: RecordedEvent) => boolean, until?: LogPosition): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const all: RecordedEvent[] = [];
    let from: LogPosition | 'start' = 'start';
    for (;;) {
      const page = await store.readAll({ fromPosition: from, maxCount: 500 });
      if (page.length === 0) break;
      all.push(...page);
      from = page[page.length - 1]!.position;
    }
    if (until === undefined || (from !== 'start' && from >= until) || Date.now() > deadline) return all.filter(keep);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function describeEventStoreConformance(adapter: string, createSubject: () => Promise<ConformanceSubject>): void {
  describe(`event store conformance: ${adapter}`, () => {
    let subject: ConformanceSubject;
    let store: EventStore;
    let prefix: string;
    const stream = (name: string) => `${prefix}-${name}`;

    beforeAll(async () => {
      subject = await createSubject();
      store = subject.store;
    });
    afterAll(async () => {
      await subject.cleanup();
    });
    beforeEach(() => {
      prefix = `c${randomUUID().slice(0, 8)}`;
    });

    describe('expected revision', () => {
      it('no_stream creates a stream whose first revision is 0', async () => {
        const result = await store.append(stream('a'), [event('Created'), event('Renamed')], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(1n);
        const read = await store.readStream(stream('a'));
        expect(read.map((e) => e.streamRevision)).toEqual([0n, 1n]);
        expect(read[1]!.position).toBe(result.position);
      });

      it('no_stream on an existing stream is a WrongExpectedVersion carrying stream, expected and actual', async () => {
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const error = await expectRejection(store.append(stream('a'), [event('Again')], { expectedRevision: 'no_stream' }), WrongExpectedVersion);
        expect(error.stream).toBe(stream('a'));
        expect(error.expected).toBe('no_stream');
        expect(error.actual).toBe(0n);
      });

      it('an exact revision appends when it matches and refuses when stale', async () => {
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const second = await store.append(stream('a'), [event('Edited')], { expectedRevision: 0n });
        expect(second.nextExpectedRevision).toBe(1n);
        const error = await expectRejection(store.append(stream('a'), [event('Edited')], { expectedRevision: 0n }), WrongExpectedVersion);
        expect(error.expected).toBe(0n);
        expect(error.actual).toBe(1n);
      });

      it('an exact revision on a missing stream reports no_stream as the actual revision', async () => {
        const error = await expectRejection(store.append(stream('missing'), [event('Edited')], { expectedRevision: 3n }), WrongExpectedVersion);
        expect(error.actual).toBe('no_stream');
      });

      it('stream_exists refuses a missing stream and appends to an existing one', async () => {
        const error = await expectRejection(store.append(stream('a'), [event('Edited')], { expectedRevision: 'stream_exists' }), WrongExpectedVersion);
        expect(error.actual).toBe('no_stream');
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const result = await store.append(stream('a'), [event('Edited'), event('Edited')], { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(2n);
      });

      it('any appends whatever the stream holds, and revisions stay gap-free', async () => {
        await store.append(stream('a'), [event('One')], { expectedRevision: 'any' });
        await store.append(stream('a'), [event('Two'), event('Three')], { expectedRevision: 'any' });
        const read = await store.readStream(stream('a'));
        expect(read.map((e) => [e.type, e.streamRevision])).toEqual([
          ['One', 0n],
          ['Two', 1n],
          ['Three', 2n],
        ]);
      });
    });

    describe('idempotent retries', () => {
      it('the same events at the same expected revision succeed again without duplicates', async () => {
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const batch = [event('Edited', { n: 1 }), event('Edited', { n: 2 })];
        const first = await store.append(stream('a'), batch, { expectedRevision: 0n });
        const retry = await store.append(stream('a'), batch, { expectedRevision: 0n });
        expect(retry).toEqual(first);
        expect(await store.readStream(stream('a'))).toHaveLength(3);
      });

      it('one event retried at the same exact revision succeeds again without a duplicate', async () => {
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const edit = [event('Edited', { n: 1 })];
        const first = await store.append(stream('a'), edit, { expectedRevision: 0n });
        expect(await store.append(stream('a'), edit, { expectedRevision: 0n })).toEqual(first);
        expect((await store.readStream(stream('a'))).map((e) => e.type)).toEqual(['Created', 'Edited']);
      });

      it('one event at an exact revision whose id another stream holds is a conflict, and the stream does not move', async () => {
        const id = randomUUID();
        await store.append(stream('a'), [event('Created', {}, id)], { expectedRevision: 'no_stream' });
        await store.append(stream('b'), [event('Created')], { expectedRevision: 'no_stream' });
        await expectRejection(store.append(stream('b'), [event('Edited', {}, id)], { expectedRevision: 0n }), EventIdConflict);
        const next = await store.append(stream('b'), [event('Edited')], { expectedRevision: 0n });
        expect(next.nextExpectedRevision).toBe(1n);
        expect(await store.readStream(stream('b'))).toHaveLength(2);
      });

      it('a retried stream creation succeeds again', async () => {
        const batch = [event('Created')];
        const first = await store.append(stream('a'), batch, { expectedRevision: 'no_stream' });
        expect(await store.append(stream('a'), batch, { expectedRevision: 'no_stream' })).toEqual(first);
        expect(await store.readStream(stream('a'))).toHaveLength(1);
      });

      it('the same ids with other content are a conflict, and nothing is written', async () => {
        const id = randomUUID();
        await store.append(stream('a'), [event('Created', { title: 'a' }, id)], { expectedRevision: 'no_stream' });
        await expectRejection(store.append(stream('a'), [event('Created', { title: 'b' }, id)], { expectedRevision: 'no_stream' }), EventIdConflict);
        expect((await store.readStream(stream('a'))).map((e) => e.data)).toEqual([{ title: 'a' }]);
      });

      it('a retry racing its original writes the events once', async () => {
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const batch = [event('Edited')];
        const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.append(stream('a'), batch, { expectedRevision: 0n })));
        expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
        expect(await store.readStream(stream('a'))).toHaveLength(2);
      });
    });

    describe('concurrency', () => {
      it('exactly one of N racing appends at the same revision wins', async () => {
        await store.append(stream('a'), [event('Created')], { expectedRevision: 'no_stream' });
        const racers = 12;
        const results = await Promise.allSettled(
          Array.from({ length: racers }, (_, i) => store.append(stream('a'), [event('Edited', { racer: i })], { expectedRevision: 0n })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(racers - 1);
        for (const loss of lost) expect(loss.reason).toBeInstanceOf(WrongExpectedVersion);
        expect(await store.readStream(stream('a'))).toHaveLength(2);
      });

      it('exactly one of N racing stream creations wins', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append(stream('b'), [event('Created')], { expectedRevision: 'no_stream' })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      });
    });

    describe('reading a stream', () => {
      beforeEach(async () => {
        await store.append(stream('r'), Array.from({ length: 5 }, (_, i) => event(`E${i}`, { i })), { expectedRevision: 'no_stream' });
      });

      it('reads forwards from a revision, with a maximum count', async () => {
        const read = await store.readStream(stream('r'), { fromRevision: 1n, maxCount: 3 });
        expect(read.map((e) => e.type)).toEqual(['E1', 'E2', 'E3']);
      });

      it('reads backwards from the end and from a revision', async () => {
        expect((await store.readStream(stream('r'), { direction: 'backwards', maxCount: 2 })).map((e) => e.type)).toEqual(['E4', 'E3']);
        expect((await store.readStream(stream('r'), { direction: 'backwards', fromRevision: 2n })).map((e) => e.type)).toEqual(['E2', 'E1', 'E0']);
      });

      it('answers an empty list for a stream that does not exist', async () => {
        expect(await store.readStream(stream('nothing'))).toEqual([]);
      });

      it('keeps data and metadata as written', async () => {
        const written = event('WithMeta', { nested: { list: [1, 'two', null], flag: true } });
        await store.append(stream('m'), [written], { expectedRevision: 'no_stream' });
        const [read] = await store.readStream(stream('m'));
        expect(read!.id).toBe(written.id);
        expect(read!.data).toEqual(written.data);
        expect(read!.metadata).toMatchObject(written.metadata);
        expect(read!.recordedAt).toBeInstanceOf(Date);
      });
    });

    describe('the global log', () => {
      it('orders events by position, pages exclusively, and serializes positions losslessly', async () => {
        let last: LogPosition | undefined;
        for (let i = 0; i < 5; i++) last = (await store.append(stream(`s${i}`), [event('A', { i }), event('B', { i })], { expectedRevision: 'no_stream' })).position;
        const mine = (e: RecordedEvent) => e.streamId.startsWith(prefix);
        const whole = await readWholeLog(store, mine, last);
        expect(whole).toHaveLength(10);
        for (let i = 1; i < whole.length; i++) expect(LogPosition.compare(whole[i - 1]!.position, whole[i]!.position)).toBe(-1);
        for (const e of whole) expect(LogPosition.parse(JSON.parse(JSON.stringify(e.position)))).toBe(e.position);

        const after = await store.readAll({ fromPosition: whole[3]!.position, maxCount: 10_000 });
        expect(after.filter(mine).map((e) => e.id)).toEqual(whole.slice(4).map((e) => e.id));
        expect(await store.headPosition()).not.toBe('start');
      });

      it('the position an append answers is the position of its last event in the log', async () => {
        const result = await store.append(stream('p'), [event('A'), event('B')], { expectedRevision: 'no_stream' });
        const whole = await readWholeLog(store, (e) => e.streamId === stream('p'), result.position);
        expect(whole[1]!.position).toBe(result.position);
        expect(LogPosition.compare(await store.headPosition() as LogPosition, result.position)).toBeGreaterThanOrEqual(0);
      });
    });

    describe('catch-up subscription', () => {
      it('delivers history, then live events, and restarts after a stored position', async () => {
        await store.append(stream('h'), [event('Old1'), event('Old2')], { expectedRevision: 'no_stream' });
        const subscription = store.subscribeToAll();
        const seen: RecordedEvent[] = [];
        const consumer = (async () => {
          for await (const e of subscription) {
            if (!e.streamId.startsWith(prefix)) continue;
            seen.push(e);
            if (seen.length === 4) break;
          }
        })();
        await store.append(stream('h'), [event('New1'), event('New2')], { expectedRevision: 1n });
        await consumer;
        await subscription.close();
        expect(seen.map((e) => e.type)).toEqual(['Old1', 'Old2', 'New1', 'New2']);

        const other = await subject.newInstance();
        const resumed = other.subscribeToAll({ fromPosition: seen[1]!.position });
        const rest: RecordedEvent[] = [];
        while (rest.length < 2) rest.push(...(await resumed.nextBatch(100)).filter((e) => e.streamId.startsWith(prefix)));
        await resumed.close();
        expect(rest.map((e) => e.type)).toEqual(['New1', 'New2']);
      });

      it('close releases a waiting nextBatch with an empty batch', async () => {
        const head = await store.headPosition();
        const subscription = store.subscribeToAll({ fromPosition: head });
        const waiting = subscription.nextBatch(10);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await subscription.close();
        expect(await waiting).toEqual([]);
        expect(subscription.closed).toBe(true);
      });

      it('a tailing subscriber sees exactly the final log, in order, under 8 concurrent writers', async () => {
        const writers = 8;
        const appendsPerWriter = 40;
        const expected = writers * appendsPerWriter * 2;
        const subscription = store.subscribeToAll({ fromPosition: await store.headPosition() });
        const seen: RecordedEvent[] = [];
        const tail = (async () => {
          while (seen.length < expected) {
            const batch = await subscription.nextBatch(50);
            seen.push(...batch.filter((e) => e.streamId.startsWith(prefix)));
          }
        })();
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < appendsPerWriter; i++) {
              // Mixed shapes: new streams, and appends to a few hot streams shared by all writers.
              const target = i % 3 === 0 ? stream(`hot${i % 4}`) : stream(`w${w}-${i}`);
              await store.append(target, [event('W', { w, i }), event('W2', { w, i })], { expectedRevision: 'any' });
            }
          }),
        );
        await tail;
        await subscription.close();
        const final = await readWholeLog(store, (e) => e.streamId.startsWith(prefix));
        expect(final).toHaveLength(expected);
        expect(seen.map((e) => e.id)).toEqual(final.map((e) => e.id));
        expect(new Set(seen.map((e) => e.id)).size).toBe(expected);
      });
    });
  });
}
