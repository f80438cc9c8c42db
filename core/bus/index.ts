import type { ServicesConfig } from '../config/schema.ts';
import type { Clock } from '../clock.ts';
import { PathpilotError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';
import { KafkaBus } from './kafka.ts';
import { MemoryBus } from './memory.ts';
import { namespacedBus } from './namespace.ts';
import { createBusMetrics } from './metrics.ts';
import type { Bus } from './types.ts';

export type * from './types.ts';
export { MemoryBus, MemoryBroker, type MemoryBusOptions } from './memory.ts';
export { KafkaBus, type KafkaBusOptions } from './kafka.ts';
export { createBusMetrics, type BusMetrics } from './metrics.ts';
export { partitionForKey, murmur2 } from './partition.ts';
export { namespacedBus } from './namespace.ts';

export interface BusDeps {
  log?: Logger;
  registry?: Registry;
  /** Message timestamps of the in-process bus (Kafka stamps its own). */
  clock?: Clock;
}

/**
 * Builds the bus the configuration names (`services.bus`). Inert: no connection is made until
 * `start()`. Metrics go to `deps.registry` when given.
 */
export function createBus(
  config: Omit<ServicesConfig['bus'], 'topic_prefix'> & { topic_prefix?: string },
  deps: BusDeps = {},
): Bus {
  const metrics = createBusMetrics(deps.registry);
  switch (config.kind) {
    case 'memory':
      return namespacedBus(new MemoryBus({ log: deps.log, clock: deps.clock, metrics }), config.topic_prefix ?? '');
    case 'kafka':
      if (config.brokers.length === 0) {
        throw new PathpilotError('PP_ERR_CONFIG', 'services.bus.brokers: at least one broker is required when kind is kafka');
      }
      return namespacedBus(
        new KafkaBus({ brokers: config.brokers, replicationFactor: config.replication_factor, log: deps.log, metrics }),
        config.topic_prefix ?? '',
      );
  }
}
