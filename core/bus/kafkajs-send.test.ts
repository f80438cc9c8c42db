import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { KafkaBus } from './kafka.ts';
import { sendPatch } from './kafkajs-send.ts';

/**
 * The produce retry of kafkajs-send.ts against kafkajs' own, on a scripted three-broker cluster:
 * broker 2 dies during a produce and its partitions move to brokers 1 and 3. The partition logs
 * follow the broker's idempotence rules (a batch repeating the last sequence numbers is dropped as a
 * duplicate, a gap is OUT_OF_ORDER), so "exactly once" is checked the way Kafka would store it.
 * The real cluster test is test/cluster/kafka-broker-kill.cluster.test.ts.
 */
const require = createRequire(import.meta.url);
const src = join(dirname(require.resolve('kafkajs/package.json')), 'src');
const createRetry = require(join(src, 'retry', 'index.js')) as (o: object) => unknown;
const { Partitioners } = require('kafkajs') as { Partitioners: { DefaultPartitioner: () => unknown } };

type SendMessages = (deps: object) => (request: object) => Promise<{ topicName: string; partition: number }[]>;

/** kafkajs' original producer/sendMessages.js, evaluated on its own (the require cache holds ours). */
function originalSendMessages(): SendMessages {
  const file = join(src, 'producer', 'sendMessages.js');
  const module = { exports: {} as unknown };
  const wrapped = runInThisContext(Module.wrap(readFileSync(file, 'utf8'))) as (...args: unknown[]) => void;
  wrapped(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports as SendMessages;
}
const patchedSendMessages = (): SendMessages => require(join(src, 'producer', 'sendMessages.js')) as SendMessages;

const retriable = (name: string, message: string): Error =>
  Object.assign(new Error(message), { name, retriable: true, host: '127.0.0.1', port: 2 });

interface Batch {
  firstSequence: number;
  count: number;
  values: string[];
}

/**
 * Six partitions, two per broker; `failure` says what broker 2 does with its first request:
 * fail before writing, or write (the followers have it) and die before answering.
 */
function scriptedCluster(failure: 'before-write' | 'after-write') {
  const leaders = new Map([
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 1],
    [4, 2],
    [5, 3],
  ]);
  const logs = new Map<number, Batch[]>([...leaders.keys()].map((p) => [p, []]));
  let broker2Dead = false;
  const sequences = new Map<number, number>();

  const broker = (nodeId: number) => ({
    nodeId,
    async produce(request: {
      topicData: { topic: string; partitions: { partition: number; firstSequence: number; messages: { value: string }[] }[] }[];
    }) {
      if (nodeId === 2 && broker2Dead) throw retriable('KafkaJSConnectionError', 'Connection refused');
      const answer = request.topicData.map(({ topic, partitions }) => ({
        topicName: topic,
        partitions: partitions.map(({ partition, firstSequence, messages }) => {
          const log = logs.get(partition)!;
          const last = log[log.length - 1];
          const duplicate = last !== undefined && last.firstSequence === firstSequence && last.count === messages.length;
          const expected = last ? last.firstSequence + last.count : 0;
          if (!duplicate && firstSequence !== expected) throw new Error(`OUT_OF_ORDER_SEQUENCE_NUMBER on ${partition}`);
          if (!duplicate) log.push({ firstSequence, count: messages.length, values: messages.map((m) => m.value) });
          return { partition, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' };
        }),
      }));
      if (nodeId === 2 && !broker2Dead) {
        broker2Dead = true;
        // before-write: nothing of it was stored; after-write: stored, then the connection died.
        if (failure === 'before-write')
          for (const { partitions } of request.topicData) for (const p of partitions) logs.get(p.partition)!.pop();
        throw retriable('KafkaJSConnectionClosedError', 'Closed connection');
      }
      return { topics: answer, throttleTime: 0 };
    },
  });
  const brokers = new Map([1, 2, 3].map((id) => [id, broker(id)]));

  const cluster = {
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() {
      // The controller fenced broker 2: its partitions move to the survivors.
      if (broker2Dead) {
        leaders.set(1, 1);
        leaders.set(4, 3);
      }
    },
    async addMultipleTargetTopics() {},
    findTopicPartitionMetadata: () => [...leaders].map(([partitionId, leader]) => ({ partitionId, leader })),
    findLeaderForPartitions(_topic: string, partitions: string[]) {
      const out: Record<string, number[]> = {};
      for (const p of partitions.map(Number)) (out[leaders.get(p)!] ??= []).push(p);
      return out;
    },
    async findBroker({ nodeId }: { nodeId: string }) {
      return brokers.get(Number(nodeId))!;
    },
    removeBroker() {},
    isConnected: () => true,
    async connect() {},
  };
  const eosManager = {
    isTransactional: () => false,
    getTransactionalId: () => undefined,
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    getSequence: (_t: string, p: number) => sequences.get(p) ?? 0,
    updateSequence: (_t: string, p: number, n: number) => sequences.set(p, (sequences.get(p) ?? 0) + n),
    async acquireBrokerLock() {},
    async releaseBrokerLock() {},
    async addPartitionsToTransaction() {},
  };
  const deps = {
    logger: { debug() {}, error() {} },
    cluster,
    partitioner: Partitioners.DefaultPartitioner(),
    eosManager,
    retrier: createRetry({ initialRetryTime: 1, maxRetryTime: 5, retries: 10 }),
  };
  // Two messages per partition, placed explicitly.
  const messages = Array.from({ length: 12 }, (_, i) => ({ partition: i % 6, value: `m${i}` }));
  const stored = (): string[] => [...logs.values()].flatMap((batches) => batches.flatMap((b) => b.values)).sort();
  return { deps, messages, stored, request: { acks: -1, topicMessages: [{ topic: 't', messages }] } };
}

describe('kafkajs produce retry (kafkajs-send.ts)', () => {
  it('is installed in place of kafkajs’ own', () => {
    expect(KafkaBus).toBeTypeOf('function');
    expect(sendPatch).toEqual({ installed: true });
  });

  it('kafkajs’ own retry resolves the send while the dead leader’s partitions were never written', async () => {
    const cluster = scriptedCluster('before-write');
    const acks = await originalSendMessages()(cluster.deps)(cluster.request);
    // The bug this module exists for: acked, and partitions 1 and 4 (broker 2's) are missing.
    expect(acks.map((a) => a.partition).sort()).toEqual([0, 2, 3, 5]);
    expect(cluster.stored()).toEqual(
      cluster.messages
        .filter((m) => m.partition !== 1 && m.partition !== 4)
        .map((m) => m.value)
        .sort(),
    );
  });

  for (const failure of ['before-write', 'after-write'] as const) {
    it(`re-sends exactly the unacked partitions to their new leaders (${failure})`, async () => {
      const cluster = scriptedCluster(failure);
      const acks = await patchedSendMessages()(cluster.deps)(cluster.request);
      expect(acks.map((a) => a.partition).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      // Every message stored once: the re-sent batch of a write that did land is dropped as a duplicate.
      expect(cluster.stored()).toEqual(cluster.messages.map((m) => m.value).sort());
    });
  }
});
