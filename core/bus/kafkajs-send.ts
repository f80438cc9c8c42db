/**
 * kafkajs 2.2.4 loses acknowledged messages when a partition leader dies during a produce
 * (kafkajs issue #1303, open; PR #1798). Its `producer/sendMessages.js` sends one request per
 * leader broker and, on a retry, only re-sends to brokers that have no answer yet. When broker 2
 * dies, its partitions move to brokers 1 and 3 — which already answered for their own partitions —
 * so the retry sends nothing for them and `send()` resolves as if they were written. Measured on
 * the three-broker cluster (test/cluster/kafka-broker-kill.cluster.test.ts): 6 of 1,000 messages
 * acked and missing. The same bookkeeping can also re-send a partition that *was* written (when its
 * leader moves between attempts) with fresh sequence numbers, which the idempotent broker then
 * stores twice, and lets a retry start while an earlier request to a slow broker is still in flight.
 *
 * This module, imported by kafka.ts before kafkajs, pre-loads that internal module with a corrected
 * one. The bookkeeping is per partition, not per broker:
 * - messages are assigned to partitions once (a retry re-sends the same messages to the same
 *   partition, so the sequence numbers kafkajs reverted for a failed request match them again and
 *   the broker drops what it had already stored — the idempotent producer's own deduplication);
 * - each attempt sends exactly the partitions without an ack, grouped by their *current* leader;
 * - an attempt waits for all of its requests to settle before the next attempt starts.
 * Everything else (sequence numbers, broker locks, transactions, error handling) is kafkajs' own
 * code path. When kafkajs is already loaded, or its version is not 2.2.4, nothing is changed and
 * `sendPatch.installed` says why (kafka.ts logs it). `PATHPILOT_KAFKAJS_ORIGINAL_SEND=1` keeps
 * kafkajs' own (to see the loss again).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The kafkajs version whose internals this replacement matches. */
export const patchedKafkajsVersion = '2.2.4';

export interface SendPatchState {
  installed: boolean;
  reason?: string;
}

