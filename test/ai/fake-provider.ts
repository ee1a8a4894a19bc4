/**
 * A fake AI provider: a real HTTP server on 127.0.0.1 that speaks both wire formats the proxy uses,
 * OpenAI chat completions (`POST /v1/chat/completions`, base URL `<url>/v1`) and Anthropic Messages
 * (`POST /v1/messages`, base URL `<url>`), JSON and Server-Sent Events. Tests script what it does next
 * (answer, fail with a status, stream slowly, hang) and read what it saw: every request with its
 * headers and body, and whether the client aborted it before the answer was complete.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Keys the tests configure: distinctive, so that a leak anywhere is found by a plain search. */
export const OPENAI_KEY = 'sk-openai-SECRET-3b9d2f7a1c';
export const ANTHROPIC_KEY = 'sk-ant-SECRET-8e4c6a0b5d';

export type Plan =
  | { kind: 'answer'; text: string; tokensIn?: number; tokensOut?: number; delayMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string; echoRequest?: boolean }
  /** Streams the pieces `gapMs` apart; `hangAfter`: stops sending (without ending) after that many pieces. */
  | { kind: 'stream'; pieces: string[]; gapMs?: number; tokensIn?: number; tokensOut?: number; hangAfter?: number }
  | { kind: 'hang' };

export interface SeenRequest {
  readonly wire: 'openai' | 'anthropic';
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
  /** True once the client closed the connection before the answer was complete. */
  aborted: boolean;
  /** True once the fake finished its answer. */
  completed: boolean;
}

export interface FakeProvider {
  readonly url: string;
  readonly openAiBaseUrl: string;
  readonly anthropicBaseUrl: string;
  readonly requests: SeenRequest[];
  /** Plans used in order by the next requests (of either wire); when none is queued, `fallback`. */
  queue(...plans: Plan[]): void;
  fallback: Plan;
  /** Resolves when a request has been aborted by its client. */
  nextAbort(): Promise<SeenRequest>;
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFakeProvider(options: { keys?: { openai?: string; anthropic?: string } } = {}): Promise<FakeProvider> {
  const planned: Plan[] = [];
  const requests: SeenRequest[] = [];
  const abortWaiters: Array<(request: SeenRequest) => void> = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const wire = req.url === '/v1/chat/completions' ? 'openai' : req.url === '/v1/messages' ? 'anthropic' : undefined;
    if (req.method !== 'POST' || !wire) {
      res.writeHead(404).end();
      return;
    }
    const seen: SeenRequest = { wire, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), aborted: false, completed: false };
    requests.push(seen);
    res.on('close', () => {
      if (!seen.completed) {
        seen.aborted = true;
        for (const waiter of abortWaiters.splice(0)) waiter(seen);
      }
    });
    const expectedKey = options.keys?.[wire];
    const presented = wire === 'openai' ? req.headers.authorization?.replace(/^Bearer /, '') : req.headers['x-api-key'];
    if (expectedKey && presented !== expectedKey) {
      // Like some real servers: the error echoes what it was sent. The proxy must never pass this on.
      json(res, 401, { error: { message: `invalid key ${String(presented)}` } }, seen);
      return;
    }
    const plan = planned.shift() ?? fake.fallback;
    const model = String(seen.body.model);
    switch (plan.kind) {
      case 'answer': {
        if (plan.delayMs) await sleep(plan.delayMs);
        const tokensIn = plan.tokensIn ?? 11;
        const tokensOut = plan.tokensOut ?? 7;
        json(
          res,
          200,
          wire === 'openai'
            ? { id: 'chatcmpl-1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: plan.text }, finish_reason: 'stop' }], usage: { prompt_tokens: tokensIn, completion_tokens: tokensOut, total_tokens: tokensIn + tokensOut } }
            : { id: 'msg_1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: plan.text }], stop_reason: 'end_turn', usage: { input_tokens: tokensIn, output_tokens: tokensOut } },
          seen,
        );
        return;
      }
      case 'status': {
        const headers: Record<string, string> = plan.retryAfter === undefined ? {} : { 'retry-after': plan.retryAfter };
        json(res, plan.status, { error: { message: 'scripted failure', ...(plan.echoRequest ? { request: { headers: req.headers, body: seen.body } } : {}) } }, seen, headers);
        return;
      }
      case 'hang':
        return; // never answers; the client's timeout or abort ends it
      case 'stream': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const tokensIn = plan.tokensIn ?? 13;
        const tokensOut = plan.tokensOut ?? plan.pieces.length;
        const send = (event: string | undefined, data: unknown) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
        if (wire === 'anthropic') {
          send('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: tokensIn, output_tokens: 1 } } });
          send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
          send('ping', { type: 'ping' });
        }
        for (const [index, piece] of plan.pieces.entries()) {
          if (plan.hangAfter !== undefined && index >= plan.hangAfter) return; // keeps the connection open, silent
          if (index > 0 && plan.gapMs) await sleep(plan.gapMs);
          if (res.destroyed) return;
          if (wire === 'openai') send(undefined, { id: 'chatcmpl-1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
          else send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
        }
        if (plan.hangAfter !== undefined && plan.hangAfter >= plan.pieces.length) return;
        if (wire === 'openai') {
          send(undefined, { id: 'chatcmpl-1', object: 'chat.completion.chunk', model, choices: [], usage: { prompt_tokens: tokensIn, completion_tokens: tokensOut, total_tokens: tokensIn + tokensOut } });
          send(undefined, '[DONE]');
        } else {
          send('content_block_stop', { type: 'content_block_stop', index: 0 });
          send('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: tokensOut } });
          send('message_stop', { type: 'message_stop' });
        }
        seen.completed = true;
        res.end();
        return;
      }
    }
  }

  function json(res: ServerResponse, status: number, body: unknown, seen: SeenRequest, headers: Record<string, string> = {}) {
    seen.completed = true;
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeProvider = {
    url,
    openAiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    fallback: { kind: 'answer', text: 'Hello from the fake provider.' },
    queue: (...plans) => void planned.push(...plans),
    nextAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    reset() {
      planned.length = 0;
      requests.length = 0;
      fake.fallback = { kind: 'answer', text: 'Hello from the fake provider.' };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
