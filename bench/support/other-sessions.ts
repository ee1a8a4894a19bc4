/**
 * Other work on the PostgreSQL server during the service benchmarks: ServerActivityMonitor's sampling,
 * but with several application names counted as this run's own, because the service in this process
 * names its connections itself (`scriptorium-<role>`). A test suite that starts the service under the
 * same names is not seen; any other session is.
 */
import type { Knex } from 'knex';
import type { ServerActivity } from './server-activity';

const SAMPLE_EVERY_MS = 1_000;

export class OtherSessionsMonitor {
  private samples = 0;
  private busySamples = 0;
  private maxOtherSessions = 0;
  private longestOtherTransactionMs = 0;
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly knex: Knex,
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
    const result = await this.knex.raw<{ rows: { others: string; longest_ms: number | null }[] }>(
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
