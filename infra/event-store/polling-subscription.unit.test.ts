/**
 * The polling subscription reads again after the log ran out only when a wake-up announces something
 * newer, or when its safety-net poll comes round; without live wake-ups it polls as before.
 */
import type { RecordedEvent } from './event-store';
import { LogPosition } from './log-position';
import { PollingSubscription } from './polling-subscription';
import { InProcessWakeups, NoWakeups, WakeupTopics, type Wakeups } from '../wakeups/wakeups';

function recorded(n: number): RecordedEvent {
  return {
    id: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    type: 'Happened',
    data: { n },
    metadata: { correlationId: 'c', causationId: 'c', actorId: null, occurredAt: '2026-11-22T00:00:00.000Z' },
    streamId: 's',
    streamRevision: BigInt(n - 1),
    position: LogPosition.of(BigInt(n), 0n),
    recordedAt: new Date(0),
  };
}

/** A log in memory whose reads are counted. */
function memoryLog(size: number) {
  const events = Array.from({ length: size }, (_, i) => recorded(i + 1));
  const log = {
    events,
    reads: 0,
    readAll: async (from: LogPosition | 'start', maxCount: number) => {
      log.reads++;
      return events.filter((e) => from === 'start' || e.position > from).slice(0, maxCount);
    },
  };
  return log;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function subscription(log: ReturnType<typeof memoryLog>, wakeups: Wakeups, livePollMs = 60_000): PollingSubscription {
  return new PollingSubscription({ readAll: log.readAll, fromPosition: 'start', wakeups, livePollMs, fallbackPollMs: 10 });
}

describe('polling subscription', () => {
  it('given the log ran out, waits for an announced append instead of reading again', async () => {
    const log = memoryLog(3);
    const wakeups = new InProcessWakeups();
    const sub = subscription(log, wakeups);
    expect((await sub.nextBatch(10)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const next = sub.nextBatch(10);
    await pause(50);
    expect(log.reads).toBe(1);
    // A wake-up for something already delivered changes nothing.
    wakeups.publish(WakeupTopics.logAppended, LogPosition.of(3n, 0n));
    await pause(20);
    expect(log.reads).toBe(1);
    log.events.push(recorded(4));
    wakeups.publish(WakeupTopics.logAppended, LogPosition.of(4n, 0n));
    expect((await next).map((e) => e.data)).toEqual([{ n: 4 }]);
    expect(log.reads).toBe(2);
    await sub.close();
  });

  it('reads on after a full page without waiting for word', async () => {
    const log = memoryLog(5);
    const sub = subscription(log, new InProcessWakeups());
    expect(await sub.nextBatch(2)).toHaveLength(2);
    expect(await sub.nextBatch(2)).toHaveLength(2);
    expect(await sub.nextBatch(2)).toHaveLength(1);
    expect(log.reads).toBe(3);
    await sub.close();
  });

  it('given no word at all, still reads at its safety-net poll', async () => {
    const log = memoryLog(1);
    const sub = subscription(log, new InProcessWakeups(), 100);
    await sub.nextBatch(10);
    log.events.push(recorded(2)); // appended without a wake-up (another process, NATS lost it)
    const started = performance.now();
    expect((await sub.nextBatch(10)).map((e) => e.data)).toEqual([{ n: 2 }]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    await sub.close();
  });

  it('given wake-ups that are not live, polls at its fallback interval', async () => {
    const log = memoryLog(1);
    const sub = subscription(log, new NoWakeups());
    await sub.nextBatch(10);
    const next = sub.nextBatch(10);
    await pause(100);
    expect(log.reads).toBeGreaterThan(3);
    log.events.push(recorded(2));
    expect((await next).map((e) => e.data)).toEqual([{ n: 2 }]);
    await sub.close();
  });
});
