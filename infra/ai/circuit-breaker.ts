/**
 * A circuit breaker per provider and process: after `failureThreshold` failed calls in a row it opens,
 * and every call is refused at once (no network) for `openMs`; then one trial call is let through
 * (half-open): its success closes the breaker, its failure opens it again. What counts as a failure is
 * the caller's decision (provider errors and timeouts, not a client hanging up).
 */

export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export class CircuitOpenError extends Error {
  constructor(readonly retryAfterMs: number) {
    super('the circuit is open');
    this.name = 'CircuitOpenError';
  }
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.options.openMs ? 'half_open' : 'open';
  }

  /** Throws CircuitOpenError unless a call may go out now; returns a release to report the outcome with. */
  admit(): { succeeded(): void; failed(): void; abandoned(): void } {
    const state = this.state;
    if (state === 'open' || (state === 'half_open' && this.trialInFlight)) {
      const remaining = this.openedAt === undefined ? this.options.openMs : Math.max(0, this.options.openMs - (this.now() - this.openedAt));
      throw new CircuitOpenError(state === 'open' ? remaining : 1_000);
    }
    const trial = state === 'half_open';
    if (trial) this.trialInFlight = true;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'abandoned') => {
      if (settled) return;
      settled = true;
      if (trial) this.trialInFlight = false;
      if (outcome === 'success') {
        this.failures = 0;
        this.openedAt = undefined;
      } else if (outcome === 'failure') {
        this.failures++;
        if (trial || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
      }
    };
    return { succeeded: () => settle('success'), failed: () => settle('failure'), abandoned: () => settle('abandoned') };
  }
}
