/**
 * Runs one projection: subscribes to the global log after the projection's checkpoint, applies each
 * batch of events in one transaction that also moves the checkpoint, and announces its progress as a
 * wake-up. Any failure rolls the batch back whole; the runner then waits, reopens the subscription
 * from the stored checkpoint and tries again, so an event's effects land exactly once. Each batch is
 * traced, and each event is applied in a span of the trace that wrote it (infra/telemetry).
 *
 * A batch costs one round trip whatever its size (batch-sql.ts): `BEGIN`, every statement the
 * projection built, the checkpoint's compare-and-set and `COMMIT` in one text. The runners of one
 * process read the log through one store, whose subscriptions share the pages they read
 * (shared-pages.ts), so each event is read and parsed once per process, not once per projection.
 *
 * A batch with nothing for this projection writes nothing at once: the runner has applied it (there
 * was nothing to apply), so it announces the batch's end as its progress straight away, and writes
 * the checkpoint at most every `skippedFlushMs` (and when it stops). The next batch it does apply
 * moves the stored checkpoint over the skipped events in its own transaction. Most projections
 * handle a few event types, so this spares one commit per projection for most batches; a crash
 * loses only the skipping, which the restarted runner redoes from the stored checkpoint.
 *
 * Under load the runner lingers: after a batch of more than one event that did not fill a page (events
 * arrive faster than batches are applied, and the runner is caught up), it waits `lingerMs` before
 * reading the next, so that the next batch is larger. Much of a batch's cost does not grow with its
 * size (the log read, a transaction with its checkpoint move and commit per projection, every runner's
 * turn, the progress wake-up), so fewer, larger batches spare CPU the API processes need; the price is
 * up to `lingerMs` more before an edit shows in the read models, and only while edits keep coming. A
 * single-event batch (a quiet log) or a full one (catching up) is followed at once.
 */
