/**
 * Unit tests of the EventStoreDB adapter's rules without a server: the mapping to and from the client,
 * the exclusive `$all` paging and the head scan over fake page readers, and the subscription buffer fed
 * by an object-mode PassThrough standing in for the client's subscription stream.
 */
import { PassThrough } from 'node:stream';
import {
  ANY,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import { WrongExpectedVersion, type EventToAppend, type RecordedEvent } from '../event-store';
import { LogPosition } from '../log-position';
import { lastPositionOfAll, readAllAfter, type AllPageReader } from './eventstoredb-event-store';
import {
  isAfter,
  isSameEvent,
  isStreamNotFound,
  isWrongExpectedVersionError,
  toActualRevision,
  toClientExpectedRevision,
  toClientPosition,
  toEventData,
  toInclusiveReadFrom,
  toLogPosition,
  toRecordedEvent,
  toWrongExpectedVersion,
  UnreadableEvent,
  usablePosition,
  type ClientRecordedEventLike,
  type ResolvedEventLike,
} from './eventstoredb-mapping';
import { BufferedSubscription } from './eventstoredb-subscription';

// --- Fixtures -------------------------------------------------------------------------------------

const CREATED = new Date('2026-11-22T10:00:00.000Z');
const METADATA = { correlationId: 'corr-1', causationId: 'cause-1', actorId: 'user-1', occurredAt: '2026-11-22T10:00:00.000Z' };
const MAX_U64 = (1n << 64n) - 1n;

function resolved(overrides: Partial<ClientRecordedEventLike> & { commit?: bigint } = {}): ResolvedEventLike {
  const { commit = 100n, ...rest } = overrides;
  return {
    event: {
      streamId: 'doc-1',
      id: `00000000-0000-4000-8000-${commit.toString().padStart(12, '0')}`,
      isJson: true,
      revision: 0n,
      type: 'DocumentCreated',
      created: CREATED,
      data: { title: 'Hello' },
      metadata: METADATA,
      position: { commit, prepare: commit },
      ...rest,
    },
  };
}

const system = (commit: bigint): ResolvedEventLike => resolved({ commit, streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' });
const ours = (commit: bigint): ResolvedEventLike => resolved({ commit, streamId: `doc-${commit}` });
const at = (commit: bigint): LogPosition => LogPosition.of(commit, commit);

/** A `$all` of the given events with EventStoreDB's read semantics: the start position is inclusive. */
function fakeAll(log: readonly ResolvedEventLike[]): { forwards: AllPageReader; backwards: AllPageReader; reads: ReadPosition[] } {
  const reads: ReadPosition[] = [];
  const positionOf = (e: ResolvedEventLike) => toLogPosition(e.event!.position!);
  return {
    reads,
    forwards: async (from, maxCount) => {
      reads.push(from);
      const start = from === START ? undefined : from === END ? at(MAX_U64 - 1n) : toLogPosition(from as Position);
      return log.filter((e) => start === undefined || LogPosition.compare(positionOf(e), start) >= 0).slice(0, maxCount);
    },
    backwards: async (from, maxCount) => {
      reads.push(from);
      const newest = [...log].reverse();
      if (from === END) return newest.slice(0, maxCount);
      const end = toLogPosition(from as Position);
      return newest.filter((e) => LogPosition.compare(positionOf(e), end) <= 0).slice(0, maxCount);
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

// --- Expected and actual revisions ----------------------------------------------------------------

describe('expected revision mapping', () => {
  it.each([
    ['any', ANY],
    ['no_stream', NO_STREAM],
    ['stream_exists', STREAM_EXISTS],
  ] as const)('given %s, when mapped, then the client constant is used', (ours, theirs) => {
    expect(toClientExpectedRevision(ours)).toBe(theirs);
  });

  it('given an exact revision, when mapped, then the bigint is passed through, 0 and above 2^53 included', () => {
    expect(toClientExpectedRevision(0n)).toBe(0n);
    expect(toClientExpectedRevision(2n ** 60n + 1n)).toBe(2n ** 60n + 1n);
  });

  it('given the client reports no stream as no_stream or -1, when mapped, then both are no_stream', () => {
    expect(toActualRevision(NO_STREAM)).toBe('no_stream');
    expect(toActualRevision(-1n)).toBe('no_stream');
    expect(toActualRevision(0n)).toBe(0n);
    expect(toActualRevision(41n)).toBe(41n);
  });
});

// --- Positions ------------------------------------------------------------------------------------

describe('position mapping', () => {
  it('given a client position above 2^53, when mapped to ours and back, then it is unchanged', () => {
    const position = { commit: 2n ** 63n, prepare: 2n ** 63n - 1n };
    const ours = toLogPosition(position);
    expect(LogPosition.major(ours)).toBe(2n ** 63n);
    expect(LogPosition.minor(ours)).toBe(2n ** 63n - 1n);
    expect(toClientPosition(ours)).toEqual(position);
  });

  it('given positions ordered by commit then prepare, when mapped, then ours sort the same way', () => {
    const a = toLogPosition({ commit: 9n, prepare: 2n ** 62n });
    const b = toLogPosition({ commit: 10n, prepare: 0n });
    const c = toLogPosition({ commit: 10n, prepare: 1n });
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });

  it('given no position or the server\'s -1 marker, when checked, then there is no usable position', () => {
    expect(usablePosition(undefined)).toBeUndefined();
    expect(usablePosition({ commit: MAX_U64, prepare: MAX_U64 })).toBeUndefined();
    expect(usablePosition({ commit: -1n, prepare: -1n })).toBeUndefined();
    expect(usablePosition({ commit: 5n, prepare: 4n })).toBe(LogPosition.of(5n, 4n));
  });
});

describe('exclusive fromPosition', () => {
  it('given start, when converted, then the read starts at the client\'s START', () => {
    expect(toInclusiveReadFrom('start')).toBe(START);
  });

  it('given a position, when converted, then the read starts at that very position', () => {
    expect(toInclusiveReadFrom(LogPosition.of(2n ** 63n, 7n))).toEqual({ commit: 2n ** 63n, prepare: 7n });
  });

  it('given a from position, when events are checked, then only those strictly after it belong to the read', () => {
    expect(isAfter(at(5n), at(5n))).toBe(false);
    expect(isAfter(at(4n), at(5n))).toBe(false);
    expect(isAfter(LogPosition.of(5n, 6n), at(5n))).toBe(true);
    expect(isAfter(LogPosition.of(0n, 1n), 'start')).toBe(true);
  });
});

// --- Events ---------------------------------------------------------------------------------------

describe('event to append', () => {
  it('given our event, when mapped, then it is a JSON event keeping id, type, data and metadata', () => {
    const event: EventToAppend = { id: '6f1c1f0e-2a4b-4c3d-9e8f-0a1b2c3d4e5f', type: 'DocumentCreated', data: { title: 'A' }, metadata: METADATA };
    expect(toEventData(event)).toEqual({ id: event.id, contentType: 'application/json', type: 'DocumentCreated', data: { title: 'A' }, metadata: METADATA });
  });

  it('given data that is not an object, when mapped, then it is kept as is for JSON.stringify', () => {
    const event: EventToAppend = { id: '6f1c1f0e-2a4b-4c3d-9e8f-0a1b2c3d4e5f', type: 'Ticked', data: null, metadata: METADATA };
    expect(toEventData(event).data).toBeNull();
  });
});

describe('recorded event', () => {
  it('given a JSON event with a position, when mapped, then every field is ours', () => {
    const id = '6f1c1f0e-2a4b-4c3d-9e8f-0a1b2c3d4e5f';
    const event = toRecordedEvent(resolved({ id, commit: 2n ** 63n, streamId: 'doc-9', revision: 4n, type: 'DocumentRenamed', data: { title: 'B' } }));
    expect(event).toEqual<RecordedEvent>({
      id,
      type: 'DocumentRenamed',
      data: { title: 'B' },
      metadata: METADATA,
      streamId: 'doc-9',
      streamRevision: 4n,
      position: LogPosition.of(2n ** 63n, 2n ** 63n),
      recordedAt: CREATED,
    });
    expect(event!.recordedAt).toBeInstanceOf(Date);
  });

  it.each([
    ['a $-prefixed type', resolved({ type: '$metadata' })],
    ['a link event', resolved({ type: '$>', streamId: '$ce-doc' })],
    ['an event in a $ stream with a plain type', resolved({ type: 'Result', streamId: '$projections-totals-result' })],
    ['an event without position', resolved({ position: undefined })],
    ['an event with the no-position marker', resolved({ position: { commit: MAX_U64, prepare: MAX_U64 } })],
    ['an unresolved link', {}],
  ])('given %s, when mapped, then it is skipped', (_case, input) => {
    expect(toRecordedEvent(input)).toBeUndefined();
  });

  it('given a binary event of ours, when mapped, then it is refused as unreadable', () => {
    expect(() => toRecordedEvent(resolved({ isJson: false, data: new Uint8Array([1]) }))).toThrow(UnreadableEvent);
  });

  it('given an event without JSON object metadata, when mapped, then it is refused as unreadable', () => {
    expect(() => toRecordedEvent(resolved({ metadata: undefined }))).toThrow(UnreadableEvent);
    expect(() => toRecordedEvent(resolved({ metadata: new Uint8Array([1]) }))).toThrow(UnreadableEvent);
  });
});

describe('same event check (a deduplicated retry)', () => {
  const sent: EventToAppend = { id: '6F1C1F0E-2A4B-4C3D-9E8F-0A1B2C3D4E5F', type: 'DocumentCreated', data: { a: 1, b: [1, { c: 2, d: 3 }] }, metadata: { ...METADATA, traceparent: undefined } };
  const stored: RecordedEvent = {
    id: sent.id.toLowerCase(),
    type: 'DocumentCreated',
    data: { b: [1, { d: 3, c: 2 }], a: 1 },
    metadata: METADATA,
    streamId: 'doc-1',
    streamRevision: 0n,
    position: at(1n),
    recordedAt: CREATED,
  };

  it('given the same content in another key order and without undefined members, when compared, then it is the same event', () => {
    expect(isSameEvent(stored, sent)).toBe(true);
  });

  it('given other data, type or metadata under the same id, when compared, then it is not the same event', () => {
    expect(isSameEvent({ ...stored, data: { a: 2, b: [1, { c: 2, d: 3 }] } }, sent)).toBe(false);
    expect(isSameEvent({ ...stored, type: 'Other' }, sent)).toBe(false);
    expect(isSameEvent({ ...stored, metadata: { ...METADATA, actorId: null } }, sent)).toBe(false);
  });
});

// --- Errors ---------------------------------------------------------------------------------------

describe('error mapping', () => {
  it('given the client\'s WrongExpectedVersionError with a revision, when mapped, then ours carries stream, expected and actual', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'doc-1', expected: 0n, current: 3n });
    expect(isWrongExpectedVersionError(error)).toBe(true);
    const mapped = toWrongExpectedVersion(error, 'doc-1', 0n);
    expect(mapped).toBeInstanceOf(WrongExpectedVersion);
    expect(mapped).toMatchObject({ code: 'EVENT_STORE.WRONG_EXPECTED_VERSION', stream: 'doc-1', expected: 0n, actual: 3n });
  });

  it.each([
    ['no_stream', NO_STREAM],
    ['-1', -1n],
  ] as const)('given the client reports the actual version as %s, when mapped, then actual is no_stream', (_case, current) => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'doc-1', expected: 'stream_exists', current });
    expect(toWrongExpectedVersion(error, 'doc-1', 'stream_exists')).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
  });

  it('given an error tagged wrong-expected-version from another copy of the client, when checked, then it is recognised', () => {
    expect(isWrongExpectedVersionError({ type: 'wrong-expected-version', actualVersion: 1n })).toBe(true);
    expect(isWrongExpectedVersionError(new Error('boom'))).toBe(false);
    expect(isWrongExpectedVersionError(undefined)).toBe(false);
  });

  it('given a StreamNotFoundError, by class or by tag, when checked, then it is a missing stream', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'doc-1'))).toBe(true);
    expect(isStreamNotFound({ type: 'stream-not-found' })).toBe(true);
    expect(isStreamNotFound(new WrongExpectedVersionError(undefined, { streamName: 'x', expected: ANY, current: 1n }))).toBe(false);
  });
});

