/**
 * Interleaved closed-loop windows (ABBA rounds) with a settle step before every window, after warm-up
 * rounds interleaved the same way and not measured. A service runs its projectors beside its API, and a write window can leave
 * them behind; settling lets them finish before the next window starts, so the other workload does not
 * pay for that backlog. The time each settle took is reported per workload that preceded it: it is
 * how far behind the projections were when that workload's window closed.
 *
 * The warm-up is interleaved because one window per workload does not warm a process that serves all
 * of them: code the workloads share (the HTTP client and server, the router, the logger) meets the
 * others' objects at every switch, and V8 throws away and recompiles its optimized code for a while.
 * Traced with --trace-opt (docs/benchmarks.md, sixth pass): with one 1 s window per route, the part-5
 * process compiled 297 functions (2.45 s of compiler CPU on a 2-core machine) during its first
 * measurement, and the PUT rate rose from window to window; a second measurement in the same process
 * compiled 39 to 62. After five interleaved warm-up rounds, the measured rounds compiled 56 (0.39 s).
 */
import { performance } from 'node:perf_hooks';
import { runAtFixedConcurrency, type FixedConcurrencyResult, type Operation } from './concurrency-runner';
import { LatencyRecorder } from './latency-recorder';

export interface SettledRoundsOptions {
  readonly concurrency: number;
  /** Length of one warm-up window (one per workload per warm-up round). */
  readonly warmupMs: number;
  /** Warm-up rounds, interleaved as the measured ones are (default 1). */
  readonly warmupRounds?: number;
  /** Measured time per workload, split evenly across the rounds. */
  readonly durationMs: number;
  readonly rounds: number;
  readonly workloads: readonly Operation[];
  readonly settle: () => Promise<void>;
  /**
   * CPU time (ms, cumulative) of other processes that serve the workloads, e.g. a projector process:
   * sampled around each window and its settle, as this process's own CPU time is.
   */
  readonly otherCpuMs?: () => Promise<number>;
}

export interface SettledResult extends FixedConcurrencyResult {
  /** The longest settle that followed one of this workload's measured windows. */
  readonly maxSettleMs: number;
  /** All of them together: work the workload left behind, done outside its measured time. */
  readonly totalSettleMs: number;
  /** CPU time of this process (user + system) over the measured windows and the settles after them. */
  readonly processCpuMs: number;
  /** The same for the other processes (`otherCpuMs`); undefined when there are none. */
  readonly otherCpuMs: number | undefined;
}

/** Answers one result per workload, in the order given. */
export async function runInterleavedSettled(options: SettledRoundsOptions): Promise<SettledResult[]> {
  const tallies = options.workloads.map(() => ({ latency: new LatencyRecorder(), items: 0, elapsedMs: 0, maxSettleMs: 0, totalSettleMs: 0, processCpuMs: 0, otherCpuMs: 0 }));
  await options.settle();
  const orderOf = (round: number) => {
    const order = options.workloads.map((_, index) => index);
    return round % 2 === 1 ? order.reverse() : order;
  };
  for (let round = 0; round < (options.warmupRounds ?? 1); round++) {
    for (const index of orderOf(round)) {
      await runAtFixedConcurrency({ concurrency: options.concurrency, warmupMs: 0, durationMs: options.warmupMs, operation: options.workloads[index]! });
      await options.settle();
    }
  }
  const roundMs = options.durationMs / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    for (const index of orderOf(round)) {
      const tally = tallies[index]!;
      const operation = options.workloads[index]!;
      const cpuBefore = process.cpuUsage();
      const otherBefore = (await options.otherCpuMs?.()) ?? 0;
      const window = await runAtFixedConcurrency({
        concurrency: options.concurrency,
        warmupMs: 0,
        durationMs: roundMs,
        operation: async () => {
          const begin = performance.now();
          const items = await operation();
          tally.latency.record(performance.now() - begin);
          return items;
        },
      });
      tally.items += window.items;
      tally.elapsedMs += window.elapsedMs;
      const settleBegin = performance.now();
      await options.settle();
      const settleMs = performance.now() - settleBegin;
      tally.maxSettleMs = Math.max(tally.maxSettleMs, settleMs);
      tally.totalSettleMs += settleMs;
      const cpu = process.cpuUsage(cpuBefore);
      tally.processCpuMs += (cpu.user + cpu.system) / 1000;
      tally.otherCpuMs += ((await options.otherCpuMs?.()) ?? 0) - otherBefore;
    }
  }
  return tallies.map((tally) => ({
    operations: tally.latency.count,
    items: tally.items,
    elapsedMs: tally.elapsedMs,
    itemsPerSecond: tally.elapsedMs > 0 ? (tally.items * 1000) / tally.elapsedMs : 0,
    latency: tally.latency.summary(),
    maxSettleMs: tally.maxSettleMs,
    totalSettleMs: tally.totalSettleMs,
    processCpuMs: tally.processCpuMs,
    otherCpuMs: options.otherCpuMs ? tally.otherCpuMs : undefined,
  }));
}
