/**
 * The projectors part of the service: one runner per projection, started together and stopped
 * together (each stop lets the batch in hand commit with its checkpoint). Given `leadership`, each
 * runner runs only while this process holds its projection's advisory lock (runtime/leadership.ts),
 * so of several projector processes on one schema one applies each projection and the others stand by.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import type { EventStore } from '../infra/event-store/event-store';
import type { Logger } from '../infra/logging/logger';
import type { Wakeups } from '../infra/wakeups/wakeups';
import { LeadershipConnection, ProjectionLeadership } from './runtime/leadership';
import type { Projection } from './runtime/projection';
import { ProjectionRunner } from './runtime/projection-runner';

export interface Projectors {
  readonly runners: readonly ProjectionRunner[];
  /** One per runner when running under leadership; empty otherwise. */
  readonly leaderships: readonly ProjectionLeadership[];
  stop(): Promise<void>;
}

export interface ProjectorLeadership {
  /** Settings of the dedicated connection each projection's lock is held on. */
  readonly connection: pg.ClientConfig;
  /** The schema the projections write into (part of each lock's key). */
  readonly schema: string;
  /** How often a standby tries for a lock (default 1000 ms). */
  readonly retryMs?: number;
  /** Told when this process starts or stops leading a projection. */
  readonly onChange?: (projection: string, leading: boolean) => void;
}

export function startProjectors(deps: {
  store: EventStore;
  db: Knex;
  wakeups: Wakeups;
  logger: Logger;
  projections: readonly Projection[];
  batchSize: number;
  /** After a batch of several events, wait this long before reading the next (projection-runner.ts; default 10 ms). */
  lingerMs?: number;
  /** Run each projection only while leading it; unset: run them all here (one projector process). */
  leadership?: ProjectorLeadership;
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
        ...(deps.lingerMs === undefined ? {} : { lingerMs: deps.lingerMs }),
      }),
  );
  const leadership = deps.leadership;
  // One connection holds every lock of this process (see runtime/leadership.ts).
  const shared = leadership ? new LeadershipConnection(leadership.connection, leadership.retryMs) : undefined;
  const leaderships = leadership
    ? runners.map(
        (runner) =>
          new ProjectionLeadership({
            connection: leadership.connection,
            shared,
            schema: leadership.schema,
            runner,
            logger: deps.logger.child({ projection: runner.name }),
            retryMs: leadership.retryMs,
            onChange: (leading) => leadership.onChange?.(runner.name, leading),
          }),
      )
    : [];
  if (leadership) for (const led of leaderships) led.start();
  else for (const runner of runners) runner.start();
  return {
    runners,
    leaderships,
    async stop() {
      if (leadership) await Promise.all(leaderships.map((led) => led.stop()));
      else await Promise.all(runners.map((runner) => runner.stop()));
    },
  };
}