// --- Reading $all -------------------------------------------------------------------------------

describe('readAllAfter (exclusive paging over an inclusive server read)', () => {
  it('given a from position, when read, then the event at that position is not answered', async () => {
    const log = fakeAll([ours(10n), ours(20n), ours(30n)]);
    const events = await readAllAfter(log.forwards, at(20n), 10);
    expect(events.map((e) => e.position)).toEqual([at(30n)]);
    expect(log.reads[0]).toEqual({ commit: 20n, prepare: 20n });
  });

  it('given start, when read, then the first event is answered', async () => {
    const events = await readAllAfter(fakeAll([ours(10n), ours(20n)]).forwards, 'start', 10);
    expect(events.map((e) => e.position)).toEqual([at(10n), at(20n)]);
  });

  it('given system events among ours, when read, then only ours are answered, in log order', async () => {
    const events = await readAllAfter(fakeAll([system(5n), ours(10n), system(15n), ours(20n)]).forwards, 'start', 10);
    expect(events.map((e) => e.position)).toEqual([at(10n), at(20n)]);
  });

  it('given more system events than a page, when read, then it pages on until maxCount of ours are gathered', async () => {
    const systemRun = Array.from({ length: 100 }, (_, i) => system(BigInt(i + 1)));
    const log = fakeAll([...systemRun, ours(200n), system(201n), ours(300n), ours(400n)]);
    const events = await readAllAfter(log.forwards, 'start', 2);
    expect(events.map((e) => e.position)).toEqual([at(200n), at(300n)]);
    expect(log.reads.length).toBeGreaterThan(1);
  });

  it('given fewer events than asked, when read, then it stops at the end of the log', async () => {
    const log = fakeAll([ours(10n), system(20n)]);
    expect(await readAllAfter(log.forwards, 'start', 1_000)).toHaveLength(1);
    expect(log.reads).toHaveLength(1);
  });

  it('given a position at the end of the log, when read, then nothing is answered', async () => {
    expect(await readAllAfter(fakeAll([ours(10n)]).forwards, at(10n), 10)).toEqual([]);
  });
});

