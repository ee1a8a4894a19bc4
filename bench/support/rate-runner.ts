/**
 * The open-loop runner: starts operations on a fixed schedule whether or not earlier ones have
 * answered, the way independent clients would, with a cap on how many may be in flight. When the cap
 * or the event loop holds a start back, the start is late; the runner reports how late, because a
 * latency measured from a late start hides the wait (coordinated omission).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FixedRateOptions {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly maxInFlight: number;
  readonly operation: () => Promise<void>;
}

export interface FixedRateResult {
  readonly started: number;
  readonly elapsedMs: number;
  /** Starts more than `LATE_AFTER_MS` behind their schedule. */
  readonly lateStarts: number;
  readonly maxStartLagMs: number;
}

export const LATE_AFTER_MS = 5;

export async function runAtFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.ratePerSecond;
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let lateStarts = 0;
  let maxStartLagMs = 0;
  const begin = performance.now();

  for (let i = 0; i < total && failures.length === 0; i++) {
    const due = begin + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= options.maxInFlight) await Promise.race(inFlight);
    const lag = performance.now() - due;
    maxStartLagMs = Math.max(maxStartLagMs, lag);
    if (lag > LATE_AFTER_MS) lateStarts++;
    const running: Promise<void> = options
      .operation()
      .catch((error: unknown) => void failures.push(error))
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  }

  await Promise.all(inFlight);
  if (failures.length > 0) throw failures[0];
  return { started: total, elapsedMs: performance.now() - begin, lateStarts, maxStartLagMs };
}
