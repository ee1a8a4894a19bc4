/**
 * The event store as the service uses it: every append runs in an `append <stream>` span (a child of
 * the command's) and is counted in the events-appended metric (by event type; a retried append that the
 * store recognises as already written counts again); everything else passes straight through.
 * It decorates the port, so the adapters stay free of telemetry.
 */
import { SpanKind } from '@opentelemetry/api';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  LogPosition,
  LogSubscription,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../event-store/event-store';
import type { Metrics } from '../metrics/metrics';
import { inSpan, SpanAttributes } from './tracing';

export class InstrumentedEventStore implements EventStore {
  constructor(
    /** The adapter itself (what anything needing to know the kind of store should look at). */
    readonly inner: EventStore,
    private readonly metrics?: Pick<Metrics, 'eventsAppendedTotal'>,
  ) {}

  append(stream: string, events: readonly EventToAppend[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    const attributes = {
      [SpanAttributes.stream]: stream,
      [SpanAttributes.eventCount]: events.length,
      'scriptorium.expected_revision': String(options.expectedRevision),
    };
    return inSpan(`append ${stream}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const result = await this.inner.append(stream, events, options);
      span.setAttribute(SpanAttributes.logPosition, result.position);
      if (this.metrics) {
        const perType = new Map<string, number>();
        for (const event of events) perType.set(event.type, (perType.get(event.type) ?? 0) + 1);
        for (const [type, count] of perType) this.metrics.eventsAppendedTotal.inc({ type }, count);
      }
      return result;
    });
  }

  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream, options);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  subscribeToAll(options?: SubscribeToAllOptions): LogSubscription {
    return this.inner.subscribeToAll(options);
  }

  headPosition(): Promise<LogPosition | 'start'> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export function instrumentEventStore(store: EventStore, options: { metrics?: Pick<Metrics, 'eventsAppendedTotal'> } = {}): InstrumentedEventStore {
  return new InstrumentedEventStore(store, options.metrics);
}
