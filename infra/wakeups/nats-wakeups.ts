/**
 * Wake-ups over NATS core subjects, so that command APIs, projectors and query APIs in different
 * processes hear of each other's progress. NATS being down is never an error here: publishing is
 * dropped, `live` turns false (readers poll faster), and the client keeps reconnecting in the background.
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
    if (!this.connected || !this.connection) return;
    try {
      this.connection.publish(this.subject(topic), Buffer.from(payload));
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  subscribe(topic: string, listener: (payload: string) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      this.listeners.set(topic, (set = new Set()));
      if (this.connection) this.attach(topic);
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

  private subject(topic: string): string {
    return `${this.options.subjectPrefix}.${topic}`;
  }

  private async connectInBackground(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      try {
        const connection = await connect({
          servers: this.options.url,
          name: 'scriptorium',
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
        for (const topic of this.listeners.keys()) this.attach(topic);
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

  private attach(topic: string): void {
    const connection = this.connection;
    if (!connection || this.natsSubscriptions.has(topic)) return;
    const subscription = connection.subscribe(this.subject(topic));
    this.natsSubscriptions.set(topic, subscription);
    void (async () => {
      for await (const message of subscription) {
        const payload = Buffer.from(message.data).toString();
        for (const listener of this.listeners.get(topic) ?? []) {
          try {
            listener(payload);
          } catch (error) {
            this.options.onError?.(error);
          }
        }
      }
    })();
  }
}
