import type { ServicesConfig } from '../config/schema.ts';
import type { Clock } from '../clock.ts';
import { PathpilotError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';
import { BullmqQueue } from './bullmq.ts';
import { MemoryQueue } from './memory.ts';
import { createQueueMetrics } from './metrics.ts';
import type { Queue } from './types.ts';

export type * from './types.ts';
export { MemoryQueue, MemoryQueueStore, type MemoryQueueOptions } from './memory.ts';
export { BullmqQueue, type BullmqQueueOptions } from './bullmq.ts';
export { createQueueMetrics, type QueueMetrics } from './metrics.ts';

export interface QueueDeps {
  log?: Logger;
  registry?: Registry;
  /** Drives delays, backoffs and repeats of the in-process queue (BullMQ uses Redis time). */
  clock?: Clock;
}

/**
 * Builds the queue the configuration names (`services.queue`). Inert: no connection is made
 * until `start()`.
 */
export function createQueue(config: Omit<ServicesConfig['queue'], 'prefix'> & { prefix?: string }, deps: QueueDeps = {}): Queue {
  const metrics = createQueueMetrics(deps.registry);
  switch (config.kind) {
    case 'memory':
      return new MemoryQueue({ log: deps.log, clock: deps.clock, metrics });
    case 'bullmq':
      if (!config.redis_url) {
        throw new PathpilotError('PP_ERR_CONFIG', 'services.queue.redis_url: required when kind is bullmq');
      }
      return new BullmqQueue({ redisUrl: config.redis_url, prefix: config.prefix, log: deps.log, metrics });
  }
}
