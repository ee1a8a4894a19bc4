/**
 * Append-to-projected latency: for each tracked append, the time from calling `append` to the moment
 * a projection runner commits a checkpoint at or past the append's log position. Positions are
 * fixed-width strings that sort in log order, so "passed" is a string comparison.
 */
import { performance } from 'node:perf_hooks';
import type { LogPosition } from '../../infra/event-store/log-position';
import { LatencyRecorder } from './latency-recorder';

/** What the tracker needs of a runner (ProjectionRunner has it). */
export interface ProgressSource {
  onProgress(listener: (position: LogPosition) => void): () => void;
}

interface Waiting {
  readonly position: LogPosition;
  readonly startedAt: number;
}

interface Progress {
  readonly position: LogPosition;
  readonly at: number;
}

export class ProjectedLatencyTracker {
  readonly latency = new LatencyRecorder();
  /** Every committed checkpoint and when it was seen, in log order (a runner only moves forward). */
  private readonly progress: Progress[] = [];
  private waiting: Waiting[] = [];
  private readonly unsubscribe: () => void;

  constructor(source: ProgressSource) {
    this.unsubscribe = source.onProgress((position) => this.onProgress(position, performance.now()));
  }

  get pending(): number {
    return this.waiting.length;
  }

  /** Tracks an append that was called at `startedAt` (performance.now()) and landed at `position`. */
  track(position: LogPosition, startedAt: number): void {
    const passedAt = this.firstProgressAtOrAfter(position);
    if (passedAt === undefined) this.waiting.push({ position, startedAt });
    else this.latency.record(passedAt - startedAt);
  }

  /** Waits until every tracked append is projected, or the time is up; answers how many were not. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (this.waiting.length > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.waiting.length;
  }

  close(): void {
    this.unsubscribe();
  }

  private onProgress(position: LogPosition, at: number): void {
    this.progress.push({ position, at });
    const stillWaiting: Waiting[] = [];
    for (const entry of this.waiting) {
      if (entry.position <= position) this.latency.record(at - entry.startedAt);
      else stillWaiting.push(entry);
    }
    this.waiting = stillWaiting;
  }

  /** When the runner first committed at or past `position`, if it has (the append answered late). */
  private firstProgressAtOrAfter(position: LogPosition): number | undefined {
    let low = 0;
    let high = this.progress.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.progress[middle]!.position < position) low = middle + 1;
      else high = middle;
    }
    return this.progress[low]?.at;
  }
}
