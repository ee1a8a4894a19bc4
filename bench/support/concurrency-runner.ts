/**
 * The closed-loop runner: a fixed number of workers, each starting its next operation as soon as the
 * previous one answers. Only operations started inside a measured window count, and a window closes
 * when the last of them answers, so throughput is completed work divided by the time it really took.
 *
 * Workloads compared with each other (the event store against plain INSERTs) run interleaved: after a
 * warm-up each, they take turns in short rounds, in ABBA order, so drift in the machine (a checkpoint,
 * autovacuum, another session) lands on both instead of on whichever happened to run at the time.
 */
import { performance } from 'node:perf_hooks';
import { LatencyRecorder, type LatencySummary } from './latency-recorder';

/** One unit of work; answers how many items (events) it carried. */
export type Operation = () => Promise<number>;

export interface FixedConcurrencyResult {
  readonly operations: number;
  readonly items: number;
  readonly elapsedMs: number;
  readonly itemsPerSecond: number;
  readonly latency: LatencySummary;
}

export interface InterleavedOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  /** Measured time per workload, split evenly across the rounds. */
  readonly durationMs: number;
  readonly rounds: number;
  readonly workloads: readonly Operation[];
}

export async function runAtFixedConcurrency(options: {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly operation: Operation;
}): Promise<FixedConcurrencyResult> {
  const [result] = await runInterleaved({ ...options, rounds: 1, workloads: [options.operation] });
  return result!;
}

/** Answers one result per workload, in the order given. */
export async function runInterleaved(options: InterleavedOptions): Promise<FixedConcurrencyResult[]> {
  const tallies = options.workloads.map(() => new Tally());
  for (const operation of options.workloads) await runWindow(options.concurrency, options.warmupMs, operation, undefined);
  const roundMs = options.durationMs / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    const order = options.workloads.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) await runWindow(options.concurrency, roundMs, options.workloads[index]!, tallies[index]);
  }
  return tallies.map((tally) => tally.result());
}

class Tally {
  readonly latency = new LatencyRecorder();
  items = 0;
  elapsedMs = 0;

  result(): FixedConcurrencyResult {
    return {
      operations: this.latency.count,
      items: this.items,
      elapsedMs: this.elapsedMs,
      itemsPerSecond: this.elapsedMs > 0 ? (this.items * 1000) / this.elapsedMs : 0,
      latency: this.latency.summary(),
    };
  }
}

/** Runs `operation` on `concurrency` workers for `durationMs`; records into `tally` unless warming up. */
async function runWindow(concurrency: number, durationMs: number, operation: Operation, tally: Tally | undefined): Promise<void> {
  const from = performance.now();
  const until = from + durationMs;
  let lastCompletion = from;
  let failed = false;

  async function worker(): Promise<void> {
    while (!failed && performance.now() < until) {
      const begin = performance.now();
      let carried: number;
      try {
        carried = await operation();
      } catch (error) {
        failed = true; // the other workers stop after their current operation
        throw error;
      }
      const end = performance.now();
      tally?.latency.record(end - begin);
      if (tally) tally.items += carried;
      lastCompletion = Math.max(lastCompletion, end);
    }
  }

  const outcomes = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  if (tally) tally.elapsedMs += lastCompletion - from;
}
