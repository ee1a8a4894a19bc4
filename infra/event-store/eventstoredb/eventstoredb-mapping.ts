/**
 * The translation between the event store port and `@eventstore/db-client`: expected revisions, log
 * positions, events in both directions, and the client's errors. Pure functions, no network, so the
 * EventStoreDB adapter's rules can be tested without a server. The client's types are only partly
 * trusted: the shapes it hands back are read through the narrow `*Like` interfaces below.
 */
import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AppendExpectedRevision,
  type CurrentRevision,
  type Direction,
  type EventData,
  type JSONType,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import {
  WrongExpectedVersion,
  type ActualRevision,
  type EventMetadata,
  type EventToAppend,
  type ExpectedRevision,
  type JsonValue,
  type RecordedEvent,
} from '../event-store';
import { LogPosition } from '../log-position';

/** The fields of the client's recorded event this adapter reads (stream reads, `$all` reads and subscriptions). */
export interface ClientRecordedEventLike {
  readonly streamId: string;
  readonly id: string;
  readonly isJson: boolean;
  readonly revision: bigint;
  readonly type: string;
  readonly created: Date;
  readonly data: unknown;
  readonly metadata: unknown;
  /** Absent on stream reads from servers before 22.6. */
  readonly position?: Position;
}

/** The client's `ResolvedEvent` / `AllStreamResolvedEvent`; `event` is absent for an unresolvable link. */
export interface ResolvedEventLike {
  readonly event?: ClientRecordedEventLike;
}

/** An event in the log that this port cannot describe: it was not written through an adapter of it. */
export class UnreadableEvent extends Error {
  readonly code = 'EVENT_STORE.UNREADABLE_EVENT';
  constructor(
    readonly streamId: string,
    readonly eventId: string,
    reason: string,
  ) {
    super(`event ${eventId} in stream ${streamId} cannot be read: ${reason}`);
    this.name = 'UnreadableEvent';
  }
}

// --- Revisions and directions ---------------------------------------------------------------------

export function toClientExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (typeof expected === 'bigint') return expected;
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default: {
      const never: never = expected;
      throw new Error(`unknown expected revision ${String(never)}`);
    }
  }
}

/** The client reports a missing stream as `no_stream`, or as -1 when it read the revision from error metadata. */
export function toActualRevision(actual: CurrentRevision): ActualRevision {
  if (actual === NO_STREAM || actual < 0n) return 'no_stream';
  return actual;
}

export function toClientReadRevision(from: bigint | 'start' | 'end'): ReadRevision {
  if (typeof from === 'bigint') return from;
  switch (from) {
    case 'start':
      return START;
    case 'end':
      return END;
    default: {
      const never: never = from;
      throw new Error(`unknown read revision ${String(never)}`);
    }
  }
}

export function toClientDirection(direction: 'forwards' | 'backwards'): Direction {
  switch (direction) {
    case 'forwards':
      return FORWARDS;
    case 'backwards':
      return BACKWARDS;
    default: {
      const never: never = direction;
      throw new Error(`unknown direction ${String(never)}`);
    }
  }
}

// --- Positions ------------------------------------------------------------------------------------

/** A server's "no position" (-1) arrives through the protocol's unsigned fields as 2^64 - 1. */
const UNSIGNED_MINUS_ONE = (1n << 64n) - 1n;

export function toLogPosition(position: Position): LogPosition {
  return LogPosition.of(position.commit, position.prepare);
}

export function toClientPosition(position: LogPosition): Position {
  return { commit: LogPosition.major(position), prepare: LogPosition.minor(position) };
}

/** The position, unless the server sent none or its "no position" marker. */
export function usablePosition(position: Position | undefined): LogPosition | undefined {
  if (position === undefined) return undefined;
  const { commit, prepare } = position;
  if (commit < 0n || prepare < 0n || commit === UNSIGNED_MINUS_ONE || prepare === UNSIGNED_MINUS_ONE) return undefined;
  return toLogPosition(position);
}

