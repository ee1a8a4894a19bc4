import { WakeableSleep } from './wakeable-sleep';

describe('WakeableSleep', () => {
  it('given nothing wakes it, then it sleeps the time', async () => {
    const started = Date.now();
    await new WakeableSleep().sleep(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('given wake(), then the sleep in progress ends at once; a wake() while nothing sleeps is lost', async () => {
    const pause = new WakeableSleep();
    pause.wake();
    const started = Date.now();
    const sleeping = pause.sleep(10_000);
    pause.wake();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
    const again = Date.now();
    await pause.sleep(50);
    expect(Date.now() - again).toBeGreaterThanOrEqual(45);
  });
});
