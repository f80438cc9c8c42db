import { describe, expect, it } from 'vitest';
import { MemoryReplayCache } from './replay.ts';

describe('memory replay cache', () => {
  it('lets a key through once until it expires, then once again', async () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache(100, () => now);
    expect(await cache.firstUse('a', now + 300_000)).toBe(true);
    expect(await cache.firstUse('a', now + 300_000)).toBe(false);
    expect(await cache.firstUse('b', now + 300_000)).toBe(true);
    now += 299_999;
    expect(await cache.firstUse('a', now + 300_000)).toBe(false);
    now += 1;
    expect(await cache.firstUse('a', now + 300_000)).toBe(true);
  });

  it('stays within its bound: expired keys are dropped first, then the oldest live one', async () => {
    let now = 0;
    const cache = new MemoryReplayCache(3, () => now);
    for (const key of ['k1', 'k2', 'k3']) expect(await cache.firstUse(key, now + 1000)).toBe(true);
    now = 2000; // all three expired: the next insert prunes them, nothing is evicted
    expect(await cache.firstUse('k4', now + 1000)).toBe(true);
    expect(cache.size).toBe(1);
    expect(cache.evicted).toBe(0);
    for (const key of ['k5', 'k6', 'k7']) expect(await cache.firstUse(key, now + 1000)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.evicted).toBe(1);
    // k4 was the oldest and was evicted; the three newest are still refused.
    for (const key of ['k5', 'k6', 'k7']) expect(await cache.firstUse(key, now + 1000)).toBe(false);
  });

  it('refuses a nonsensical bound', () => {
    expect(() => new MemoryReplayCache(0)).toThrow(/positive integer/);
  });
});
