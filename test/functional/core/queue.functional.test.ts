import { describe, expect, it } from 'vitest';
import { createQueue } from '../../../core/queue/index.ts';
import { BullmqQueue, redisConnection } from '../../../core/queue/bullmq.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { queueConformance } from '../../conformance/queue.ts';
import { requireService, uniqueName } from '../../support/services.ts';

queueConformance('bullmq', async () => {
  const q = new BullmqQueue({ redisUrl: requireService('redis') });
  await q.start();
  return q;
});

describe('BullmqQueue', () => {
  it('is built by createQueue, keeps state in Redis and counts job events', async () => {
    const registry = createRegistry();
    const q = createQueue({ kind: 'bullmq', redis_url: requireService('redis') }, { registry });
    expect(q.kind).toBe('bullmq');
    await q.start();
    const queue = uniqueName('bq_metrics');
    try {
      await q.add(queue, 'a', { n: 1 }, { jobId: 'job-a' });
      await q.add(queue, 'a', { n: 1 }, { jobId: 'job-a' });
      const w = await q.process(queue, async (data: { n: number }) => data.n + 1);
      for (let i = 0; i < 500 && (await q.getJob(queue, 'job-a'))?.state !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await w.close();
      expect(await q.getJob(queue, 'job-a')).toMatchObject({ state: 'completed', returnValue: 2 });
      const m = await metricValues(registry);
      expect(m[`pathpilot_queue_jobs_total{queue="${queue}",event="added"}`]).toBe(1);
      expect(m[`pathpilot_queue_jobs_total{queue="${queue}",event="duplicate"}`]).toBe(1);
      expect(m[`pathpilot_queue_jobs_total{queue="${queue}",event="completed"}`]).toBe(1);
    } finally {
      await q.obliterate(queue);
      await q.stop();
    }
  });

  it('fails start() with a clear error when Redis does not answer', async () => {
    const q = new BullmqQueue({ redisUrl: 'redis://127.0.0.1:1', connectTimeoutMs: 1500 });
    await expect(q.start()).rejects.toThrow(/unable to reach Redis at 127\.0\.0\.1:1\/0/);
    await q.stop();
  });

  it('parses Redis URLs and rejects bad ones naming the key', () => {
    expect(redisConnection('redis://u:p%40ss@10.0.0.1:6380/2')).toMatchObject({
      host: '10.0.0.1',
      port: 6380,
      username: 'u',
      password: 'p@ss',
      db: 2,
      maxRetriesPerRequest: null,
    });
    expect(() => redisConnection('http://x')).toThrow(/services\.queue\.redis_url/);
    expect(() => redisConnection('redis://x/abc')).toThrow(/database must be a number/);
  });
});
