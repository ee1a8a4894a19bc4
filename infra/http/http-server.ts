/**
 * Starting and draining an HTTP server: listen, and on shutdown stop accepting, let requests in flight
 * finish (long polls are told to answer by the service's own shutdown signal), and cut what is still
 * open at the deadline.
 *
 * A keep-alive connection would outlive its last answer and hold `server.close` until the deadline,
 * so while draining every answer carries `Connection: close` (the client learns not to reuse the
 * socket) and its connection is closed as soon as it is sent.
 *
 * Slow and oversized clients are refused by Node's HTTP parser, before any of our code runs: headers
 * not complete within `headersTimeoutMs` get 408 (Slowloris), a whole request not received within
 * `requestTimeoutMs` gets 408, headers beyond `maxHeaderBytes` get 431. Node checks the timeouts every
 * `connectionsCheckingInterval`, whose default (30 s) would let a slow client outstay its limit by that
 * much, so the interval is derived from the limit here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface ClientLimits {
  /** Complete headers must arrive within this (408 otherwise). */
  readonly headersTimeoutMs: number;
  /** The complete request (headers and body) must arrive within this (408 otherwise). */
  readonly requestTimeoutMs: number;
  /** Largest request head (request line and headers), in bytes (431 beyond). */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, maxHeaderBytes: 16_384 };

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(deadlineMs: number): Promise<void>;
}

export async function listen(app: Express, host: string, port: number, limits: ClientLimits = DEFAULT_CLIENT_LIMITS): Promise<RunningServer> {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      // Node requires requestTimeout >= headersTimeout (0 would disable it).
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    app,
  );
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 5_000;

  const inFlight = new Set<ServerResponse>();
  let draining = false;
  const closeAfterAnswer = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    // Sent with its headers already out: the connection is idle once the answer is, so close it then.
    res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
  };
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (draining) closeAfterAnswer(res);
  });

  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: (deadlineMs) =>
      new Promise<void>((resolve) => {
        draining = true;
        for (const res of inFlight) closeAfterAnswer(res);
        const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
