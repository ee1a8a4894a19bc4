/**
 * The PostgreSQL adapter of the event store (the built-in default). An append is one call of the
 * `append_to_stream` function (see migrations/20261122_0001_event_store.ts), so it costs one round trip
 * and takes no lock wider than its own stream's row. The commonest append, one event at an exact
 * expected revision (every edit), is first tried as one plain statement that does what the function
 * does when all goes well (move the stream's revision on, insert the event) without the function's
 * PL/pgSQL and array parameters; when it writes nothing (a stale or missing stream, or this very
 * append already written), the function runs and tells which. Reads of the global log only see events whose
 * transaction is older than every transaction still running, which is what makes the order safe to tail.
 */
import pg from 'pg';
import {
  assertValidAppend,
  EventIdConflict,
  WrongExpectedVersion,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonValue,
  type LogSubscription,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../event-store';
import { LogPosition } from '../log-position';
import { PollingSubscription } from '../polling-subscription';
import { SharedPages } from '../shared-pages';
import { WakeupTopics, type Wakeups } from '../../wakeups/wakeups';

export interface PostgresEventStoreOptions {
  readonly pool: pg.Pool;
  readonly wakeups: Wakeups;
  /** Subscriptions' safety-net poll while wake-ups are live. */
  readonly livePollMs?: number;
  /** Subscriptions' poll while wake-ups are down. */
  readonly fallbackPollMs?: number;
  /** Upper bound of one read, whatever the caller asks. */
  readonly maxReadCount?: number;
}

interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_revision: string;
  event_id: string;
  event_type: string;
  data: JsonValue;
  metadata: EventMetadata;
  recorded_at: Date;
}

/** The append's parameters: stream, expected kind, expected revision, then ids, types, data and metadata (JSON text), one per event. */
type AppendParams = [stream: string, kind: string, revision: string | null, ids: string[], types: string[], data: string[], metadata: string[]];

interface AppendRow {
  outcome: 'ok' | 'retry' | 'wrong_expected_version' | 'event_id_conflict';
  actual_revision: string | null;
  next_revision: string | null;
  tx_id: string | null;
  last_position: string | null;
}

const EVENT_COLUMNS =
  'global_position, transaction_id::text AS transaction_id, stream_id, stream_revision, event_id::text AS event_id, event_type, data, metadata, recorded_at';

const UNIQUE_VIOLATION = '23505';

export const DEFAULT_READ_ALL_COUNT = 1_000;

