/**
 * The one write path every command takes: read the stream, fold it into state, decide, append with the
 * expected revision, and answer the new state with its revision and the log position written.
 * A client's If-Match becomes the expected revision (a stale one is a StaleRevision, HTTP 412);
 * without one, a lost race is simply decided again on the fresh state.
 */
import { randomUUID } from 'node:crypto';
import type { Decider } from '../domain/shared/decider';
import type { DomainEvent } from '../domain/shared/events';
import { WrongExpectedVersion, type EventMetadata, type EventStore } from '../infra/event-store/event-store';
import type { LogPosition } from '../infra/event-store/log-position';
import type { AggregateSnapshots } from '../infra/snapshots/aggregate-snapshots';
import { currentTraceparent, traceCommand } from '../infra/telemetry/tracing';
import type { AggregateCache } from './aggregate-cache';

/** Keeps deciding on long streams cheap: fold from a snapshot, and save a new one every `every` events. */
export interface Snapshotting {
  readonly snapshots: AggregateSnapshots;
  /** Names the decider; `version` changes whenever its state's shape does. */
  readonly kind: string;
  readonly version: number;
  readonly every: number;
}

export interface CommandContext {
  readonly actorId: string | null;
  readonly correlationId: string;
  readonly causationId: string;
  readonly now: Date;
}

export interface CommandResult<State> {
  readonly state: State;
  /** Revision of the stream's last event, or `no_stream` if it still has none. */
  readonly revision: bigint | 'no_stream';
  /**
   * Where the appended events landed; when the command changed nothing, where the stream's last event
   * is (a reader that has seen that position sees this state). Undefined only for an empty stream.
   */
  readonly position: LogPosition | undefined;
  readonly events: readonly DomainEvent[];
}

/** The client's If-Match named a revision the stream has moved past. */
export class StaleRevision<State> extends Error {
  readonly kind = 'precondition_failed';
  readonly code = 'HTTP.PRECONDITION_FAILED';
  constructor(
    readonly stream: string,
    readonly expected: bigint | 'no_stream',
    readonly current: bigint | 'no_stream',
    readonly state: State,
  ) {
    super(`the resource has changed: expected revision ${expected}, current ${String(current)}`);
    this.name = 'StaleRevision';
  }
}

export interface HandleOptions {
  /** From If-Match (the revision the client last saw), or `no_stream` for a create that must be first. */
  readonly expectedRevision?: bigint | 'no_stream';
  /** Times a lost race (without If-Match) is decided again. */
  readonly retries?: number;
  readonly snapshotting?: Snapshotting;
  /** Folded aggregates this process decided on recently (see aggregate-cache.ts). */
  readonly cache?: AggregateCache;
}

interface LoadedAggregate<State> {
  readonly state: State;
  readonly revision: bigint | 'no_stream';
  readonly position: LogPosition | undefined;
  /** Revision the fold started from (a snapshot's), or -1 when it read the whole stream. */
  readonly snapshotRevision: bigint;
}

export async function loadAggregate<Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  snapshotting?: Snapshotting,
): Promise<LoadedAggregate<State>> {
  const snapshot = snapshotting ? await snapshotting.snapshots.load(streamId, snapshotting.kind, snapshotting.version) : undefined;
  const recorded = await store.readStream(streamId, snapshot ? { fromRevision: snapshot.revision + 1n } : {});
  const initial = snapshot ? (snapshot.state as State) : decider.initialState;
  const state = recorded.reduce((current, event) => decider.evolve(current, { type: event.type, data: event.data } as unknown as Event), initial);
  const last = recorded[recorded.length - 1];
  return {
    state,
    revision: last ? last.streamRevision : snapshot ? snapshot.revision : 'no_stream',
    position: last ? last.position : snapshot?.position,
    snapshotRevision: snapshot ? snapshot.revision : -1n,
  };
}

/** Handles one command in a `command <type>` span; the events it appends carry that span's traceparent. */
export function handleCommand<Command, Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: Command | ((state: State) => Command | Promise<Command>),
  context: CommandContext,
  options: HandleOptions = {},
): Promise<CommandResult<State>> {
  return traceCommand(command, streamId, () => decideAndAppend(store, streamId, decider, command, context, options));
}

async function decideAndAppend<Command, Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: Command | ((state: State) => Command | Promise<Command>),
  context: CommandContext,
  options: HandleOptions,
): Promise<CommandResult<State>> {
  const attempts = 1 + (options.retries ?? 3);
  const cached = options.cache?.get(streamId);
  let loaded: LoadedAggregate<State> = cached
    ? { state: cached.state as State, revision: cached.revision, position: cached.position, snapshotRevision: options.cache?.snapshotRevision(streamId) ?? -1n }
    : await loadAggregate(store, streamId, decider, options.snapshotting);
  for (let attempt = 1; ; attempt++) {
    const { state, revision, position, snapshotRevision } = loaded;
    if (options.expectedRevision !== undefined && revision !== options.expectedRevision) {
      if (cached && attempt === 1) {
        // The cache may be behind the client: look at the stream before calling the client stale.
        loaded = await loadAggregate(store, streamId, decider, options.snapshotting);
        if (loaded.revision !== revision) continue;
      }
      throw new StaleRevision(streamId, options.expectedRevision, revision, state);
    }
    const decided = decider.decide(typeof command === 'function' ? await (command as (state: State) => Command | Promise<Command>)(state) : command, state);
    if (decided.length === 0) return { state, revision, position, events: [] };
    const metadata = metadataOf(context);
    try {
      const result = await store.append(
        streamId,
        decided.map((event) => ({ id: randomUUID(), type: event.type, data: event.data as never, metadata })),
        { expectedRevision: revision },
      );
      const next = decided.reduce(decider.evolve, state);
      const snapshotting = options.snapshotting;
      let snapshotAt = snapshotRevision;
      if (snapshotting && result.nextExpectedRevision - snapshotRevision >= snapshotting.every) {
        // A cache of the log: failing to write it costs the next command a longer read, nothing more.
        const saved = await snapshotting.snapshots
          .save(streamId, snapshotting.kind, snapshotting.version, { revision: result.nextExpectedRevision, position: result.position, state: next })
          .then(() => true, () => false);
        if (saved) snapshotAt = result.nextExpectedRevision;
      }
      options.cache?.set(streamId, { state: next, revision: result.nextExpectedRevision, position: result.position }, snapshotAt);
      return { state: next, revision: result.nextExpectedRevision, position: result.position, events: decided };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      options.cache?.delete(streamId);
      loaded = await loadAggregate(store, streamId, decider, options.snapshotting);
      if (options.expectedRevision !== undefined && loaded.revision !== options.expectedRevision) {
        throw new StaleRevision(streamId, options.expectedRevision, loaded.revision, loaded.state);
      }
      if (attempt >= attempts) throw error;
    }
  }
}

function metadataOf(context: CommandContext): EventMetadata {
  return {
    correlationId: context.correlationId,
    causationId: context.causationId,
    actorId: context.actorId,
    occurredAt: context.now.toISOString(),
    ...traceparentOf(),
  };
}

/** The active span's W3C traceparent, so that the projection of these events joins the command's trace. */
function traceparentOf(): { traceparent?: string } {
  const traceparent = currentTraceparent();
  return traceparent ? { traceparent } : {};
}