import type { Knex } from 'knex';
import type { EventStore, LogSubscription, RecordedEvent } from '../../infra/event-store/event-store';
import type { LogPosition } from '../../infra/event-store/log-position';
import type { Logger } from '../../infra/logging/logger';
import { traceProjectionApply, traceProjectionBatch } from '../../infra/telemetry/projection-tracing';
import { tracingActive } from '../../infra/telemetry/tracing';
import { WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';
import { CheckpointMoved, moveCheckpoint, readCheckpoint, recordProjectionError, type Checkpoint } from './checkpoints';
import { checkpointMoveSql, compileBatch, runBatchTransaction, statementBuilder, type CompiledStatement } from './batch-sql';
import type { Projection, SqlStatement } from './projection';
import { WakeableSleep } from '../../infra/wakeups/wakeable-sleep';

export interface ProjectionRunnerOptions {
  readonly store: EventStore;
  /** The read-model database (holds the projection's tables and its checkpoint). */
  readonly db: Knex;
  readonly projection: Projection;
  readonly wakeups: Wakeups;
  readonly logger: Logger;
  readonly batchSize?: number;
  /** First delay after a failure; doubles up to `maxRetryDelayMs`. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** How long the checkpoint may stay behind events this projection skipped (default 200 ms). */
  readonly skippedFlushMs?: number;
  /** How long to wait after a batch of several events before reading the next (default 10 ms; 0: never). */
  readonly lingerMs?: number;
}

/** How long the stored checkpoint may lag behind skipped events, unless told otherwise. */
export const SKIPPED_FLUSH_MS = 200;

/** How long a runner waits after a batch of several events before reading the next, unless told otherwise. */
export const LINGER_MS = 10;

export class ProjectionRunner {
  private running = false;
  private loop: Promise<void> | undefined;
  private subscription: LogSubscription | undefined;
  /** Where the projection has applied the log to (committed rows; skipped events need no rows). */
  private checkpoint: Checkpoint = 'start';
  /** The checkpoint as stored: the compare-and-set's expected value. Behind `checkpoint` only over skipped events. */
  private stored: Checkpoint = 'start';
  /** Set when writing a skipped checkpoint found it moved by someone else: the loop restarts from the stored one. */
  private movedElsewhere = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Serializes this runner's writes: batches and the delayed checkpoint writes. */
  private writing: Promise<unknown> = Promise.resolve();
  private readonly handled: ReadonlySet<string>;
  private readonly progressListeners = new Set<(position: LogPosition) => void>();
  /** Between a failure and the retry; woken when stopping. */
  private readonly pause = new WakeableSleep();

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.handled = new Set(options.projection.handles);
  }

  get name(): string {
    return this.options.projection.name;
  }

  /** How far this runner has applied the log: its last committed batch, or a later batch it skipped. */
  get position(): Checkpoint {
    return this.checkpoint;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the batch in hand commit, writes the checkpoint over any skipped events, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.pause.wake();
    await this.subscription?.close();
    await this.loop;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.serialized(() => this.storeSkipped());
  }

  /** Calls `listener` after every committed batch. */
  onProgress(listener: (position: LogPosition) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  private async run(): Promise<void> {
    let retryDelay = this.options.retryDelayMs ?? 100;
    while (this.running) {
      try {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        this.movedElsewhere = false;
        this.checkpoint = this.stored = await readCheckpoint(this.options.db, this.name);
        this.subscription = this.options.store.subscribeToAll({ fromPosition: this.checkpoint });
        while (this.running) {
          const batchSize = this.options.batchSize ?? 500;
          const batch = await this.subscription.nextBatch(batchSize);
          if (this.movedElsewhere) throw new CheckpointMoved(this.name);
          if (batch.length === 0) continue;
          await this.serialized(() => this.applyBatch(batch));
          retryDelay = this.options.retryDelayMs ?? 100;
          const lingerMs = this.options.lingerMs ?? LINGER_MS;
          if (lingerMs > 0 && batch.length > 1 && batch.length < batchSize && this.running) await this.pause.sleep(lingerMs);
        }
      } catch (error) {
        if (!this.running) break;
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof CheckpointMoved) {
          this.options.logger.warn({ projection: this.name }, 'checkpoint moved by another runner; resuming from it');
        } else {
          this.options.logger.error({ projection: this.name, err: error }, 'projection batch failed; will retry');
          await recordProjectionError(this.options.db, this.name, message).catch(() => undefined);
        }
        await this.subscription?.close().catch(() => undefined);
        await this.pause.sleep(retryDelay);
        retryDelay = Math.min(retryDelay * 2, this.options.maxRetryDelayMs ?? 10_000);
      } finally {
        await this.subscription?.close().catch(() => undefined);
      }
    }
  }

  private async applyBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const last = batch[batch.length - 1]!.position;
    const relevant = batch.filter((event) => this.handled.has(event.type));
    const described = { events: batch.length, applied: relevant.length, from: this.checkpoint, to: last };
    if (relevant.length === 0) {
      // Applied: there is nothing to apply. The stored checkpoint catches up later (storeSkipped).
      this.advance(last);
      this.storeSkippedIn(this.options.skippedFlushMs ?? SKIPPED_FLUSH_MS);
      return;
    }
    await traceProjectionBatch(this.name, described, async () => {
      const statements = await this.compile(relevant);
      if (statements === undefined) {
        await this.applyOneByOne(relevant, last);
      } else if (statements.length === 0) {
        // Nothing to write but the checkpoint: one statement is its own transaction.
        await moveCheckpoint(this.options.db, this.name, this.stored, last, relevant.length);
      } else if (!(await runBatchTransaction(this.options.db, checkpointMoveSql(this.name, this.stored, last, relevant.length), statements))) {
        throw new CheckpointMoved(this.name);
      }
    });
    this.stored = last;
    this.options.wakeups.publish(WakeupTopics.projectionChanged(this.name), last);
    this.advance(last);
  }

  private advance(position: LogPosition): void {
    this.checkpoint = position;
    this.options.wakeups.publish(WakeupTopics.projectionProgress(this.name), position);
    for (const listener of this.progressListeners) listener(position);
  }

  /**
   * Stores the checkpoint over the batches skipped since the last write. Someone else having moved it
   * (a rebuild's swap, another runner) restarts the loop from theirs; any other failure is retried later.
   */
  private async storeSkipped(): Promise<void> {
    const target = this.checkpoint;
    if (target === 'start' || target === this.stored) return;
    try {
      await moveCheckpoint(this.options.db, this.name, this.stored, target, 0);
      this.stored = target;
    } catch (error) {
      if (error instanceof CheckpointMoved) {
        this.movedElsewhere = true;
        await this.subscription?.close().catch(() => undefined);
        return;
      }
      this.options.logger.warn({ projection: this.name, err: error }, 'storing the checkpoint over skipped events failed; will retry');
      if (this.running) this.storeSkippedIn(this.options.retryDelayMs ?? 100);
    }
  }

  /** Schedules storeSkipped in `ms`, unless it is already scheduled. */
  private storeSkippedIn(ms: number): void {
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.serialized(() => this.storeSkipped());
    }, ms);
  }

  /** Runs `write` after every write of this runner already started. */
  private serialized<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writing.then(write, write);
    this.writing = result.catch(() => undefined);
    return result;
  }

  /**
   * The batch's statements compiled (see batch-sql.ts), each event's built in its apply span;
   * undefined when one of them cannot be written as text.
   */
  private async compile(events: readonly RecordedEvent[]): Promise<CompiledStatement[] | undefined> {
    const compiled: CompiledStatement[] = [];
    for (const event of events) {
      const build = () => {
        const built = this.options.projection.apply(event, statementBuilder);
        return compileBatch(Array.isArray(built) ? built : [built as SqlStatement]);
      };
      // A child of the trace that wrote the event, when its metadata carries one (and anything is traced).
      const statements = tracingActive() ? await traceProjectionApply(this.name, event, async () => build()) : build();
      if (statements === undefined) return undefined;
      compiled.push(...statements);
    }
    return compiled;
  }

  /** The batch one statement at a time in a knex transaction, for statements that cannot be inlined. */
  private async applyOneByOne(relevant: readonly RecordedEvent[], last: LogPosition): Promise<void> {
    await this.options.db.transaction(async (trx) => {
      for (const event of relevant) {
        const statements = this.options.projection.apply(event, trx);
        for (const statement of Array.isArray(statements) ? statements : [statements]) await statement;
      }
      await moveCheckpoint(trx, this.name, this.stored, last, relevant.length);
    });
  }
}
