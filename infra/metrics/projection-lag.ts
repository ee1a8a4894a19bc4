/**
 * How far each projection trails the log, read from the outside: its checkpoint (the
 * projection_checkpoints table) against the event store. Lag in events is the number of events after
 * the checkpoint; lag in seconds is the age of the oldest of them (0 when there is none). The monitor
 * refreshes the projection gauges periodically and before each scrape, and answers /readyz.
 *
 * With the PostgreSQL store the events table sits in the read-model database, so one indexed query on
 * `(transaction_id, global_position)` counts and dates the backlog, on the database's own clock. It
 * counts every committed event after the checkpoint, including those a reader cannot take yet because
 * an older transaction is still open: those are lag too. Any other store is paged with `readAll`.
 * Either way counting stops at a cap, so a projection being rebuilt costs a bounded query.
 */
import type { Knex } from 'knex';
import type { EventStore } from '../event-store/event-store';
import { LogPosition, START } from '../event-store/log-position';
import { PostgresEventStore } from '../event-store/postgres/postgres-event-store';
import type { Logger } from '../logging/logger';
import type { Metrics } from './metrics';

export interface ProjectionLag {
  readonly projection: string;
  readonly checkpoint: LogPosition | 'start';
  /** Events after the checkpoint, at most the cap (then `capped` is true). */
  readonly events: number;
  readonly capped: boolean;
  /** Age of the oldest event not applied yet, in seconds; 0 when there is none. */
  readonly seconds: number;
}

export interface ProjectionLagMonitorOptions {
  /** The read-model database: the checkpoints (and, with the PostgreSQL store, the events table). */
  readonly db: Knex;
  /** The event store adapter itself (a decorator hides that it is the PostgreSQL one). */
  readonly store: EventStore;
  readonly projections: readonly string[];
  readonly metrics?: Pick<Metrics, 'projectionCheckpointInfo' | 'projectionLagEvents' | 'projectionLagSeconds' | 'refreshBeforeScrape'>;
  /** Periodic refresh while started (default 5 s). */
  readonly intervalMs?: number;
  /** A scrape reads the lags again when the last read is older than this (default 1 s). */
  readonly scrapeMaxAgeMs?: number;
  /** How many events after a checkpoint are counted at most (default 100,000; 10,000 when paging). */
  readonly maxCountedEvents?: number;
  /** `sql` needs the PostgreSQL store's events table in `db`; default: `sql` for that store, else `readAll`. */
  readonly countWith?: 'sql' | 'readAll';
  /** For the `readAll` count only (the SQL count uses the database clock). */
  readonly clock?: () => Date;
  readonly logger?: Logger;
}

const PAGE = 1_000;

