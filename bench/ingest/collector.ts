/**
 * bench:collector — end to end on loopback: a sender process → UDP (IPFIX, 25 records/datagram,
 * 4 exporters) → the collector in its own process → Kafka. The bench process counts the records that
 * reached Kafka (from each message's MessagePack array header), the collector reports its peak RSS.
 * Target: ≥ 100,000 flows/s sustained for 60 s with < 0.1 % loss and collector RSS ≤ 256 MB.
 *
 *   npm run bench:collector            (needs Kafka: `npm run services -- up`, or KAFKA_BROKERS)
 *   BENCH_SECONDS=20 BENCH_RATE=150000 BENCH_WORKERS=2 npm run bench:collector
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpus, loadavg, setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createBus } from '../../core/bus/index.ts';
import { createLogger } from '../../core/log.ts';
import { createRegistry } from '../../core/metrics.ts';
import type { FlowRecord } from '../../core/records/index.ts';
import { createFlowCollector, FlowEncoder } from '../../ingest/flow/index.ts';

const TARGET_RATE = 100_000;
const MAX_LOSS = 0.001;
const MAX_RSS_MB = 256;
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const rate = Number(process.env.BENCH_RATE ?? TARGET_RATE);
const workers = Number(process.env.BENCH_WORKERS ?? 1);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const RECORDS_PER_DATAGRAM = 25;
const EXPORTERS = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'];
const self = fileURLToPath(import.meta.url);
/** Children's report lines start with this (their logs share stdout). */
const REPORT = '@@bench ';

