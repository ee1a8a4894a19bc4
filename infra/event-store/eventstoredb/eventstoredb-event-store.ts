/**
 * The EventStoreDB adapter of the event store port, on `@eventstore/db-client` v6. The port was written
 * with EventStoreDB's semantics, so most calls are one client call; this module owns the gaps between
 * the two: `$all` reads that are exclusive of their start and free of system events, appends whose answer
 * lacks a position (a deduplicated retry), missing streams read as empty, and a buffered subscription.
 */
import { END, EventStoreDBClient, excludeSystemEvents, type AppendResult as ClientAppendResult, type ReadPosition } from '@eventstore/db-client';
import {
  assertValidAppend,
  EventIdConflict,
  WrongExpectedVersion,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type LogSubscription,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../event-store';
import { LogPosition } from '../log-position';
import {
  isAfter,
  isSameEvent,
  isStreamNotFound,
  isSystemEvent,
  isWrongExpectedVersionError,
  toActualRevision,
  toClientDirection,
  toClientExpectedRevision,
  toClientPosition,
  toClientReadRevision,
  toEventData,
  toInclusiveReadFrom,
  toRecordedEvent,
  toWrongExpectedVersion,
  UnreadableEvent,
  usablePosition,
  type ResolvedEventLike,
} from './eventstoredb-mapping';
import { BufferedSubscription } from './eventstoredb-subscription';

export interface EventStoreDbEventStoreOptions {
  readonly client: EventStoreDBClient;
  /** Upper bound of one read, whatever the caller asks. */
  readonly maxReadCount?: number;
}

export const DEFAULT_READ_ALL_COUNT = 1_000;

/** Reads of `$all` ask for at least this many events, so a run of system events costs few round trips. */
const MIN_ALL_PAGE = 32;

/** One read of `$all` from a position (inclusive), answering what the server sent. */
export type AllPageReader = (from: ReadPosition, maxCount: number) => Promise<ResolvedEventLike[]>;

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly maxReadCount: number;

  constructor(options: EventStoreDbEventStoreOptions) {
    this.client = options.client;
    this.maxReadCount = options.maxReadCount ?? 10_000;
  }

  static fromConnectionString(connectionString: string): EventStoreDbEventStore {
    return new EventStoreDbEventStore({ client: EventStoreDBClient.connectionString(connectionString) });
  }

  async append(stream: string, events: readonly EventToAppend[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    assertValidAppend(stream, events, expectedRevision);
    let result: ClientAppendResult;
    try {
      result = await this.client.appendToStream(stream, events.map(toEventData), { expectedRevision: toClientExpectedRevision(expectedRevision) });
    } catch (error) {
      if (isWrongExpectedVersionError(error)) throw toWrongExpectedVersion(error, stream, expectedRevision);
      throw error;
    }
    // Only with `throwOnAppendFailure=false` in the connection string; then the revision is the actual one.
    if (!result.success) throw new WrongExpectedVersion(stream, expectedRevision, toActualRevision(result.nextExpectedRevision));
    const position = usablePosition(result.position);
    if (position !== undefined) return { nextExpectedRevision: result.nextExpectedRevision, position };
    return this.confirmRetry(stream, events, result.nextExpectedRevision);
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const direction = options.direction ?? 'forwards';
    const from = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    if (from === 'end' && direction === 'forwards') return []; // nothing comes after the end
    // A stream is read whole unless the caller says otherwise: an aggregate needs all of it.
    const maxCount = options.maxCount === undefined ? undefined : this.limit(options.maxCount);
    if (maxCount === 0) return [];
    let resolved: ResolvedEventLike[];
    try {
      resolved = await collect(
        this.client.readStream(stream, {
          direction: toClientDirection(direction),
          fromRevision: toClientReadRevision(from),
          ...(maxCount === undefined ? {} : { maxCount }),
        }),
      );
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
    const events: RecordedEvent[] = [];
    for (const item of resolved) {
      const event = toRecordedEvent(item);
      if (event !== undefined) events.push(event);
      else if (item.event !== undefined && !isSystemEvent(item.event)) {
        // Skipping it would hand an aggregate a stream with a hole in it.
        throw new UnreadableEvent(item.event.streamId, item.event.id, 'the server sent no log position (EventStoreDB 22.6 or later is needed)');
      }
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const maxCount = this.limit(options.maxCount ?? DEFAULT_READ_ALL_COUNT);
    return readAllAfter((from, count) => this.readAllPage(from, count, 'forwards'), options.fromPosition ?? 'start', maxCount);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): LogSubscription {
    const fromPosition = options.fromPosition ?? 'start';
    // A catch-up subscription from a position starts after it, which is the port's meaning too.
    const source = this.client.subscribeToAll({ fromPosition: toInclusiveReadFrom(fromPosition), filter: excludeSystemEvents() });
    return new BufferedSubscription(source, { fromPosition, stop: () => source.unsubscribe() });
  }

  async headPosition(): Promise<LogPosition | 'start'> {
    return lastPositionOfAll((from, count) => this.readAllPage(from, count, 'backwards'), MIN_ALL_PAGE);
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /**
   * The server answered success without a position: it recognised the event ids and wrote nothing (a
   * retry). It deduplicates by id alone, so check that the stored events are the ones sent, and take
   * the position from the last of them.
   */
  private async confirmRetry(stream: string, events: readonly EventToAppend[], lastRevision: bigint): Promise<AppendResult> {
    const stored = (await this.readStream(stream, { direction: 'backwards', fromRevision: lastRevision, maxCount: events.length })).reverse();
    const same = stored.length === events.length && stored.every((event, i) => isSameEvent(event, events[i]!));
    if (!same) throw new EventIdConflict(stream, events.map((e) => e.id));
    return { nextExpectedRevision: lastRevision, position: stored[stored.length - 1]!.position };
  }

  private readAllPage(from: ReadPosition, maxCount: number, direction: 'forwards' | 'backwards'): Promise<ResolvedEventLike[]> {
    return collect(this.client.readAll({ fromPosition: from, maxCount, direction: toClientDirection(direction) }));
  }

  private limit(maxCount: number): number {
    if (!Number.isInteger(maxCount) || maxCount < 0) throw new RangeError('maxCount must be a non-negative integer');
    return Math.min(maxCount, this.maxReadCount);
  }
}

/**
 * Up to `maxCount` of our events after `from` (exclusive). EventStoreDB starts a read at its position
 * (inclusive) and the log holds system events we drop, so page on until enough are gathered or the log ends.
 */
export async function readAllAfter(readPage: AllPageReader, from: LogPosition | 'start', maxCount: number): Promise<RecordedEvent[]> {
  const gathered: RecordedEvent[] = [];
  let cursor = from; // the newest position seen, ours or not
  while (gathered.length < maxCount) {
    const pageSize = Math.max(maxCount - gathered.length, MIN_ALL_PAGE) + 1; // + 1: the page repeats the cursor
    const page = await readPage(toInclusiveReadFrom(cursor), pageSize);
    let advanced = false;
    for (const resolved of page) {
      const position = usablePosition(resolved.event?.position);
      if (position === undefined || !isAfter(position, cursor)) continue;
      cursor = position;
      advanced = true;
      const event = toRecordedEvent(resolved);
      if (event === undefined) continue;
      gathered.push(event);
      if (gathered.length === maxCount) return gathered;
    }
    if (page.length < pageSize || !advanced) return gathered; // the end of the log
  }
  return gathered;
}

/** The position of the newest non-system event in `$all`, read backwards page by page, or `start`. */
export async function lastPositionOfAll(readBackwards: AllPageReader, pageSize: number): Promise<LogPosition | 'start'> {
  let cursor: LogPosition | undefined; // the oldest position seen so far
  for (;;) {
    const page = await readBackwards(cursor === undefined ? END : toClientPosition(cursor), pageSize);
    let advanced = false;
    for (const resolved of page) {
      const position = usablePosition(resolved.event?.position);
      if (position === undefined || (cursor !== undefined && LogPosition.compare(position, cursor) >= 0)) continue;
      cursor = position;
      advanced = true;
      if (!isSystemEvent(resolved.event!)) return position;
    }
    if (page.length < pageSize || !advanced) return 'start';
  }
}

/** Drains a client read. A missing stream surfaces while iterating, as the read's error, so callers catch around this. */
async function collect<E extends object>(read: AsyncIterable<E>): Promise<E[]> {
  const items: E[] = [];
  for await (const item of read) {
    if (item instanceof Error) throw item; // an error handed over as an item is still an error
    items.push(item);
  }
  return items;
}
