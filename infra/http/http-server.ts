/**
 * Starting and draining an HTTP server: listen, and on shutdown stop accepting, let requests in flight
 * finish (long polls are told to answer by the service's own shutdown signal), and cut what is still
 * open at the deadline.
 *
 * A keep-alive connection would outlive its last answer and hold `server.close` until the deadline,
 * so while draining every answer carries `Connection: close` (the client learns not to reuse the
 * socket) and its connection is closed as soon as it is sent.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(deadlineMs: number): Promise<void>;
}

export async function listen(app: Express, host: string, port: number): Promise<RunningServer> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
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
