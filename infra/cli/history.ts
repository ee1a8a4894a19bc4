/**
 * `scriptorium history <stream>`: one stream's events, in order, with what an auditor asks of each:
 * its revision, type, log position, when it was recorded, and who caused it (correlation, causation,
 * actor, and when the command was decided).
 */
import type { EventStore, JsonValue } from '../event-store/event-store';
import { renderTable } from './terminal';

export interface HistoryEntry {
  readonly revision: number;
  readonly type: string;
  readonly position: string;
  readonly recordedAt: string;
  readonly occurredAt: string | null;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly actorId: string | null;
  readonly eventId: string;
  /** Only when asked for: payloads can hold personal data. */
  readonly data?: JsonValue;
}

export interface StreamHistory {
  readonly stream: string;
  readonly events: readonly HistoryEntry[];
  /** The revision to continue from when the limit cut the history short. */
  readonly nextRevision: number | null;
}

export async function readStreamHistory(
  store: EventStore,
  stream: string,
  options: { fromRevision: bigint; limit: number; withData: boolean },
): Promise<StreamHistory> {
  const events = await store.readStream(stream, { fromRevision: options.fromRevision, maxCount: options.limit + 1 });
  const shown = events.slice(0, options.limit);
  return {
    stream,
    events: shown.map((event) => ({
      revision: Number(event.streamRevision),
      type: event.type,
      position: event.position,
      recordedAt: event.recordedAt.toISOString(),
      occurredAt: text(event.metadata.occurredAt),
      correlationId: text(event.metadata.correlationId),
      causationId: text(event.metadata.causationId),
      actorId: text(event.metadata.actorId),
      eventId: event.id,
      ...(options.withData ? { data: event.data } : {}),
    })),
    nextRevision: events.length > options.limit ? Number(events[options.limit]!.streamRevision) : null,
  };
}

function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

export function formatHistoryTable(history: StreamHistory): string {
  if (history.events.length === 0) return `stream ${history.stream} has no events\n`;
  const table = renderTable(
    [
      { header: 'REV', align: 'right' },
      { header: 'TYPE' },
      { header: 'POSITION' },
      { header: 'RECORDED AT' },
      { header: 'OCCURRED AT' },
      { header: 'ACTOR' },
      { header: 'CORRELATION' },
      { header: 'CAUSATION' },
    ],
    history.events.map((event) => [
      String(event.revision),
      event.type,
      event.position,
      event.recordedAt,
      event.occurredAt ?? '-',
      event.actorId ?? '(system)',
      event.correlationId ?? '-',
      event.causationId ?? '-',
    ]),
  );
  const data = history.events.some((event) => event.data !== undefined)
    ? history.events.map((event) => `#${event.revision} ${JSON.stringify(event.data)}`).join('\n') + '\n'
    : '';
  const more = history.nextRevision === null ? '' : `(more events follow: --from ${history.nextRevision})\n`;
  return table + data + more;
}