// The slices of kafkajs internals the replacement calls (kafkajs is untyped JavaScript inside).
interface KafkaMessage {
  partition?: number | null;
  key?: unknown;
}
interface TopicMessages {
  topic: string;
  messages: KafkaMessage[];
}
interface PartitionMetadata {
  partitionId: number;
  leader: number;
}
interface BrokerLike {
  nodeId: number;
  produce(request: Record<string, unknown>): Promise<unknown>;
}
interface ClusterLike {
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
  findLeaderForPartitions(topic: string, partitions: string[]): Record<string, number[]>;
  findBroker(query: { nodeId: string }): Promise<BrokerLike>;
  removeBroker(address: { host: string; port: number }): void;
  isConnected(): boolean;
  connect(): Promise<void>;
}
interface EosManagerLike {
  isTransactional(): boolean;
  getTransactionalId(): string;
  getProducerId(): unknown;
  getProducerEpoch(): unknown;
  getSequence(topic: string, partition: number): number;
  updateSequence(topic: string, partition: number, increment: number): void;
  acquireBrokerLock(broker: BrokerLike): Promise<void>;
  releaseBrokerLock(broker: BrokerLike): Promise<void> | void;
  addPartitionsToTransaction(topicData: TopicData[]): Promise<void>;
}
interface LoggerLike {
  debug(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}
type Partitioner = (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: KafkaMessage }) => number;
type Retrier = <T>(fn: (bail: (err: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
interface TopicData {
  topic: string;
  partitions: { partition: number; messages: KafkaMessage[]; firstSequence?: number }[];
}
interface PartitionResponse {
  topicName: string;
  partition: number;
}
interface KafkaError extends Error {
  type?: string;
  retriable?: boolean;
  host?: string;
  port?: number;
}
interface SendRequest {
  acks: number;
  timeout?: number;
  compression?: unknown;
  topicMessages: TopicMessages[];
}
type SendMessagesFactory = (deps: {
  logger: LoggerLike;
  cluster: ClusterLike;
  partitioner: Partitioner;
  eosManager: EosManagerLike;
  retrier: Retrier;
}) => (request: SendRequest) => Promise<PartitionResponse[]>;

interface KafkajsInternals {
  groupMessagesPerPartition: (args: {
    topic: string;
    partitionMetadata: PartitionMetadata[];
    messages: KafkaMessage[];
    partitioner: Partitioner;
  }) => Record<string, KafkaMessage[]>;
  responseSerializer: (response: unknown) => PartitionResponse[];
  staleMetadata: (e: KafkaError) => boolean;
  KafkaJSMetadataNotLoaded: new (message: string) => Error;
}

const partitionKey = (topic: string, partition: number | string): string => `${topic}\u0000${partition}`;

/** The corrected `producer/sendMessages.js` (same factory signature as kafkajs'). */
export function createSendMessages(internals: KafkajsInternals): SendMessagesFactory {
  const { groupMessagesPerPartition, responseSerializer, staleMetadata, KafkaJSMetadataNotLoaded } = internals;
  return ({ logger, cluster, partitioner, eosManager, retrier }) =>
    async ({ acks, timeout, compression, topicMessages }) => {
      const topics = topicMessages.map(({ topic }) => topic);
      /** topic → partition → its messages: fixed at the first attempt that has the topic's metadata. */
      const assigned = new Map<string, Record<string, KafkaMessage[]>>();
      /** Partitions acked so far, with their response entries (none when acks = 0). */
      const acked = new Map<string, PartitionResponse[]>();

      /** One produce request to `nodeId` for the partitions given; marks them acked when it succeeds. */
      const produceTo = async (nodeId: string, perTopic: Map<string, number[]>): Promise<void> => {
        const broker = await cluster.findBroker({ nodeId });
        const topicData: TopicData[] = [...perTopic].map(([topic, partitions]) => ({
          topic,
          partitions: partitions.map((partition) => ({ partition, messages: assigned.get(topic)![partition]! })),
        }));
        await eosManager.acquireBrokerLock(broker);
        try {
          if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
          for (const { topic, partitions } of topicData) {
            for (const entry of partitions) {
              entry.firstSequence = eosManager.getSequence(topic, entry.partition);
              eosManager.updateSequence(topic, entry.partition, entry.messages.length);
            }
          }
          let response: unknown;
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            });
          } catch (e) {
            // Not acked: the next attempt sends the same messages with the same sequence numbers.
            for (const { topic, partitions } of topicData)
              for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
            throw e;
          }
          const entries = acks !== 0 ? responseSerializer(response) : [];
          for (const { topic, partitions } of topicData) {
            for (const { partition } of partitions) {
              acked.set(
                partitionKey(topic, partition),
                entries.filter((e) => e.topicName === topic && e.partition === partition),
              );
            }
          }
        } finally {
          await eosManager.releaseBrokerLock(broker);
        }
      };

      const attempt = async (): Promise<PartitionResponse[]> => {
        await cluster.refreshMetadataIfNecessary();
        for (const { topic, messages } of topicMessages) {
          if (assigned.has(topic)) continue;
          const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
          if (partitionMetadata.length === 0) {
            logger.debug('Producing to topic without metadata', { topic });
            throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata');
          }
          assigned.set(topic, groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }));
        }
        // The partitions still without an ack, by their leader now.
        const perLeader = new Map<string, Map<string, number[]>>();
        for (const [topic, byPartition] of assigned) {
          const waiting = Object.keys(byPartition).filter((p) => !acked.has(partitionKey(topic, p)));
          if (waiting.length === 0) continue;
          for (const [nodeId, partitions] of Object.entries(cluster.findLeaderForPartitions(topic, waiting))) {
            const perTopic = perLeader.get(nodeId) ?? new Map<string, number[]>();
            perTopic.set(topic, partitions);
            perLeader.set(nodeId, perTopic);
          }
        }
        // Every request settles before the next attempt: none is still in flight when it re-sends.
        const results = await Promise.allSettled([...perLeader].map(([nodeId, perTopic]) => produceTo(nodeId, perTopic)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        const unacked = [...assigned].flatMap(([topic, byPartition]) =>
          Object.keys(byPartition).filter((p) => !acked.has(partitionKey(topic, p))),
        );
        // A partition the metadata does not list (yet): ask again.
        if (unacked.length > 0) throw new KafkaJSMetadataNotLoaded(`no leader known for partitions ${unacked.join(', ')}`);
        return [...acked.values()].flat();
      };

      return retrier(async (bail, retryCount, retryTime) => {
        await cluster.addMultipleTargetTopics(topics);
        try {
          return await attempt();
        } catch (caught) {
          // kafkajs' own handling, unchanged.
          const e = caught as KafkaError;
          if (e.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: e.host!, port: e.port! });
          if (!cluster.isConnected()) {
            logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime });
            await cluster.connect();
            await cluster.refreshMetadata();
            throw e;
          }
          if (
            staleMetadata(e) ||
            e.name === 'KafkaJSMetadataNotLoaded' ||
            e.name === 'KafkaJSConnectionError' ||
            e.name === 'KafkaJSConnectionClosedError' ||
            (e.name === 'KafkaJSProtocolError' && e.retriable)
          ) {
            logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime });
            await cluster.refreshMetadata();
            throw e;
          }
          logger.error(`${e.message}`, { retryCount, retryTime });
          if (e.retriable) throw e;
          bail(e);
          return []; // unused: bail() rejected the send already
        }
      });
    };
}

function install(): SendPatchState {
  if (process.env.PATHPILOT_KAFKAJS_ORIGINAL_SEND === '1')
    return { installed: false, reason: 'PATHPILOT_KAFKAJS_ORIGINAL_SEND=1' };
  try {
    const kafkajsRoot = dirname(require.resolve('kafkajs/package.json'));
    const { version } = require(join(kafkajsRoot, 'package.json')) as { version: string };
    if (version !== patchedKafkajsVersion)
      return { installed: false, reason: `kafkajs ${version} is not ${patchedKafkajsVersion}, whose internals it replaces` };
    const src = join(kafkajsRoot, 'src');
    const target = join(src, 'producer', 'sendMessages.js');
    if (require.cache[join(src, 'producer', 'messageProducer.js')])
      return { installed: false, reason: 'kafkajs was loaded before the patch' };
    const internals: KafkajsInternals = {
      groupMessagesPerPartition: require(
        join(src, 'producer', 'groupMessagesPerPartition.js'),
      ) as KafkajsInternals['groupMessagesPerPartition'],
      responseSerializer: require(join(src, 'producer', 'responseSerializer.js')) as KafkajsInternals['responseSerializer'],
      staleMetadata: (require(join(src, 'protocol', 'error.js')) as Pick<KafkajsInternals, 'staleMetadata'>).staleMetadata,
      KafkaJSMetadataNotLoaded: (require(join(src, 'errors.js')) as Pick<KafkajsInternals, 'KafkaJSMetadataNotLoaded'>)
        .KafkaJSMetadataNotLoaded,
    };
    // Load the original module, then swap its exports before messageProducer.js requires it.
    require(target);
    const entry = require.cache[target] as NodeJS.Module | undefined;
    if (!entry) return { installed: false, reason: 'kafkajs sendMessages module not in the require cache' };
    entry.exports = createSendMessages(internals);
    return { installed: true };
  } catch (err) {
    return { installed: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export const sendPatch: SendPatchState = install();
