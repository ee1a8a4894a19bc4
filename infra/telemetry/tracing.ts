/**
 * Traces: the tracer provider of the process, and the trace context that events carry. The entry point
 * (or a test) starts tracing once with an exporter (`none` by default, `console` for a developer, an
 * InMemorySpanExporter in tests) and shuts it down on exit; until then every span below is a no-op.
 *
 * A command's trace context is written into its events' metadata as a W3C `traceparent`
 * (`currentTraceparent`), and read back by the projection runner (`contextOfTraceparent`), so one trace
 * shows a request, its command, its append and the projection of its events, however long after.
 *
 * Spans never record error messages: a database error's message can quote the statement's values
 * (user content), so a failed span keeps the error's class and stable code only.
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';

export { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-node';

export const TRACER_NAME = 'scriptorium';

/** Span attribute names of our own (OpenTelemetry's semantic conventions have none for these). */
export const SpanAttributes = {
  command: 'scriptorium.command',
  stream: 'scriptorium.stream',
  eventCount: 'scriptorium.event_count',
  logPosition: 'scriptorium.log_position',
  projection: 'scriptorium.projection',
  eventType: 'scriptorium.event_type',
  eventId: 'scriptorium.event_id',
  requestId: 'scriptorium.request_id',
} as const;

/** `none`: no tracing; `console`: spans printed to stdout; or any exporter (tests: an InMemorySpanExporter). */
export type TraceExporterChoice = 'none' | 'console' | SpanExporter;

export interface Tracing {
  /** Whether spans are being recorded and exported. */
  readonly enabled: boolean;
  /** Exports the spans that ended but are still buffered. */
  flush(): Promise<void>;
  /** Flushes, then unregisters the provider, context manager and propagator (tracing can be started again). */
  shutdown(): Promise<void>;
}

let started: Tracing | undefined;

/**
 * Registers a tracer provider for the process (OpenTelemetry's API is process-global), with
 * AsyncLocalStorage context propagation and the W3C TraceContext propagator. An exporter object is
 * exported span by span (what tests want); `console` is batched.
 */
export function startTracing(options: { exporter: TraceExporterChoice }): Tracing {
  if (options.exporter === 'none') return { enabled: false, flush: async () => {}, shutdown: async () => {} };
  if (started) throw new Error('tracing is already started in this process; shut it down first');
  const processor = options.exporter === 'console' ? new BatchSpanProcessor(new ConsoleSpanExporter()) : new SimpleSpanProcessor(options.exporter);
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  // Defaults: AsyncLocalStorageContextManager and W3C TraceContext + Baggage propagation.
  provider.register();
  const tracing: Tracing = {
    enabled: true,
    flush: () => provider.forceFlush(),
    async shutdown() {
      if (started !== tracing) return;
      started = undefined;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  started = tracing;
  return tracing;
}

/**
 * Whether startTracing registered a provider. Until it does every span is a no-op, so the hot paths
 * (each request, command and projected event) skip building them at all.
 */
export function tracingActive(): boolean {
  return started !== undefined;
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

// --- Trace context in event metadata -----------------------------------------------------------------

/** The W3C traceparent of the active span, for event metadata; undefined when nothing is traced. */
export function currentTraceparent(): string | undefined {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a traceparent names (to start a child span of it), or undefined when it names none. */
export function contextOfTraceparent(traceparent: string | undefined): Context | undefined {
  if (!traceparent) return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, { traceparent });
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

// --- Spans ---------------------------------------------------------------------------------------------

/**
 * Runs `work` in a new active span (a child of `parent`, by default of the active context), ends it,
 * and marks it failed with the error's class and code if `work` throws.
 */
export function inSpan<T>(name: string, options: SpanOptions & { parent?: Context }, work: (span: Span) => Promise<T>): Promise<T> {
  if (started === undefined) return work(NO_SPAN);
  const { parent, ...spanOptions } = options;
  return tracer().startActiveSpan(name, spanOptions, parent ?? context.active(), async (span) => {
    try {
      return await work(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What `work` is given while nothing is traced: a span that records nothing (OpenTelemetry's own no-op). */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function markFailed(span: Span, error: unknown): void {
  const type = errorTypeOf(error);
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/** A stable description of an error: its code (`WORKSPACE.NOT_FOUND`) or class name, never its message. */
export function errorTypeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0) return name;
  }
  return 'Error';
}

/**
 * The span `command <type>` around one command: read, decide and append. Events appended inside it
 * carry its traceparent, so their projection joins this trace.
 */
export function traceCommand<T>(command: unknown, streamId: string, handle: () => Promise<T>): Promise<T> {
  const type = commandTypeOf(command);
  return inSpan(`command ${type}`, { attributes: { [SpanAttributes.command]: type, [SpanAttributes.stream]: streamId } }, () => handle());
}

function commandTypeOf(command: unknown): string {
  if (typeof command === 'object' && command !== null) {
    const type = (command as { type?: unknown }).type;
    if (typeof type === 'string' && type.length > 0) return type;
  }
  // A command computed from the state (a function) is only known once decided.
  return 'decided-on-state';
}
