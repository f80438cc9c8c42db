/**
 * The Queue contract (core/queue/types.ts), checked against every implementation: the unit tier runs
 * it on the in-process queue (core/queue/memory.test.ts), the functional tier on BullMQ + Redis
 * (test/functional/core/queue.functional.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../../core/errors.ts';
import type { JobContext, Queue, QueueWorker } from '../../core/queue/types.ts';
import { uniqueName } from '../support/services.ts';

export interface QueueConformanceOptions {
  /** How long to wait for expected processing. @defaultValue 20000 */
  waitMs?: number;
}

/** Each call returns a started queue; several calls are several "processes" on one backend. */
export type QueueFactory = () => Promise<Queue>;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function queueConformance(name: string, factory: QueueFactory, options: QueueConformanceOptions = {}): void {
  const waitMs = options.waitMs ?? 20_000;

  describe(`Queue conformance: ${name}`, () => {
    const queues: Queue[] = [];
    const names: string[] = [];
    const workers: QueueWorker[] = [];

    async function open(): Promise<Queue> {
      const q = await factory();
      queues.push(q);
      return q;
    }

    function queueName(): string {
      const n = uniqueName('conf_q');
      names.push(n);
      return n;
    }

    async function work<T, R>(
      q: Queue,
      queue: string,
      handler: (data: T, job: JobContext) => Promise<R>,
      concurrency?: number,
    ): Promise<QueueWorker> {
      const w = await q.process<T, R>(queue, handler, concurrency ? { concurrency } : {});
      workers.push(w);
      return w;
    }

    afterEach(async () => {
      for (const w of workers.splice(0)) await w.close();
      const cleaner = queues[0];
      for (const n of names.splice(0)) await cleaner?.obliterate(n);
      for (const q of queues.splice(0)) await q.stop();
    });

    it('adding a jobId twice processes it once', async () => {
      const q = await open();
      const queue = queueName();
      const id1 = await q.add(queue, 'apply', { change: 'c1' }, { jobId: 'change-c1' });
      const id2 = await q.add(queue, 'apply', { change: 'c1-again' }, { jobId: 'change-c1' });
      expect(id1).toBe('change-c1');
      expect(id2).toBe('change-c1');
      const seen: unknown[] = [];
      await work(q, queue, async (data) => {
        seen.push(data);
        return 'applied';
      });
      await waitFor('completion', async () => (await q.getJob(queue, 'change-c1'))?.state === 'completed', waitMs);
      // Adding after completion is still a no-op (approving twice applies once).
      await q.add(queue, 'apply', { change: 'c1-late' }, { jobId: 'change-c1' });
      await sleep(300);
      expect(seen).toEqual([{ change: 'c1' }]);
      expect((await q.counts(queue)).completed).toBe(1);
    });

    it('retries a failing job with backoff, then succeeds', async () => {
      const q = await open();
      const queue = queueName();
      const attemptsSeen: number[] = [];
      const times: number[] = [];
      await work(q, queue, async (_data, job) => {
        attemptsSeen.push(job.attemptsMade);
        times.push(Date.now());
        if (attemptsSeen.length < 3) throw new Error(`transient ${attemptsSeen.length}`);
        return { ok: true };
      });
      const id = await q.add(queue, 'flaky', { n: 1 }, { attempts: 5, backoffMs: 100 });
      let last: unknown;
      await waitFor(
        'completion',
        async () => (last = await q.getJob(queue, id)) !== undefined && (last as { state: string }).state === 'completed',
        waitMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; job: ${JSON.stringify(last)}; attempts seen: ${attemptsSeen.join(',')}`);
      });
      const job = await q.getJob(queue, id);
      expect(attemptsSeen).toEqual([0, 1, 2]);
      expect(job).toMatchObject({ id, name: 'flaky', data: { n: 1 }, state: 'completed', attemptsMade: 3 });
      expect(job?.returnValue).toEqual({ ok: true });
      // Exponential backoff: ≥100 ms before the 2nd attempt, ≥200 ms before the 3rd (a little slack for timers).
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(90);
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(190);
    });

    it('fails after the last attempt with the error as reason', async () => {
      const q = await open();
      const queue = queueName();
      let calls = 0;
      await work(q, queue, async () => {
        calls++;
        throw new Error('router unreachable');
      });
      const id = await q.add(queue, 'apply', {}, { attempts: 2, backoffMs: 10 });
      await waitFor('failure', async () => (await q.getJob(queue, id))?.state === 'failed', waitMs);
      await sleep(200);
      const job = await q.getJob(queue, id);
      expect(calls).toBe(2);
      expect(job?.attemptsMade).toBe(2);
      expect(job?.failedReason).toMatch(/router unreachable/);
      expect(await q.counts(queue)).toMatchObject({ failed: 1, completed: 0, waiting: 0, active: 0, delayed: 0 });
    });

    it('UnrecoverableError fails the job at once, without retry', async () => {
      const q = await open();
      const queue = queueName();
      let calls = 0;
      await work(q, queue, async () => {
        calls++;
        throw new UnrecoverableError('intent rejected by validation');
      });
      const id = await q.add(queue, 'apply', {}, { attempts: 5, backoffMs: 10 });
      await waitFor('failure', async () => (await q.getJob(queue, id))?.state === 'failed', waitMs);
      await sleep(300);
      const job = await q.getJob(queue, id);
      expect(calls).toBe(1);
      expect(job?.failedReason).toMatch(/intent rejected by validation/);
    });

    it('runs a delayed job no earlier than its delay', async () => {
      const q = await open();
      const queue = queueName();
      let ranAt = 0;
      await work(q, queue, async () => {
        ranAt = Date.now();
      });
      const addedAt = Date.now();
      const id = await q.add(queue, 'later', {}, { delayMs: 700 });
      expect((await q.getJob(queue, id))?.state).toBe('delayed');
      expect((await q.counts(queue)).delayed).toBe(1);
      await waitFor('the delayed job', () => ranAt > 0, waitMs);
      expect(ranAt - addedAt).toBeGreaterThanOrEqual(690);
      await waitFor('completion', async () => (await q.getJob(queue, id))?.state === 'completed', waitMs);
    });

    it('runs a repeatable job every period, and re-adding replaces it', async () => {
      const q = await open();
      const queue = queueName();
      const runs: { at: number; data: unknown }[] = [];
      await work(q, queue, async (data) => {
        runs.push({ at: Date.now(), data });
      });
      await q.repeat(queue, 'retrain', { v: 1 }, 400);
      await waitFor('three runs', () => runs.length >= 3, waitMs);
      expect(runs.slice(0, 3).every((r) => (r.data as { v: number }).v === 1)).toBe(true);
      for (let i = 1; i < 3; i++) expect(runs[i]!.at - runs[i - 1]!.at).toBeGreaterThanOrEqual(300);
      await q.repeat(queue, 'retrain', { v: 2 }, 400);
      const mark = runs.length;
      await waitFor('runs with the new data', () => runs.slice(mark).some((r) => (r.data as { v: number }).v === 2), waitMs);
      // Replaced, not doubled: over ~1.2 s at most ~4 runs (3 periods + the immediate one).
      const from = runs.length;
      await sleep(1200);
      expect(runs.length - from).toBeLessThanOrEqual(4);
      expect(runs.length - from).toBeGreaterThanOrEqual(2);
      expect(runs.slice(from).every((r) => (r.data as { v: number }).v === 2)).toBe(true);
    });

    it('reports state, result and progress after completion; unknown ids are undefined', async () => {
      const q = await open();
      const queue = queueName();
      const id = await q.add(queue, 'report', { weeks: 4 });
      expect(await q.getJob(queue, id)).toMatchObject({ id, state: 'waiting', attemptsMade: 0 });
      expect((await q.counts(queue)).waiting).toBe(1);
      await work(q, queue, async (data: { weeks: number }, job) => {
        await job.progress(50);
        return { pages: data.weeks * 2 };
      });
      await waitFor('completion', async () => (await q.getJob(queue, id))?.state === 'completed', waitMs);
      expect(await q.getJob(queue, id)).toMatchObject({
        id,
        name: 'report',
        data: { weeks: 4 },
        state: 'completed',
        attemptsMade: 1,
        returnValue: { pages: 8 },
        progress: 50,
      });
      expect(await q.counts(queue)).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 1, failed: 0, unknown: 0 });
      expect(await q.getJob(queue, 'no-such-job')).toBeUndefined();
    });

    it('runs up to `concurrency` jobs at once', async () => {
      const q = await open();
      const queue = queueName();
      for (let i = 0; i < 8; i++) await q.add(queue, 'job', { i });
      let active = 0;
      let peak = 0;
      let done = 0;
      await work(
        q,
        queue,
        async () => {
          peak = Math.max(peak, ++active);
          await sleep(100);
          active--;
          done++;
        },
        3,
      );
      await waitFor('8 jobs', () => done >= 8, waitMs);
      expect(peak).toBe(3);
    });

    it('keeps jobs and state across a worker and process restart; each job runs once', async () => {
      const q1 = await open();
      const queue = queueName();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await q1.add(queue, 'apply', { i }, { jobId: `change-${i}` }));
      const ran: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const w1 = await work(q1, queue, async (data: { i: number }) => {
        ran.push(data.i);
        if (ran.length === 2) await gate;
        return data.i;
      });
      await waitFor('two jobs started', () => ran.length >= 2, waitMs);
      const closing = w1.close();
      release();
      await closing;
      const afterFirst = ran.length;
      expect(afterFirst).toBeGreaterThanOrEqual(2);
      expect(afterFirst).toBeLessThan(6);
      await q1.stop();
      queues.splice(queues.indexOf(q1), 1);
      // A new "process" sees the same jobs and finishes the rest.
      const q2 = await open();
      const counts = await q2.counts(queue);
      expect(counts.completed).toBe(afterFirst);
      expect(counts.waiting).toBe(6 - afterFirst);
      await work(q2, queue, async (data: { i: number }) => {
        ran.push(data.i);
        return data.i;
      });
      await waitFor('all six', async () => (await q2.counts(queue)).completed === 6, waitMs);
      expect([...ran].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      for (const id of ids) expect((await q2.getJob(queue, id))?.state).toBe('completed');
    });

    it('rejects bad options with a clear error', async () => {
      const q = await open();
      const queue = queueName();
      await expect(q.add(queue, 'x', {}, { jobId: '42' })).rejects.toThrow(/must not be an integer/);
      await expect(q.add(queue, 'x', {}, { jobId: 'a:b' })).rejects.toThrow(/must not contain ':'/);
      await expect(q.add(queue, 'x', {}, { attempts: 0 })).rejects.toThrow(/attempts must be an integer/);
      await expect(q.add('bad:name', 'x', {})).rejects.toThrow(/invalid queue name/);
      await expect(q.repeat(queue, 'r', {}, 0)).rejects.toThrow(/everyMs/);
      expect((await q.counts(queue)).waiting).toBe(0);
    });

    it('obliterate removes every job', async () => {
      const q = await open();
      const queue = queueName();
      const id = await q.add(queue, 'x', {});
      await q.add(queue, 'y', {}, { delayMs: 60_000 });
      await q.obliterate(queue);
      expect(await q.getJob(queue, id)).toBeUndefined();
      expect(await q.counts(queue)).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, unknown: 0 });
    });
  });
}
