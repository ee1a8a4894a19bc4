/**
 * Liveness and readiness. /healthz says the process answers; /readyz says its dependencies do (the
 * database answers a query, and whether wake-ups are live is reported, since the service works without).
 */
import { Router } from 'express';
import type pg from 'pg';
import type { Wakeups } from '../wakeups/wakeups';

export function healthRoutes(deps: { pool: pg.Pool; wakeups: Wakeups }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const database = await deps.pool.query('SELECT 1').then(
      () => 'ok' as const,
      () => 'unreachable' as const,
    );
    const ready = database === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', database, wakeups: deps.wakeups.live ? 'live' : 'polling' });
  });
  return router;
}
