import type { Logger } from '../log.ts';
import { PathpilotError } from '../errors.ts';
import type { QueueMetrics } from './metrics.ts';
import type { JobHandler, JobInfo, JobOptions, JobState, Queue, QueueWorker } from './types.ts';

export interface BullmqQueueOptions {
  redisUrl: string;
  log?: Logger;
  metrics?: QueueMetrics;
}

/** Placeholder until the BullMQ implementation lands. */
export class BullmqQueue implements Queue {
  readonly kind = 'bullmq' as const;
  constructor(private readonly options: BullmqQueueOptions) {}
  private unavailable(): never {
    throw new PathpilotError('PP_ERR_QUEUE', `bullmq queue (${this.options.redisUrl}) is not implemented yet`);
  }
  async start(): Promise<void> {
    this.unavailable();
  }
  async stop(): Promise<void> {}
  async add<T>(_queue: string, _name: string, _data: T, _options?: JobOptions): Promise<string> {
    this.unavailable();
  }
  async repeat<T>(_queue: string, _name: string, _data: T, _everyMs: number): Promise<void> {
    this.unavailable();
  }
  async process<T, R>(_queue: string, _handler: JobHandler<T, R>): Promise<QueueWorker> {
    this.unavailable();
  }
  async getJob<T>(_queue: string, _id: string): Promise<JobInfo<T> | undefined> {
    this.unavailable();
  }
  async counts(_queue: string): Promise<Record<JobState, number>> {
    this.unavailable();
  }
  async obliterate(_queue: string): Promise<void> {
    this.unavailable();
  }
}
