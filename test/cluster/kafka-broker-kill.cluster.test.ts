/**
 * Issue 20, Kafka cluster: kill -9 one broker of the three-broker KRaft cluster in the middle of a
 * 1M-flow-record load through the project's Bus, with the project's sink storing it in ClickHouse;
 * the stored rows must be exactly the records the producer got acks for (0 lost, 0 doubled).
 *
 * The producer loop behaves as a collector does: a publish that fails is retried until acked (the
 * idempotent producer must keep the bus's own retries from doubling anything). The broker killed is
 * the leader of partition 0 of the test topic; it is restarted at the end (`up`), and the test waits
 * until every partition of the topic is fully in sync again, so later files find the cluster whole.
 */
import { streamFlow } from './flows.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../core/bus/index.ts';
import type { Bus, BusMessage } from '../../core/bus/types.ts';
import { createStore } from '../../core/store/index.ts';
import type { Store } from '../../core/store/types.ts';
import { ident, sql } from '../../core/store/sql.ts';
import { encodeRecords, flowRecord, schemaHeader, schemaId, type FlowRecord } from '../../core/records/index.ts';
import { createSink, type Sink } from '../../analytics/sink/index.ts';
import { Kafka, logLevel } from 'kafkajs';
import { clusterServicesConfig } from '../../scripts/services/config.ts';
import { kafkaNodeName } from '../../scripts/services/kafka.ts';
import { ownedPid } from '../../scripts/services/process.ts';
import { serviceDir } from '../../scripts/services/config.ts';
import { pidFile } from '../../scripts/services/service.ts';
import { status, up } from '../../scripts/services/index.ts';
import { requireService, uniqueName } from '../support/services.ts';
import { until } from '../support/until.ts';

const RECORDS = 1_000_000;
/** Records per Kafka message, as the collectors batch them. */
const PER_MESSAGE = 1_000;
/** Messages per publish() call. */
const PER_PUBLISH = 10;
const PARTITIONS = 6;
/** The broker is killed once this many records are acked. */
const KILL_AFTER = 300_000;

const brokersEnv = process.env.KAFKA_CLUSTER_BROKERS;
if (!brokersEnv)
  throw new Error(
    'KAFKA_CLUSTER_BROKERS is unset: the cluster setup (test/support/cluster-setup.ts) could not start the Kafka cluster',
  );
const brokers = brokersEnv.split(',');
const clickhouse = requireService('clickhouse');
const cfg = clusterServicesConfig();
const header = { [schemaHeader]: schemaId(flowRecord) };
const log = (line: string): void => {
  process.stderr.write(`[broker-kill] ${line}\n`);
};

function flow(seq: number, exporter: string, now: number): FlowRecord {
  return streamFlow(seq, { time_received: now, exporter, site: `s${seq % 8}`, link: `l${seq % 3}`, class: 'gold' });
}

/** Message `m` of the stream: records m·PER_MESSAGE … (m+1)·PER_MESSAGE−1, keyed by its exporter. */
function message(m: number, now: number): BusMessage {
  const exporter = `127.0.2.${1 + (m % 12)}`;
  const records = Array.from({ length: PER_MESSAGE }, (_, i) => flow(m * PER_MESSAGE + i, exporter, now));
  return { key: exporter, value: encodeRecords(records), headers: header };
}

