/**
 * How far the projections have got, for read-your-writes: a reader holding a log position (from a
 * command's X-Consistency-Token) waits until every projection has applied the log up to it.
 *
 * Two sources say so. A runner's progress wake-up carries the position it has applied to (rows
 * committed, or a batch with nothing for it: see projection-runner.ts), so a position it announced
 * is answered from memory without a query. Projections not yet heard of at that position are asked
 * of the stored checkpoints, which may trail by the runner's `skippedFlushMs`. Without wake-ups
 * (NATS down) only the second source remains: read-your-writes still holds, only slower.
 */
import type { Knex } from 'knex';
import { LogPosition } from '../../infra/event-store/log-position';
import { WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';

export class ProjectionProgress {
  private readonly waiters = new Set<() => void>();
  /** Counts wake-ups, so that one arriving while a check is in flight is not lost. */
  private generation = 0;
  private readonly unsubscribers: Array<() => void>;
  /** The furthest position each projection is known to have applied (announced or read). */
  private readonly known = new Map<string, LogPosition>();

  constructor(
    private readonly knex: Knex,
    private readonly wakeups: Wakeups,
    private readonly projections: readonly string[],
    private readonly pollMs = { live: 1_000, fallback: 50 },
  ) {
    this.unsubscribers = projections.map((name) =>
      wakeups.subscribe(WakeupTopics.projectionProgress(name), (payload) => {
        const announced = LogPosition.parse(payload);
        if (announced) this.learn(name, announced);
        this.wakeAll();
      }),
    );
  }

  /** Whether every projection has applied the log at least up to `position`. */
  async reached(position: LogPosition, projections: readonly string[] = this.projections): Promise<boolean> {
    const unknown = projections.filter((name) => !this.knownAt(name, position));
    if (unknown.length === 0) return true;
    const rows = await this.knex('projection_checkpoints').whereIn('projection', unknown).whereNotNull('position').select<{ projection: string; position: string }[]>('projection', 'position');
    for (const row of rows) {
      const stored = LogPosition.parse(row.position);
      if (stored) this.learn(row.projection, stored);
    }
    return unknown.every((name) => this.knownAt(name, position));
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

  private knownAt(projection: string, position: LogPosition): boolean {
    const known = this.known.get(projection);
    return known !== undefined && known >= position;
  }

  private learn(projection: string, position: LogPosition): void {
    const known = this.known.get(projection);
    if (known === undefined || position > known) this.known.set(projection, position);
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
