/**
 * Calls one provider over HTTP with plain `fetch`: every call under a timeout (for a stream: until the
 * answer starts, then between chunks), retried with exponential backoff and jitter on 429 and 5xx (and
 * on connection failures), honouring the provider's Retry-After when it is short enough to wait for,
 * and guarded by a circuit breaker that refuses at once while the provider keeps failing. A client
 * that hangs up aborts the upstream request, whatever stage it is in.
 *
 * Nothing the provider sends back in an error (which may echo the request and its headers) is kept:
 * failures carry a reason and a status only, so the key can reach neither a client nor a log.
 */
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker';
import type { ChatAnswer, ChatChunk, ChatRequest, ProviderName, ProviderWire } from './provider-wire';
import { ProviderProtocolError } from './provider-wire';
import { readSse } from './sse';

export type ProviderFailureReason = 'rate_limited' | 'server_error' | 'rejected' | 'timeout' | 'network' | 'protocol';

export class ProviderFailure extends Error {
  constructor(
    readonly provider: ProviderName,
    readonly reason: ProviderFailureReason,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${provider}: ${reason}${status ? ` (HTTP ${status})` : ''}`);
    this.name = 'ProviderFailure';
  }
}

/** The caller went away; nothing is wrong with the provider. */
export class ProviderCallCancelled extends Error {
  constructor() {
    super('the call was cancelled by its caller');
    this.name = 'ProviderCallCancelled';
  }
}

export { CircuitOpenError };

export interface ProviderClientOptions {
  readonly wire: ProviderWire;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  /** A provider's Retry-After longer than this is not waited for: the call fails as rate limited. */
  readonly maxRetryAfterMs?: number;
  readonly breaker: CircuitBreaker;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
}

export interface ChatStream extends AsyncIterable<ChatChunk> {}

export class ProviderClient {
  private readonly fetch: typeof fetch;
  private readonly random: () => number;

  constructor(private readonly options: ProviderClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.random = options.random ?? Math.random;
  }

  get name(): ProviderName {
    return this.options.wire.name;
  }

  get circuitState() {
    return this.options.breaker.state;
  }

  async complete(chat: ChatRequest, signal: AbortSignal): Promise<ChatAnswer> {
    const call = await this.send(chat, false, signal);
    try {
      const json: unknown = await call.response.json().catch((error: unknown) => {
        throw call.classify(error, 'protocol');
      });
      const answer = this.options.wire.answer(json);
      call.ticket.succeeded();
      return answer;
    } catch (error) {
      throw call.fail(error);
    } finally {
      call.done();
    }
  }

  /** Resolves once the provider has accepted the call (retries happen before); iterate for the chunks. */
  async openStream(chat: ChatRequest, signal: AbortSignal): Promise<ChatStream> {
    const call = await this.send(chat, true, signal);
    const wire = this.options.wire;
    const body = call.response.body;
    return {
      async *[Symbol.asyncIterator]() {
        let finished = false;
        try {
          if (!body) throw new ProviderProtocolError('the provider sent no body');
          for await (const event of readSse(timedChunks(body, call.touch))) {
            const chunks = wire.streamEvent(event);
            if (chunks === 'done') {
              finished = true;
              break;
            }
            yield* chunks;
          }
          if (!finished) throw new ProviderProtocolError('the stream ended before the provider finished');
          call.ticket.succeeded();
        } catch (error) {
          throw call.fail(error);
        } finally {
          // Also reached when the consumer stops early: the upstream request is aborted then.
          if (!finished) call.abort();
          call.ticket.abandoned();
          call.done();
        }
      },
    };
  }

  private async send(chat: ChatRequest, stream: boolean, signal: AbortSignal) {
    const { wire, baseUrl, apiKey, maxRetries } = this.options;
    if (signal.aborted) throw new ProviderCallCancelled();
    const ticket = this.options.breaker.admit();
    const spec = wire.request(baseUrl, apiKey, chat, stream);
    for (let attempt = 0; ; attempt++) {
      const call = this.attempt(signal, ticket);
      let response: Response;
      try {
        response = await this.fetch(spec.url, { method: 'POST', headers: spec.headers, body: spec.body, signal: call.signal });
      } catch (error) {
        const failure = call.classify(error, 'network');
        call.done();
        if (failure instanceof ProviderFailure && failure.reason === 'network' && attempt < maxRetries) {
          await this.backoff(attempt, undefined, signal, ticket);
          continue;
        }
        throw call.fail(failure);
      }
      if (response.ok) return { ...call, response };
      await response.body?.cancel().catch(() => undefined);
      call.done();
      const retryable = response.status === 429 || response.status >= 500;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      const reason: ProviderFailureReason = response.status === 429 ? 'rate_limited' : response.status >= 500 ? 'server_error' : 'rejected';
      const waitable = retryAfterMs === undefined || retryAfterMs <= (this.options.maxRetryAfterMs ?? 10_000);
      if (retryable && waitable && attempt < maxRetries) {
        await this.backoff(attempt, retryAfterMs, signal, ticket);
        continue;
      }
      throw call.fail(new ProviderFailure(wire.name, reason, response.status, retryAfterMs));
    }
  }

  /** One attempt's abort controller: the caller's signal and the (idle) timeout both abort it. */
  private attempt(caller: AbortSignal, ticket: ReturnType<CircuitBreaker['admit']>) {
    const provider = this.options.wire.name;
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.options.timeoutMs);
    };
    const onCallerAbort = () => controller.abort();
    caller.addEventListener('abort', onCallerAbort, { once: true });
    touch();
    const classify = (error: unknown, otherwise: ProviderFailureReason): Error => {
      if (error instanceof ProviderFailure || error instanceof ProviderCallCancelled) return error;
      if (caller.aborted) return new ProviderCallCancelled();
      if (timedOut) return new ProviderFailure(provider, 'timeout');
      if (error instanceof ProviderProtocolError) return new ProviderFailure(provider, 'protocol');
      return new ProviderFailure(provider, otherwise);
    };
    return {
      signal: controller.signal,
      ticket,
      touch,
      classify,
      abort: () => controller.abort(),
      done: () => {
        clearTimeout(timer);
        caller.removeEventListener('abort', onCallerAbort);
      },
      /** Settles the breaker for a failed call and returns the error to throw. */
      fail: (error: unknown): Error => {
        const classified = classify(error, 'network');
        if (classified instanceof ProviderFailure && classified.reason !== 'rejected') ticket.failed();
        else ticket.abandoned();
        return classified;
      },
    };
  }

  private async backoff(attempt: number, retryAfterMs: number | undefined, signal: AbortSignal, ticket: ReturnType<CircuitBreaker['admit']>): Promise<void> {
    const exponential = this.options.retryBaseDelayMs * 2 ** attempt;
    const delay = retryAfterMs ?? exponential / 2 + (this.random() * exponential) / 2;
    try {
      await abortableSleep(delay, signal);
    } catch {
      ticket.abandoned();
      throw new ProviderCallCancelled();
    }
  }
}

async function* timedChunks(body: AsyncIterable<Uint8Array>, touch: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    touch();
    yield chunk;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ProviderCallCancelled());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderCallCancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
