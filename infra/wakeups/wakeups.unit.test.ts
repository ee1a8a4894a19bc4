import { InProcessWakeups, nextWakeup, NoWakeups } from './wakeups';

describe('nextWakeup', () => {
  it('given a message on the topic, then it resolves at once and stops listening', async () => {
    const wakeups = new InProcessWakeups();
    const started = Date.now();
    const waiting = nextWakeup(wakeups, 'projection.sync', 10_000);
    wakeups.publish('projection.other', 'x');
    wakeups.publish('projection.sync', '1');
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    let calls = 0;
    wakeups.subscribe('projection.sync', () => calls++);
    wakeups.publish('projection.sync', '2');
    await Promise.resolve();
    expect(calls).toBe(1);
  });

  it('given no message, then it resolves after the time', async () => {
    const started = Date.now();
    await nextWakeup(new NoWakeups(), 'projection.sync', 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('given any of the signals aborts (or already has), then it resolves at once', async () => {
    const request = new AbortController();
    const shutdown = new AbortController();
    const started = Date.now();
    const waiting = nextWakeup(new NoWakeups(), 'projection.sync', 10_000, request.signal, shutdown.signal);
    shutdown.abort();
    await waiting;
    await nextWakeup(new NoWakeups(), 'projection.sync', 10_000, request.signal, shutdown.signal);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
