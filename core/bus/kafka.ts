import type { Logger } from '../log.ts';
import { PathpilotError } from '../errors.ts';
import type { BusMetrics } from './metrics.ts';
import type { Bus, BusMessage, SubscribeOptions, Subscription } from './types.ts';

export interface KafkaBusOptions {
  brokers: string[];
  log?: Logger;
  metrics?: BusMetrics;
}

/** Placeholder until the kafkajs implementation lands. */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  constructor(private readonly options: KafkaBusOptions) {}
  private unavailable(): never {
    throw new PathpilotError('PP_ERR_BUS', `kafka bus (${this.options.brokers.join(',')}) is not implemented yet`);
  }
  async start(): Promise<void> {
    this.unavailable();
  }
  async stop(): Promise<void> {}
  async ensureTopics(_topics: { topic: string; partitions?: number }[]): Promise<void> {
    this.unavailable();
  }
  async publish(_topic: string, _messages: BusMessage[]): Promise<void> {
    this.unavailable();
  }
  async subscribe(_options: SubscribeOptions): Promise<Subscription> {
    this.unavailable();
  }
  async deleteTopics(_topics: string[]): Promise<void> {
    this.unavailable();
  }
}
