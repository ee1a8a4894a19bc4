/**
 * How far the projections have got, for read-your-writes: a reader holding a log position (from a
 * command's X-Consistency-Token) waits until every projection's committed checkpoint has reached it.
 * Woken by the projectors' progress wake-ups; polls while those are not live.
 */
import type { Knex } from 'knex';
import type { LogPosition } from '../../infra/event-store/log-position';
import { WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';

export class ProjectionProgress {
  private readonly waiters = new Set<() => void>();
  /** Counts wake-ups, so that one arriving while a check is in flight is not lost. */
  private generation = 0;
  private readonly unsubscribers: Array<() => void>;

  constructor(
    private readonly knex: Knex,
    private readonly wakeups: Wakeups,
    private readonly projections: readonly string[],
    private readonly pollMs = { live: 1_000, fallback: 50 },
  ) {
    this.unsubscribers = projections.map((name) => wakeups.subscribe(WakeupTopics.projectionProgress(name), () => this.wakeAll()));
  }

  /** Whether every projection has committed a checkpoint at or past `position`. */
  async reached(position: LogPosition, projections: readonly string[] = this.projections): Promise<boolean> {
    if (projections.length === 0) return true;
    const row = await this.knex('projection_checkpoints')
      .whereIn('projection', projections as string[])
      .andWhereRaw('position COLLATE "C" >= ?', [position])
      .count<{ count: string }[]>({ count: '*' });
    return Number(row[0]?.count ?? 0) === projections.length;
  }

  /** Waits up to `timeoutMs` (or until `signal` aborts) for `reached(position)`; answers whether it was. */
  async waitFor(position: LogPosition, timeoutMs: number, options: { projections?: readonly string[]; signal?: AbortSignal } = {}): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkedAt = this.generation;
      if (await this.reached(position, options.projections)) return true;
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted) return false;
      if (this.generation !== checkedAt) continue; // progress arrived while checking: check again at once
      await this.sleep(Math.min(left, this.wakeups.live ? this.pollMs.live : this.pollMs.fallback), options.signal);
    }
  }

  close(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.wakeAll();
  }

  private wakeAll(): void {
    this.generation += 1;
    for (const wake of [...this.waiters]) wake();
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