describe('Kafka cluster: kill -9 a broker during a 1M-record load', () => {
  const admin = new Kafka({ clientId: 'pp-broker-kill', brokers, logLevel: logLevel.NOTHING }).admin();
  let producer: Bus;
  let consumer: Bus;
  let store: Store;
  let sink: Sink | undefined;
  const topic = uniqueName('cluster_flows');
  const dlq = uniqueName('cluster_dlq');
  /** The instance killed, until it is healthy again. */
  let killed: string | undefined;

  beforeAll(async () => {
    await admin.connect();
    producer = createBus({ kind: 'kafka', brokers });
    consumer = createBus({ kind: 'kafka', brokers });
    await Promise.all([producer.start(), consumer.start()]);
    store = createStore({ kind: 'server', url: clickhouse, path: '', database: uniqueName('cluster_kill') });
    await store.start();
  });

  afterAll(async () => {
    await sink?.stop();
    if (killed) await up(cfg, { names: [killed] });
    await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
    await store.stop();
    await producer.deleteTopics([topic, dlq]).catch(() => undefined);
    await Promise.all([producer.stop(), consumer.stop()]);
    await admin.disconnect();
  });

  /** Partition → leader node id of the topic, as the cluster metadata has it now. */
  async function leaders(): Promise<Map<number, number>> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(topics[0]!.partitions.map((p) => [p.partitionId, p.leader]));
  }

  it('the sink ends with exactly the produced records: 0 lost, 0 doubled', async () => {
    // The cluster is whole, and the bus creates the topic replicated: RF 3, min.insync.replicas 2.
    expect((await status(cfg, ['kafka'])).map((s) => s.state)).toEqual(['healthy', 'healthy', 'healthy']);
    await producer.ensureTopics([{ topic, partitions: PARTITIONS }]);
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0]!.partitions.map((p) => p.replicas.length)).toEqual(Array(PARTITIONS).fill(3));
    const [described] = (
      await admin.describeConfigs({
        resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }],
        includeSynonyms: false,
      })
    ).resources;
    // Set on the topic by the bus (config source 1 = TOPIC_CONFIG), not inherited from the brokers.
    const minIsr = described!.configEntries.find((e) => e.configName === 'min.insync.replicas');
    expect({ value: minIsr?.configValue, source: (minIsr as { configSource?: number } | undefined)?.configSource }).toEqual({
      value: '2',
      source: 1,
    });

    sink = createSink(
      { bus: consumer, store },
      { topics: { flow: topic }, records: ['flow'], group: uniqueName('cluster_sink'), dead_letter_topic: dlq },
    );
    await sink.start();

    // Produce; a failed publish is retried until acked, as a collector's would be.
    const t0 = Date.now();
    let acked = 0;
    let failedPublishes = 0;
    let slowestPublishMs = 0;
    let killedAt = 0;
    let victim: { id: number; name: string; pid: number } | undefined;
    const now = Date.now() - 60_000;
    for (let m = 0; m < RECORDS / PER_MESSAGE; m += PER_PUBLISH) {
      const batch = Array.from({ length: PER_PUBLISH }, (_, k) => message(m + k, now));
      for (;;) {
        const sent = Date.now();
        try {
          await producer.publish(topic, batch);
          slowestPublishMs = Math.max(slowestPublishMs, Date.now() - sent);
          break;
        } catch (err) {
          failedPublishes++;
          log(
            `publish of messages ${m}…${m + PER_PUBLISH - 1} failed, retrying: ${err instanceof Error ? err.message : String(err)}`,
          );
          expect(Date.now() - t0, 'producing gave up').toBeLessThan(150_000);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      acked += PER_PUBLISH * PER_MESSAGE;
      if (!victim && acked >= KILL_AFTER) {
        const id = (await leaders()).get(0)!;
        const name = kafkaNodeName(id);
        const pid = ownedPid(pidFile(cfg, name), serviceDir(cfg, name));
        expect(pid, `${name} (leader of partition 0) runs under the cluster set`).toBeDefined();
        victim = { id, name, pid: pid! };
        process.kill(victim.pid, 'SIGKILL');
        killed = name;
        killedAt = Date.now();
        log(`killed ${name} (broker ${id}, pid ${pid}, leader of partition 0) after ${acked} acked records`);
      }
    }
    const produceSeconds = (Date.now() - t0) / 1000;
    expect(victim, 'a broker was killed mid-load').toBeDefined();
    expect(acked).toBe(RECORDS);
    // The cluster moved the killed broker's partitions to the survivors, and holds every acked
    // message once (no transactions: offsets count messages).
    const after = await leaders();
    expect([...after.values()].every((leader) => leader >= 0 && leader !== victim!.id)).toBe(true);
    const inKafka = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    expect(inKafka, 'messages in the topic').toBe(RECORDS / PER_MESSAGE);
    log(
      `produced ${acked} records in ${produceSeconds.toFixed(1)} s (slowest publish ${(slowestPublishMs / 1000).toFixed(1)} s, ` +
        `${failedPublishes} failed publishes retried; ` +
        `${((Date.now() - killedAt) / 1000).toFixed(1)} s since the kill)`,
    );

    const db = ident(store.database);
    const count = async (): Promise<number> =>
      (await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${db}.flows_raw`))[0]!.n;
    const stored = await until(async () => (await count()) >= RECORDS, 120_000, 500);
    // Anything redelivered twice would have landed by now.
    await new Promise((r) => setTimeout(r, 2_000));
    const [rows] = await store.query<{ n: number; distinct: number; first: number; last: number }>(
      sql`SELECT count() AS n, uniqExact(exporter, sequence) AS distinct, min(sequence) AS first, max(sequence) AS last
          FROM ${db}.flows_raw`,
    );
    log(
      `sink stored ${rows!.n} rows (${rows!.distinct} distinct) ${((Date.now() - t0) / 1000).toFixed(1)} s after the first publish`,
    );
    expect(stored, 'the sink stored every produced record in time').toBe(true);
    // count = distinct = produced, over sequences 0 … produced−1: every record once, none twice.
    expect(rows).toEqual({ n: RECORDS, distinct: RECORDS, first: 0, last: RECORDS - 1 });

    // Whole again: the killed broker restarts, rejoins, and catches up on every partition.
    await sink.stop();
    sink = undefined;
    // (Usually this call starts it; another run's cluster setup may have done so a moment before.)
    const restarted = await up(cfg, { names: [victim!.name] });
    // `up` returned once the node was registered again: its metadata lists all three brokers.
    const state = restarted.states.find((s) => s.name === victim!.name);
    expect(state?.state).toBe('healthy');
    expect(state?.detail).toMatch(/3 brokers in the metadata \(1, 2, 3\)/);
    killed = undefined;
    const inSync = await until(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]!.partitions.every((p) => p.isr.length === 3);
    }, 60_000);
    expect(inSync, 'every partition has its three replicas in sync after the restart').toBe(true);
    log(`${victim!.name} restarted and in sync ${((Date.now() - t0) / 1000).toFixed(1)} s after the first publish`);
  });
});
