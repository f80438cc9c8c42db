import { describe, expect, it } from 'vitest';
import { RealClock, SimulatedClock } from './clock.ts';

describe('SimulatedClock', () => {
  it('fires sleepers in time order at their own instant', async () => {
    const clock = new SimulatedClock(1000);
    const fired: [string, number][] = [];
    void clock.sleep(300).then(() => fired.push(['b', clock.now()]));
    void clock.sleep(100).then(() => fired.push(['a', clock.now()]));
    void clock.sleep(5000).then(() => fired.push(['c', clock.now()]));
    await clock.advance(1000);
    expect(fired).toEqual([
      ['a', 1100],
      ['b', 1300],
    ]);
    expect(clock.now()).toBe(2000);
    expect(clock.pending()).toBe(1);
  });

  it('runs loops that sleep repeatedly', async () => {
    const clock = new SimulatedClock(0);
    let ticks = 0;
    void (async () => {
      for (let i = 0; i < 10; i++) {
        await clock.sleep(60_000);
        ticks++;
      }
    })();
    await clock.advance(5 * 60_000);
    expect(ticks).toBe(5);
  });

  it('rejects an aborted sleep and forgets its timer', async () => {
    const clock = new SimulatedClock(0);
    const ac = new AbortController();
    const p = clock.sleep(100, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });
});

describe('RealClock', () => {
  it('sleeps roughly the asked time', async () => {
    const clock = new RealClock();
    const t0 = clock.now();
    await clock.sleep(20);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(15);
  });
});