describe('lastPositionOfAll (head position)', () => {
  it('given system events after our last event, across pages, when scanned, then our last event\'s position is answered', async () => {
    const trailing = Array.from({ length: 10 }, (_, i) => system(BigInt(100 + i)));
    const log = fakeAll([ours(10n), ours(50n), ...trailing]);
    expect(await lastPositionOfAll(log.backwards, 4)).toBe(at(50n));
    expect(log.reads[0]).toBe(END);
  });

  it('given an empty log or only system events, when scanned, then start is answered', async () => {
    expect(await lastPositionOfAll(fakeAll([]).backwards, 4)).toBe('start');
    expect(await lastPositionOfAll(fakeAll([system(1n), system(2n), system(3n), system(4n), system(5n)]).backwards, 4)).toBe('start');
  });
});

// --- The subscription buffer ----------------------------------------------------------------------

describe('BufferedSubscription', () => {
  function subscription(options: { fromPosition?: LogPosition | 'start'; highWaterMark?: number; lowWaterMark?: number } = {}) {
    const source = new PassThrough({ objectMode: true });
    const stop = jest.fn(async () => undefined);
    const sub = new BufferedSubscription(source, { fromPosition: options.fromPosition ?? 'start', stop, highWaterMark: options.highWaterMark, lowWaterMark: options.lowWaterMark });
    return { source, stop, sub };
  }

  it('given buffered events, when a batch is asked, then up to maxCount are answered in order and the rest stay', async () => {
    const { source, sub } = subscription();
    for (const c of [1n, 2n, 3n]) source.write(ours(c));
    await settle();
    expect((await sub.nextBatch(2)).map((e) => e.position)).toEqual([at(1n), at(2n)]);
    expect((await sub.nextBatch(2)).map((e) => e.position)).toEqual([at(3n)]);
    await sub.close();
  });

  it('given an empty buffer, when a batch is asked, then it waits for the next event', async () => {
    const { source, sub } = subscription();
    let answered: RecordedEvent[] | undefined;
    const waiting = sub.nextBatch(10).then((batch) => (answered = batch));
    await settle();
    expect(answered).toBeUndefined();
    source.write(ours(7n));
    await waiting;
    expect(answered!.map((e) => e.position)).toEqual([at(7n)]);
    await sub.close();
  });

  it('given the buffer reaches the high-water mark, when drained to the low-water mark, then the source pauses and then resumes', async () => {
    const { source, sub } = subscription({ highWaterMark: 4, lowWaterMark: 1 });
    for (let c = 1n; c <= 6n; c++) source.write(ours(c));
    await settle();
    expect(source.isPaused()).toBe(true);
    expect(await sub.nextBatch(2)).toHaveLength(2); // 2 left: still above the low-water mark
    await settle();
    expect(source.isPaused()).toBe(true);
    expect(await sub.nextBatch(1)).toHaveLength(1); // 1 left: resume
    expect(source.isPaused()).toBe(false);
    await settle();
    expect((await sub.nextBatch(10)).map((e) => e.position)).toEqual([at(4n), at(5n), at(6n)]);
    await sub.close();
  });

  it('given a waiting batch, when the source errors, then the batch rejects with that error and the subscription is stopped', async () => {
    const { source, stop, sub } = subscription();
    const waiting = sub.nextBatch(10);
    const failure = new Error('server dropped the subscription');
    source.destroy(failure);
    await expect(waiting).rejects.toBe(failure);
    await expect(sub.nextBatch(10)).rejects.toBe(failure);
    expect(stop).toHaveBeenCalled();
  });

  it('given buffered events, when the source errors, then they are answered first and the next batch rejects', async () => {
    const { source, sub } = subscription();
    source.write(ours(1n));
    await settle();
    const failure = new Error('connection reset');
    source.destroy(failure);
    await settle();
    expect((await sub.nextBatch(10)).map((e) => e.position)).toEqual([at(1n)]);
    await expect(sub.nextBatch(10)).rejects.toBe(failure);
  });

  it('given the source ends without close, when a batch is waiting, then it rejects', async () => {
    const { source, sub } = subscription();
    const waiting = sub.nextBatch(10);
    source.end();
    await expect(waiting).rejects.toThrow('ended');
  });

  it('given a waiting batch, when closed, then it answers an empty batch and the source is released', async () => {
    const { source, stop, sub } = subscription();
    const waiting = sub.nextBatch(10);
    await settle();
    await sub.close();
    expect(await waiting).toEqual([]);
    expect(sub.closed).toBe(true);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(source.destroyed).toBe(true);
    expect(await sub.nextBatch(10)).toEqual([]);
  });

  it('given repeated or older events, when buffered, then each position is delivered once, in order', async () => {
    const { source, sub } = subscription();
    for (const c of [1n, 2n, 2n, 1n, 3n]) source.write(ours(c));
    await settle();
    expect((await sub.nextBatch(10)).map((e) => e.position)).toEqual([at(1n), at(2n), at(3n)]);
    source.write(ours(3n));
    source.write(ours(4n));
    expect((await sub.nextBatch(10)).map((e) => e.position)).toEqual([at(4n)]);
    await sub.close();
  });

  it('given a from position, when the source repeats it, then events at or before it are dropped', async () => {
    const { source, sub } = subscription({ fromPosition: at(5n) });
    for (const c of [4n, 5n, 6n]) source.write(ours(c));
    expect((await sub.nextBatch(10)).map((e) => e.position)).toEqual([at(6n)]);
    await sub.close();
  });

  it('given system events from the source, when buffered, then they are skipped', async () => {
    const { source, sub } = subscription();
    for (const e of [system(1n), ours(2n), system(3n)]) source.write(e);
    await settle();
    expect((await sub.nextBatch(10)).map((e) => e.position)).toEqual([at(2n)]);
    await sub.close();
  });

  it('given an unreadable event, when it arrives, then the subscription fails with UnreadableEvent', async () => {
    const { source, sub } = subscription();
    source.write(resolved({ isJson: false }));
    await expect(sub.nextBatch(10)).rejects.toBeInstanceOf(UnreadableEvent);
  });

  it('given a waiting batch, when another is asked, then it is refused', async () => {
    const { sub } = subscription();
    const waiting = sub.nextBatch(1);
    expect(() => sub.nextBatch(1)).toThrow('already waiting');
    await sub.close();
    expect(await waiting).toEqual([]);
  });

  it('given events, when iterated, then they come one by one in order', async () => {
    const { source, sub } = subscription();
    for (const c of [1n, 2n, 3n]) source.write(ours(c));
    const seen: LogPosition[] = [];
    for await (const event of sub) {
      seen.push(event.position);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([at(1n), at(2n), at(3n)]);
    await sub.close();
  });
});
