/**
 * Job queue: BullMQ on Redis in production, in-process for `npm start` and unit tests.
 * Shared semantics (test/conformance/queue.ts):
 * - `add` with a `jobId` that already exists is a no-op (idempotent enqueue: approving twice applies once);
 * - a worker processes each job at least once; a job whose handler throws is retried up to `attempts`
 *   with backoff, unless it threw UnrecoverableError;
 * - delayed jobs run no earlier than their delay; repeatable jobs run every `everyMs`;
 * - job state (waiting, delayed, active, completed, failed) is queryable and survives a worker restart
 *   (BullMQ: survives a process restart too).
 */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

export interface JobOptions {
  jobId?: string;
  delayMs?: number;
  attempts?: number;
  backoffMs?: number;
}

export interface JobInfo<T = unknown> {
  id: string;
  name: string;
  data: T;
  state: JobState;
  attemptsMade: number;
  returnValue?: unknown;
  failedReason?: string;
  /** Last value reported through `JobContext.progress` (0–100). */
  progress?: number;
}

export interface JobContext {
  id: string;
  name: string;
  attemptsMade: number;
  /** Reports progress (0–100) for long jobs. */
  progress(value: number): Promise<void>;
}

export type JobHandler<T = unknown, R = unknown> = (data: T, job: JobContext) => Promise<R>;

export interface QueueWorker {
  close(): Promise<void>;
}

export interface Queue {
  readonly kind: 'memory' | 'bullmq';
  start(): Promise<void>;
  stop(): Promise<void>;
  add<T>(queue: string, name: string, data: T, options?: JobOptions): Promise<string>;
  /** Adds (or replaces) a repeatable job that runs every `everyMs`. */
  repeat<T>(queue: string, name: string, data: T, everyMs: number): Promise<void>;
  process<T, R>(queue: string, handler: JobHandler<T, R>, options?: { concurrency?: number }): Promise<QueueWorker>;
  getJob<T>(queue: string, id: string): Promise<JobInfo<T> | undefined>;
  counts(queue: string): Promise<Record<JobState, number>>;
  /** Removes every job of a queue (tests clean up after themselves). */
  obliterate(queue: string): Promise<void>;
}
