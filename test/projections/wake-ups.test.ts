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
import { ProjectionProgress } from '../../projectors/runtime/projection-progress';
import { LogPosition } from '../../infra/event-store/log-position';
import { connect } from 'nats';
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

  /** Two processes' wake-ups on one NATS server and prefix, both connected. */
  async function connectedPair(): Promise<{ prefix: string; first: NatsWakeups; second: NatsWakeups }> {
    const prefix = `test.${randomUUID()}`;
    const first = natsWakeups(NATS_URL, prefix);
    const second = natsWakeups(NATS_URL, prefix);
    expect(await first.ready(5_000)).toBe(true);
    expect(await second.ready(5_000)).toBe(true);
    return { prefix, first, second };
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
    const { first: writerWakeups, second: projectorWakeups } = await connectedPair();
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

  it('sends the wake-ups of one turn as one message per family, and every listener hears each in order', async () => {
    const { prefix, first: publisher, second: listener } = await connectedPair();
    const raw = await connect({ servers: NATS_URL });
    closeables.push({ close: () => raw.close() });
    const messages: string[] = [];
    const sniffer = raw.subscribe(`${prefix}.>`, { callback: (_error, message) => messages.push(message.subject) });
    const heard: string[] = [];
    listener.subscribe('projection.a', (payload) => heard.push(`a:${payload}`));
    listener.subscribe('projection.b', (payload) => heard.push(`b:${payload}`));
    listener.subscribe('log.appended', (payload) => heard.push(`log:${payload}`));
    await raw.flush();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the listener's subscriptions reach the server
    publisher.publish('projection.a', '1');
    publisher.publish('log.appended', '2');
    publisher.publish('projection.b', '3');
    publisher.publish('projection.a', '4');
    await waitFor(() => heard.length === 4, 5_000, 'all four wake-ups');
    expect(heard).toContain('log:2');
    expect(heard.filter((h) => !h.startsWith('log'))).toEqual(['a:1', 'b:3', 'a:4']);
    expect(messages.sort()).toEqual([`${prefix}.log`, `${prefix}.projection`]);
    sniffer.unsubscribe();
  });

  it("hears its own wake-ups once, from itself at once (NATS up or down), and another process's through NATS", async () => {
    const { prefix, first: projectorSide, second: apiSide } = await connectedPair();
    const heardHere: string[] = [];
    const heardThere: string[] = [];
    projectorSide.subscribe('projection.a', (payload) => heardHere.push(payload));
    apiSide.subscribe('projection.a', (payload) => heardThere.push(payload));
    await new Promise((resolve) => setTimeout(resolve, 200)); // both subscriptions reach the server
    projectorSide.publish('projection.a', '1');
    await Promise.resolve();
    expect(heardHere).toEqual(['1']); // before any round trip
    await waitFor(() => heardThere.length === 1, 5_000, 'the other process hearing it');
    await new Promise((resolve) => setTimeout(resolve, 200)); // time enough for an echo to come back
    expect(heardHere).toEqual(['1']);
    apiSide.publish('projection.a', '2');
    await waitFor(() => heardHere.length === 2, 5_000, "the other process's wake-up");
    expect(heardHere).toEqual(['1', '2']);
    expect(heardThere).toEqual(['1', '2']);

    const alone = natsWakeups(UNREACHABLE_NATS, prefix);
    expect(await alone.ready(300)).toBe(false);
    const heardAlone: string[] = [];
    alone.subscribe('log.appended', (payload) => heardAlone.push(payload));
    alone.publish('log.appended', '3');
    await Promise.resolve();
    expect(heardAlone).toEqual(['3']);
  });

  it('given a projection announced past a position, read-your-writes is answered without its stored checkpoint', async () => {
    const { first: projectorSide, second: apiSide } = await connectedPair();
    const progress = new ProjectionProgress(db.knex, apiSide, ['one', 'two']);
    closeables.push({ close: async () => progress.close() });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const position = LogPosition.of(7n, 3n);
    expect(await progress.reached(position)).toBe(false);
    // 'one' has a stored checkpoint past it; 'two' has none, only its announcement.
    await db.knex('projection_checkpoints').insert({ projection: 'one', position: LogPosition.of(7n, 5n) });
    expect(await progress.reached(position)).toBe(false);
    const waiting = progress.waitFor(position, 5_000);
    projectorSide.publish('projection.two', LogPosition.of(8n, 1n));
    expect(await waiting).toBe(true);
    expect(await progress.reached(LogPosition.of(8n, 1n), ['two'])).toBe(true);
    expect(await progress.reached(LogPosition.of(8n, 2n), ['two'])).toBe(false);
  });
});
