import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService, uniqueName } from '../../support/services.ts';
import { cuttableProxy } from '../../support/proxy.ts';
import { createBus } from '../../../core/bus/index.ts';
import type { Bus, ReceivedMessage } from '../../../core/bus/types.ts';
import { createStore } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { sql, ident } from '../../../core/store/sql.ts';
import { encodeRecords, flowRecord, schemaHeader, schemaId, type FlowRecord } from '../../../core/records/index.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { createSink } from '../../../analytics/sink/index.ts';
import { migrate } from '../../../analytics/schema/index.ts';

const brokers = requireService('kafka');
const clickhouse = requireService('clickhouse');
const childScript = join(dirname(fileURLToPath(import.meta.url)), 'sink-child.ts');
const header = { [schemaHeader]: schemaId(flowRecord) };

function flow(seq: number): FlowRecord {
  return {
    time_received: Date.now() - 30_000,
    exporter: `127.0.1.${1 + (seq % 4)}`,
    format: 'ipfix',
    domain_id: 1,
    sequence: seq,
    sampling_rate: 1 + (seq % 2),
    src_addr: `10.0.${seq % 200}.1`,
    dst_addr: '10.1.0.1',
    protocol: 6,
    bytes: 1500,
    packets: 2,
    site: `s${seq % 4}`,
    dst_site: 's9',
    link: `l${seq % 3}`,
    class: 'gold',
  };
}

