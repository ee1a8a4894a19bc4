/**
 * A sleep that can be cut short. The polling loops (the log subscription; in the projectors part the
 * projection runner and its leadership, the reminder dispatcher, the notification delivery worker, the
 * storage and export reactors) wait between rounds with `sleep(ms)`, and are woken early with `wake()`:
 * when stopping or closing, when a wake-up says new work may be there, when a connection is lost. A `wake()` while nothing sleeps does nothing, so a loop checks
 * its own state after each sleep rather than counting on being woken.
 */
export class WakeableSleep {
  private current: (() => void) | undefined;

  /** Waits `ms`, or less when woken. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.current === done) this.current = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.current = done;
    });
  }

  /** Ends the sleep in progress, if any. */
  wake(): void {
    this.current?.();
  }
}
