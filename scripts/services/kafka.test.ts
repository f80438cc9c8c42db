import { describe, expect, it } from 'vitest';
import { clusterServicesConfig, defaultServicesConfig, kafkaBrokerList, serviceEnv } from './config.ts';
import { servicesFor } from './index.ts';
import {
  clusterSettings,
  kafka,
  kafkaClusterId,
  kafkaNodeName,
  kafkaNodes,
  kafkaServerProperties,
  withSettings,
} from './kafka.ts';

/** key → value of a server.properties text. */
const properties = (text: string): Map<string, string> =>
  new Map(
    text
      .split('\n')
      .filter((line) => /^[a-z]/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

describe('kafkaClusterId', () => {
  it("is 22 URL-safe base64 characters and never starts with '-' (StorageTool would read it as an option)", () => {
    // One id in 64 would start with '-' without the check: 5,000 draws make that certain to be seen.
    const ids = Array.from({ length: 5_000 }, kafkaClusterId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('Kafka nodes of a set', () => {
  // Fixed ports: PATHPILOT_SERVICES_PORT_OFFSET (a CI simulation) must not move them.
  const ports = { ...defaultServicesConfig().ports, kafka: 9092, kafkaController: 9093 };
  const single = defaultServicesConfig({ root: '/tmp/pp-set', ports, topology: { kafkaBrokers: 1 } });
  const three = { ...single, topology: { kafkaBrokers: 3 } };

  it('is the single broker alone by default, and N nodes 100 ports apart for a cluster', () => {
    expect(kafkaNodes(single, kafka)).toEqual([kafka]);
    const nodes = kafkaNodes(three, kafka);
    expect(nodes.map((n) => n.name)).toEqual(['kafka', 'kafka-2', 'kafka-3']);
    expect(nodes.map((n) => n.kind)).toEqual(['kafka', 'kafka', 'kafka']);
    expect(nodes.map((n) => n.ports(three))).toEqual([
      [9092, 9093],
      [9192, 9193],
      [9292, 9293],
    ]);
    expect(nodes.map(({ name }) => name)).toEqual([1, 2, 3].map(kafkaNodeName));
    expect(servicesFor(three).filter((s) => s.kind === 'kafka')).toHaveLength(3);
  });

  it('lists every broker in KAFKA_BROKERS, node 1 first', () => {
    expect(serviceEnv(single).KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(serviceEnv(three).KAFKA_BROKERS).toBe('127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292');
    const cluster = clusterServicesConfig();
    const first = defaultServicesConfig().ports.kafka + 20_000; // 29092 without an offset
    expect(kafkaBrokerList(cluster)).toBe(`127.0.0.1:${first},127.0.0.1:${first + 100},127.0.0.1:${first + 200}`);
    expect(cluster.root).toMatch(/\.data\/cluster$/);
  });

  it('gives each node its id, listeners and folder, one voter set naming all three, and replication 3 / min ISR 2', () => {
    const files = [1, 2, 3].map((id) => properties(kafkaServerProperties(three, id)));
    for (const [i, p] of files.entries()) {
      const id = i + 1;
      expect(p.get('node.id')).toBe(String(id));
      expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293');
      expect(p.get('listeners')).toBe(`PLAINTEXT://127.0.0.1:${9092 + 100 * i},CONTROLLER://127.0.0.1:${9093 + 100 * i}`);
      expect(p.get('log.dirs')).toBe(`/tmp/pp-set/${kafkaNodeName(id)}/kraft-data`);
      expect(p.get('process.roles')).toBe('broker,controller');
      for (const key of [
        'default.replication.factor',
        'offsets.topic.replication.factor',
        'transaction.state.log.replication.factor',
      ])
        expect(p.get(key), key).toBe('3');
      for (const key of ['min.insync.replicas', 'transaction.state.log.min.isr']) expect(p.get(key), key).toBe('2');
    }
    // The single broker's file keeps replication 1 and says nothing of defaults it does not need.
    const one = properties(kafkaServerProperties(single, 1));
    expect(one.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093');
    expect(one.get('offsets.topic.replication.factor')).toBe('1');
    expect(one.has('default.replication.factor')).toBe(false);
  });

  it('keeps min ISR at 1 below three brokers, so one broker down does not stop writes', () => {
    expect(clusterSettings(2, 2)).toMatchObject({
      'node.id': '2',
      'default.replication.factor': '2',
      'min.insync.replicas': '1',
    });
    expect(clusterSettings(4, 5)).toMatchObject({ 'default.replication.factor': '3', 'min.insync.replicas': '2' });
  });

  it('withSettings replaces existing keys in place and appends the others', () => {
    expect(withSettings('# c\na=1\nb.c=2\n', { 'b.c': '3', d: '4' })).toBe('# c\na=1\nb.c=3\nd=4\n');
  });
});
