/**
 * A TCP proxy between the service's processes and PostgreSQL that can misbehave on demand: drop every
 * open connection at once (both sides reset, as when a network path dies), or stall them (nothing moves
 * in either direction, and new connections wait) for a while, as a congested or partitioned link does.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
}

export class FaultyProxy {
  private readonly pairs = new Set<Pair>();
  private stalled: Promise<void> | undefined;
  private releaseStall: (() => void) | undefined;
  dropped = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(upstreamPort: number): Promise<FaultyProxy> {
    let proxy: FaultyProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, upstreamPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    proxy = new FaultyProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  get open(): number {
    return this.pairs.size;
  }

  /** Resets every open connection; new ones are accepted as before. Answers how many were cut. */
  drop(): number {
    const count = this.pairs.size;
    for (const pair of this.pairs) this.closePair(pair, true);
    this.dropped += count;
    return count;
  }

  /** Nothing moves for `ms`: open connections stop forwarding, new ones are held before connecting. */
  async stall(ms: number): Promise<void> {
    this.stalled = new Promise((resolve) => (this.releaseStall = resolve));
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
    await new Promise((resolve) => setTimeout(resolve, ms));
    const release = this.releaseStall;
    this.stalled = undefined;
    this.releaseStall = undefined;
    for (const pair of this.pairs) {
      pair.client.resume();
      pair.upstream?.resume();
    }
    release?.();
  }

  async close(): Promise<void> {
    this.releaseStall?.();
    for (const pair of this.pairs) this.closePair(pair, true);
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async accept(client: Socket, upstreamPort: number): Promise<void> {
    const pair: Pair = { client, upstream: undefined };
    this.pairs.add(pair);
    client.on('error', () => this.closePair(pair, true));
    client.on('close', () => this.closePair(pair, false));
    client.pause();
    if (this.stalled) await this.stalled;
    if (client.destroyed) return;
    const upstream = connect(upstreamPort, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('error', () => this.closePair(pair, true));
    upstream.on('close', () => this.closePair(pair, false));
    upstream.on('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      if (this.stalled) {
        client.pause();
        upstream.pause();
      }
    });
  }

  private closePair(pair: Pair, reset: boolean): void {
    if (!this.pairs.delete(pair)) return;
    if (reset) {
      pair.client.resetAndDestroy();
      if (pair.upstream && !pair.upstream.connecting) pair.upstream.resetAndDestroy();
      else pair.upstream?.destroy();
    } else {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  }
}
