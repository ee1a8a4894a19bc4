/**
 * Leadership of one projection among processes: whoever holds a session-level PostgreSQL advisory lock
 * (key derived from the schema and the projection's name) runs the projection; the others stand by,
 * trying again every `retryMs`. The lock lives on a connection of its own, never a pooled one, because
 * it belongs to the session: a pooled connection would go back to the pool still holding it, or be
 * closed under it. When the process dies, its session ends and PostgreSQL releases the lock, so a
 * standby takes over within one retry. When the connection dies under a live process, the runner is
 * stopped (another process may be leader by now) and this one goes back to standing by.
 *
 * Leadership saves work; it is not what keeps effects exactly-once. A leader that has lost its session
 * may still commit the batch in hand while the next leader starts: the checkpoint's compare-and-set
 * makes one of the two transactions roll back. Session-level locks need a real session: behind a
 * transaction-pooling proxy (PgBouncer in transaction mode) point `connection` at the server itself.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../infra/logging/logger';

/** What leadership starts and stops: a ProjectionRunner. */
export interface LedRunner {
  readonly name: string;
  start(): void;
  /** Lets the batch in hand commit, then stops. */
  stop(): Promise<void>;
}

export interface ProjectionLeadershipOptions {
  /** Settings of the dedicated connection that holds the lock. */
  readonly connection: pg.ClientConfig;
  /** The schema the projection writes into: the same projection in another schema is another lock. */
  readonly schema: string;
  readonly runner: LedRunner;
  readonly logger: Logger;
  /** How often a standby tries for the lock, and a leader checks its connection (default 1000). */
  readonly retryMs?: number;
  /** Called when this process becomes leader (true) or stops being it (false). */
  readonly onChange?: (leading: boolean) => void;
}

/** The advisory lock key of a projection in a schema: 64 bits of a SHA-256, as PostgreSQL's bigint. */
export function leadershipKey(schema: string, projection: string): bigint {
  const digest = createHash('sha256').update(`scriptorium.projection-leadership\0${schema}\0${projection}`, 'utf8').digest();
  return digest.readBigInt64BE(0);
}

export class ProjectionLeadership {
  private readonly key: string;
  private readonly retryMs: number;
  private loop: Promise<void> | undefined;
  private session: Session | undefined;
  private stopping = false;
  private leading = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: ProjectionLeadershipOptions) {
    this.key = leadershipKey(options.schema, options.runner.name).toString();
    this.retryMs = options.retryMs ?? 1_000;
  }

  get name(): string {
    return this.options.runner.name;
  }

  /** Whether this process runs the projection right now. */
  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops the runner (its batch in hand commits), releases the lock and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // A standby has nothing to finish: don't wait for a connection attempt to time out.
    if (!this.leading) void this.session?.client.end().catch(() => undefined);
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const session = (this.session = this.openSession());
      try {
        await session.client.connect();
        if (await this.standBy(session)) await this.lead(session);
      } catch (error) {
        if (!this.stopping) this.options.logger.warn({ projection: this.name, err: error }, 'leadership connection lost or refused; standing by again');
      } finally {
        this.session = undefined;
        await session.client.end().catch(() => undefined);
      }
      if (!this.stopping) await this.sleep(this.retryMs);
    }
  }

  /**
   * A new dedicated connection, and what became of it: `lost` is set (and any sleep cut short) when it
   * fails or ends. A query on a session that died without a word times out instead of hanging.
   */
  private openSession(): Session {
    const client = new pg.Client({ query_timeout: Math.max(5 * this.retryMs, 5_000), ...this.options.connection });
    const session: Session = { client, lost: undefined };
    const onLoss = (error: Error) => {
      session.lost ??= error;
      this.wake?.();
    };
    client.on('error', onLoss);
    client.on('end', () => onLoss(new Error('leadership connection ended')));
    return session;
  }

  /** Tries for the lock every retryMs; answers whether it was taken (false: stopping). Throws when the connection is lost. */
  private async standBy(session: Session): Promise<boolean> {
    for (;;) {
      if (session.lost) throw session.lost;
      const { rows } = await session.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.key]);
      if (rows[0]?.locked) {
        if (!this.stopping) return true;
        await session.client.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]);
        return false;
      }
      if (this.stopping) return false;
      await this.sleep(this.retryMs);
      if (this.stopping) return false;
    }
  }

  /** Runs the projection until stopping, or until the connection (and with it the lock) is lost. */
  private async lead(session: Session): Promise<void> {
    if (this.stopping) return;
    this.leading = true;
    this.options.logger.info({ projection: this.name }, 'leading the projection');
    this.options.onChange?.(true);
    this.options.runner.start();
    try {
      while (!this.stopping) {
        await this.sleep(this.retryMs);
        if (this.stopping) break;
        if (session.lost) throw session.lost;
        // A session that died quietly (no reset, no FIN) shows up here rather than as an event.
        await session.client.query('SELECT 1');
      }
    } finally {
      await this.options.runner.stop();
      this.leading = false;
      this.options.onChange?.(false);
    }
    await session.client.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]).catch(() => undefined);
  }

  /** Waits `ms`, or less when stopping or when the connection is lost. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

interface Session {
  readonly client: pg.Client;
  lost: Error | undefined;
}
