/**
 * Spans of the projection runner. Each batch is one `projection batch <projection>` span (its own trace:
 * the transaction that applies the events and moves the checkpoint). Each event that carries a
 * traceparent is applied in a `projection apply <projection>` span that is a CHILD of that context, so
 * the trace of the request that wrote the event ends with its projection; the span links back to its
 * batch. Events without a trace context (older events, a rebuild) get no span of their own. The apply
 * span covers building the event's statements; the runner sends them with the rest of the batch, in
 * the batch span (projectors/runtime/batch-sql.ts).
 */
import { context, trace, type Link } from '@opentelemetry/api';
import type { RecordedEvent } from '../event-store/event-store';
import type { LogPosition } from '../event-store/log-position';
import { contextOfTraceparent, inSpan, SpanAttributes } from './tracing';

export function traceProjectionBatch<T>(
  projection: string,
  batch: { readonly events: number; readonly applied: number; readonly from: LogPosition | 'start'; readonly to: LogPosition },
  apply: () => Promise<T>,
): Promise<T> {
  return inSpan(
    `projection batch ${projection}`,
    {
      root: true,
      attributes: {
        [SpanAttributes.projection]: projection,
        [SpanAttributes.eventCount]: batch.events,
        'scriptorium.applied_count': batch.applied,
        'scriptorium.checkpoint.from': batch.from,
        'scriptorium.checkpoint.to': batch.to,
      },
    },
    () => apply(),
  );
}

export function traceProjectionApply<T>(projection: string, event: RecordedEvent, apply: () => Promise<T>): Promise<T> {
  const parent = contextOfTraceparent(event.metadata.traceparent);
  if (!parent) return apply();
  const batch = trace.getSpan(context.active())?.spanContext();
  const links: Link[] = batch && trace.isSpanContextValid(batch) ? [{ context: batch }] : [];
  return inSpan(
    `projection apply ${projection}`,
    {
      parent,
      links,
      attributes: {
        [SpanAttributes.projection]: projection,
        [SpanAttributes.eventType]: event.type,
        [SpanAttributes.eventId]: event.id,
        [SpanAttributes.stream]: event.streamId,
        [SpanAttributes.logPosition]: event.position,
      },
    },
    () => apply(),
  );
}
