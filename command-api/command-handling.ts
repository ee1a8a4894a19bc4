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
}

export async function loadAggregate<Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
): Promise<{ state: State; revision: bigint | 'no_stream'; position: LogPosition | undefined }> {
  const recorded = await store.readStream(streamId);
  const state = recorded.reduce((current, event) => decider.evolve(current, { type: event.type, data: event.data } as unknown as Event), decider.initialState);
  const last = recorded[recorded.length - 1];
  return { state, revision: last ? last.streamRevision : 'no_stream', position: last?.position };
}

export async function handleCommand<Command, Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: Command | ((state: State) => Command),
  context: CommandContext,
  options: HandleOptions = {},
): Promise<CommandResult<State>> {
  const attempts = 1 + (options.expectedRevision === undefined ? (options.retries ?? 3) : 0);
  for (let attempt = 1; ; attempt++) {
    const { state, revision, position } = await loadAggregate(store, streamId, decider);
    if (options.expectedRevision !== undefined && revision !== options.expectedRevision) {
      throw new StaleRevision(streamId, options.expectedRevision, revision, state);
    }
    const decided = decider.decide(typeof command === 'function' ? (command as (state: State) => Command)(state) : command, state);
    if (decided.length === 0) return { state, revision, position, events: [] };
    const metadata = metadataOf(context);
    try {
      const result = await store.append(
        streamId,
        decided.map((event) => ({ id: randomUUID(), type: event.type, data: event.data as never, metadata })),
        { expectedRevision: revision },
      );
      return { state: decided.reduce(decider.evolve, state), revision: result.nextExpectedRevision, position: result.position, events: decided };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      if (options.expectedRevision !== undefined) {
        const fresh = await loadAggregate(store, streamId, decider);
        throw new StaleRevision(streamId, options.expectedRevision, fresh.revision, fresh.state);
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
  };
}