export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly wakeups: Wakeups;
  private readonly maxReadCount: number;
  /** The pages this store's subscriptions read, shared: several projection runners tail one log. */
  private readonly sharedPages: SharedPages;

  constructor(private readonly options: PostgresEventStoreOptions) {
    this.pool = options.pool;
    this.wakeups = options.wakeups;
    this.maxReadCount = options.maxReadCount ?? 10_000;
    this.sharedPages = new SharedPages((fromPosition, limit) => this.readAllAfter(fromPosition, limit));
  }

  async append(stream: string, events: readonly EventToAppend[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    assertValidAppend(stream, events, expectedRevision);
    const kind = typeof expectedRevision === 'bigint' ? 'exact' : expectedRevision;
    const revision = typeof expectedRevision === 'bigint' ? expectedRevision.toString() : null;
    const params: AppendParams = [
      stream,
      kind,
      revision,
      events.map((e) => e.id.toLowerCase()),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata)),
    ];
    let rows: AppendRow[];
    try {
      rows = typeof expectedRevision === 'bigint' && events.length === 1 ? await this.appendOneAt(params) : [];
      if (rows.length === 0) rows = await this.callAppend(params);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Some ids are already in the log: this append was written before (a retry), or they belong to
      // other events. Ask which, now that whoever wrote them has committed.
      rows = await this.classifyWrittenIds(params);
      if (rows.length === 0) rows = await this.callAppend(params); // the other writer rolled back
    }
    const last = rows.reduce<AppendRow | undefined>(
      (best, row) => (best === undefined || BigInt(row.last_position ?? '0') > BigInt(best.last_position ?? '0') ? row : best),
      undefined,
    );
    if (!last) throw new Error('append_to_stream answered no row');
    switch (last.outcome) {
      case 'ok':
      case 'retry': {
        const position = LogPosition.of(BigInt(last.tx_id!), BigInt(last.last_position!));
        if (last.outcome === 'ok') this.wakeups.publish(WakeupTopics.logAppended, position);
        return { nextExpectedRevision: BigInt(last.next_revision!), position };
      }
      case 'wrong_expected_version':
        throw new WrongExpectedVersion(stream, expectedRevision, toActual(last.actual_revision));
      case 'event_id_conflict':
        throw new EventIdConflict(stream, events.map((e) => e.id));
      default: {
        const never: never = last.outcome;
        throw new Error(`unknown append outcome ${String(never)}`);
      }
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const direction = options.direction ?? 'forwards';
    // A stream is read whole unless the caller says otherwise: an aggregate needs all of it.
    const limit = options.maxCount === undefined ? Number.MAX_SAFE_INTEGER : this.limit(options.maxCount);
    const from = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    const clauses = ['stream_id = $1'];
    const params: unknown[] = [stream];
    if (typeof from === 'bigint') {
      params.push(from.toString());
      clauses.push(`stream_revision ${direction === 'forwards' ? '>=' : '<='} $${params.length}`);
    } else if (from === 'end' && direction === 'forwards') {
      return []; // nothing comes after the end
    } else if (from === 'start' && direction === 'backwards') {
      params.push('0');
      clauses.push(`stream_revision <= $${params.length}`);
    }
    params.push(limit);
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${clauses.join(' AND ')}
        ORDER BY stream_revision ${direction === 'forwards' ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
      params,
    );
    return result.rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllAfter(options.fromPosition ?? 'start', this.limit(options.maxCount ?? DEFAULT_READ_ALL_COUNT));
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): LogSubscription {
    return new PollingSubscription({
      readAll: (fromPosition, maxCount) => this.sharedPages.read(fromPosition, Math.min(maxCount, this.maxReadCount)),
      fromPosition: options.fromPosition ?? 'start',
      wakeups: this.wakeups,
      livePollMs: this.options.livePollMs ?? 2_000,
      fallbackPollMs: this.options.fallbackPollMs ?? 100,
    });
  }

  async headPosition(): Promise<LogPosition | 'start'> {
    const result = await this.pool.query<{ transaction_id: string; global_position: string }>(
      `SELECT transaction_id::text AS transaction_id, global_position FROM events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`,
    );
    const row = result.rows[0];
    return row ? LogPosition.of(BigInt(row.transaction_id), BigInt(row.global_position)) : 'start';
  }

  async close(): Promise<void> {
    // The pool belongs to whoever created it.
  }

  private async callAppend(params: AppendParams): Promise<AppendRow[]> {
    const result = await this.pool.query<AppendRow>({
      name: 'append_to_stream',
      text: 'SELECT outcome, actual_revision, next_revision, tx_id::text AS tx_id, last_position FROM append_to_stream($1, $2, $3, $4::uuid[], $5::text[], $6::jsonb[], $7::jsonb[])',
      values: params,
    });
    return result.rows;
  }

  /**
   * One event at an exact expected revision, as one statement (see the header); no row when the stream
   * is not at that revision (or does not exist). An id already in the log fails it with a unique
   * violation, as it fails the function, and nothing is written.
   */
  private async appendOneAt(params: AppendParams): Promise<AppendRow[]> {
    const [stream, , revision, [id], [type], [data], [metadata]] = params;
    const result = await this.pool.query<AppendRow>({
      name: 'append_one_at_revision',
      text: `WITH moved AS (UPDATE streams SET revision = revision + 1 WHERE stream_id = $1 AND revision = $2 RETURNING revision)
             INSERT INTO events (stream_id, stream_revision, event_id, event_type, data, metadata)
             SELECT $1, moved.revision, $3::uuid, $4, $5::jsonb, $6::jsonb FROM moved
             RETURNING 'ok'::text AS outcome, stream_revision AS actual_revision, stream_revision AS next_revision,
                       transaction_id::text AS tx_id, global_position AS last_position`,
      values: [stream, revision, id, type, data, metadata],
    });
    return result.rows;
  }

  private async classifyWrittenIds(params: AppendParams): Promise<AppendRow[]> {
    const result = await this.pool.query<AppendRow>(
      'SELECT outcome, actual_revision, next_revision, tx_id::text AS tx_id, last_position FROM classify_written_ids($1, $2, $3, $4::uuid[], $5::text[], $6::jsonb[])',
      params.slice(0, 6),
    );
    return result.rows;
  }

  private async readAllAfter(fromPosition: LogPosition | 'start', limit: number): Promise<RecordedEvent[]> {
    const after = fromPosition === 'start' ? LogPosition.of(0n, 0n) : fromPosition;
    const result = await this.pool.query<EventRow>({
      name: 'read_all_after',
      text: `SELECT ${EVENT_COLUMNS} FROM events
              WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
                AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY events.transaction_id, events.global_position
              LIMIT $3`,
      values: [LogPosition.major(after).toString(), LogPosition.minor(after).toString(), limit],
    });
    return result.rows.map(toRecordedEvent);
  }

  private limit(maxCount: number | undefined): number {
    if (maxCount === undefined) return this.maxReadCount;
    if (!Number.isInteger(maxCount) || maxCount < 0) throw new RangeError('maxCount must be a non-negative integer');
    return Math.min(maxCount, this.maxReadCount);
  }
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.event_type,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    streamRevision: BigInt(row.stream_revision),
    position: LogPosition.of(BigInt(row.transaction_id), BigInt(row.global_position)),
    recordedAt: row.recorded_at,
  };
}

function toActual(revision: string | null): 'no_stream' | bigint {
  if (revision === null || revision === '-1') return 'no_stream';
  return BigInt(revision);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === UNIQUE_VIOLATION;
}
