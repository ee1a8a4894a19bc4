/**
 * Wake-ups over NATS core subjects, so that command APIs, projectors and query APIs in different
 * processes hear of each other's progress. NATS being down is never an error here: publishing is
 * dropped, `live` turns false (readers poll faster), and the client keeps reconnecting in the background.
 *
 * Wake-ups published in the same turn of the event loop travel together: one NATS message per family
 * of topics (the topic's first segment: `log`, `projection`) on `<prefix>.<family>`, carrying every
 * `[topic, payload]` pair in order. A projector process announces the progress of all its projections
 * after each batch, and an API process appends for many requests at once; one message instead of one
 * per topic spares both ends a write, a read and a parse for each.
 *
 * A process hears its own wake-ups from itself, at once and whether or not NATS is up (as
 * InProcessWakeups delivers them), and never from the server: the connection asks NATS not to echo
 * what it publishes (`noEcho`). A projector process listens to its own projections' progress (its
 * reactors and the reminder dispatcher wait for it); without this, every progress message would make
 * a round trip through the server and back into the process that sent it.
 */
import { connect, Events, type NatsConnection, type Subscription } from 'nats';
import type { Wakeups } from './wakeups';

export interface NatsWakeupsOptions {
  readonly url: string;
  /** Keeps deployments (and parallel test schemas) that share one NATS server apart. */
  readonly subjectPrefix: string;
  readonly onError?: (error: unknown) => void;
}

export class NatsWakeups implements Wakeups {
  private connection: NatsConnection | undefined;
  private connected = false;
  private closing = false;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private readonly natsSubscriptions = new Map<string, Subscription>();
  private readonly connecting: Promise<void>;
  /** Published this turn, by family; sent together by `flush`. */
  private readonly pending = new Map<string, Array<readonly [string, string]>>();
  private flushScheduled = false;

  constructor(private readonly options: NatsWakeupsOptions) {
    this.connecting = this.connectInBackground();
  }

  get live(): boolean {
    return this.connected;
  }

  /** Resolves once connected (or once closed); for callers that prefer to start with wake-ups live. */
  async ready(timeoutMs: number): Promise<boolean> {
    await Promise.race([this.connecting, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    return this.connected;
  }

  publish(topic: string, payload: string): void {
    for (const listener of this.listeners.get(topic) ?? []) queueMicrotask(() => this.deliver(listener, payload));
    if (!this.connected || !this.connection) return;
    const family = familyOf(topic);
    let messages = this.pending.get(family);
    if (!messages) this.pending.set(family, (messages = []));
    messages.push([topic, payload]);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  subscribe(topic: string, listener: (payload: string) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      this.listeners.set(topic, (set = new Set()));
      if (this.connection) this.attach(familyOf(topic));
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.connected = false;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }

  private subject(family: string): string {
    return `${this.options.subjectPrefix}.${family}`;
  }

  private flush(): void {
    this.flushScheduled = false;
    const connection = this.connection;
    for (const [family, messages] of this.pending) {
      if (!connection || !this.connected) break;
      try {
        connection.publish(this.subject(family), Buffer.from(JSON.stringify(messages)));
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    this.pending.clear();
  }

  private async connectInBackground(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      try {
        const connection = await connect({
          servers: this.options.url,
          name: 'scriptorium',
          // This process's own wake-ups reach its listeners from publish(), not back from the server.
          noEcho: true,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          timeout: 2000,
          pingInterval: 5000,
          maxPingOut: 2,
        });
        if (this.closing) {
          await connection.close();
          return;
        }
        this.connection = connection;
        this.connected = true;
        for (const topic of this.listeners.keys()) this.attach(familyOf(topic));
        void this.watchStatus(connection);
        return;
      } catch (error) {
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async watchStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) this.connected = false;
      if (status.type === Events.Reconnect) this.connected = true;
    }
    this.connected = false;
  }

  private deliver(listener: (payload: string) => void, payload: string): void {
    try {
      listener(payload);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private attach(family: string): void {
    const connection = this.connection;
    if (!connection || this.natsSubscriptions.has(family)) return;
    const subscription = connection.subscribe(this.subject(family));
    this.natsSubscriptions.set(family, subscription);
    void (async () => {
      for await (const message of subscription) {
        for (const [topic, payload] of wakeupsIn(message.data)) {
          for (const listener of this.listeners.get(topic) ?? []) this.deliver(listener, payload);
        }
      }
    })();
  }
}

/** A topic's family: its first segment (`projection.sync` -> `projection`). */
function familyOf(topic: string): string {
  const dot = topic.indexOf('.');
  return dot === -1 ? topic : topic.slice(0, dot);
}

/** The `[topic, payload]` pairs of one message; nothing for a message that is not one of ours. */
function wakeupsIn(data: Uint8Array): Array<readonly [string, string]> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data).toString());
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((pair): pair is [string, string] => Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string');
  } catch {
    return [];
  }
}
