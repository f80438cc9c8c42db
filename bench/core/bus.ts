/**
 * `npm run bench:bus`: Kafka throughput of the bus, with messages of 500 flow records (the
 * collector's batching; core/records/codec.ts), keyed by exporter, on a 3-partition topic.
 *   1. publish → consume, live: a subscriber runs while the producer publishes as fast as acks
 *      allow (acks=-1, idempotent); publish rate and end-to-end rate (last message handled).
 *      Target: the collector's 100,000 flows/s.
 *   2. consume a backlog: a new group reads the whole topic from the beginning.
 *      Target: the sink's 200,000 rows/s (the bus part of it; decoding and ClickHouse excluded).
 * Also printed: the client's CPU per 100,000 records (less sensitive than rates to other load on
 * the machine). `PATHPILOT_KAFKAJS_JS_CRC=1` measures with kafkajs' own JavaScript CRC-32C.
 * Bounded: at most `--messages` messages (default 1,200 = 600,000 records) and 120 s per phase.
 * Traffic only to the local broker (KAFKA_BROKERS, default 127.0.0.1:9092, loopback).
 */
import { parseArgs } from 'node:util';
import { KafkaBus } from '../../core/bus/kafka.ts';
import { crcPatch } from '../../core/bus/kafkajs-crc.ts';
import type { BusMessage } from '../../core/bus/types.ts';
import { encodeRecords, flowRecord, schemaHeader, schemaId } from '../../core/records/index.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1200' },
    'per-call': { type: 'string', default: '4' },
    'in-flight': { type: 'string', default: '4' },
    'no-idempotent': { type: 'boolean', default: false },
    'max-request-mb': { type: 'string', default: '1' },
  },
});
const totalMessages = Number(values.messages);
const perCall = Number(values['per-call']);
const inFlight = Number(values['in-flight']);
const recordsPerMessage = 500;
const phaseLimitMs = 120_000;
const publishTarget = 100_000;
const consumeTarget = 200_000;

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
for (const b of brokers) {
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(b)) throw new Error(`bench traffic stays on loopback; got ${b}`);
}

function flows(exporter: string, seed: number): object[] {
  const now = Date.UTC(2026, 10, 22);
  return Array.from({ length: recordsPerMessage }, (_, i) => ({
    time_received: now + i,
    exporter,
    format: 'ipfix',
    domain_id: 1,
    sequence: seed * recordsPerMessage + i,
    sampling_rate: 1000,
    src_addr: `10.${(i >> 8) & 255}.${i & 255}.${seed & 255}`,
    dst_addr: `172.16.${(i * 7) & 255}.${(i * 13) & 255}`,
    src_port: 1024 + ((i * 31) % 60000),
    dst_port: [443, 80, 53, 22][i % 4],
    protocol: 6,
    tcp_flags: 24,
    dscp: [0, 10, 46][i % 3],
    in_if: 1 + (i % 4),
    out_if: 5 + (i % 4),
    bytes: 1500 * (1 + (i % 40)),
    packets: 1 + (i % 40),
    flow_start: now - 5000,
    flow_end: now,
    next_hop: '192.0.2.1',
    src_as: 64512,
    dst_as: 64513 + (i % 10),
    site: 'aws-use1',
    dst_site: 'gcp-euw1',
    link: 'wg-aws-gcp',
    class: ['bulk', 'interactive', 'realtime'][i % 3],
  }));
}

function rate(count: number, ms: number): number {
  return (count * 1000) / ms;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function report(label: string, messages: number, ms: number, target?: number): void {
  const records = messages * recordsPerMessage;
  const rps = rate(records, ms);
  const tail = target ? ` (target ${fmt(target)}, ratio ${(rps / target).toFixed(2)})` : '';
  console.log(
    `${label}: ${fmt(rate(messages, ms))} messages/s, ${fmt(rps)} records/s${tail} [${messages} msgs in ${(ms / 1000).toFixed(2)} s]`,
  );
}

async function waitUntil(cond: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} not done within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function main(): Promise<void> {
  const exporters = Array.from({ length: 8 }, (_, i) => `192.0.2.${10 + i}`);
  const headers = { [schemaHeader]: schemaId(flowRecord) };
  // 32 distinct pre-encoded messages: the bench measures the bus, not the encoder.
  const pool: BusMessage[] = Array.from({ length: 32 }, (_, i) => ({
    key: exporters[i % exporters.length]!,
    value: encodeRecords(flows(exporters[i % exporters.length]!, i)),
    headers,
  }));
  const avgBytes = pool.reduce((s, m) => s + m.value.length, 0) / pool.length;
  console.log(
    `bus bench: ${totalMessages} messages × ${recordsPerMessage} flow records (~${fmt(avgBytes)} bytes/message), ` +
      `${perCall} messages per publish, ${inFlight} publish calls in flight, idempotent=${!values['no-idempotent']}, requests ≤ ${values['max-request-mb']} MiB, brokers ${brokers.join(',')}`,
  );

  const bus = new KafkaBus({
    brokers,
    idempotent: !values['no-idempotent'],
    maxRequestBytes: Number(values['max-request-mb']) * 1024 * 1024,
  });
  await bus.start();
  const topic = `bench_bus_${Date.now()}`;
  try {
    await bus.ensureTopics([{ topic, partitions: 3 }]);

    // Phase 1: live publish → consume.
    let consumed = 0;
    const live = await bus.subscribe({
      group: `${topic}_live`,
      topics: [topic],
      fromBeginning: true,
      handler: async (batch) => {
        consumed += batch.messages.length;
      },
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const publisher = async () => {
      while (next < totalMessages && performance.now() - t0 < phaseLimitMs) {
        const n = Math.min(perCall, totalMessages - next);
        const start = next;
        next += n;
        await bus.publish(
          topic,
          Array.from({ length: n }, (_, i) => pool[(start + i) % pool.length]!),
        );
      }
    };
    await Promise.all(Array.from({ length: inFlight }, publisher));
    const published = Math.min(next, totalMessages);
    const tPublished = performance.now();
    await waitUntil(() => consumed >= published, phaseLimitMs, 'live consumption');
    const tConsumed = performance.now();
    const cpu = process.cpuUsage(cpu0);
    await live.stop();
    report('publish (acks=-1)', published, tPublished - t0, publishTarget);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `client CPU (producer + consumer, one process): ${((cpuMs * 100_000) / (published * recordsPerMessage)).toFixed(0)} ms per 100,000 records ` +
        `(${(cpuMs / 1000).toFixed(2)} s CPU over ${((tConsumed - t0) / 1000).toFixed(2)} s; native CRC-32C: ${crcPatch.native ? 'yes' : `no, ${crcPatch.reason}`})`,
    );
    report('publish → consume end to end', published, tConsumed - t0, publishTarget);

    // Phase 2: backlog consumption by a new group.
    let backlog = 0;
    let first = 0;
    const reader = await bus.subscribe({
      group: `${topic}_backlog`,
      topics: [topic],
      fromBeginning: true,
      handler: async (batch) => {
        if (first === 0) first = performance.now();
        backlog += batch.messages.length;
      },
    });
    await waitUntil(() => backlog >= published, phaseLimitMs, 'backlog consumption');
    const tBacklog = performance.now();
    await reader.stop();
    report('consume backlog (first batch → last)', published, tBacklog - first, consumeTarget);
  } finally {
    await bus.deleteTopics([topic]).catch(() => {});
    await bus.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
