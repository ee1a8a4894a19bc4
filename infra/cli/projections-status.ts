/**
 * `scriptorium projections status`: for each projection in the registry, where its checkpoint is,
 * how many events it has applied, how far behind the log it is (in events, and in seconds: the age of
 * the oldest event it has not applied yet), and the last error it met.
 */
import type { Knex } from 'knex';
import type { EventStore } from '../event-store/event-store';
import { LogPosition } from '../event-store/log-position';
import { formatCount, renderTable } from './terminal';
import type { EventCounter } from './event-counting';

export interface ProjectionStatus {
  readonly projection: string;
  /** null: nothing applied yet. */
  readonly position: LogPosition | null;
  readonly eventsSeen: number;
  readonly updatedAt: string | null;
  /** Events in the log after the checkpoint (of any type); a lower bound when `lagEventsCapped`. */
  readonly lagEvents: number;
  readonly lagEventsCapped: boolean;
  /** Age of the oldest event after the checkpoint; 0 when there is none. */
  readonly lagSeconds: number;
  readonly oldestUnprojectedAt: string | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
}

export interface StatusReport {
  readonly head: LogPosition | null;
  readonly projections: readonly ProjectionStatus[];
}

interface CheckpointRecord {
  projection: string;
  position: string | null;
  events_seen: string;
  updated_at: Date;
  last_error: string | null;
  last_error_at: Date | null;
}

export async function readProjectionsStatus(deps: {
  knex: Knex;
  store: EventStore;
  counter: EventCounter;
  projections: readonly { readonly name: string }[];
  now: () => Date;
  /** Lag counts stop here. */
  lagCap: number;
}): Promise<StatusReport> {
  const names = deps.projections.map((projection) => projection.name);
  const records = await deps.knex<CheckpointRecord>('projection_checkpoints').whereIn('projection', names);
  const head = await deps.store.headPosition();
  const statuses: ProjectionStatus[] = [];
  for (const name of names) {
    const record = records.find((candidate) => candidate.projection === name);
    const position = record?.position == null ? null : (LogPosition.parse(record.position) ?? null);
    if (record?.position != null && position === null) throw new Error(`projection ${name} has an unreadable checkpoint: ${record.position}`);
    const lag = await deps.counter.countEventsAfter(position ?? 'start', deps.lagCap);
    const [oldest] = lag.count > 0 ? await deps.store.readAll({ fromPosition: position ?? 'start', maxCount: 1 }) : [];
    statuses.push({
      projection: name,
      position,
      eventsSeen: Number(record?.events_seen ?? 0),
      updatedAt: record?.position != null ? record.updated_at.toISOString() : null,
      lagEvents: lag.count,
      lagEventsCapped: lag.capped,
      lagSeconds: oldest ? Math.max(0, (deps.now().getTime() - oldest.recordedAt.getTime()) / 1000) : 0,
      oldestUnprojectedAt: oldest ? oldest.recordedAt.toISOString() : null,
      lastError: record?.last_error ?? null,
      lastErrorAt: record?.last_error_at ? record.last_error_at.toISOString() : null,
    });
  }
  return { head: head === 'start' ? null : head, projections: statuses };
}

export function formatStatusTable(report: StatusReport): string {
  const rows = report.projections.map((status) => [
    status.projection,
    status.position ?? '(none)',
    formatCount(status.eventsSeen),
    `${status.lagEventsCapped ? '>= ' : ''}${formatCount(status.lagEvents)}`,
    status.lagSeconds.toFixed(1),
    status.lastError === null ? '-' : `${status.lastErrorAt ?? ''} ${oneLine(status.lastError, 60)}`,
  ]);
  const table = renderTable(
    [
      { header: 'PROJECTION' },
      { header: 'CHECKPOINT' },
      { header: 'EVENTS SEEN', align: 'right' },
      { header: 'LAG (EVENTS)', align: 'right' },
      { header: 'LAG (S)', align: 'right' },
      { header: 'LAST ERROR' },
    ],
    rows,
  );
  return `log head: ${report.head ?? '(empty log)'}\n${table}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
