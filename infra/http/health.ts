/**
 * Liveness and readiness. /healthz says the process answers. /readyz says whether this instance should
 * take traffic: the database answers a query, the event store names its head position, and no
 * projection trails the log by more than the allowed lag (its readers would see stale data). Wake-ups
 * are reported but never make the instance unready: without NATS readers poll, and the service works.
 * Every check has a deadline, so a dependency that hangs answers 503 quickly instead of hanging the probe.
 */
import { Router } from 'express';
import type pg from 'pg';
import type { EventStore } from '../event-store/event-store';
import type { Wakeups } from '../wakeups/wakeups';

/** What /readyz needs to know of one projection's lag (the projection lag monitor answers it). */
export interface ProjectionLagReading {
  readonly projection: string;
  /** Age of the oldest event not yet applied, in seconds (0 when there is none). */
  readonly seconds: number;
  readonly events: number;
}

export interface HealthOptions {
  readonly pool: pg.Pool;
  readonly wakeups: Wakeups;
  /** Checked with `headPosition()`; without it the event store is not reported. */
  readonly store?: Pick<EventStore, 'headPosition'>;
  /** Each projection's lag; without it projections are not checked. */
  readonly projectionLag?: () => Promise<readonly ProjectionLagReading[]>;
  /** A projection trailing by more seconds than this makes the instance unready (default 60). */
  readonly maxProjectionLagSeconds?: number;
  /** Deadline of each check (default 2 s). */
  readonly checkTimeoutMs?: number;
}

type CheckResult = 'ok' | 'unreachable' | 'timeout';

export function healthRoutes(options: HealthOptions): Router {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const maxLagSeconds = options.maxProjectionLagSeconds ?? 60;
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const store = options.store;
    const projectionLag = options.projectionLag;
    const [database, eventStore, projections] = await Promise.all([
      check(() => options.pool.query('SELECT 1'), timeoutMs),
      store ? check(() => store.headPosition(), timeoutMs) : undefined,
      projectionLag ? checkProjections(projectionLag, maxLagSeconds, timeoutMs) : undefined,
    ]);
    const wakeups = options.wakeups.live ? 'live' : 'polling';
    const ready = database === 'ok' && (eventStore ?? 'ok') === 'ok' && (projections?.status ?? 'ok') === 'ok';
    const notes =
      wakeups === 'polling'
        ? ['wake-ups are not live (NATS is unreachable or not configured): readers poll the log instead, so the instance stays ready']
        : [];
    res
      .status(ready ? 200 : 503)
      .setHeader('Cache-Control', 'no-store')
      .json({
        status: ready ? 'ready' : 'not_ready',
        database,
        ...(eventStore ? { eventStore } : {}),
        wakeups,
        ...(projections ? { projections } : {}),
        ...(notes.length > 0 ? { notes } : {}),
      });
  });
  return router;
}

interface ProjectionsReport {
  /** `unknown`: the lag could not be read; `timeout`: not in time. Neither is ready. */
  readonly status: 'ok' | 'lagging' | 'unknown' | 'timeout';
  readonly maxLagSeconds: number;
  /** The projections over the allowed lag. */
  readonly lagging: readonly { projection: string; lagSeconds: number; lagEvents: number }[];
}

async function checkProjections(
  projectionLag: () => Promise<readonly ProjectionLagReading[]>,
  maxLagSeconds: number,
  timeoutMs: number,
): Promise<ProjectionsReport> {
  let readings: readonly ProjectionLagReading[] = [];
  const status = await check(async () => {
    readings = await projectionLag();
  }, timeoutMs);
  if (status !== 'ok') return { status: status === 'timeout' ? 'timeout' : 'unknown', maxLagSeconds, lagging: [] };
  const lagging = readings
    .filter((reading) => reading.seconds > maxLagSeconds)
    .map((reading) => ({ projection: reading.projection, lagSeconds: Math.round(reading.seconds * 10) / 10, lagEvents: reading.events }));
  return { status: lagging.length > 0 ? 'lagging' : 'ok', maxLagSeconds, lagging };
}

async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const answered = Promise.resolve()
    .then(probe)
    .then(
    () => 'ok' as const,
    () => 'unreachable' as const,
  );
  try {
    return await Promise.race([answered, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
