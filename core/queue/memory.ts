import { PathpilotError, errorMessage } from '../errors.ts';
import { RealClock, type Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { createQueueMetrics, type QueueMetrics } from './metrics.ts';
import type { JobHandler, JobInfo, JobOptions, JobState, Queue, QueueWorker } from './types.ts';
import {
  backoffDelay,
  checkEvery,
  checkJobOptions,
  checkQueueName,
  defaultAttempts,
  defaultBackoffMs,
  isUnrecoverable,
} from './validate.ts';

/**
 * The in-process job queue (for `npm start`, the lab and unit tests), with BullMQ's semantics:
 * idempotent `jobId`, attempts with exponential backoff, UnrecoverableError → failed at once,
 * delayed and repeatable jobs, progress, counts. Time comes from the Clock, so delayed jobs,
 * backoffs and repeats follow a SimulatedClock. State lives in a MemoryQueueStore: share one
 * between instances to emulate a process restart; jobs and their results are kept until
 * `obliterate` (memory is not bounded).
 */

interface MemJob {
  id: string;
  name: string;
  data: unknown;
  state: JobState;
  attemptsMade: number;
  attempts: number;
  backoffMs: number;
  returnValue?: unknown;
  failedReason?: string;
  progress?: number;
}

interface Scheduler {
  name: string;
  data: unknown;
  everyMs: number;
  abort: AbortController;
  lastJobId?: string;
}

interface QueueData {
  jobs: Map<string, MemJob>;
  waiting: string[];
  nextId: number;
  schedulers: Map<string, Scheduler>;
  workers: Set<MemoryWorker>;
  timers: Set<AbortController>;
}

/** All queues' state: the "Redis" of the in-process queue. */
export class MemoryQueueStore {
  readonly queues = new Map<string, QueueData>();

  data(queue: string): QueueData {
    let q = this.queues.get(queue);
    if (!q) {
      q = { jobs: new Map(), waiting: [], nextId: 1, schedulers: new Map(), workers: new Set(), timers: new Set() };
      this.queues.set(queue, q);
    }
    return q;
  }

  /** Cancels every timer (delays, backoffs, repeats); call when the last instance is gone. */
  dispose(): void {
    for (const q of this.queues.values()) {
      for (const t of q.timers) t.abort();
      for (const s of q.schedulers.values()) s.abort.abort();
      q.timers.clear();
    }
  }
}

export interface MemoryQueueOptions {
  store?: MemoryQueueStore;
  clock?: Clock;
  log?: Logger;
  metrics?: QueueMetrics;
}

export class MemoryQueue implements Queue {
  readonly kind = 'memory' as const;
  readonly store: MemoryQueueStore;
  private readonly ownsStore: boolean;
  private readonly clock: Clock;
  private readonly metrics: QueueMetrics;
  private readonly workers = new Set<MemoryWorker>();
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MemoryQueueOptions = {}) {
    this.ownsStore = !options.store;
    this.store = options.store ?? new MemoryQueueStore();
    this.clock = options.clock ?? new RealClock();
    this.metrics = options.metrics ?? createQueueMetrics();
  }

  async start(): Promise<void> {
    if (this.stopping) throw new PathpilotError('PP_ERR_QUEUE', 'memory queue: start() after stop()');
    this.started = true;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.started = false;
      await Promise.all([...this.workers].map((w) => w.close()));
      if (this.ownsStore) this.store.dispose();
    })();
    return this.stopping;
  }

  private assertStarted(what: string): void {
    if (!this.started) throw new PathpilotError('PP_ERR_QUEUE', `memory queue: ${what} before start() or after stop()`);
  }

  async add<T>(queue: string, name: string, data: T, options: JobOptions = {}): Promise<string> {
    this.assertStarted('add');
    checkJobOptions(queue, name, options);
    const q = this.store.data(queue);
    if (options.jobId !== undefined && q.jobs.has(options.jobId)) {
      this.metrics.jobs.inc({ queue, event: 'duplicate' });
      return options.jobId;
    }
    const id = options.jobId ?? String(q.nextId++);
    const job: MemJob = {
      id,
      name,
      data,
      state: 'waiting',
      attemptsMade: 0,
      attempts: options.attempts ?? defaultAttempts,
      backoffMs: options.backoffMs ?? defaultBackoffMs,
    };
    q.jobs.set(id, job);
    this.metrics.jobs.inc({ queue, event: 'added' });
    if (options.delayMs) this.delay(q, job, options.delayMs);
    else this.enqueue(q, job);
    return id;
  }

  private enqueue(q: QueueData, job: MemJob): void {
    job.state = 'waiting';
    q.waiting.push(job.id);
    for (const w of q.workers) w.wake();
  }

  private delay(q: QueueData, job: MemJob, ms: number): void {
    job.state = 'delayed';
    const abort = new AbortController();
    q.timers.add(abort);
    this.clock.sleep(ms, abort.signal).then(
      () => {
        q.timers.delete(abort);
        if (q.jobs.get(job.id) === job && job.state === 'delayed') this.enqueue(q, job);
      },
      () => q.timers.delete(abort),
    );
  }

  async repeat<T>(queue: string, name: string, data: T, everyMs: number): Promise<void> {
    this.assertStarted('repeat');
    checkEvery(queue, name, everyMs);
    const q = this.store.data(queue);
    q.schedulers.get(name)?.abort.abort();
    const scheduler: Scheduler = { name, data, everyMs, abort: new AbortController() };
    q.schedulers.set(name, scheduler);
    // Like a BullMQ `every` scheduler: the first job runs at once, then one per period; a period
    // whose previous job is still waiting adds nothing (no pile-up while no worker runs).
    const tick = () => {
      if (scheduler.abort.signal.aborted) return;
      const last = scheduler.lastJobId ? q.jobs.get(scheduler.lastJobId) : undefined;
      if (!last || last.state !== 'waiting') {
        const id = `repeat-${name}-${this.clock.now()}`;
        if (!q.jobs.has(id)) {
          const job: MemJob = {
            id,
            name,
            data: scheduler.data,
            state: 'waiting',
            attemptsMade: 0,
            attempts: defaultAttempts,
            backoffMs: defaultBackoffMs,
          };
          q.jobs.set(id, job);
          scheduler.lastJobId = id;
          this.metrics.jobs.inc({ queue, event: 'added' });
          this.enqueue(q, job);
        }
      }
      this.clock.sleep(everyMs, scheduler.abort.signal).then(tick, () => {});
    };
    tick();
  }

  async process<T, R>(queue: string, handler: JobHandler<T, R>, options: { concurrency?: number } = {}): Promise<QueueWorker> {
    this.assertStarted('process');
    checkQueueName(queue);
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new PathpilotError('PP_ERR_VALIDATION', `queue ${queue}: concurrency must be an integer ≥ 1`);
    }
    const q = this.store.data(queue);
    const worker = new MemoryWorker(queue, q, handler as JobHandler, concurrency, {
      metrics: this.metrics,
      log: this.options.log,
      retry: (job, ms) => this.delay(q, job, ms),
      requeue: (job) => this.enqueue(q, job),
      onClose: () => this.workers.delete(worker),
    });
    this.workers.add(worker);
    q.workers.add(worker);
    worker.run();
    return worker;
  }

  async getJob<T>(queue: string, id: string): Promise<JobInfo<T> | undefined> {
    this.assertStarted('getJob');
    checkQueueName(queue);
    const job = this.store.queues.get(queue)?.jobs.get(id);
    if (!job) return undefined;
    const info: JobInfo<T> = {
      id: job.id,
      name: job.name,
      data: job.data as T,
      state: job.state,
      attemptsMade: job.attemptsMade,
    };
    if (job.returnValue !== undefined) info.returnValue = job.returnValue;
    if (job.failedReason !== undefined) info.failedReason = job.failedReason;
    if (job.progress !== undefined) info.progress = job.progress;
    return info;
  }

  async counts(queue: string): Promise<Record<JobState, number>> {
    this.assertStarted('counts');
    checkQueueName(queue);
    const out: Record<JobState, number> = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, unknown: 0 };
    for (const job of this.store.queues.get(queue)?.jobs.values() ?? []) out[job.state]++;
    return out;
  }

  async obliterate(queue: string): Promise<void> {
    this.assertStarted('obliterate');
    checkQueueName(queue);
    const q = this.store.queues.get(queue);
    if (!q) return;
    for (const t of q.timers) t.abort();
    for (const s of q.schedulers.values()) s.abort.abort();
    await Promise.all([...q.workers].map((w) => w.close()));
    this.store.queues.delete(queue);
  }
}

