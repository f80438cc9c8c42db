/**
 * The message bus: Kafka in production, in-process for `npm start` and unit tests.
 * Semantics both implementations share (checked by test/conformance/bus.ts):
 * - messages with the same key keep their order (same partition);
 * - a subscription's handler receives batches per partition, and the batch's offsets are committed
 *   only after the handler resolves; if it throws, the batch is redelivered (at-least-once);
 * - a new subscriber in a group with committed offsets resumes after them; otherwise it starts at
 *   `fromBeginning ? earliest : latest`.
 */
export interface BusMessage {
  key?: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ReceivedMessage {
  key?: string;
  value: Buffer;
  headers: Record<string, string>;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53 in theory). */
  offset: string;
  timestamp: number;
}

export interface MessageBatch {
  topic: string;
  partition: number;
  messages: ReceivedMessage[];
}

export interface SubscribeOptions {
  group: string;
  topics: string[];
  fromBeginning?: boolean;
  /** Called per batch; resolve to commit, throw to have the batch redelivered. */
  handler: (batch: MessageBatch) => Promise<void>;
  /** Largest batch handed to the handler (default 10 000 messages). */
  maxBatchMessages?: number;
  /**
   * Most bytes one fetch brings of one partition (Kafka; default the bus's, 16 MiB). A consumer that
   * writes a batch at a time downstream (the sink: an INSERT each) asks for more, so a backlog
   * comes in fewer, larger batches; the others keep the smaller bound on their memory.
   */
  fetchBytesPerPartition?: number;
  /**
   * Kafka: the broker holds a fetch until it has this many bytes for the subscription's partitions
   * or `fetchMaxWaitMs` passed (default 1 byte: answer as soon as anything is there). A consumer
   * that pays per batch downstream asks for more, so a steady stream comes in fewer, larger batches.
   */
  fetchMinBytes?: number;
  /** Kafka: longest the broker holds a fetch that has fewer than `fetchMinBytes` (default the bus's, 500 ms). */
  fetchMaxWaitMs?: number;
  /**
   * Kafka: batches of different partitions of one fetch handed to the handler side by side
   * (default the bus's, 1: one after the other). A partition's batches stay one at a time.
   */
  partitionsConcurrently?: number;
}

export interface Subscription {
  /** Stops consuming; does not commit anything the handler has not finished. */
  stop(): Promise<void>;
  /** Temporarily stops fetching (backpressure, e.g. ClickHouse down). */
  pause(): void;
  resume(): void;
}

export interface Bus {
  readonly kind: 'memory' | 'kafka';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Creates topics if missing (idempotent). */
  ensureTopics(topics: { topic: string; partitions?: number }[]): Promise<void>;
  /** Resolves once the bus has accepted the messages (Kafka: acks from the broker). */
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Deletes topics (tests clean up after themselves). */
  deleteTopics(topics: string[]): Promise<void>;
}
