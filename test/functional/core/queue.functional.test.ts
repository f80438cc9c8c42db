import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

  it('a job whose worker process was killed mid-run goes back to waiting and completes elsewhere', async () => {
    const redisUrl = requireService('redis');
    const queue = uniqueName('bq_killed');
    const q = new BullmqQueue({ redisUrl, lockDurationMs: 1000, stalledIntervalMs: 500 });
    await q.start();
    try {
      const id = await q.add(queue, 'apply', { change: 'c-7' }, { jobId: 'change-c-7' });
      // Another process takes the job and hangs in the handler; then it is killed (SIGKILL, no cleanup).
      const module = fileURLToPath(new URL('../../../core/queue/bullmq.ts', import.meta.url));
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { BullmqQueue } from ${JSON.stringify(module)};
           const q = new BullmqQueue({ redisUrl: ${JSON.stringify(redisUrl)}, lockDurationMs: 1000, stalledIntervalMs: 500 });
           await q.start();
           await q.process(${JSON.stringify(queue)}, async () => { console.log('started'); await new Promise(() => {}); });`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child worker did not start the job')), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('started')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect((await q.getJob(queue, id))?.state).toBe('active');
      child.kill('SIGKILL');
      await exited;
      const runs: unknown[] = [];
      const w = await q.process(queue, async (data) => {
        runs.push(data);
        return 'applied';
      });
      for (let i = 0; i < 1000 && (await q.getJob(queue, id))?.state !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await w.close();
      expect(runs).toEqual([{ change: 'c-7' }]);
      expect(await q.getJob(queue, id)).toMatchObject({ state: 'completed', returnValue: 'applied' });
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
