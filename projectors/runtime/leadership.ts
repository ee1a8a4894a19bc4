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
 *
 * The projections of one process share one such connection (`LeadershipConnection`): a session holds
 * any number of advisory locks, and one connection per projection would soon exhaust the server's
 * connection limit. When the shared connection dies, every projection led on it stops and stands by.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../infra/logging/logger';
import { WakeableSleep } from '../../infra/wakeups/wakeable-sleep';

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
  /** A connection shared with the process's other projections; unset: one of this projection's own. */
  readonly shared?: LeadershipConnection;
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
  /** Between tries and checks; woken when stopping or when the connection is lost. */
  private readonly pause = new WakeableSleep();
  private abandon: (() => void) | undefined;
  private readonly connection: LeadershipConnection;

  constructor(private readonly options: ProjectionLeadershipOptions) {
    this.key = leadershipKey(options.schema, options.runner.name).toString();
    this.retryMs = options.retryMs ?? 1_000;
    this.connection = options.shared ?? new LeadershipConnection(options.connection, this.retryMs);
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
    this.pause.wake();
    // A standby has nothing to finish: don't wait for a connection attempt to time out.
    if (!this.leading) this.abandon?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let lease: Lease | undefined;
      try {
        lease = await this.acquire();
        if (lease) {
          this.session = lease.session;
          if (await this.standBy(lease.session)) await this.lead(lease.session);
        }
      } catch (error) {
        if (!this.stopping) this.options.logger.warn({ projection: this.name, err: error }, 'leadership connection lost or refused; standing by again');
      } finally {
        this.session = undefined;
        await lease?.release();
      }
      if (!this.stopping) await this.pause.sleep(this.retryMs);
    }
  }

  /** The connection, or undefined when stopping cut the wait for it short. */
  private async acquire(): Promise<Lease | undefined> {
    const abandoned = new Promise<undefined>((resolve) => (this.abandon = () => resolve(undefined)));
    const leasing = this.connection.lease(() => this.pause.wake());
    const lease = await Promise.race([leasing, abandoned]).finally(() => (this.abandon = undefined));
    if (lease) return lease;
    void leasing.then((late) => late.release(), () => undefined);
    return undefined;
  }

  /** Tries for the lock every retryMs; answers whether it was taken (false: stopping). Throws when the connection is lost. */
  private async standBy(session: Session): Promise<boolean> {
    for (;;) {
      if (session.lost) throw session.lost;
      const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.key]);
      if (rows[0]?.locked) {
        if (!this.stopping) return true;
        await session.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]);
        return false;
      }
      if (this.stopping) return false;
      await this.pause.sleep(this.retryMs);
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
        await this.pause.sleep(this.retryMs);
        if (this.stopping) break;
        if (session.lost) throw session.lost;
        // A session that died quietly (no reset, no FIN) shows up here rather than as an event.
        await session.query('SELECT 1', []);
      }
    } finally {
      await this.options.runner.stop();
      this.leading = false;
      this.options.onChange?.(false);
    }
    await session.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]).catch(() => undefined);
  }
}

interface Session {
  readonly client: pg.Client;
  lost: Error | undefined;
  /** One query at a time: the projections sharing the connection take turns. */
  query<Row extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<Row>>;
}

interface SharedSession {
  readonly session: Session;
  readonly connecting: Promise<void>;
  users: number;
  readonly listeners: Set<() => void>;
}

interface Lease {
  readonly session: Session;
  release(): Promise<void>;
}

/**
 * One dedicated connection shared by the leaderships of a process, opened when the first needs it and
 * closed when the last lets go. A lost connection is never reused: the next lease opens a new one.
 */
export class LeadershipConnection {
  private current: SharedSession | undefined;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly retryMs = 1_000,
  ) {}

  /** The connection, connected; `onLoss` is called if it fails or ends while leased. */
  async lease(onLoss: () => void): Promise<Lease> {
    const entry = !this.current || this.current.session.lost ? (this.current = this.open()) : this.current;
    entry.users += 1;
    entry.listeners.add(onLoss);
    const release = async () => {
      entry.listeners.delete(onLoss);
      entry.users -= 1;
      if (entry.users > 0) return;
      if (this.current === entry) this.current = undefined;
      await entry.session.client.end().catch(() => undefined);
    };
    try {
      await entry.connecting;
    } catch (error) {
      await release();
      throw error;
    }
    return { session: entry.session, release };
  }

  /** A query on a session that died without a word times out instead of hanging. */
  private open(): SharedSession {
    const client = new pg.Client({ query_timeout: Math.max(5 * this.retryMs, 5_000), ...this.connection });
    let turn: Promise<unknown> = Promise.resolve();
    const session: Session = {
      client,
      lost: undefined,
      query<Row extends pg.QueryResultRow>(text: string, values: unknown[]) {
        const result = turn.then(() => client.query<Row>(text, values));
        turn = result.catch(() => undefined);
        return result;
      },
    };
    const listeners = new Set<() => void>();
    const onLoss = (error: Error) => {
      session.lost ??= error;
      for (const listener of [...listeners]) listener();
    };
    client.on('error', onLoss);
    client.on('end', () => onLoss(new Error('leadership connection ended')));
    const connecting = client.connect().then(() => undefined);
    connecting.catch(() => undefined);
    return { session, connecting, users: 0, listeners };
  }
}
