/**
 * Latency samples of one measurement and their percentiles. Every sample is kept (a run holds at most
 * a few hundred thousand), so p50/p99 are exact nearest-rank percentiles, not histogram estimates.
 */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export class LatencyRecorder {
  private readonly samples: number[] = [];
  private sorted = true;

  record(ms: number): void {
    this.samples.push(ms);
    this.sorted = false;
  }

  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank percentile in milliseconds; NaN when nothing was recorded. */
  percentile(p: number): number {
    if (p <= 0 || p > 100) throw new RangeError('percentile must be in (0, 100]');
    if (this.samples.length === 0) return Number.NaN;
    this.sort();
    const rank = Math.ceil((p / 100) * this.samples.length);
    return this.samples[rank - 1]!;
  }

  summary(): LatencySummary {
    return { count: this.count, p50Ms: this.percentile(50), p99Ms: this.percentile(99), maxMs: this.percentile(100) };
  }

  private sort(): void {
    if (this.sorted) return;
    this.samples.sort((a, b) => a - b);
    this.sorted = true;
  }
}