/** Child: the collector. Prints {port} when listening, then {rss, stats} when told to stop. */
async function collectorRole(topic: string): Promise<void> {
  // Optional: run the collector at a higher scheduling priority, as a dedicated collector host would
  // (BENCH_NICE=-10; needs root). The default leaves priorities alone.
  if (process.env.BENCH_NICE) setPriority(Number(process.env.BENCH_NICE));
  const bus = createBus({ kind: 'kafka', brokers }, { log: createLogger({ level: 'warn' }) });
  await bus.start();
  const collector = createFlowCollector(
    { bus, registry: createRegistry(), log: createLogger({ level: 'warn' }) },
    { port: 0, workers, topics: { flow: topic, iface: `${topic}_iface` }, batch: { max_records: 1000, linger_ms: 200 } },
  );
  await collector.start();
  const cpu0 = process.cpuUsage();
  const startRss = process.memoryUsage().rss;
  let peakRss = 0;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  process.stdout.write(REPORT + JSON.stringify({ port: collector.addresses()[0]!.port }) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'stop') continue;
    await collector.flush(30_000);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    clearInterval(sample);
    // Stop first (it publishes what is still open), then read the totals.
    await collector.stop();
    const stats = collector.stats();
    const cpu = process.cpuUsage(cpu0);
    await bus.stop();
    process.stdout.write(REPORT + JSON.stringify({ peakRss, startRss, stats, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
    process.exit(0);
  }
}

/** Child: the sender. Sends `rate` flows/s for `seconds` from 4 exporter addresses, paced every 5 ms. */
async function senderRole(port: number): Promise<void> {
  const t0 = Date.now();
  const encoders = EXPORTERS.map(
    (_, i) => new FlowEncoder({ format: 'ipfix', domainId: i, recordsPerDatagram: RECORDS_PER_DATAGRAM }),
  );
  const recs: FlowRecord[] = Array.from({ length: 100_000 }, (_, i) => ({
    time_received: t0,
    exporter: EXPORTERS[i % 4]!,
    format: 'ipfix',
    domain_id: 0,
    sequence: 0,
    sampling_rate: 1,
    src_addr: `10.51.${(i >> 8) & 255}.${i & 255}`,
    dst_addr: `10.${10 + (i % 4)}.${(i * 7) & 255}.${(i * 13) & 255}`,
    next_hop: '169.254.10.2',
    src_port: 1024 + (i % 60000),
    dst_port: [443, 80, 53, 5060][i % 4]!,
    protocol: i % 3 === 0 ? 17 : 6,
    tcp_flags: 0x1b,
    dscp: [0, 46, 26, 10][i % 4],
    in_if: 1,
    out_if: 2 + (i % 8),
    src_as: 64512,
    dst_as: 16509,
    bytes: 64 + ((i * 7919) % 1_000_000),
    packets: 1 + (i % 500),
    flow_start: t0 - 60_000,
    flow_end: t0,
  }));
  // Templates go out first from each exporter; the data datagrams are prebuilt and reused.
  const sockets = await Promise.all(
    EXPORTERS.map(
      (addr) =>
        new Promise<ReturnType<typeof createSocket>>((resolve) => {
          const s = createSocket('udp4');
          s.bind(0, addr, () => resolve(s));
        }),
    ),
  );
  const perExporter = EXPORTERS.map((_, i) => {
    const ds = encoders[i]!.encode(recs.slice(i * 25_000, (i + 1) * 25_000), t0);
    return ds;
  });
  for (let i = 0; i < EXPORTERS.length; i++) sockets[i]!.send(encoders[i]!.templates(t0), port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 200));
  const datagramsPerSecond = rate / RECORDS_PER_DATAGRAM;
  const start = performance.now();
  let sent = 0;
  let flows = 0;
  let errors = 0;
  const total = Math.round(datagramsPerSecond * seconds);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = (performance.now() - start) / 1000;
      const due = Math.min(total, Math.floor(elapsed * datagramsPerSecond));
      while (sent < due) {
        const e = sent % EXPORTERS.length;
        const list = perExporter[e]!;
        const d = list[Math.floor(sent / EXPORTERS.length) % list.length]!;
        sockets[e]!.send(d, port, '127.0.0.1', (err) => {
          if (err) errors++;
        });
        sent++;
        flows += RECORDS_PER_DATAGRAM;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  for (const s of sockets) s.close();
  process.stdout.write(REPORT + JSON.stringify({ datagrams: sent, flows, errors, elapsed }) + '\n');
}

/** Records in a MessagePack array header (fixarray, array16, array32). */
function arrayLength(b: Buffer): number {
  const t = b[0]!;
  if (t >= 0x90 && t <= 0x9f) return t & 0x0f;
  if (t === 0xdc) return b.readUInt16BE(1);
  if (t === 0xdd) return b.readUInt32BE(1);
  throw new Error(`message is not a MessagePack array (first byte 0x${t.toString(16)})`);
}

const children: ChildProcess[] = [];
function child(args: string[]): ChildProcess {
  const cp = spawn(process.execPath, [...process.execArgv, self, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(cp);
  return cp;
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function firstLine(cp: ChildProcess): Promise<Record<string, unknown>> {
  const rl = createInterface({ input: cp.stdout! });
  for await (const line of rl) {
    if (line.startsWith(REPORT)) {
      rl.close();
      return JSON.parse(line.slice(REPORT.length)) as Record<string, unknown>;
    }
  }
  throw new Error('child exited without reporting');
}

async function main(): Promise<void> {
  const topic = `pp_bench_collector_${Date.now()}`;
  const bus = createBus({ kind: 'kafka', brokers }, { log: createLogger({ level: 'warn' }) });
  await bus.start();
  await bus.ensureTopics([{ topic }]);
  let reached = 0;
  let messages = 0;
  const sub = await bus.subscribe({
    group: `${topic}_count`,
    topics: [topic],
    fromBeginning: true,
    handler: async (batch) => {
      for (const m of batch.messages) {
        reached += arrayLength(m.value);
        messages++;
      }
    },
  });
  const collector = child(['--role', 'collector', topic]);
  const { port } = (await firstLine(collector)) as { port: number };
  console.log(
    `collector on 127.0.0.1:${port} (workers ${workers}); sending ${rate.toLocaleString('en-US')} flows/s for ${seconds} s…`,
  );
  const sender = child(['--role', 'sender', String(port)]);
  const report = (await firstLine(sender)) as { datagrams: number; flows: number; errors: number; elapsed: number };
  collector.stdin!.write('stop\n');
  const result = (await firstLine(collector)) as {
    peakRss: number;
    startRss: number;
    cpuSeconds: number;
    stats: { datagrams: number; flows: number; sent: number; dropped: number };
  };
  // Wait for the consumer to see everything the collector published (bounded).
  const until = Date.now() + 60_000;
  while (reached < result.stats.flows && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  await sub.stop();
  await bus.deleteTopics([topic, `${topic}_iface`]).catch(() => undefined);
  await bus.stop();

  const sentRate = report.flows / report.elapsed;
  const reachedRate = reached / report.elapsed;
  const loss = 1 - reached / report.flows;
  const rssMb = result.peakRss / 1024 / 1024;
  console.log(
    `sender: ${report.flows.toLocaleString('en-US')} flows in ${report.datagrams.toLocaleString('en-US')} datagrams over ${report.elapsed.toFixed(1)} s ` +
      `(${Math.round(sentRate).toLocaleString('en-US')} flows/s, ${report.errors} send errors)`,
  );
  console.log(
    `collector: ${result.stats.datagrams.toLocaleString('en-US')} datagrams received, ${result.stats.flows.toLocaleString('en-US')} flows decoded, ` +
      `${result.stats.sent.toLocaleString('en-US')} published, ${result.stats.dropped} dropped; Kafka: ${reached.toLocaleString('en-US')} records in ${messages} messages`,
  );
  console.log(
    `collector: ${Math.round(reachedRate).toLocaleString('en-US')} flows/s into Kafka (target ${TARGET_RATE.toLocaleString('en-US')}, ratio ${(reachedRate / TARGET_RATE).toFixed(2)})`,
  );
  console.log(
    `collector CPU: ${result.cpuSeconds.toFixed(1)} CPU-s for ${result.stats.flows.toLocaleString('en-US')} flows ` +
      `(${Math.round(result.stats.flows / result.cpuSeconds).toLocaleString('en-US')} flows per CPU-second, all threads); load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  console.log(
    `loss: ${(loss * 100).toFixed(4)} % (target < ${MAX_LOSS * 100} %, ratio ${(loss / MAX_LOSS).toFixed(2)} of the allowance)`,
  );
  console.log(
    `collector RSS: ${rssMb.toFixed(0)} MB peak (target ≤ ${MAX_RSS_MB} MB, ratio ${(rssMb / MAX_RSS_MB).toFixed(2)}); ` +
      `${(result.startRss / 1024 / 1024).toFixed(0)} MB after start`,
  );
  const ok = reachedRate >= TARGET_RATE * 0.99 && loss < MAX_LOSS && rssMb <= MAX_RSS_MB && seconds >= 60;
  process.exitCode = ok ? 0 : 1;
}

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) {
  const role = process.argv[roleIndex + 1];
  const arg = process.argv[roleIndex + 2]!;
  if (role === 'collector') await collectorRole(arg);
  else await senderRole(Number(arg));
} else {
  await main();
}
