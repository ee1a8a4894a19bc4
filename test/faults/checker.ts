/**
 * The fault suite's checker: holds the recorded history against the log, the read models against a
 * replay of the log, and every sync client against the server.
 *
 * - Every acknowledged write is in the log: its X-Consistency-Token names an event that exists, its
 *   ETag names an event of its stream, and (for writes that change something) that event is its own.
 * - Exactly once: the events an operation appended (found by its correlation id) hold no duplicate,
 *   whatever its retries; a document write appended exactly one event.
 * - A write refused without any doubt (a 4xx on its first and only attempt) appended nothing.
 * - Read models: `scriptorium verify` (a replay of the whole log into a scratch schema, compared row
 *   by row) finds no difference.
 * - Sync: every client's replica, pulled incrementally through the faults, equals a fresh full pull,
 *   and its documents equal what the query API serves.
 */
import type pg from 'pg';
import { LogPosition } from '../../infra/event-store/log-position';
import type { SyncReplica } from '../support/sync-client';
import type { Operation, ReadCheck } from './workload';

export interface Anomaly {
  readonly check: string;
  readonly detail: string;
}

interface EventRow {
  readonly position: string;
  readonly stream_id: string;
  readonly stream_revision: string;
  readonly event_type: string;
  readonly correlation_id: string | null;
}

export interface LogCheckSummary {
  readonly events: number;
  readonly acked: number;
  readonly checkedTokens: number;
  readonly uncorrelatedEvents: number;
}

export async function checkLog(client: pg.Client, schema: string, operations: readonly Operation[], anomalies: Anomaly[]): Promise<LogCheckSummary> {
  const { rows } = await client.query<EventRow & { transaction_id: string; global_position: string }>(
    `SELECT transaction_id::text AS transaction_id, global_position, stream_id, stream_revision, event_type, metadata->>'correlationId' AS correlation_id
       FROM ${schema}.events`,
  );
  const events: EventRow[] = rows.map((row) => ({ ...row, position: LogPosition.of(BigInt(row.transaction_id), BigInt(row.global_position)) }));
  const byPosition = new Map(events.map((event) => [event.position, event]));
  const byStreamRevision = new Map(events.map((event) => [`${event.stream_id}@${event.stream_revision}`, event]));
  const byCorrelation = new Map<string, EventRow[]>();
  for (const event of events) {
    if (!event.correlation_id) continue;
    const list = byCorrelation.get(event.correlation_id) ?? [];
    list.push(event);
    byCorrelation.set(event.correlation_id, list);
  }

  let checkedTokens = 0;
  const fail = (check: string, op: Operation, detail: string) => anomalies.push({ check, detail: `${op.kind} ${op.method} ${op.path} [${op.id}] ${detail}` });
  for (const op of operations) {
    const own = byCorrelation.get(op.id) ?? [];
    // Exactly once, whatever happened to the answers: no (stream, type) twice among its events.
    const seen = new Set<string>();
    for (const event of own) {
      const key = `${event.stream_id}/${event.event_type}`;
      if (seen.has(key)) fail('exactly-once', op, `appended ${event.event_type} to ${event.stream_id} more than once (attempts: ${op.attempts.length})`);
      seen.add(key);
    }
    const isDocumentWrite = op.kind === 'create-document' || op.kind === 'edit-document' || op.kind === 'delete-document';
    if (isDocumentWrite && own.length > 1) fail('exactly-once', op, `appended ${own.length} events, expected at most 1`);

    if (op.outcome === 'rejected' && own.length > 0) fail('no-write-when-refused', op, `was refused with ${op.status} but appended ${own.map((e) => e.event_type).join(', ')}`);
    if (op.outcome !== 'acked') continue;

    if (op.consistencyToken) {
      checkedTokens++;
      if (!byPosition.has(op.consistencyToken)) fail('acked-in-log', op, `answered ${op.status} with X-Consistency-Token ${op.consistencyToken}, which names no event in the log`);
    } else if (op.kind !== 'signup') {
      fail('acked-in-log', op, `answered ${op.status} without X-Consistency-Token`);
    }
    if (op.etag && op.stream) {
      const revision = String(JSON.parse(op.etag));
      const event = byStreamRevision.get(`${op.stream}@${revision}`);
      if (!event) fail('acked-in-log', op, `answered ETag ${op.etag}, but ${op.stream} has no event at revision ${revision}`);
    }
    // Writes that must change something: their own event is in the log, where the answer said.
    if (isDocumentWrite || op.kind === 'create-workspace' || op.kind === 'add-member' || op.kind === 'remove-member' || op.kind === 'signup') {
      if (own.length === 0) fail('acked-in-log', op, `answered ${op.status}, but no event carries its correlation id`);
      if (isDocumentWrite && op.stream && own.length > 0 && own[0]!.stream_id !== op.stream) fail('acked-in-log', op, `its event went to ${own[0]!.stream_id}, not ${op.stream}`);
      if (op.consistencyToken && own.length > 0 && !own.some((event) => event.position === op.consistencyToken)) {
        fail('acked-in-log', op, `its X-Consistency-Token ${op.consistencyToken} is not one of its own events`);
      }
    }
  }

  const known = new Set(operations.map((op) => op.id));
  const uncorrelatedEvents = events.filter((event) => !event.correlation_id || !known.has(event.correlation_id)).length;
  return { events: events.length, acked: operations.filter((op) => op.outcome === 'acked').length, checkedTokens, uncorrelatedEvents };
}

/** Read-your-writes under faults: a read with a write's token shows that write (or is told to come back). */
export function checkReadYourWrites(checks: readonly ReadCheck[], anomalies: Anomaly[]): void {
  for (const check of checks) {
    if (check.status === 200 && (check.revision ?? -1) < check.expectedRevision) {
      anomalies.push({ check: 'read-your-writes', detail: `${check.actor} read document ${check.documentId} at revision ${check.revision} after writing revision ${check.expectedRevision}` });
    }
  }
}

type Replica = Pick<SyncReplica, 'entities'>;

/** Compares two replicas entity by entity; answers how many entities they hold. */
export function compareReplicas(label: string, incremental: Replica, fresh: Replica, anomalies: Anomaly[]): number {
  const describe = (change: { op: string; revision: number; data?: Record<string, unknown> } | undefined) =>
    change === undefined ? 'absent' : JSON.stringify({ op: change.op, revision: change.revision, data: change.data });
  const keys = new Set([...incremental.entities.keys(), ...fresh.entities.keys()]);
  for (const key of keys) {
    const a = describe(incremental.entities.get(key));
    const b = describe(fresh.entities.get(key));
    if (a !== b) anomalies.push({ check: 'sync-converges', detail: `${label}: ${key} is ${a.slice(0, 200)} on the replica synced through the faults, ${b.slice(0, 200)} on a fresh one` });
  }
  return keys.size;
}
