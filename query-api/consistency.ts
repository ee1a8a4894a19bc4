/**
 * Read-your-writes: a query that carries X-Consistency-Token (the log position a command answered with)
 * is held until the read models have reached that position, up to a limit, then refused with 503 and
 * Retry-After rather than answered from state older than the caller's own write.
 */
import type { RequestHandler } from 'express';
import { LogPosition } from '../infra/event-store/log-position';
import { Problem } from '../infra/http/problem';
import type { ProjectionProgress } from '../projectors/runtime/projection-progress';

export const CONSISTENCY_HEADER = 'x-consistency-token';

export function readYourWrites(progress: ProjectionProgress, options: { timeoutMs: number; shutdown?: AbortSignal }): RequestHandler {
  return async (req, res, next) => {
    const token = req.header(CONSISTENCY_HEADER);
    if (token === undefined) return next();
    const position = LogPosition.parse(token.trim());
    if (!position) return next(new Problem('invalid', 'CONSISTENCY.INVALID_TOKEN', 'X-Consistency-Token is not a token this service issued'));
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    try {
      // A shutting-down service answers held reads at once rather than having them cut.
      const signal = options.shutdown ? AbortSignal.any([gone.signal, options.shutdown]) : gone.signal;
      const reached = await progress.waitFor(position, options.timeoutMs, { signal });
      if (gone.signal.aborted) return;
      if (!reached) {
        return next(new Problem('unavailable', 'CONSISTENCY.NOT_YET', 'the read models have not reached this position yet', undefined, { 'Retry-After': '1' }));
      }
      next();
    } catch (error) {
      next(error);
    } finally {
      res.off('close', onClose);
    }
  };
}
