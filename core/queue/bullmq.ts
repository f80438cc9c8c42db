import {
  Queue as BullQueue,
  UnrecoverableError as BullUnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
  type JobsOptions,
} from 'bullmq';
import { PathpilotError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createQueueMetrics, type QueueMetrics } from './metrics.ts';
import type { JobHandler, JobInfo, JobOptions, JobState, Queue, QueueWorker } from './types.ts';
import { checkEvery, checkJobOptions, checkQueueName, defaultAttempts, defaultBackoffMs, isUnrecoverable } from './validate.ts';

/**
 * The job queue on BullMQ 5 + Redis. State lives in Redis, so jobs, their results and repeatable
 * schedules survive a worker or process restart; a job whose worker died mid-run is moved back to
 * waiting by BullMQ's stalled-job check. Our UnrecoverableError is mapped to BullMQ's, which skips
 * the remaining attempts. Repeats use job schedulers (`upsertJobScheduler`, `every`). Time is
 * Redis's: a SimulatedClock does not drive this queue.
 */
export interface BullmqQueueOptions {
  redisUrl: string;
  /** Redis key prefix. @defaultValue 'pathpilot' */
  prefix?: string;
  log?: Logger;
  metrics?: QueueMetrics;
  /** How long start() waits for Redis. @defaultValue 10000 */
  connectTimeoutMs?: number;
  /**
   * A worker's lock on an active job; a job whose worker died is found by the stalled-job check once
   * its lock expired and goes back to waiting (once; a second stall fails it).
   * @defaultValue 30000 (BullMQ's)
   */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs. @defaultValue 30000 (BullMQ's) */
  stalledIntervalMs?: number;
  /**
   * Finished jobs kept (jobId deduplication holds while a job is kept).
   * @defaultValue 50 000 jobs or 30 days, whichever comes first
   */
  keepFinished?: { count: number; ageSeconds: number };
}

/** redis://[user:password@]host[:port][/db] and rediss:// (TLS) → ioredis options. */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new PathpilotError('PP_ERR_CONFIG', `services.queue.redis_url: not a URL: ${url}`, { cause: err });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new PathpilotError('PP_ERR_CONFIG', `services.queue.redis_url: expected redis:// or rediss://, got ${u.protocol}`);
  }
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) {
    throw new PathpilotError('PP_ERR_CONFIG', `services.queue.redis_url: database must be a number, got ${db}`);
  }
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db ? Number(db) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ requires this for workers' blocking commands.
    maxRetriesPerRequest: null,
  };
}

function mapState(state: string): JobState {
  switch (state) {
    case 'completed':
    case 'failed':
    case 'delayed':
    case 'active':
    case 'waiting':
      return state;
    case 'prioritized':
    case 'waiting-children':
    case 'paused':
      return 'waiting';
    default:
      return 'unknown';
  }
}

