/**
 * What pino-http writes for each request: the request id (the X-Request-Id the response carries), the
 * method, the URL with the values of secret-looking query parameters and of search terms replaced, the
 * matched route pattern and, when the request is traced, its trace id. Bodies are never logged; headers
 * are, and the logger's redaction paths hide the Authorization and Cookie headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import type { Request } from 'express';
import type { Options, StdSerializedResults } from 'pino-http';
import { requestSpanOf } from './http-tracing';
import { routePatternOf } from './route-pattern';

/** Paths whose requests are not logged: probes and scrapes arrive every few seconds. */
const QUIET_PATHS = new Set(['/healthz', '/metrics']);

/**
 * Query parameters whose values are credentials or may be (a client may put a token in a URL), and
 * search terms, which are what users wrote.
 */
const SECRET_QUERY_PARAMETER = /token|password|passwd|secret|key|code|signature|auth|session|cookie|query|search|^q$/i;

export const REDACTED = '[redacted]';

/** Paths whose next segment is a bearer secret (invite and public-link tokens): the segment is hidden. */
const SECRET_PATH_SEGMENT = /^(\/api\/(?:invites|public)\/)[^/?]+/;

/** Options for `pinoHttp({ logger, ...httpLogOptions() })`. */
export function httpLogOptions(): Pick<Options, 'genReqId' | 'autoLogging' | 'serializers' | 'customProps'> {
  return {
    genReqId: (req) => (req as Request).requestId,
    autoLogging: { ignore: (req) => QUIET_PATHS.has(pathOf(req.url ?? '')) },
    serializers: {
      // pino-http hands this the standard serialization (wrapSerializers), taken when the request arrives.
      req: (serialized: StdSerializedResults['req']) => ({
        id: serialized.id,
        method: serialized.method,
        url: redactPath(redactQuery(serialized.url)),
        headers: serialized.headers,
        remoteAddress: serialized.remoteAddress,
        remotePort: serialized.remotePort,
      }),
    },
    // Called when the request arrives (bindings of every line the request logs) and again for the
    // completion line, whose bindings pino-http adds to the first ones: so each key is given only once.
    customProps: (req: IncomingMessage, res: ServerResponse) => {
      const request = req as Request;
      if (res.headersSent) {
        const route = routePatternOf(request);
        return route ? { route } : {};
      }
      const span = requestSpanOf(request)?.spanContext();
      return span && trace.isSpanContextValid(span) ? { traceId: span.traceId } : {};
    },
  };
}

/** The URL with the value of every secret-looking query parameter replaced by `[redacted]`. */
export function redactQuery(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const query = url
    .slice(queryStart + 1)
    .split('&')
    .map((pair) => {
      const separator = pair.indexOf('=');
      const rawName = separator < 0 ? pair : pair.slice(0, separator);
      if (separator < 0 || !SECRET_QUERY_PARAMETER.test(safeDecode(rawName))) return pair;
      return `${rawName}=${REDACTED}`;
    })
    .join('&');
  return `${url.slice(0, queryStart)}?${query}`;
}

/** The URL with a secret path segment (`/api/invites/<token>/accept`, `/api/public/<token>`) replaced. */
export function redactPath(url: string): string {
  return url.replace(SECRET_PATH_SEGMENT, `$1${REDACTED}`);
}

function pathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart < 0 ? url : url.slice(0, queryStart);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
