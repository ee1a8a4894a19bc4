/**
 * Wake-ups: small "something moved" messages (the log grew, a projection advanced) that let waiting
 * readers react in milliseconds instead of polling. A lost wake-up only makes a reader fall back to
 * its poll interval, so every consumer must still work without them. What a message says is true when
 * it is sent (a projection's progress is where it has applied the log to), so a reader may act on it
 * (ProjectionProgress answers from it); nothing may depend on receiving it.
 */
export interface Wakeups {
  publish(topic: string, payload: string): void;
  /** Calls `listener` for each message on `topic`; answers a function that unsubscribes. */
  subscribe(topic: string, listener: (payload: string) => void): () => void;
  /** Whether wake-ups are being delivered right now; readers poll faster while they are not. */
  readonly live: boolean;
  close(): Promise<void>;
}

export const WakeupTopics = {
  logAppended: 'log.appended',
  /** The position a projection has applied the log to (rows committed, or nothing to apply). */
  projectionProgress: (projection: string) => `projection.${projection}`,
  /** A projection committed rows (published just before its progress): caches of its tables are stale. */
  projectionChanged: (projection: string) => `projection.${projection}.changed`,
} as const;

/**
 * Waits for the next message on `topic`, at most `ms`, and no longer than until one of `signals` is
 * aborted (a closed request, the service shutting down). Never rejects, and leaves no listener or timer
 * behind. A long poll calls it in a loop, re-reading its read model after each wake: a message is only
 * a hint that something may have changed.
 */
export function nextWakeup(wakeups: Wakeups, topic: string, ms: number, ...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      for (const signal of signals) signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = wakeups.subscribe(topic, done);
    for (const signal of signals) signal.addEventListener('abort', done, { once: true });
    if (signals.some((signal) => signal.aborted)) done();
  });
}

/** Wake-ups inside one process (the embedded default, and tests). */
export class InProcessWakeups implements Wakeups {
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  readonly live = true;

  publish(topic: string, payload: string): void {
    for (const listener of this.listeners.get(topic) ?? []) {
      queueMicrotask(() => listener(payload));
    }
  }

  subscribe(topic: string, listener: (payload: string) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/** No wake-ups at all: every reader polls. */
export class NoWakeups implements Wakeups {
  readonly live = false;
  publish(): void {}
  subscribe(): () => void {
    return () => {};
  }
  async close(): Promise<void> {}
}