export class ProjectionLagMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopScrapeRefresh: (() => void) | undefined;
  private inFlight: Promise<readonly ProjectionLag[]> | undefined;
  private last: { readonly at: number; readonly lags: readonly ProjectionLag[] } | undefined;
  private readonly countWith: 'sql' | 'readAll';
  private readonly cap: number;
  private readonly clock: () => Date;

  constructor(private readonly options: ProjectionLagMonitorOptions) {
    this.countWith = options.countWith ?? (options.store instanceof PostgresEventStore ? 'sql' : 'readAll');
    this.cap = options.maxCountedEvents ?? (this.countWith === 'sql' ? 100_000 : 10_000);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Refreshes every `intervalMs`, and before each scrape of the metrics. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.intervalMs ?? 5_000);
    this.timer.unref();
    this.stopScrapeRefresh = this.options.metrics?.refreshBeforeScrape(() => this.current(this.options.scrapeMaxAgeMs ?? 1_000));
    void this.refresh().catch(() => undefined);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopScrapeRefresh?.();
    this.stopScrapeRefresh = undefined;
  }

  /** The last lags read, if any. */
  get latest(): readonly ProjectionLag[] | undefined {
    return this.last?.lags;
  }

  /** The lags read at most `maxAgeMs` ago, reading them again if they are older. */
  async current(maxAgeMs = 1_000): Promise<readonly ProjectionLag[]> {
    if (this.last && Date.now() - this.last.at < maxAgeMs) return this.last.lags;
    return this.refresh();
  }

  /** Reads every projection's lag now (joining a read in progress) and updates the gauges. */
  refresh(): Promise<readonly ProjectionLag[]> {
    if (!this.inFlight) {
      this.inFlight = this.read()
        .then((lags) => {
          this.last = { at: Date.now(), lags };
          this.publish(lags);
          return lags;
        })
        .catch((error: unknown) => {
          this.options.logger?.warn({ err: error }, 'projection lag could not be read');
          throw error;
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    return this.inFlight;
  }

  private async read(): Promise<ProjectionLag[]> {
    const checkpoints = await this.readCheckpoints();
    return Promise.all(
      this.options.projections.map(async (projection) => {
        const checkpoint = checkpoints.get(projection) ?? 'start';
        const backlog = this.countWith === 'sql' ? await this.backlogBySql(checkpoint) : await this.backlogByPaging(checkpoint);
        return { projection, checkpoint, ...backlog };
      }),
    );
  }

  private async readCheckpoints(): Promise<Map<string, LogPosition>> {
    const rows = await this.options
      .db('projection_checkpoints')
      .whereIn('projection', [...this.options.projections])
      .select<{ projection: string; position: string | null }[]>('projection', 'position');
    const checkpoints = new Map<string, LogPosition>();
    for (const row of rows) {
      const position = row.position === null ? undefined : LogPosition.parse(row.position);
      if (position) checkpoints.set(row.projection, position);
    }
    return checkpoints;
  }

  private async backlogBySql(checkpoint: LogPosition | 'start'): Promise<Omit<ProjectionLag, 'projection' | 'checkpoint'>> {
    const after = checkpoint === 'start' ? START : checkpoint;
    const result = await this.options.db.raw<{ rows: { events: string; seconds: number | null }[] }>(
      `SELECT count(*) AS events, extract(epoch FROM clock_timestamp() - min(recorded_at))::float8 AS seconds
         FROM (SELECT recorded_at FROM events
                WHERE (transaction_id, global_position) > (?::xid8, ?::bigint)
                ORDER BY events.transaction_id, events.global_position
                LIMIT ?) AS backlog`,
      [LogPosition.major(after).toString(), LogPosition.minor(after).toString(), this.cap],
    );
    const row = result.rows[0];
    const events = Number(row?.events ?? 0);
    return { events, capped: events >= this.cap, seconds: events === 0 ? 0 : Math.max(0, row?.seconds ?? 0) };
  }

  private async backlogByPaging(checkpoint: LogPosition | 'start'): Promise<Omit<ProjectionLag, 'projection' | 'checkpoint'>> {
    let from = checkpoint;
    let events = 0;
    let oldest: number | undefined;
    while (events < this.cap) {
      const wanted = Math.min(PAGE, this.cap - events);
      const page = await this.options.store.readAll({ fromPosition: from, maxCount: wanted });
      for (const event of page) oldest = Math.min(oldest ?? Infinity, event.recordedAt.getTime());
      events += page.length;
      const last = page[page.length - 1];
      if (!last || page.length < wanted) break;
      from = last.position;
    }
    const seconds = oldest === undefined ? 0 : Math.max(0, (this.clock().getTime() - oldest) / 1_000);
    return { events, capped: events >= this.cap, seconds };
  }

  private publish(lags: readonly ProjectionLag[]): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    // One checkpoint series per projection: the old position's series goes when the new one comes.
    metrics.projectionCheckpointInfo.reset();
    for (const lag of lags) {
      metrics.projectionCheckpointInfo.set({ projection: lag.projection, position: lag.checkpoint }, 1);
      metrics.projectionLagEvents.set({ projection: lag.projection }, lag.events);
      metrics.projectionLagSeconds.set({ projection: lag.projection }, lag.seconds);
    }
  }
}
