/**
 * What the AI tests share: the service configured against a fake provider, a signed-in owner with a
 * workspace whose AI policy is on, an SSE reader over a real socket, and a log kept in memory.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type TestAgent from 'supertest/lib/agent';
import { createLogger, type Logger } from '../../infra/logging/logger';
import { signUp, type SignedUpUser, type TestService } from '../support/test-service';
import { ANTHROPIC_KEY, OPENAI_KEY, type FakeProvider } from './fake-provider';

export { ANTHROPIC_KEY, OPENAI_KEY } from './fake-provider';

export function aiEnv(fake: FakeProvider, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AI_OPENAI_BASE_URL: fake.openAiBaseUrl,
    AI_OPENAI_API_KEY: OPENAI_KEY,
    AI_OPENAI_MODELS: 'gpt-test,gpt-other',
    AI_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
    AI_ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    AI_ANTHROPIC_MODELS: 'claude-test',
    AI_RETRY_BASE_DELAY_MS: '20',
    AI_TIMEOUT_MS: '5000',
    AI_BLOCKLIST: 'forbidden-word, Другое Слово',
    ...overrides,
  };
}

export interface Owner {
  readonly user: SignedUpUser;
  readonly workspaceId: string;
}

/** A user with a workspace whose members may use the proxy. */
export async function ownerWithProxy(http: TestAgent): Promise<Owner> {
  const user = await signUp(http);
  const ws = await http.post('/api/workspaces').set(user.auth).send({ name: 'Study' }).expect(201);
  await http.patch(`/api/workspaces/${ws.body.id}`).set(user.auth).send({ aiProxy: true }).expect(200);
  return { user, workspaceId: ws.body.id };
}

/** A document, created and then read back through the query side (so the read model has it). */
export async function documentIn(http: TestAgent, owner: { auth: Record<string, string> }, workspaceId: string, title: string, content: string): Promise<string> {
  const created = await http.post(`/api/workspaces/${workspaceId}/documents`).set(owner.auth).send({ title, content }).expect(201);
  await http.get(`/api/documents/${created.body.id}`).set(owner.auth).set('X-Consistency-Token', String(created.headers['x-consistency-token'])).expect(200);
  return created.body.id;
}

export function memoryLog(): { logger: Logger; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', destination: stream }), text: () => chunks.join('') };
}

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

export async function listenOn(service: TestService): Promise<Listening> {
  const server = http.createServer(service.service.app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SseMessage {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** Milliseconds since the request was sent. */
  readonly at: number;
}

/**
 * POSTs over a real socket and reads the answer's events as they arrive; `stopAfter` hangs up once that
 * many events have come (a client going away mid-stream).
 */
export function postSse(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: unknown,
  options: { stopAfter?: number } = {},
): Promise<{ status: number; contentType: string; events: SseMessage[]; raw: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const payload = JSON.stringify(body);
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const events: SseMessage[] = [];
      let raw = '';
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) events.push({ event, data: JSON.parse(data), at: performance.now() - started });
          if (options.stopAfter !== undefined && events.length >= options.stopAfter) {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), events, raw });
            return;
          }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), events, raw }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), events, raw }));
    });
    req.on('error', (error) => {
      if (options.stopAfter === undefined) reject(error);
    });
    req.end(payload);
  });
}
