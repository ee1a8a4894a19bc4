/**
 * Wake-ups between processes: with NATS up, a projector that would otherwise poll once a minute
 * reacts to an append within milliseconds; with NATS unreachable, everything still works by polling.
 * Each side gets its own NATS connection and its own store, as separate processes would.
 */
import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../infra/event-store/postgres/postgres-event-store';
import { silentLogger } from '../../infra/logging/logger';
import { NatsWakeups } from '../../infra/wakeups/nats-wakeups';
import type { Wakeups } from '../../infra/wakeups/wakeups';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { event } from '../event-store/conformance';
import { countingProjection, createCountingTables } from '../support/counting-projection';
import { createTestSchema, type TestSchema } from '../support/test-database';
import { waitFor } from '../support/wait-for';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const UNREACHABLE_NATS = 'nats://127.0.0.1:1';

describe('wake-ups', () => {
  let db: TestSchema;
  const closeables: Array<{ close(): Promise<void> } | { stop(): Promise<void> }> = [];

  beforeEach(async () => {
    db = await createTestSchema('wakeups');
    await createCountingTables(db.knex);
  });
  afterEach(async () => {
    for (const c of closeables.splice(0).reverse()) await ('stop' in c ? c.stop() : c.close());
    await db.drop();
  });

  function natsWakeups(url: string, subjectPrefix: string): NatsWakeups {
    const wakeups = new NatsWakeups({ url, subjectPrefix });
    closeables.push(wakeups);
    return wakeups;
  }

  function projector(wakeups: Wakeups, polls: { livePollMs: number; fallbackPollMs: number }): ProjectionRunner {
    const store = new PostgresEventStore({ pool: db.pool(2), wakeups, ...polls });
    const runner = new ProjectionRunner({ store, db: db.knex, projection: countingProjection(), wakeups, logger: silentLogger });
    closeables.push(runner);
    runner.start();
    return runner;
  }

  async function appendAndTimeProjection(writer: PostgresEventStore, runner: ProjectionRunner): Promise<number> {
    const started = performance.now();
    const { position } = await writer.append(`s-${randomUUID()}`, [event('Counted')], { expectedRevision: 'no_stream' });
    await waitFor(() => runner.position !== 'start' && runner.position >= position, 10_000, 'the projection of the append');
    return performance.now() - started;
  }

  it('given NATS is up, when another process appends, then the projector is woken instead of waiting for its one-minute poll', async () => {
    const prefix = `test.${randomUUID()}`;
    const writerWakeups = natsWakeups(NATS_URL, prefix);
    const projectorWakeups = natsWakeups(NATS_URL, prefix);
    expect(await writerWakeups.ready(5_000)).toBe(true);
    expect(await projectorWakeups.ready(5_000)).toBe(true);
    const writer = new PostgresEventStore({ pool: db.pool(2), wakeups: writerWakeups });
    const runner = projector(projectorWakeups, { livePollMs: 60_000, fallbackPollMs: 60_000 });
    await appendAndTimeProjection(writer, runner); // the runner's first read happens at start
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) latencies.push(await appendAndTimeProjection(writer, runner));
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });

  it('given NATS is unreachable, then nothing fails and the projector still catches up by polling', async () => {
    const prefix = `test.${randomUUID()}`;
    const writerWakeups = natsWakeups(UNREACHABLE_NATS, prefix);
    const projectorWakeups = natsWakeups(UNREACHABLE_NATS, prefix);
    expect(await projectorWakeups.ready(300)).toBe(false);
    expect(projectorWakeups.live).toBe(false);
    const writer = new PostgresEventStore({ pool: db.pool(2), wakeups: writerWakeups });
    const runner = projector(projectorWakeups, { livePollMs: 60_000, fallbackPollMs: 50 });
    for (let i = 0; i < 3; i++) {
      expect(await appendAndTimeProjection(writer, runner)).toBeLessThan(2_000);
    }
  });
});
