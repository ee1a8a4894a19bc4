/**
 * Other work on the PostgreSQL server while the benchmark runs. The machine may be shared (test
 * suites use the same server), and other sessions skew the figures in two ways: they take CPU, and any
 * open transaction anywhere on the cluster holds back pg_snapshot_xmin, which is what log readers wait
 * for. The monitor samples pg_stat_activity once a second so the report can say whether that happened.
 */
import type { Knex } from 'knex';

export interface ServerActivity {
  readonly samples: number;
  /** Samples in which at least one other session was running a statement or holding a transaction. */
  readonly busySamples: number;
  readonly maxOtherSessions: number;
  /** The oldest transaction of another session seen in any sample. */
  readonly longestOtherTransactionMs: number;
}

interface Sample {
  others: string;
  longest_ms: number | null;
}

const SAMPLE_EVERY_MS = 1_000;

export class ServerActivityMonitor {
  private samples = 0;
  private busySamples = 0;
  private maxOtherSessions = 0;
  private longestOtherTransactionMs = 0;
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly knex: Knex,
    /** This run's own sessions: the bench's, and the in-process service's (`scriptorium-<role>`). */
    private readonly ownApplicationNames: readonly string[],
  ) {
    this.timer = setInterval(() => {
      this.sampling = this.sample().catch(() => undefined);
    }, SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<ServerActivity> {
    clearInterval(this.timer);
    await this.sampling;
    return {
      samples: this.samples,
      busySamples: this.busySamples,
      maxOtherSessions: this.maxOtherSessions,
      longestOtherTransactionMs: this.longestOtherTransactionMs,
    };
  }

  private async sample(): Promise<void> {
    const result = await this.knex.raw<{ rows: Sample[] }>(
      `SELECT count(*) AS others,
              max(extract(epoch FROM clock_timestamp() - xact_start) * 1000)::float8 AS longest_ms
         FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> ALL(?::text[])
          AND (state <> 'idle' OR backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)`,
      [[...this.ownApplicationNames]], // one binding: node-postgres sends a JS array as a PostgreSQL array
    );
    const row = result.rows[0];
    const others = Number(row?.others ?? 0);
    this.samples++;
    if (others > 0) this.busySamples++;
    this.maxOtherSessions = Math.max(this.maxOtherSessions, others);
    this.longestOtherTransactionMs = Math.max(this.longestOtherTransactionMs, row?.longest_ms ?? 0);
  }
}
