/**
 * The server span of each HTTP request, `HTTP <method> <route>`, as an Express middleware (not the
 * require-hook instrumentation, which must load before Express and does not run under jest). The span
 * continues a caller's W3C `traceparent`, and everything after the middleware runs inside it. The
 * request and response emitters are bound to its context too, so listeners added later (a body reader
 * that does not keep the async context itself) still run inside the request's trace.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import { routePatternOf, UNMATCHED_ROUTE } from './route-pattern';
import { SpanAttributes, tracer, tracingActive } from './tracing';

const spans = new WeakMap<Request, Span>();

/** The server span of a request (for log lines that name their trace). */
export function requestSpanOf(req: Request): Span | undefined {
  return spans.get(req);
}

export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    // Nothing is recorded until tracing starts: no span, no bound emitters (most of this middleware's cost).
    if (!tracingActive()) return next();
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(
      `HTTP ${req.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.path,
          ...(req.requestId ? { [SpanAttributes.requestId]: req.requestId } : {}),
        },
      },
      parent,
    );
    spans.set(req, span);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routePatternOf(req) ?? UNMATCHED_ROUTE;
      span.updateName(`HTTP ${req.method} ${route}`);
      span.setAttribute('http.route', route);
      if (res.writableFinished) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        // The client went away before the answer was sent.
        span.setAttribute('error.type', 'aborted');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    const active = trace.setSpan(parent, span);
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, () => next());
  };
}
