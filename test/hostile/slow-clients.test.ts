/**
 * Slow and oversized clients against a listening server (the same `listen` the processes use, with the
 * limits from the configuration): headers trickled byte by byte get 408 within the headers limit, a
 * body trickled too slowly gets 408 within the request limit, oversized headers 431, oversized bodies
 * 413, and a flood of half-open connections does not stop anyone else from being served.
 */
import { connect, type Socket } from 'node:net';
import { listen, type RunningServer } from '../../infra/http/http-server';
import { waitFor } from '../support/wait-for';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';

jest.setTimeout(60_000);

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_HEADER_BYTES = 8_192;
const BODY_LIMIT_BYTES = 20_000;

interface RawAnswer {
  readonly status: number | undefined;
  readonly text: string;
  readonly elapsedMs: number;
}

/** Opens a raw connection, hands it to `drive`, and collects what the server answers until it closes. */
function rawExchange(port: number, drive: (socket: Socket, stop: () => boolean) => Promise<void> | void, giveUpMs = 15_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${giveUpMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, giveUpMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the answer is fine: the answer is what counts
    socket.on('close', () => {
      closed = true;
      clearTimeout(giveUp);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), text, elapsedMs: Date.now() - started });
    });
    socket.on('connect', () => void Promise.resolve(drive(socket, () => closed || socket.destroyed)).catch(() => undefined));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('slow and oversized clients', () => {
  let t: TestService;
  let server: RunningServer;
  let port: number;
  let user: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('slow_clients', {
      env: {
        JSON_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
        DOCUMENT_MAX_CONTENT_BYTES: String(BODY_LIMIT_BYTES / 2),
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_MAX_HEADER_BYTES: String(MAX_HEADER_BYTES),
      },
    });
    server = await listen(t.service.app, '127.0.0.1', 0, {
      headersTimeoutMs: t.config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: t.config.HTTP_REQUEST_TIMEOUT_MS,
      maxHeaderBytes: t.config.HTTP_MAX_HEADER_BYTES,
    });
    port = Number(new URL(server.url).port);
    user = await signUp(t.http);
  });
  afterAll(async () => {
    await server?.close(1_000);
    await t?.close();
  });

  it('given headers sent byte by byte, then the server answers 408 within the headers limit and closes', async () => {
    const head = `GET /api/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${user.auth.Authorization}\r\nX-Padding: ${'p'.repeat(200)}\r\n\r\n`;
    const answer = await rawExchange(port, async (socket, stop) => {
      for (const byte of head) {
        if (stop()) return;
        socket.write(byte);
        await sleep(50);
      }
    });

    expect(answer.status).toBe(408);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    // Node checks its timers every quarter of the limit: the answer comes within 1.25 limits plus slack.
    expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS * 1.25 + 1_000);
  });

  it('given a body trickled slower than the request limit allows, then 408', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(300) });
    const answer = await rawExchange(port, async (socket, stop) => {
      socket.write(`POST /api/workspaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${user.auth.Authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      for (const byte of body) {
        if (stop()) return;
        socket.write(byte);
        await sleep(50);
      }
    });

    expect(answer.status).toBe(408);
    expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS * 1.25 + 1_500);
    const { body: workspaces } = await t.http.get('/api/workspaces').set(user.auth).expect(200);
    expect(workspaces.items).toEqual([]);
  });

  it('given headers larger than the limit, then 431', async () => {
    const answer = await rawExchange(port, (socket) => {
      socket.write(`GET /api/me HTTP/1.1\r\nHost: localhost\r\nX-Huge: ${'h'.repeat(MAX_HEADER_BYTES + 1_000)}\r\n\r\n`);
    });
    expect(answer.status).toBe(431);
  });

  it('given many headers that add up to more than the limit, then 431', async () => {
    const headers = Array.from({ length: 200 }, (_, i) => `X-Many-${i}: ${'m'.repeat(60)}\r\n`).join('');
    const answer = await rawExchange(port, (socket) => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`);
    });
    expect(answer.status).toBe(431);
  });

  it('given a body larger than the limit, announced or chunked, then 413 and nothing is written', async () => {
    const big = JSON.stringify({ name: 'n'.repeat(BODY_LIMIT_BYTES * 2) });
    const announced = await fetch(`${server.url}/api/workspaces`, { method: 'POST', headers: { ...user.auth, 'Content-Type': 'application/json' }, body: big });
    expect(announced.status).toBe(413);
    expect(((await announced.json()) as { code?: string }).code).toBeDefined();

    const chunks = [big.slice(0, 10_000), big.slice(10_000, 30_000), big.slice(30_000)];
    const chunked = await rawExchange(port, async (socket) => {
      socket.write(`POST /api/workspaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${user.auth.Authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
        await sleep(20);
      }
      if (!socket.destroyed) socket.write('0\r\n\r\n');
    });
    expect(chunked.status).toBe(413);

    const { body: workspaces } = await t.http.get('/api/workspaces').set(user.auth).expect(200);
    expect(workspaces.items).toEqual([]);
  });

  it('given a flood of half-open connections, then other clients are still served promptly', async () => {
    const flood: Socket[] = [];
    let cut = 0;
    try {
      for (let i = 0; i < 1_500; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.resume(); // read the 408s, so that the server's close arrives as 'end'
        socket.once('end', () => cut++);
        socket.on('connect', () => socket.write('GET /api/me HTTP/1.1\r\nHost: localhost\r\n'));
        flood.push(socket);
      }
      await sleep(200);

      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = Date.now();
        const res = await fetch(`${server.url}/api/me`, { headers: user.auth });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        latencies.push(Date.now() - started);
      }
      expect(Math.max(...latencies)).toBeLessThan(1_000);

      // The flood is cut at the headers limit rather than held forever (connections beyond the listen
      // backlog were only accepted once the kernel retried their SYN, a second or three later).
      await waitFor(() => cut === flood.length, HEADERS_TIMEOUT_MS * 1.25 + 8_000, 'every flooding connection to be cut');
    } finally {
      for (const socket of flood) socket.destroy();
    }
  });
});
