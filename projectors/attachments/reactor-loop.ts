/**
 * The loop a storage reactor runs in the projectors process: do work until there is none, then sleep
 * until its projection reports progress (a wake-up: new work may have been projected) or the poll
 * interval passes. Failures are logged and retried on the next round; stopping waits for the round in
 * hand to finish.
 */
import type { Logger } from '../../infra/logging/logger';
import { WakeupTopics, type Wakeups } from '../../infra/wakeups/wakeups';
import { WakeableSleep } from '../../infra/wakeups/wakeable-sleep';

export interface ReactorLoopOptions {
  readonly name: string;
  /** Wake when these projections advance. */
  readonly projections: readonly string[];
  readonly wakeups: Wakeups;
  readonly logger: Logger;
  readonly pollMs: number;
  /** One round of work; answers whether it did anything (then another round follows at once). */
  readonly round: () => Promise<boolean>;
}

export class ReactorLoop {
  private running = false;
  private readonly pause = new WakeableSleep();
  private loop: Promise<void> | undefined;
  private unsubscribers: Array<() => void> = [];

  constructor(private readonly options: ReactorLoopOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribers = this.options.projections.map((projection) => this.options.wakeups.subscribe(WakeupTopics.projectionChanged(projection), () => this.pause.wake()));
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.pause.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        worked = await this.options.round();
      } catch (error) {
        this.options.logger.warn({ err: error, reactor: this.options.name }, 'reactor round failed; retrying');
      }
      if (!worked && this.running) await this.pause.sleep(this.options.pollMs);
    }
  }
}
