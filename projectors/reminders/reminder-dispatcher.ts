/**
 * The reminder dispatcher (projectors part): finds reminders whose `fire_at` has come in the
 * `reminder_schedule` read model and fires each by deciding `FireReminder` on its stream and appending
 * with the expected revision. The stream, not the read model, decides: a reminder already fired for
 * this occurrence decides nothing, and of two dispatchers firing the same occurrence at once, one
 * append wins and the other's fails its revision check, re-reads, and decides nothing. So every
 * occurrence is recorded exactly once however many dispatchers run and whenever one is killed: a
 * firing is either in the log or not, and one not in the log is simply fired by the next tick.
 *
 * Time comes from the injected clock. The loop sleeps until the soonest upcoming `fire_at` or
 * `intervalMs`, whichever is sooner, and wakes early when the reminders projection advances (a new
 * reminder may be due sooner). Rows this process fired but the projection has not caught up with
 * yet are skipped rather than re-read.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { noteDecider, noteStreamId } from '../../domain/notes/note';
import { fireIsDue, reminderDecider, reminderStreamId, type Reminder, type ReminderCommand } from '../../domain/reminders/reminder';
import type { EventStore } from '../../infra/event-store/event-store';
import type { Logger } from '../../infra/logging/logger';
import { WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';
import { handleCommand, loadAggregate } from '../../command-api/command-handling';
import { WakeableSleep } from '../../infra/wakeups/wakeable-sleep';

export interface ReminderDispatcherOptions {
  readonly store: EventStore;
  readonly db: Knex;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly wakeups?: Wakeups;
  /** Longest sleep between scans. */
  readonly intervalMs: number;
  /** Reminders fired at once. */
  readonly concurrency: number;
  /** Rows read per page of a scan. */
  readonly batchSize?: number;
}

export interface TickResult {
  /** Firings this tick appended. */
  readonly fired: number;
  /** Due rows it looked at (including ones another dispatcher fired first). */
  readonly examined: number;
  readonly failed: number;
}

interface DueRow {
  reminder_id: string;
  fire_at: Date;
}

/** How long a firing of ours is remembered while the projection catches up with it. */
const RECENT_MS = 5 * 60_000;

export class ReminderDispatcher {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly pause = new WakeableSleep();
  private unsubscribe: (() => void) | undefined;
  /** reminder id -> the fire_at we fired (and when, by the wall clock, for pruning). */
  private readonly recent = new Map<string, { fireAt: number; firedAt: number }>();

  constructor(private readonly options: ReminderDispatcherOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.wakeups?.subscribe(WakeupTopics.projectionChanged('reminders'), () => this.pause.wake());
    this.loop = this.run();
  }

  /** Lets the firings in hand finish, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.pause.wake();
    await this.loop;
    this.loop = undefined;
  }

  /** One scan: fires everything due at the clock's now. */
  async tick(): Promise<TickResult> {
    const now = this.options.clock();
    this.prune();
    const batchSize = this.options.batchSize ?? 500;
    let after: DueRow | undefined;
    let fired = 0;
    let examined = 0;
    let failed = 0;
    for (;;) {
      const query = this.options.db('reminder_schedule')
        .whereNotNull('fire_at')
        .andWhere('note_deleted', false)
        .andWhere('fire_at', '<=', now)
        .orderBy([{ column: 'fire_at' }, { column: 'reminder_id' }])
        .limit(batchSize)
        .select<DueRow[]>('reminder_id', 'fire_at');
      if (after) query.andWhereRaw('(fire_at, reminder_id) > (?, ?)', [after.fire_at, after.reminder_id]);
      const rows = await query;
      // Shuffled, so that dispatchers reading the same page mostly take different reminders first
      // (a reminder another one fired already costs one stream read, not a firing).
      const owed = shuffle(rows.filter((row) => this.recent.get(row.reminder_id)?.fireAt !== row.fire_at.getTime()));
      examined += owed.length;
      await forEach(owed, this.options.concurrency, async (row) => {
        try {
          if (await this.fire(row.reminder_id, now)) fired++;
          this.recent.set(row.reminder_id, { fireAt: row.fire_at.getTime(), firedAt: Date.now() });
        } catch (error) {
          failed++;
          this.options.logger.warn({ err: error, reminderId: row.reminder_id }, 'firing a reminder failed; the next scan retries it');
        }
      });
      if (rows.length < batchSize || (!this.running && this.loop !== undefined)) break;
      after = rows[rows.length - 1];
    }
    return { fired, examined, failed };
  }

  /** Decides and appends one firing; answers whether this call recorded it. */
  private async fire(reminderId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const correlationId = randomUUID();
    const result = await handleCommand(
      this.options.store,
      reminderStreamId(reminderId),
      reminderDecider,
      async (state: Reminder): Promise<ReminderCommand> => {
        if (!fireIsDue(state, at)) return { type: 'FireReminder', noteTitle: '', noteLive: false, now: at };
        const note = (await loadAggregate(this.options.store, noteStreamId(state.noteId), noteDecider)).state;
        const live = note.status === 'active' && note.ownerId === state.ownerId;
        return { type: 'FireReminder', noteTitle: live ? note.title : '', noteLive: live, now: at };
      },
      { actorId: null, correlationId, causationId: correlationId, now },
    );
    return result.events.length > 0;
  }

  private prune(): void {
    const horizon = Date.now() - RECENT_MS;
    for (const [id, entry] of this.recent) if (entry.firedAt < horizon) this.recent.delete(id);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'reminder dispatch scan failed; retrying');
      }
      if (!this.running) break;
      await this.pause.sleep(await this.untilNext().catch(() => this.options.intervalMs));
    }
  }

  /** Milliseconds until the soonest reminder not yet due, at most intervalMs. */
  private async untilNext(): Promise<number> {
    const now = this.options.clock();
    const row = await this.options.db('reminder_schedule')
      .whereNotNull('fire_at')
      .andWhere('note_deleted', false)
      .andWhere('fire_at', '>', now)
      .min<{ next: Date | null }[]>({ next: 'fire_at' });
    const next = row[0]?.next;
    if (!next) return this.options.intervalMs;
    return Math.max(0, Math.min(this.options.intervalMs, next.getTime() - now.getTime()));
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Runs `work` over `items`, at most `concurrency` at a time. */
async function forEach<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