/**
 * Where an EventStoreDB read of `$all` starts for one of our reads. Ours are exclusive of `fromPosition`,
 * EventStoreDB's are inclusive: the read starts at the position itself and `isAfter` drops that event.
 */
export function toInclusiveReadFrom(from: LogPosition | 'start'): ReadPosition {
  return from === 'start' ? START : toClientPosition(from);
}

/** Whether an event at `position` belongs to an exclusive read from `from`. */
export function isAfter(position: LogPosition, from: LogPosition | 'start'): boolean {
  return from === 'start' || LogPosition.compare(position, from) > 0;
}

// --- Events ---------------------------------------------------------------------------------------

export function toEventData(event: EventToAppend): EventData {
  return jsonEvent({
    id: event.id,
    type: event.type,
    // The client's JSONType leaves out null, booleans and numbers, but it writes data with
    // JSON.stringify and reads it with JSON.parse, so every JsonValue round trips.
    data: event.data as JSONType,
    metadata: event.metadata,
  });
}

/** EventStoreDB's own events: `$`-prefixed types (`$metadata`, `$>` links...) and anything in a `$` stream. */
export function isSystemEvent(event: ClientRecordedEventLike): boolean {
  // Our stream ids never start with `$` (assertValidAppend), but system streams hold some events
  // with plain types (projection results), which the server's event-type filter lets through.
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** Our event, or undefined for a system event, an unresolved link, or an event without a log position. */
export function toRecordedEvent(resolved: ResolvedEventLike): RecordedEvent | undefined {
  const event = resolved.event;
  if (event === undefined || isSystemEvent(event)) return undefined;
  const position = usablePosition(event.position);
  if (position === undefined) return undefined;
  if (!event.isJson) throw new UnreadableEvent(event.streamId, event.id, 'its content type is not application/json');
  if (!isJsonObject(event.metadata)) throw new UnreadableEvent(event.streamId, event.id, 'its metadata is not a JSON object');
  return {
    id: event.id,
    type: event.type,
    // A JSON event's data was parsed by the client (malformed JSON stays a string, still a JsonValue).
    data: event.data as JsonValue,
    metadata: event.metadata as EventMetadata,
    streamId: event.streamId,
    streamRevision: event.revision,
    position,
    recordedAt: event.created,
  };
}

/** Whether a stored event is exactly the one an append sent (same id, type, data and metadata). */
export function isSameEvent(stored: RecordedEvent, sent: EventToAppend): boolean {
  return (
    stored.id.toLowerCase() === sent.id.toLowerCase() &&
    stored.type === sent.type &&
    canonicalJson(stored.data) === canonicalJson(sent.data) &&
    canonicalJson(stored.metadata) === canonicalJson(sent.metadata)
  );
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** JSON text with sorted keys and without undefined members, so equal content compares equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    isJsonObject(member) ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : member,
  );
}

// --- Errors ---------------------------------------------------------------------------------------

// Errors are recognised by their `type` tag as well as their class: a second copy of the client
// in node_modules makes `instanceof` fail, the tag survives.

export function isWrongExpectedVersionError(error: unknown): error is WrongExpectedVersionError {
  return error instanceof WrongExpectedVersionError || hasErrorType(error, ErrorType.WRONG_EXPECTED_VERSION);
}

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof StreamNotFoundError || hasErrorType(error, ErrorType.STREAM_NOT_FOUND);
}

/** The port's error; `stream` and `expected` are the caller's own, the client's copies of them add nothing. */
export function toWrongExpectedVersion(error: WrongExpectedVersionError, stream: string, expected: ExpectedRevision): WrongExpectedVersion {
  return new WrongExpectedVersion(stream, expected, toActualRevision(error.actualVersion));
}

function hasErrorType(error: unknown, type: ErrorType): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === type;
}
