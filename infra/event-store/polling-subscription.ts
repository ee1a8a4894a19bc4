/**
 * A catch-up subscription built on repeated `readAll` calls: used by adapters whose log has no push
 * API of its own (PostgreSQL). It reads history page by page, then waits for a wake-up (or its poll
 * interval) before reading again. Because it only ever continues from the last position it delivered,
 * and `readAll` never exposes a position before every earlier one is visible, nothing is skipped or repeated.
 *
 * Once a read comes back short (the log ran out), it does not read again while wake-ups are live
 * until one announces a position past the last it delivered, or its safety-net poll comes round: an
 * append always announces its position, and anything appended later sorts after everything already
 * delivered. Under a steady stream of appends this spares one empty read per batch.
 */
import type { LogSubscription, RecordedEvent } from './event-store';
import { LogPosition } from './log-position';
import { eventsOf } from './iterate-batches';
import { WakeupTopics, type Wakeups } from '../wakeups/wakeups';
import { WakeableSleep } from '../wakeups/wakeable-sleep';

export interface PollingSubscriptionOptions {
  readonly readAll: (fromPosition: LogPosition | 'start', maxCount: number) => Promise<RecordedEvent[]>;
  readonly fromPosition: LogPosition | 'start';
  readonly wakeups: Wakeups;
  /** Safety-net poll while wake-ups are live (a wake-up may still be lost). */
  readonly livePollMs: number;
  /** Poll interval while wake-ups are down. */
  readonly fallbackPollMs: number;
  /** Page size when consumed by async iteration. */
  readonly pageSize?: number;
}

export class PollingSubscription implements LogSubscription {
  private position: LogPosition | 'start';
  /** Highest position announced by a wake-up; reading again soon is worth it while we are behind it. */
  private announced: LogPosition | undefined;
  /** Between reads; woken by a wake-up and by close. */
  private readonly pause = new WakeableSleep();
  private readonly unsubscribe: () => void;
  private isClosed = false;
  private pendingBatch: Promise<RecordedEvent[]> | undefined;
  /** When the last read came back short (the log ran out); undefined after a full read. */
  private drainedAt: number | undefined;

  constructor(private readonly options: PollingSubscriptionOptions) {
    this.position = options.fromPosition;
    this.unsubscribe = options.wakeups.subscribe(WakeupTopics.logAppended, (payload) => {
      const announced = LogPosition.parse(payload);
      if (announced && (this.announced === undefined || announced > this.announced)) this.announced = announced;
      this.pause.wake();
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  nextBatch(maxCount: number): Promise<RecordedEvent[]> {
    if (this.pendingBatch) throw new Error('nextBatch is already waiting; consume one batch at a time');
    this.pendingBatch = this.readNext(maxCount).finally(() => {
      this.pendingBatch = undefined;
    });
    return this.pendingBatch;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.unsubscribe();
    this.pause.wake();
    await this.pendingBatch?.catch(() => undefined);
  }

  /** Whether a wake-up announced a position this subscription has not delivered yet. */
  private announcedAhead(): boolean {
    return this.announced !== undefined && (this.position === 'start' || this.announced > this.position);
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return eventsOf(this, this.options.pageSize ?? 500);
  }

  private async readNext(maxCount: number): Promise<RecordedEvent[]> {
    let behindDelayMs = 1;
    while (!this.isClosed) {
      if (this.drainedAt !== undefined && this.options.wakeups.live && !this.announcedAhead()) {
        // Wait for word of an append past what was delivered; the safety-net poll reads anyway.
        const waited = performance.now() - this.drainedAt;
        if (waited < this.options.livePollMs) {
          await this.pause.sleep(this.options.livePollMs - waited);
          continue;
        }
      }
      this.drainedAt = undefined;
      const events = await this.options.readAll(this.position, maxCount);
      if (this.isClosed) return [];
      if (events.length > 0) {
        this.position = events[events.length - 1]!.position;
        this.drainedAt = events.length < maxCount ? performance.now() : undefined;
        return events;
      }
      const behind = this.announcedAhead();
      if (behind) {
        // An announced append is not readable yet: an older transaction is still open. Retry soon.
        await this.pause.sleep(behindDelayMs);
        behindDelayMs = Math.min(behindDelayMs * 2, 50);
      } else {
        behindDelayMs = 1;
        await this.pause.sleep(this.options.wakeups.live ? this.options.livePollMs : this.options.fallbackPollMs);
      }
    }
    return [];
  }
}
