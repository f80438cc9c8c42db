import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../core/clock.ts';
import type { LoopFailure } from '../core/component.ts';
import { loadConfig } from '../core/config/index.ts';
import { ConfigError, UnrecoverableError } from '../core/errors.ts';
import { MemoryQueue } from '../core/queue/index.ts';
import type { OptimizerData } from './data.ts';
import { createOptimizer } from './index.ts';

/** Data whose every read fails with `error`: each scheduled run fails the same way. */
function failingData(error: () => Error): OptimizerData {
  const fail = async (): Promise<never> => {
    throw error();
  };
  return { linkTraffic: fail, pairTraffic: fail, pathProbes: fail, dailyCost: fail, currentWeights: fail };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

const root = loadConfig().root;

describe('optimizer component contract', () => {
  it('throws ConfigError naming the optimizer key for a bad section', () => {
    const build = () =>
      createOptimizer(
        { data: failingData(() => new Error('x')), queue: new MemoryQueue(), clock: new SimulatedClock(), root },
        {
          interval_s: 'soon',
        },
      );
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/optimizer\.interval_s/);
  });

  it('a run that cannot succeed on retry kills the schedule loop: health fails and onFatal hears it', async () => {
    const clock = new SimulatedClock();
    const queue = new MemoryQueue();
    await queue.start();
    const fatal: LoopFailure[] = [];
    const optimizer = createOptimizer(
      {
        data: failingData(() => new UnrecoverableError('the store lost the flows table')),
        queue,
        clock,
        root,
        onFatal: (f) => fatal.push(f),
      },
      { interval_s: 60, registry_dir: '', learned: false },
    );
    try {
      await optimizer.start();
      expect(optimizer.health?.()).toEqual({ ok: true });
      await clock.advance(60_000);
      await until(() => fatal.length > 0, 5000);
      expect(fatal).toEqual([{ component: 'optimizer', loop: 'schedule', error: 'the store lost the flows table' }]);
      expect(optimizer.health?.().ok).toBe(false);
    } finally {
      await optimizer.stop();
      await queue.stop();
    }
  });

  it('a transient run failure is retried at the next interval and the loop stays alive', async () => {
    const clock = new SimulatedClock();
    const queue = new MemoryQueue();
    await queue.start();
    const fatal: LoopFailure[] = [];
    let reads = 0;
    const data = failingData(() => {
      reads++;
      return new Error('store timeout');
    });
    const optimizer = createOptimizer(
      { data, queue, clock, root, onFatal: (f) => fatal.push(f) },
      { interval_s: 60, registry_dir: '', learned: false },
    );
    try {
      await optimizer.start();
      for (let i = 0; i < 2; i++) {
        const before = reads;
        await clock.advance(60_000);
        await until(() => reads > before, 5000);
      }
      expect(reads).toBeGreaterThanOrEqual(2);
      expect(fatal).toEqual([]);
      expect(optimizer.health?.()).toEqual({ ok: true });
    } finally {
      await optimizer.stop();
      await queue.stop();
    }
    // Stopping is not a death either.
    expect(fatal).toEqual([]);
  });
});