export class BullmqQueue implements Queue {
  readonly kind = 'bullmq' as const;
  private readonly connection: ConnectionOptions;
  private readonly prefix: string;
  private readonly metrics: QueueMetrics;
  private readonly queues = new Map<string, BullQueue>();
  private readonly workers = new Map<Worker, string>();
  private readonly keep: { count: number; age: number };
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: BullmqQueueOptions) {
    this.connection = redisConnection(options.redisUrl);
    this.prefix = options.prefix ?? 'pathpilot';
    this.metrics = options.metrics ?? createQueueMetrics();
    const keep = options.keepFinished ?? { count: 50_000, ageSeconds: 30 * 24 * 3600 };
    this.keep = { count: keep.count, age: keep.ageSeconds };
  }

  /** Connects to Redis (checks it answers) within `connectTimeoutMs`. */
  async start(): Promise<void> {
    if (this.stopping) throw new PathpilotError('PP_ERR_QUEUE', 'bullmq queue: start() after stop()');
    if (this.started) return;
    const probe = new BullQueue('pathpilot-probe', { connection: this.connection, prefix: this.prefix });
    let lastError: unknown;
    probe.on('error', (err) => (lastError = err));
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe.waitUntilReady().then(() => probe.count()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(lastError ?? new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      throw new PathpilotError('PP_ERR_QUEUE', `unable to reach Redis at ${this.describe()}`, { cause: err });
    } finally {
      clearTimeout(timer);
      await probe.close().catch(() => {});
    }
    this.started = true;
  }

  private describe(): string {
    const c = this.connection as { host?: string; port?: number; db?: number };
    return `${c.host}:${c.port}/${c.db}`;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.started = false;
      await Promise.allSettled([...this.workers.keys()].map((w) => w.close()));
      await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
      this.queues.clear();
    })();
    return this.stopping;
  }

  private queue(name: string, what: string): BullQueue {
    if (!this.started) throw new PathpilotError('PP_ERR_QUEUE', `bullmq queue: ${what} before start() or after stop()`);
    checkQueueName(name);
    let q = this.queues.get(name);
    if (!q) {
      q = new BullQueue(name, { connection: this.connection, prefix: this.prefix });
      q.on('error', (err) => {
        this.metrics.errors.inc({ error_type: 'redis' });
        this.options.log?.warn({ err: errorMessage(err), queue: name }, 'bullmq queue error');
      });
      this.queues.set(name, q);
    }
    return q;
  }

  private wrap<R>(what: string, queue: string, run: () => Promise<R>): Promise<R> {
    return run().catch((err: unknown) => {
      if (err instanceof PathpilotError) throw err;
      this.metrics.errors.inc({ error_type: 'redis' });
      throw new PathpilotError('PP_ERR_QUEUE', `${what} on queue ${queue} failed`, { cause: err });
    });
  }

  async add<T>(queue: string, name: string, data: T, options: JobOptions = {}): Promise<string> {
    checkJobOptions(queue, name, options);
    const q = this.queue(queue, 'add');
    return this.wrap('add', queue, async () => {
      if (options.jobId !== undefined && (await q.getJob(options.jobId))) {
        this.metrics.jobs.inc({ queue, event: 'duplicate' });
        return options.jobId;
      }
      const backoffMs = options.backoffMs ?? defaultBackoffMs;
      const opts: JobsOptions = {
        jobId: options.jobId,
        delay: options.delayMs || undefined,
        attempts: options.attempts ?? defaultAttempts,
        backoff: backoffMs > 0 ? { type: 'exponential', delay: backoffMs } : undefined,
        removeOnComplete: this.keep,
        removeOnFail: this.keep,
      };
      const job = await q.add(name, data, opts);
      this.metrics.jobs.inc({ queue, event: 'added' });
      return job.id!;
    });
  }

  async repeat<T>(queue: string, name: string, data: T, everyMs: number): Promise<void> {
    checkEvery(queue, name, everyMs);
    const q = this.queue(queue, 'repeat');
    await this.wrap('repeat', queue, () =>
      q.upsertJobScheduler(
        name,
        { every: everyMs },
        { name, data, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } },
      ),
    );
  }

  async process<T, R>(queue: string, handler: JobHandler<T, R>, options: { concurrency?: number } = {}): Promise<QueueWorker> {
    this.queue(queue, 'process');
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new PathpilotError('PP_ERR_VALIDATION', `queue ${queue}: concurrency must be an integer ≥ 1`);
    }
    const { metrics, log } = { metrics: this.metrics, log: this.options.log };
    const worker = new Worker<T, R>(
      queue,
      async (job: Job<T, R>) => {
        try {
          return await handler(job.data, {
            id: job.id!,
            name: job.name,
            attemptsMade: job.attemptsMade,
            progress: (value: number) => job.updateProgress(value),
          });
        } catch (err) {
          if (isUnrecoverable(err) && !(err instanceof BullUnrecoverableError)) {
            throw new BullUnrecoverableError(errorMessage(err));
          }
          throw err instanceof Error ? err : new Error(errorMessage(err));
        }
      },
      {
        connection: this.connection,
        prefix: this.prefix,
        concurrency,
        // Only when set: an explicit `undefined` would override BullMQ's defaults.
        ...(this.options.lockDurationMs !== undefined && { lockDuration: this.options.lockDurationMs }),
        ...(this.options.stalledIntervalMs !== undefined && { stalledInterval: this.options.stalledIntervalMs }),
      },
    );
    worker.on('error', (err) => {
      metrics.errors.inc({ error_type: 'worker' });
      log?.warn({ err: errorMessage(err), queue }, 'bullmq worker error');
    });
    worker.on('completed', () => metrics.jobs.inc({ queue, event: 'completed' }));
    worker.on('failed', (job, err) => {
      const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
      metrics.jobs.inc({ queue, event: final ? 'failed' : 'retried' });
      if (final) log?.warn({ queue, job: job?.id, name: job?.name, err: err.message }, 'job failed');
    });
    this.workers.set(worker as unknown as Worker, queue);
    try {
      await worker.waitUntilReady();
    } catch (err) {
      await worker.close().catch(() => {});
      this.workers.delete(worker as unknown as Worker);
      throw new PathpilotError('PP_ERR_QUEUE', `unable to start a worker on queue ${queue}`, { cause: err });
    }
    let closing: Promise<void> | undefined;
    return {
      close: () =>
        (closing ??= worker.close().finally(() => {
          this.workers.delete(worker as unknown as Worker);
        })),
    };
  }

  async getJob<T>(queue: string, id: string): Promise<JobInfo<T> | undefined> {
    const q = this.queue(queue, 'getJob');
    return this.wrap('getJob', queue, async () => {
      const job = (await q.getJob(id)) as Job<T> | undefined;
      if (!job) return undefined;
      const info: JobInfo<T> = {
        id: job.id!,
        name: job.name,
        data: job.data,
        state: mapState(await job.getState()),
        attemptsMade: job.attemptsMade,
      };
      if (job.returnvalue !== null && job.returnvalue !== undefined) info.returnValue = job.returnvalue;
      if (job.failedReason) info.failedReason = job.failedReason;
      if (typeof job.progress === 'number') info.progress = job.progress;
      return info;
    });
  }

  async counts(queue: string): Promise<Record<JobState, number>> {
    const q = this.queue(queue, 'counts');
    return this.wrap('counts', queue, async () => {
      const c = await q.getJobCounts(
        'waiting',
        'paused',
        'prioritized',
        'waiting-children',
        'delayed',
        'active',
        'completed',
        'failed',
      );
      return {
        waiting: (c.waiting ?? 0) + (c.paused ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
        delayed: c.delayed ?? 0,
        active: c.active ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        unknown: 0,
      };
    });
  }

  async obliterate(queue: string): Promise<void> {
    const q = this.queue(queue, 'obliterate');
    await Promise.allSettled([...this.workers.entries()].filter(([, name]) => name === queue).map(([w]) => w.close()));
    await this.wrap('obliterate', queue, async () => {
      for (const s of await q.getJobSchedulers()) await q.removeJobScheduler(s.key);
      await q.obliterate({ force: true });
      await q.close();
    });
    this.queues.delete(queue);
  }
}
