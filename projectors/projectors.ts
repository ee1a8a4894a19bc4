/**
 * The projectors part of the service: one runner per projection, started together and stopped
 * together (each stop lets the batch in hand commit with its checkpoint).
 */
import type { Knex } from 'knex';
import type { EventStore } from '../infra/event-store/event-store';
import type { Logger } from '../infra/logging/logger';
import type { Wakeups } from '../infra/wakeups/wakeups';
import type { Projection } from './runtime/projection';
import { ProjectionRunner } from './runtime/projection-runner';

export interface Projectors {
  readonly runners: readonly ProjectionRunner[];
  stop(): Promise<void>;
}

export function startProjectors(deps: {
  store: EventStore;
  db: Knex;
  wakeups: Wakeups;
  logger: Logger;
  projections: readonly Projection[];
  batchSize: number;
}): Projectors {
  const runners = deps.projections.map(
    (projection) =>
      new ProjectionRunner({
        store: deps.store,
        db: deps.db,
        projection,
        wakeups: deps.wakeups,
        logger: deps.logger.child({ projection: projection.name }),
        batchSize: deps.batchSize,
      }),
  );
  for (const runner of runners) runner.start();
  return {
    runners,
    async stop() {
      await Promise.all(runners.map((runner) => runner.stop()));
    },
  };
}
