/**
 * bench:sink — Kafka → ClickHouse server on this machine (loopback only, bounded in rows and time).
 * 1. Throughput: pre-produce ROWS flow records, start the sink, time until all are stored
 *    (target ≥ 200,000 rows/s).
 * 2. End-to-end lag at 50,000 rows/s: produce 5,000-row bursts every 100 ms for LAG_SECONDS; each
 *    burst's lag is publish time → its rows visible to a query (target p99 < 5 s).
 * Needs KAFKA_BROKERS and CLICKHOUSE_URL (`npm run services -- up`, then `eval $(npm run -s services -- env)`).
 */
import { randomBytes } from 'node:crypto';
import { createBus } from '../../core/bus/index.ts';
import type { Bus } from '../../core/bus/types.ts';
import { createStore } from '../../core/store/index.ts';
import type { Store } from '../../core/store/types.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { encodeRecords, flowRecord, schemaHeader, schemaId, type FlowRecord } from '../../core/records/index.ts';
import { createRegistry, metricValues } from '../../core/metrics.ts';
import { createSink } from '../../analytics/sink/index.ts';
import { migrate } from '../../analytics/schema/index.ts';

const brokers = process.env.KAFKA_BROKERS;
const url = process.env.CLICKHOUSE_URL;
if (!brokers || !url) {
  process.stderr.write('bench:sink needs KAFKA_BROKERS and CLICKHOUSE_URL (run `npm run services -- up`)\n');
  process.exit(2);
}
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const PER_MESSAGE = 500;
const PARTITIONS = Number(process.env.PARTITIONS ?? 4);
const LAG_SECONDS = Number(process.env.LAG_SECONDS ?? 20);
// Sink settings under test (defaults: the sink's own).
const tuning = {
  ...(process.env.FLOW_CONSUMERS ? { flow_consumers: Number(process.env.FLOW_CONSUMERS) } : {}),
  ...(process.env.BATCH_ROWS ? { batch_rows: Number(process.env.BATCH_ROWS) } : {}),
};
const header = { [schemaHeader]: schemaId(flowRecord) };
const suffix = randomBytes(4).toString('hex');

function flow(seq: number, now: number): FlowRecord {
  return {
    time_received: now,
    exporter: `10.255.0.${seq % 16}`,
    format: 'ipfix',
    domain_id: 256,
    sequence: seq,
    sampling_rate: 100,
    src_addr: `10.${seq % 50}.${(seq >> 8) % 250}.${seq % 250}`,
    dst_addr: `10.${(seq + 7) % 50}.1.${seq % 200}`,
    src_port: 1024 + (seq % 60000),
    dst_port: 443,
    protocol: 6,
    tcp_flags: 24,
    dscp: 46,
    in_if: 2,
    out_if: 10,
    bytes: 1200 + (seq % 300),
    packets: 1 + (seq % 3),
    flow_start: now - 1000,
    flow_end: now,
    next_hop: '172.16.1.2',
    src_as: 64512,
    dst_as: 64513,
    site: `site-${seq % 50}`,
    dst_site: `site-${(seq + 7) % 50}`,
    link: `link-${seq % 120}`,
    class: ['voice', 'video', 'business', 'bulk'][seq % 4]!,
  };
}

async function produce(bus: Bus, topic: string, rows: number, startSeq: number): Promise<void> {
  const now = Date.now();
  let seq = startSeq;
  const messages = [];
  for (let m = 0; m < rows / PER_MESSAGE; m++) {
    const records = Array.from({ length: PER_MESSAGE }, () => flow(seq++, now));
    messages.push({ key: `exp${m % 16}`, value: encodeRecords(records), headers: header });
    if (messages.length === 20) await bus.publish(topic, messages.splice(0));
  }
  if (messages.length) await bus.publish(topic, messages.splice(0));
}

