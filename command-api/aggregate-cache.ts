/**
 * A bounded in-process cache of folded aggregates (state, revision, position), so that a command on a
 * stream this process decided on recently needs no read at all: it decides on the cached state and
 * appends with the cached revision as the expected one. The append's revision check is what guards
 * concurrency; if the cache was stale, the append fails and the command reads the stream afresh.
 */
import type { LogPosition } from '../infra/event-store/log-position';

export interface CachedAggregate {
  readonly state: unknown;
  readonly revision: bigint;
  readonly position: LogPosition | undefined;
}

export class AggregateCache {
  private readonly entries = new Map<string, { aggregate: CachedAggregate; bytes: number; snapshotRevision: bigint }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number = 64 * 1024 * 1024,
    /** Estimates a state's size; states larger than a tenth of the budget are not cached. */
    private readonly sizeOf: (state: unknown) => number = estimateSize,
  ) {}

  get(streamId: string): CachedAggregate | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    this.entries.delete(streamId); // re-insert: Map order is the LRU order
    this.entries.set(streamId, entry);
    return entry.aggregate;
  }

  /** The revision of the last snapshot saved for the stream, as far as this process knows (-1: none). */
  snapshotRevision(streamId: string): bigint {
    return this.entries.get(streamId)?.snapshotRevision ?? -1n;
  }

  set(streamId: string, aggregate: CachedAggregate, snapshotRevision = -1n): void {
    this.delete(streamId);
    const bytes = this.sizeOf(aggregate.state) + streamId.length * 2 + 64;
    if (bytes > this.maxBytes / 10) return;
    this.entries.set(streamId, { aggregate, bytes, snapshotRevision });
    this.bytes += bytes;
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  delete(streamId: string): void {
    const entry = this.entries.get(streamId);
    if (!entry) return;
    this.entries.delete(streamId);
    this.bytes -= entry.bytes;
  }
}

/** Sums the lengths of the strings in a state (two bytes each), which dominate our states' size. */
function estimateSize(value: unknown): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') total += current.length * 2;
    else if (current !== null && typeof current === 'object') {
      for (const child of Object.values(current)) {
        total += 16;
        stack.push(child);
      }
    } else total += 8;
  }
  return total;
}