class MemoryWorker implements QueueWorker {
  private closed = false;
  private readonly active = new Set<Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly queue: string,
    private readonly q: QueueData,
    private readonly handler: JobHandler,
    private readonly concurrency: number,
    private readonly hooks: {
      metrics: QueueMetrics;
      log?: Logger;
      retry: (job: MemJob, ms: number) => void;
      requeue: (job: MemJob) => void;
      onClose: () => void;
    },
  ) {}

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  run(): void {
    this.loop = (async () => {
      while (!this.closed) {
        while (!this.closed && this.active.size < this.concurrency && this.q.waiting.length > 0) {
          const id = this.q.waiting.shift()!;
          const job = this.q.jobs.get(id);
          if (!job || job.state !== 'waiting') continue;
          job.state = 'active';
          const p = this.runJob(job).finally(() => {
            this.active.delete(p);
            this.wake();
          });
          this.active.add(p);
        }
        if (this.closed) break;
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
      }
      await Promise.all([...this.active]);
    })();
  }

  private async runJob(job: MemJob): Promise<void> {
    const { metrics } = this.hooks;
    const queue = this.queue;
    try {
      const value = await this.handler(job.data, {
        id: job.id,
        name: job.name,
        attemptsMade: job.attemptsMade,
        progress: async (v: number) => {
          job.progress = v;
        },
      });
      job.attemptsMade++;
      job.state = 'completed';
      job.returnValue = value;
      metrics.jobs.inc({ queue, event: 'completed' });
    } catch (err) {
      job.attemptsMade++;
      job.failedReason = errorMessage(err);
      if (!isUnrecoverable(err) && job.attemptsMade < job.attempts) {
        metrics.jobs.inc({ queue, event: 'retried' });
        const ms = backoffDelay(job.backoffMs, job.attemptsMade);
        if (ms > 0) this.hooks.retry(job, ms);
        else this.hooks.requeue(job);
      } else {
        job.state = 'failed';
        metrics.jobs.inc({ queue, event: 'failed' });
        this.hooks.log?.warn({ queue, job: job.id, name: job.name, err: job.failedReason }, 'job failed');
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.wake();
      await this.loop;
      this.q.workers.delete(this);
      this.hooks.onClose();
    })();
    return this.closing;
  }
}
