import { describe, expect, it } from 'vitest';
import { queueConformance } from '../../test/conformance/queue.ts';
import { SimulatedClock } from '../clock.ts';
import { UnrecoverableError } from '../errors.ts';
import { createRegistry, metricValues } from '../metrics.ts';
import { createQueue } from './index.ts';
import { MemoryQueue, MemoryQueueStore } from './memory.ts';

const store = new MemoryQueueStore();
queueConformance(
  'memory',
  async () => {
    const q = new MemoryQueue({ store });
    await q.start();
    return q;
  },
  { waitMs: 5_000 },
);

const tick = () => new Promise((r) => setImmediate(r));

describe('MemoryQueue on a SimulatedClock', () => {
  it('runs delayed jobs and backoffs at simulated instants', async () => {
    const clock = new SimulatedClock(Date.UTC(2026, 0, 5));
    const q = createQueue({ kind: 'memory', redis_url: '' }, { clock });
    await q.start();
    const runs: number[] = [];
    await q.process('sim', async () => {
      runs.push(clock.now());
      if (runs.length === 1) throw new Error('transient');
    });
    const id = await q.add('sim', 'later', {}, { delayMs: 60_000, attempts: 2, backoffMs: 30_000 });
    await clock.advance(59_999);
    expect(runs).toEqual([]);
    expect((await q.getJob('sim', id))?.state).toBe('delayed');
    await clock.advance(1);
    await tick();
    expect(runs).toEqual([Date.UTC(2026, 0, 5) + 60_000]);
    expect((await q.getJob('sim', id))?.state).toBe('delayed');
    await clock.advance(30_000);
    await tick();
    expect(runs).toEqual([Date.UTC(2026, 0, 5) + 60_000, Date.UTC(2026, 0, 5) + 90_000]);
    expect(await q.getJob('sim', id)).toMatchObject({ state: 'completed', attemptsMade: 2 });
    await q.stop();
    expect(clock.pending()).toBe(0);
  });

  it('repeats on the simulated clock without piling up while no worker runs', async () => {
    const clock = new SimulatedClock(Date.UTC(2026, 0, 5));
    const q = createQueue({ kind: 'memory', redis_url: '' }, { clock });
    await q.start();
    await q.repeat('rep', 'rollup', { table: 'flows_1m' }, 60_000);
    await clock.advance(10 * 60_000);
    expect((await q.counts('rep')).waiting).toBe(1);
    const runs: number[] = [];
    await q.process('rep', async () => void runs.push(clock.now()));
    await tick();
    expect(runs).toHaveLength(1);
    await clock.advance(3 * 60_000);
    await tick();
    expect(runs).toHaveLength(4);
    expect(runs[3]! - runs[2]!).toBe(60_000);
    await q.stop();
    expect(clock.pending()).toBe(0);
  });

  it('counts job events in its metrics', async () => {
    const registry = createRegistry();
    const q = createQueue({ kind: 'memory', redis_url: '' }, { registry });
    await q.start();
    await q.add('m', 'a', {}, { jobId: 'one' });
    await q.add('m', 'a', {}, { jobId: 'one' });
    await q.add('m', 'b', {}, { jobId: 'two', attempts: 3, backoffMs: 1 });
    const done = new Promise<void>((resolve) => {
      let n = 0;
      void q.process('m', async (_d, job) => {
        n++;
        if (job.id === 'two') {
          if (n >= 3) resolve();
          throw n === 2 ? new Error('again') : new UnrecoverableError('stop');
        }
      });
    });
    await done;
    await tick();
    const m = await metricValues(registry);
    expect(m['pathpilot_queue_jobs_total{queue="m",event="added"}']).toBe(2);
    expect(m['pathpilot_queue_jobs_total{queue="m",event="duplicate"}']).toBe(1);
    expect(m['pathpilot_queue_jobs_total{queue="m",event="completed"}']).toBe(1);
    expect(m['pathpilot_queue_jobs_total{queue="m",event="retried"}']).toBe(1);
    expect(m['pathpilot_queue_jobs_total{queue="m",event="failed"}']).toBe(1);
    await q.stop();
  });

  it('requires redis_url for bullmq', () => {
    expect(() => createQueue({ kind: 'bullmq', redis_url: '' })).toThrow(/services\.queue\.redis_url/);
  });
});
