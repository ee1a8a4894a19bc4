/**
 * The event store port: the one interface every adapter (PostgreSQL, EventStoreDB) implements, with
 * EventStoreDB's semantics. Everything above it (command handling, projections, operator tools) is
 * written against this file only, and the conformance suite in test/event-store holds every adapter to it.
 */
import type { LogPosition } from './log-position';

export type { LogPosition } from './log-position';

/** JSON-serializable event payload. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface EventMetadata {
  /** The request or process that started this chain of work. */
  readonly correlationId: string;
  /** The command or event that directly caused this event. */
  readonly causationId: string;
  /** The acting user, or null for the system itself. */
  readonly actorId: string | null;
  /** ISO-8601 time at which the command was decided (from the injected clock). */
  readonly occurredAt: string;
  /** W3C trace context, so a trace spans the command and the projection of its events. */
  readonly traceparent?: string;
  readonly [key: string]: JsonValue | undefined;
}

export interface EventToAppend {
  /** Client-chosen UUID; appending the same id twice at the same place is an idempotent retry. */
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
  readonly streamId: string;
  /** 0-based, gap-free position of the event within its stream. */
  readonly streamRevision: bigint;
  /** Position in the global log. */
  readonly position: LogPosition;
  readonly recordedAt: Date;
}

/** `any`, `no_stream`, `stream_exists`, or the exact revision of the stream's last event. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** What a stream's revision is when it has no events (EventStoreDB's `no_stream`). */
export type ActualRevision = 'no_stream' | bigint;

export interface AppendResult {
  /** The revision of the last event written: the expected revision for the next append. */
  readonly nextExpectedRevision: bigint;
  /** The global log position of the last event written. */
  readonly position: LogPosition;
}

export interface ReadStreamOptions {
  /** Inclusive; `start` (default for forwards) or `end` (default for backwards). */
  readonly fromRevision?: bigint | 'start' | 'end';
  readonly direction?: 'forwards' | 'backwards';
  /** Default: the whole stream. */
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: the events after this position. `start` reads from the beginning. */
  readonly fromPosition?: LogPosition | 'start';
  /** Default 1,000; page on with the last position read. */
  readonly maxCount?: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive: deliver the events after this position (a stored checkpoint); `start` delivers all. */
  readonly fromPosition?: LogPosition | 'start';
}

/**
 * A catch-up subscription on the global log: history first, then live events, each exactly once and
 * in log order. Consume it either event by event (async iteration) or in batches (`nextBatch`), not both.
 */
export interface LogSubscription extends AsyncIterable<RecordedEvent> {
  /** Waits until at least one event is available, then answers up to `maxCount` of those available. */
  nextBatch(maxCount: number): Promise<RecordedEvent[]>;
  /** Ends the subscription; a pending `nextBatch` answers with an empty batch. */
  close(): Promise<void>;
  readonly closed: boolean;
}

export interface EventStore {
  append(stream: string, events: readonly EventToAppend[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  /** The stream's events; an empty array when the stream does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeToAllOptions): LogSubscription;
  /** The position of the last event a reader of the global log can see now, or `start`. */
  headPosition(): Promise<LogPosition | 'start'>;
  close(): Promise<void>;
}

// --- Errors ---------------------------------------------------------------------------------------

/** The stream's revision did not match the append's expected revision. */
export class WrongExpectedVersion extends Error {
  readonly code = 'EVENT_STORE.WRONG_EXPECTED_VERSION';
  readonly kind = 'conflict';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: ActualRevision,
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersion';
  }
}

/** Event ids that were already written, but not as this exact append (another place or other content). */
export class EventIdConflict extends Error {
  readonly code = 'EVENT_STORE.EVENT_ID_CONFLICT';
  readonly kind = 'conflict';
  constructor(
    readonly stream: string,
    readonly eventIds: readonly string[],
  ) {
    super(`stream ${stream}: event ids already used by other events: ${eventIds.join(', ')}`);
    this.name = 'EventIdConflict';
  }
}

/** Shared argument checks, so every adapter refuses the same mistakes the same way. */
export function assertValidAppend(stream: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): void {
  if (stream.length === 0 || stream.length > 512) throw new RangeError('stream id must be 1..512 characters');
  if (stream.startsWith('$')) throw new RangeError('stream ids starting with $ are reserved');
  if (events.length === 0) throw new RangeError('append needs at least one event');
  if (typeof expectedRevision === 'bigint' && expectedRevision < 0n) throw new RangeError('expected revision must be >= 0');
  const ids = new Set<string>();
  for (const event of events) {
    if (!UUID.test(event.id)) throw new RangeError(`event id must be a UUID: ${event.id}`);
    if (ids.has(event.id.toLowerCase())) throw new RangeError(`event id appears twice in one append: ${event.id}`);
    ids.add(event.id.toLowerCase());
    if (event.type.length === 0 || event.type.length > 200) throw new RangeError('event type must be 1..200 characters');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