async function count(store: Store): Promise<number> {
  const [r] = await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${ident(store.database)}.flows_raw`);
  return r!.n;
}

const bus = createBus({ kind: 'kafka', brokers: brokers.split(',') });
await bus.start();
const store = createStore({ kind: 'server', url, path: '', database: `bench_sink_${suffix}` });
await store.start();
await migrate(store);
const topics: string[] = [];

try {
  // --- 1. throughput -------------------------------------------------------------------------
  const topic = `bench-flows-${suffix}`;
  topics.push(topic);
  await bus.ensureTopics([{ topic, partitions: PARTITIONS }]);
  const tp = performance.now();
  await produce(bus, topic, ROWS, 0);
  process.stdout.write(`produced ${ROWS.toLocaleString('en-US')} rows in ${((performance.now() - tp) / 1000).toFixed(1)} s\n`);

  const registry = createRegistry();
  const sink = createSink(
    { bus, store, registry },
    {
      topics: { flow: topic },
      records: ['flow'],
      group: `bench-${suffix}`,
      dead_letter_topic: `bench-dlq-${suffix}`,
      migrate: false,
      ...tuning,
    },
  );
  topics.push(`bench-dlq-${suffix}`);
  const t0 = performance.now();
  await sink.start();
  const startedAfter = (performance.now() - t0) / 1000;
  const deadline = Date.now() + 180_000;
  let stored = 0;
  let firstStored: { at: number; rows: number } | undefined;
  while (Date.now() < deadline) {
    stored = (await metricValues(registry))['pathpilot_analytics_sink_sent_total'] ?? 0;
    if (stored > 0) firstStored ??= { at: performance.now(), rows: stored };
    if (stored >= ROWS) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  await sink.stop();
  const m = await metricValues(registry);
  const inserts = m['pathpilot_analytics_sink_inserts_total{table="flows_raw"}'] ?? 0;
  const insertSeconds = m['pathpilot_analytics_sink_insert_seconds_sum{table="flows_raw"}'] ?? 0;
  process.stdout.write(
    `  ${inserts} INSERTs, ${Math.round(stored / Math.max(1, inserts)).toLocaleString('en-US')} rows each, ` +
      `${insertSeconds.toFixed(1)} s inside INSERTs (summed over consumers)\n`,
  );
  if (firstStored) {
    // Excludes the consumer-group join and first fetch (the headline figure above includes them).
    const steady = (stored - firstStored.rows) / ((t0 + seconds * 1000 - firstStored.at) / 1000);
    process.stdout.write(
      `  start() returned after ${startedAfter.toFixed(2)} s, first INSERT stored after ${((firstStored.at - t0) / 1000).toFixed(2)} s; ` +
        `steady state after it: ${Math.round(steady).toLocaleString('en-US')} rows/s\n`,
    );
  }
  const inTable = await count(store);
  const rate = stored / seconds;
  process.stdout.write(
    `sink: ${Math.round(rate).toLocaleString('en-US')} rows/s (${stored.toLocaleString('en-US')} rows in ${seconds.toFixed(2)} s, ` +
      `${inTable.toLocaleString('en-US')} in flows_raw; target 200,000, ratio ${(rate / 200_000).toFixed(2)})\n`,
  );
  if (inTable !== ROWS) process.stdout.write(`WARNING: flows_raw holds ${inTable}, expected ${ROWS}\n`);

  if (LAG_SECONDS > 0) {
    // --- 2. end-to-end lag at 50,000 rows/s ------------------------------------------------------
    const lagTopic = `bench-lag-${suffix}`;
    topics.push(lagTopic);
    await bus.ensureTopics([{ topic: lagTopic, partitions: PARTITIONS }]);
    await store.exec(sql`TRUNCATE TABLE ${ident(store.database)}.flows_raw`);
    const lagSink = createSink(
      { bus, store },
      {
        topics: { flow: lagTopic },
        records: ['flow'],
        group: `bench-lag-${suffix}`,
        dead_letter_topic: `bench-dlq-${suffix}`,
        migrate: false,
        fromBeginning: false,
        ...tuning,
      },
    );
    await lagSink.start();
    const burstRows = 5_000;
    const bursts = LAG_SECONDS * 10;
    const sentAt: number[] = [];
    const seenAt: number[] = [];
    const base = 10_000_000;
    let polling = true;
    const poller = (async () => {
      let next = 0;
      while (polling || next < sentAt.length) {
        if (next < sentAt.length) {
          const rows = await store.query<{ b: number; n: number }>(sql`
            SELECT intDiv(sequence - ${base}, ${burstRows}) AS b, count() AS n FROM ${ident(store.database)}.flows_raw
            WHERE sequence >= ${base + next * burstRows} GROUP BY b`);
          const now = performance.now();
          const complete = new Set(rows.filter((r) => r.n === burstRows).map((r) => r.b));
          while (next < sentAt.length && complete.has(next)) seenAt[next++] = now;
        }
        if (performance.now() - (sentAt[0] ?? performance.now()) > (LAG_SECONDS + 60) * 1000) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const start = performance.now();
    for (let i = 0; i < bursts; i++) {
      const due = start + i * 100;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt[i] = performance.now();
      await produce(bus, lagTopic, burstRows, base + i * burstRows);
    }
    const achieved = (bursts * burstRows) / ((performance.now() - start) / 1000);
    polling = false;
    await poller;
    await lagSink.stop();
    const lags = sentAt.map((s, i) => (seenAt[i] ?? Infinity) - s).sort((a, b) => a - b);
    const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]!;
    const p99 = p(0.99) / 1000;
    process.stdout.write(
      `lag at ${Math.round(achieved).toLocaleString('en-US')} rows/s offered: p50 ${(p(0.5) / 1000).toFixed(2)} s, p99 ${p99.toFixed(2)} s, ` +
        `max ${(lags[lags.length - 1]! / 1000).toFixed(2)} s (target p99 < 5 s, ratio ${(5 / p99).toFixed(2)})\n`,
    );
  }
} finally {
  await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
  await store.stop();
  await bus.deleteTopics(topics).catch(() => undefined);
  await bus.stop();
}