/** Publishes `messages` × `perMessage` flows with unique sequence numbers, keyed over 4 exporters. */
async function produce(
  bus: Bus,
  topic: string,
  messages: number,
  perMessage: number,
  startSeq = 0,
  pauseMs = 0,
): Promise<number> {
  let seq = startSeq;
  for (let m = 0; m < messages; m += 10) {
    const batch = [];
    for (let k = 0; k < 10 && m + k < messages; k++) {
      const records = Array.from({ length: perMessage }, () => flow(seq++));
      batch.push({ key: `e${(m + k) % 4}`, value: encodeRecords(records), headers: header });
    }
    await bus.publish(topic, batch);
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return seq - startSeq;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface ChildHandle {
  proc: ChildProcess;
  last: { rows?: number; distinct?: number; ready?: boolean };
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startChild(env: Record<string, string>): ChildHandle {
  const proc = spawn(process.execPath, ['--import', 'tsx', childScript], {
    env: { ...process.env, KAFKA_BROKERS: brokers, CLICKHOUSE_URL: clickhouse, PATHPILOT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const handle: ChildHandle = { proc, last: {}, ready: Promise.resolve(), exited: Promise.resolve(null) };
  handle.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  handle.ready = new Promise((resolve, reject) => {
    proc.on('exit', () => reject(new Error('sink child exited before it was ready')));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const v = JSON.parse(line) as ChildHandle['last'];
        if (v.ready) resolve();
        else handle.last = v;
      } catch {
        // Not ours (a library printing): ignore.
      }
    });
  });
  return handle;
}

describe('analytics sink on Kafka', () => {
  let bus: Bus;
  const topics: string[] = [];
  const stores: Store[] = [];

  beforeAll(async () => {
    bus = createBus({ kind: 'kafka', brokers: brokers.split(',') });
    await bus.start();
  });

  afterAll(async () => {
    for (const s of stores) {
      await s.exec(sql`DROP DATABASE IF EXISTS ${ident(s.database)}`).catch(() => undefined);
      await s.stop();
    }
    await bus.deleteTopics(topics).catch(() => undefined);
    await bus.stop();
  });

  async function serverStore(prefix: string, url = clickhouse): Promise<Store> {
    const store = createStore({ kind: 'server', url, path: '', database: uniqueName(prefix) });
    await store.start();
    stores.push(store);
    return store;
  }

  async function newTopic(prefix: string, partitions = 3): Promise<string> {
    const topic = uniqueName(prefix);
    topics.push(topic);
    await bus.ensureTopics([{ topic, partitions }]);
    return topic;
  }

  /** A sink of the flow topic `topic` into `store`, in a group of its own, with `settings` on top. */
  const flowSink = (store: Store, topic: string, registry: ReturnType<typeof createRegistry>, settings: object) =>
    createSink(
      { bus, store, registry },
      { topics: { flow: topic }, records: ['flow'], group: uniqueName('g'), dead_letter_topic: uniqueName('dlq'), ...settings },
    );

  /** A sink writing through a TCP proxy the test can cut, into a migrated database it reads directly. */
  async function sinkBehindProxy(prefix: string, partitions: number, retryMaxMs: number) {
    const proxy = await cuttableProxy(clickhouse);
    const direct = await serverStore(prefix);
    await migrate(direct);
    const store = createStore({ kind: 'server', url: proxy.url, path: '', database: direct.database });
    await store.start();
    const registry = createRegistry();
    const topic = await newTopic(prefix, partitions);
    const sink = flowSink(store, topic, registry, { retry_min_ms: 100, retry_max_ms: retryMaxMs });
    const stop = async () => {
      await sink.stop();
      await store.stop();
      await proxy.close();
    };
    return { proxy, direct, registry, topic, sink, stop };
  }

  const count = async (store: Store, table = 'flows_raw') =>
    (await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${ident(store.database)}.${ident(table)}`))[0]!.n;

  it('lands a produced stream with exact counts, and the rollups agree with the raw table', async () => {
    const store = await serverStore('sink_exact');
    const topic = await newTopic('flows');
    const registry = createRegistry();
    const sink = createSink(
      { bus, store, registry },
      { topics: { flow: topic }, records: ['flow'], group: uniqueName('g'), dead_letter_topic: uniqueName('dlq') },
    );
    await sink.start();
    const produced = await produce(bus, topic, 200, 500);
    await waitFor('all rows', async () => (await count(store)) >= produced);
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(store)).toBe(produced);
    const db = ident(store.database);
    const [raw] = await store.query<{ b: number; n: number; d: number }>(
      sql`SELECT sum(bytes) AS b, count() AS n, uniqExact(sequence) AS d FROM ${db}.flows_raw`,
    );
    // bytes are estimates already (renormalized on ingest): the rollups sum them as stored.
    expect(raw).toEqual({ b: produced * 1500, n: produced, d: produced });
    const [roll] = await store.query<{ b: number; n: number }>(sql`SELECT sum(bytes) AS b, sum(flows) AS n FROM ${db}.flows_1m`);
    expect(roll).toEqual({ b: raw!.b, n: produced });
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_sent_total']).toBe(produced);
    await sink.stop();
  });

  for (const target of ['server', 'chdb'] as const) {
    it(`kill -9 the sink mid-load (${target}), restart it: the row count equals what was produced`, async () => {
      const topic = await newTopic(`kill_${target}`);
      const database = uniqueName(`kill_${target}`);
      const chdbDir = mkdtempSync(join(tmpdir(), 'pp-sink-chdb-'));
      const env = {
        SINK_STORE: target,
        SINK_CHDB_PATH: chdbDir,
        SINK_DATABASE: database,
        SINK_TOPIC: topic,
        SINK_GROUP: uniqueName('g'),
        SINK_DLQ: uniqueName('dlq'),
      };
      topics.push(env.SINK_DLQ);
      try {
        let child = startChild(env);
        await child.ready;
        // Produce in the background while the sink works; kill it once part of the stream is stored.
        const producing = produce(bus, topic, 400, 500, 0, 20);
        await waitFor('a third of the stream stored', () => (child.last.rows ?? 0) >= 60_000, 60_000);
        child.proc.kill('SIGKILL');
        expect(await child.exited).toBeNull();
        const seenBeforeKill = child.last.rows!;
        const produced = await producing;
        expect(produced).toBe(200_000);
        expect(seenBeforeKill).toBeLessThan(produced);

        child = startChild(env);
        await child.ready;
        await waitFor('every row after restart', () => (child.last.rows ?? 0) >= produced, 90_000);
        await new Promise((r) => setTimeout(r, 1500)); // redelivered duplicates would show up by now
        expect(child.last).toEqual({ rows: produced, distinct: produced });
        child.proc.kill('SIGTERM');
        expect(await child.exited).toBe(0);
        if (target === 'server') {
          const store = await serverStore('unused');
          const [r] = await store.query<{ n: number; d: number }>(
            sql`SELECT count() AS n, uniqExact(src_partition, src_offset, sequence) AS d FROM ${ident(database)}.flows_raw`,
          );
          expect(r).toEqual({ n: produced, d: produced });
          const [roll] = await store.query<{ s: number }>(sql`SELECT sum(flows) AS s FROM ${ident(database)}.flows_1m`);
          expect(roll!.s).toBe(produced);
          await store.exec(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
        }
      } finally {
        rmSync(chdbDir, { recursive: true, force: true });
      }
    });
  }

  it('sends poison messages to the dead-letter topic with the reason; good rows still land', async () => {
    const store = await serverStore('sink_poison');
    const topic = await newTopic('poison', 1);
    const dlq = await newTopic('dlq', 1);
    const registry = createRegistry();
    const sink = createSink(
      { bus, store, registry },
      { topics: { flow: topic }, records: ['flow'], group: uniqueName('g'), dead_letter_topic: dlq },
    );
    await sink.start();
    const dead: ReceivedMessage[] = [];
    const sub = await bus.subscribe({
      group: uniqueName('dlq'),
      topics: [dlq],
      fromBeginning: true,
      handler: async (b) => void dead.push(...b.messages),
    });
    await bus.publish(topic, [
      { key: 'a', value: encodeRecords([flow(1), flow(2)]), headers: header },
      { key: 'a', value: Buffer.from([0xc1, 0xff, 0x00]), headers: header },
      { key: 'a', value: encodeRecords([flow(3), { ...flow(4), bytes: -5 }]), headers: header },
      { key: 'a', value: encodeRecords([flow(5)]), headers: header },
    ]);
    await waitFor('dead letters', () => dead.length >= 2, 30_000);
    await waitFor('good rows', async () => (await count(store)) >= 4, 30_000);
    expect(await count(store)).toBe(4);
    expect(dead.map((d) => d.headers['pp-dlq-reason']!.split(':')[0])).toEqual(['undecodable', 'invalid flow record']);
    expect(dead[1]!.headers['pp-dlq-reason']).toMatch(/bytes/);
    expect(dead.map((d) => d.headers['pp-dlq-offset'])).toEqual(['1', '2']);
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_dead_lettered_total{reason="undecodable"}']).toBe(1);
    expect(m['pathpilot_analytics_sink_dead_lettered_total{reason="invalid"}']).toBe(1);
    await sub.stop();
    await sink.stop();
  });

  it('the batches of a fetch’s partitions share one INSERT: fewer INSERTs than batches, every row once', async () => {
    const store = await serverStore('sink_joined');
    await migrate(store);
    const topic = await newTopic('joined', 4);
    const registry = createRegistry();
    const sink = flowSink(store, topic, registry, { flow_consumers: 1 });
    await sink.start();
    const rounds = 4;
    let seq = 0;
    for (let round = 0; round < rounds; round++) {
      // Sixteen keys: messages on every partition, published at once (one fetch brings them all).
      await bus.publish(
        topic,
        Array.from({ length: 16 }, (_, k) => ({
          key: `k${k}`,
          value: encodeRecords(Array.from({ length: 25 }, () => flow(seq++))),
          headers: header,
        })),
      );
      await waitFor(`round ${round} stored`, async () => (await count(store)) >= seq, 30_000);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count(store)).toBe(seq);
    const [d] = await store.query<{ d: number }>(sql`SELECT uniqExact(sequence) AS d FROM ${ident(store.database)}.flows_raw`);
    expect(d!.d).toBe(seq);
    // Each round's partitions are that round's batches; each INSERT is one level-0 part.
    const [b] = await store.query<{ batches: number; partitions: number }>(sql`
      SELECT count() AS batches, uniqExact(src_partition) AS partitions FROM
        (SELECT DISTINCT intDiv(sequence, 400) AS round, src_partition FROM ${ident(store.database)}.flows_raw)`);
    const [parts] = await store.query<{ n: number }>(
      sql`SELECT count() AS n FROM system.parts WHERE database = ${store.database} AND table = 'flows_raw' AND level = 0`,
    );
    expect(b!.partitions).toBeGreaterThan(1);
    expect(parts!.n).toBeGreaterThanOrEqual(rounds);
    expect(parts!.n).toBeLessThan(b!.batches);
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_inserts_total{table="flows_raw"}']).toBe(parts!.n);
    await sink.stop();
  });

  it('ClickHouse down: retries with backoff, pauses, loses nothing, duplicates nothing', async () => {
    const { proxy, direct, registry, topic, sink, stop } = await sinkBehindProxy('sink_down', 2, 1000);
    await sink.start();
    const first = await produce(bus, topic, 20, 100);
    await waitFor('first rows', async () => (await count(direct)) >= first, 30_000);
    proxy.cut();
    const second = await produce(bus, topic, 20, 100, first);
    await waitFor(
      'retries while down',
      async () => ((await metricValues(registry))['pathpilot_analytics_sink_insert_retries_total'] ?? 0) >= 3,
      30_000,
    );
    expect(await count(direct)).toBe(first);
    proxy.restore();
    await waitFor('rows after recovery', async () => (await count(direct)) >= first + second, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count(direct)).toBe(first + second);
    const [d] = await direct.query<{ d: number }>(sql`SELECT uniqExact(sequence) AS d FROM ${ident(direct.database)}.flows_raw`);
    expect(d!.d).toBe(first + second);
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_errors_total{error_type="store_unavailable"}']).toBeGreaterThanOrEqual(3);
    await stop();
  });

  it('an INSERT the client gave up on while the server still writes it: stored once, never sent again', async () => {
    const { proxy, direct, registry, topic, sink, stop } = await sinkBehindProxy('sink_unknown', 1, 200);
    const db = ident(direct.database);
    // A view that holds every INSERT into flows_raw on the server for 2 s (sleep is per block), so
    // the connection can break while the server has the whole body and is still writing it. Views
    // are written in the order of their names: this one before the mark's (flows_raw_offsets_mv),
    // so the mark is not there yet while the INSERT runs.
    await direct.exec(
      sql`CREATE MATERIALIZED VIEW ${db}.a_slow_view ENGINE = Null AS SELECT sequence FROM ${db}.flows_raw WHERE sleep(2) = 0`,
    );
    await sink.start();
    const inserting = async () =>
      (
        await direct.query<{ n: number }>(
          sql`SELECT count() AS n FROM system.processes WHERE query LIKE ${`INSERT INTO \`${direct.database}\`.\`flows_raw\`%`}`,
        )
      )[0]!.n;
    const rows = await produce(bus, topic, 1, 100);
    await waitFor('the INSERT running on the server', async () => (await inserting()) > 0, 30_000);
    // The client loses the answer; the store is back before the server has finished the INSERT.
    proxy.cut();
    await new Promise((r) => setTimeout(r, 150));
    proxy.restore();
    await waitFor('rows stored', async () => (await count(direct)) >= rows, 30_000);
    await waitFor('no INSERT running', async () => (await inserting()) === 0, 30_000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await count(direct)).toBe(rows);
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_insert_retries_total']).toBeGreaterThanOrEqual(1);
    expect(m['pathpilot_analytics_sink_sent_total'] ?? 0).toBe(0);
    await stop();
  });
});
