/**
 * A LogSubscription over a push stream of resolved events (the client's `subscribeToAll`, a Node
 * Readable). EventStoreDB pushes as fast as it reads; this class owns the in-memory buffer between
 * that push and a consumer that pulls (`nextBatch`), the back-pressure that keeps the buffer bounded,
 * and the failure rule: a subscription that broke hands over what it had, then rejects, so the
 * projection runner restarts from its checkpoint instead of waiting forever.
 */
import { eventsOf } from '../iterate-batches';
import type { LogSubscription, RecordedEvent } from '../event-store';
import { LogPosition } from '../log-position';
import { isAfter, toRecordedEvent, type ResolvedEventLike } from './eventstoredb-mapping';

/**
 * The parts of a Node Readable (in object mode) this class uses; the client's subscription has them, but
 * its overloaded event typings do not fit `Readable`'s, hence this narrower type.
 */
export interface ResolvedEventSource {
  on(event: 'data', listener: (resolved: ResolvedEventLike) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
}

export interface BufferedSubscriptionOptions {
  /** Exclusive, like the port's: events at or before it are dropped even if the source sends them. */
  readonly fromPosition: LogPosition | 'start';
  /** Ends the server side (the client's `unsubscribe`); the source is destroyed after it either way. */
  readonly stop?: () => Promise<void>;
  /** Buffered events at which the source is paused. Default 4,096. */
  readonly highWaterMark?: number;
  /** Buffered events at or below which a paused source resumes. Default a quarter of the high-water mark. */
  readonly lowWaterMark?: number;
  /** Batch size when consumed by async iteration. Default 500. */
  readonly pageSize?: number;
}

export const DEFAULT_HIGH_WATER_MARK = 4_096;

export class BufferedSubscription implements LogSubscription {
  private readonly buffer: RecordedEvent[] = [];
  /** Position of the newest event buffered (so also of every event delivered); never goes back. */
  private lastAccepted: LogPosition | 'start';
  private failure: Error | undefined;
  private isClosed = false;
  private paused = false;
  private wake: (() => void) | undefined;
  private pendingBatch: Promise<RecordedEvent[]> | undefined;
  private released: Promise<void> | undefined;
  private readonly highWaterMark: number;
  private readonly lowWaterMark: number;

  constructor(
    private readonly source: ResolvedEventSource,
    private readonly options: BufferedSubscriptionOptions,
  ) {
    this.lastAccepted = options.fromPosition;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.lowWaterMark = options.lowWaterMark ?? Math.floor(this.highWaterMark / 4);
    if (!(this.highWaterMark >= 1 && this.lowWaterMark >= 0 && this.lowWaterMark < this.highWaterMark)) {
      throw new RangeError('need 0 <= lowWaterMark < highWaterMark');
    }
    // The 'error' listener stays for the source's whole life: an unheard 'error' would crash the process.
    source.on('data', (resolved: ResolvedEventLike) => this.accept(resolved));
    source.on('error', (error: Error) => this.fail(error));
    source.on('end', () => this.fail(new Error('the EventStoreDB subscription ended')));
    source.on('close', () => this.fail(new Error('the EventStoreDB subscription closed')));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  nextBatch(maxCount: number): Promise<RecordedEvent[]> {
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new RangeError('maxCount must be a positive integer');
    if (this.pendingBatch) throw new Error('nextBatch is already waiting; consume one batch at a time');
    this.pendingBatch = this.waitForBatch(maxCount).finally(() => {
      this.pendingBatch = undefined;
    });
    return this.pendingBatch;
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.buffer.length = 0;
      this.notify();
    }
    // Whether the server acknowledges the cancel or not, this subscription is over: nothing to report.
    await this.release().catch(() => undefined);
    await this.pendingBatch?.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return eventsOf(this, this.options.pageSize ?? 500);
  }

  private async waitForBatch(maxCount: number): Promise<RecordedEvent[]> {
    for (;;) {
      if (this.isClosed) return [];
      if (this.buffer.length > 0) return this.take(maxCount);
      // Only once the buffer is empty: what arrived before the failure is still worth projecting.
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private take(maxCount: number): RecordedEvent[] {
    const batch = this.buffer.splice(0, maxCount);
    if (this.paused && this.buffer.length <= this.lowWaterMark) {
      this.paused = false;
      this.source.resume();
    }
    return batch;
  }

  private accept(resolved: ResolvedEventLike): void {
    if (this.isClosed || this.failure) return;
    let event: RecordedEvent | undefined;
    try {
      event = toRecordedEvent(resolved);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // Defensive: a catch-up subscription should never repeat or go back, but delivering twice would.
    if (event === undefined || !isAfter(event.position, this.lastAccepted)) return;
    this.lastAccepted = event.position;
    this.buffer.push(event);
    if (!this.paused && this.buffer.length >= this.highWaterMark) {
      this.paused = true;
      this.source.pause();
    }
    this.notify();
  }

  private fail(error: Error): void {
    if (this.isClosed || this.failure) return;
    this.failure = error;
    this.notify();
    // Stop the server from pushing into a subscription nobody will read again; the error is already kept.
    this.release().catch(() => undefined);
  }

  private release(): Promise<void> {
    this.released ??= (async () => {
      try {
        await this.options.stop?.();
      } finally {
        this.source.destroy();
      }
    })();
    return this.released;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
