/**
 * bench:collector — the real ingest role end to end on loopback: a sender process → UDP (IPFIX, 25
 * records/datagram, 32 exporters) → 1, then 2 `pathpilot start ingest` processes (the role's own
 * command, imports and config path: the example topology, Kafka/ClickHouse/Redis from the env) → Kafka,
 * where this process counts the records that arrived (each message's MessagePack array header) once the run is over.
 *
 * With 2 processes both listen on one port through SO_REUSEPORT: each gets its own socket of the
 * port's reuse group by socket activation (test/functional/ingest/reuseport.ts does what a systemd
 * socket unit with ReusePort=yes does), so the kernel keeps each exporter on one process.
 *
 * Per run: flows/s reached in Kafka, loss, and per process peak RSS, CPU per flow, the socket
 * buffer used (the kernel default: `rcvbuf_bytes: 0`) and the datagrams the kernel dropped on it, and
 * the receiving thread's scheduling class (ingest.flow.receiver.realtime_priority: SCHED_FIFO 5 by
 * default, when this runs as root or with RLIMIT_RTPRIO; BENCH_REALTIME=0 measures the normal class).
 * Targets (issue 20): 100k flows/s per process with ≤ 0.1 % loss at the kernel-default buffer,
 * RSS ≤ 128 MB per process, and throughput that scales with processes (2/1 ratio ≈ 2).
 *
 *   npm run bench:collector            (needs Kafka, ClickHouse, Redis: `npm run services -- up`)
 *   BENCH_SECONDS=20 BENCH_RATE=100000 BENCH_PROCESSES=1,2 BENCH_EXPORTERS=32 npm run bench:collector
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createBus } from '../../core/bus/index.ts';
import { exampleConfigPath } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import type { FlowRecord } from '../../core/records/index.ts';
import { FlowEncoder } from '../../ingest/flow/index.ts';
import { processCpuSeconds } from '../core/proc.ts';
import { ensureDist } from '../../scripts/build.ts';
import { freeUdpPort, withReusePortSocket } from '../../test/functional/ingest/reuseport.ts';

const TARGET_RATE = 100_000;
const MAX_LOSS = 0.001;
const MAX_RSS_MB = 128;
/** One core per 100k flows/s: the CPU a process may spend per flow and still keep up on one core. */
const MAX_CPU_US_PER_FLOW = 10;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const ratePerProcess = Number(process.env.BENCH_RATE ?? TARGET_RATE);
const processCounts = (process.env.BENCH_PROCESSES ?? '1,2').split(',').map(Number);
const exporterCount = Number(process.env.BENCH_EXPORTERS ?? 32);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const services = {
  KAFKA_BROKERS: brokers,
  CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};
const RECORDS_PER_DATAGRAM = 25;
/** The collector runs from source through tsx instead of the build (BENCH_FROM=source). */
const fromSource = process.env.BENCH_FROM === 'source';
const EXPORTERS = Array.from({ length: exporterCount }, (_, i) => `127.0.1.${i + 1}`);
const root = fileURLToPath(new URL('../..', import.meta.url));
const self = fileURLToPath(import.meta.url);
/** The sender's report line starts with this. */
const REPORT = '@@bench ';
const kernelDefaultRcvbuf = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
/**
 * The process settings the deployed ingest service runs with (docker-compose.yml: NODE_OPTIONS and
 * glibc's MALLOC_* variables); BENCH_NODE_OPTIONS replaces NODE_OPTIONS.
 */
function deployedSettings(): Record<string, string> {
  const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
    services?: { ingest?: { environment?: Record<string, string> } };
  };
  const env = compose.services?.ingest?.environment ?? {};
  return Object.fromEntries(Object.entries(env).filter(([k]) => k === 'NODE_OPTIONS' || k.startsWith('MALLOC_')));
}
const settings = {
  ...deployedSettings(),
  ...(process.env.BENCH_NODE_OPTIONS !== undefined ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
};

// ---------------------------------------------------------------------------------------------
// The sender (child process): `rate` flows/s for `seconds` from every exporter address, paced per ms.

async function senderRole(port: number, rate: number): Promise<void> {
  const t0 = Date.now();
  const perExporter = EXPORTERS.map((exporter, e) => {
    const encoder = new FlowEncoder({ format: 'ipfix', domainId: e, recordsPerDatagram: RECORDS_PER_DATAGRAM });
    const recs: FlowRecord[] = Array.from({ length: 2_500 }, (_, k) => {
      const i = e * 2_500 + k;
      return {
        time_received: t0,
        exporter,
        format: 'ipfix',
        domain_id: e,
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
      };
    });
    return { encoder, datagrams: encoder.encode(recs, t0) };
  });
  const sockets = await Promise.all(
    EXPORTERS.map(
      (addr) =>
        new Promise<ReturnType<typeof createSocket>>((resolve) => {
          const s = createSocket('udp4');
          s.bind(0, addr, () => resolve(s));
        }),
    ),
  );
  // Templates first from every exporter; the data datagrams are prebuilt and reused.
  for (let e = 0; e < EXPORTERS.length; e++) sockets[e]!.send(perExporter[e]!.encoder.templates(t0), port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 300));
  const datagramsPerSecond = rate / RECORDS_PER_DATAGRAM;
  const total = Math.round(datagramsPerSecond * seconds);
  const start = performance.now();
  let sent = 0;
  let errors = 0;
  // Paced per millisecond, at most 5 ms of traffic at once: when this process is scheduled late
  // (a loaded host) it falls behind and the run takes longer, rather than catching up in bursts of
  // hundreds of datagrams that no socket buffer of ~50 holds. The rate printed is what was sent.
  const burst = Math.max(1, Math.ceil(datagramsPerSecond * 0.005));
  let maxBehind = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * datagramsPerSecond));
      maxBehind = Math.max(maxBehind, due - sent);
      const until = Math.min(due, sent + burst);
      while (sent < until) {
        const e = sent % EXPORTERS.length;
        const list = perExporter[e]!.datagrams;
        sockets[e]!.send(list[Math.floor(sent / EXPORTERS.length) % list.length]!, port, '127.0.0.1', (err) => {
          if (err) errors++;
        });
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  for (const s of sockets) s.close();
  const report = { datagrams: sent, flows: sent * RECORDS_PER_DATAGRAM, errors, elapsed, maxBehind };
  process.stdout.write(REPORT + JSON.stringify(report) + '\n');
}

// ---------------------------------------------------------------------------------------------
// The collectors: `pathpilot start ingest` as deployed (Dockerfile: node dist/cli/main.js, built by
// `npm run build`), or from source through tsx (`npm start`'s way) with BENCH_FROM=source.

interface Collector {
  child: ChildProcess;
  pid: number;
  /** The 'flow collector listening' / 'flow collector stopped' log lines. */
  listening: Promise<Record<string, unknown>>;
  stopped: Promise<Record<string, unknown>>;
  peakRss: number;
  exited: Promise<number | null>;
}

function startCollector(port: number, topic: string, shared: boolean): Collector {
  const flow = {
    bind: '127.0.0.1',
    port,
    // The kernel's default socket buffer (net.core.rmem_default): the figure is taken without tuning.
    rcvbuf_bytes: 0,
    ...(process.env.BENCH_REALTIME !== undefined ? { receiver: { realtime_priority: Number(process.env.BENCH_REALTIME) } } : {}),
    topics: { flow: topic, iface: `${topic}_iface` },
  };
  const entry = fromSource ? ['--import', 'tsx', 'cli/main.ts'] : ['dist/cli/main.js'];
  const nodeArgs = [...entry, 'start', 'ingest', '-c', exampleConfigPath];
  const { command, args } = shared
    ? withReusePortSocket('127.0.0.1', port, process.execPath, nodeArgs)
    : { command: process.execPath, args: nodeArgs };
  const child = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      ...services,
      ...settings,
      PATHPILOT_LOG_LEVEL: 'info',
      PATHPILOT__INGEST__FLOW: JSON.stringify(flow),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let onListening: (v: Record<string, unknown>) => void = () => undefined;
  let onStopped: (v: Record<string, unknown>) => void = () => undefined;
  const c: Collector = {
    child,
    pid: child.pid!,
    listening: new Promise((r) => (onListening = r)),
    stopped: new Promise((r) => (onStopped = r)),
    peakRss: 0,
    exited: new Promise((r) => child.once('exit', (code) => r(code))),
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === 'flow collector listening') onListening(entry);
    else if (entry.msg === 'flow collector stopped') onStopped(entry);
    else if (typeof entry.level === 'number' && entry.level >= 50) process.stderr.write(`collector ${c.pid}: ${line}\n`);
  });
  return c;
}

/** VmRSS and VmHWM of a process, bytes. */
function rss(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Datagrams the kernel dropped on the process's UDP sockets on `port` (/proc/net/udp `drops`). */
function kernelDrops(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  let drops = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      if (parseInt(f[1]!.split(':')[1]!, 16) === port && inodes.has(f[9]!)) drops += Number(f[12]);
    }
  }
  return drops;
}

// ---------------------------------------------------------------------------------------------

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function reportLine(cp: ChildProcess): Promise<Record<string, unknown>> {
  const rl = createInterface({ input: cp.stdout! });
  for await (const line of rl) {
    if (line.startsWith(REPORT)) {
      rl.close();
      return JSON.parse(line.slice(REPORT.length)) as Record<string, unknown>;
    }
  }
  throw new Error('sender exited without reporting');
}

/** Records in a MessagePack array header (fixarray, array16, array32). */
function arrayLength(b: Buffer): number {
  const t = b[0]!;
  if (t >= 0x90 && t <= 0x9f) return t & 0x0f;
  if (t === 0xdc) return b.readUInt16BE(1);
  if (t === 0xdd) return b.readUInt32BE(1);
  throw new Error(`message is not a MessagePack array (first byte 0x${t.toString(16)})`);
}

interface ProcessResult {
  pid: number;
  peakRssMb: number;
  hwmMb: number;
  cpuSeconds: number;
  flows: number;
  datagrams: number;
  rcvbuf: number;
  /** The receiving thread's scheduling (`fifo 5`, or `other` where real-time was not allowed or not asked for). */
  receiverScheduling: string | undefined;
  kernelDrops: number;
  receiveDropped: number;
  dropped: number;
}

interface RunResult {
  processes: number;
  offered: number;
  sent: number;
  reached: number;
  elapsed: number;
  maxBehind: number;
  perProcess: ProcessResult[];
}

const mb = (n: number) => n / 1024 / 1024;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function run(processes: number): Promise<RunResult> {
  const topic = `pp_bench_collector_${processes}p_${Date.now()}`;
  const bus = createBus({ kind: 'kafka', brokers: brokers.split(',') }, { log: createLogger({ level: 'warn' }) });
  await bus.start();
  await bus.ensureTopics([{ topic }]);
  const port = await freeUdpPort();
  const collectors = Array.from({ length: processes }, () => startCollector(port, topic, processes > 1));
  const listening = await Promise.all(
    collectors.map((c) =>
      Promise.race([
        c.listening,
        c.exited.then((code) => {
          throw new Error(`collector ${c.pid} exited (code ${code}) before listening`);
        }),
      ]),
    ),
  );
  const offered = ratePerProcess * processes;
  console.log(
    `\n${processes} process${processes > 1 ? 'es' : ''} on 127.0.0.1:${port}` +
      `${processes > 1 ? ' (one SO_REUSEPORT socket each, passed by socket activation)' : ' (bound by the role)'}; ` +
      `sending ${fmt(offered)} flows/s from ${EXPORTERS.length} exporters for ${seconds} s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  const sampler = setInterval(() => {
    for (const c of collectors) c.peakRss = Math.max(c.peakRss, rss(c.pid).rss);
  }, 200);
  const cpu0 = collectors.map((c) => processCpuSeconds(c.pid));
  const sender = spawn(process.execPath, [...process.execArgv, self, '--role', 'sender', String(port), String(offered)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(sender);
  const sent = (await reportLine(sender)) as {
    datagrams: number;
    flows: number;
    errors: number;
    elapsed: number;
    maxBehind: number;
  };
  // Let the last batches linger out (linger_ms 250) before reading the counters and stopping.
  await new Promise((r) => setTimeout(r, 1_500));
  clearInterval(sampler);
  const cpu = collectors.map((c, i) => processCpuSeconds(c.pid) - cpu0[i]!);
  const drops = collectors.map((c) => kernelDrops(c.pid, port));
  const hwm = collectors.map((c) => rss(c.pid).hwm);
  for (const c of collectors) c.child.kill('SIGTERM');
  const stopped = await Promise.all(collectors.map((c) => c.stopped));
  await Promise.all(collectors.map((c) => c.exited));
  // Counted once the collectors stopped: on two cores a consumer running alongside would take CPU
  // from them. Kafka keeps what was published; the count is what the topic holds.
  let reached = 0;
  const sub = await bus.subscribe({
    group: `${topic}_count`,
    topics: [topic],
    fromBeginning: true,
    handler: async (batch) => {
      for (const m of batch.messages) reached += arrayLength(m.value);
    },
  });
  const until = Date.now() + 60_000;
  const published = stopped.reduce((n, s) => n + Number(s.sent), 0);
  while (reached < published && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  await sub.stop();
  await bus.deleteTopics([topic, `${topic}_iface`]).catch(() => undefined);
  await bus.stop();
  return {
    processes,
    offered,
    sent: sent.flows,
    reached,
    elapsed: sent.elapsed,
    maxBehind: sent.maxBehind,
    perProcess: collectors.map((c, i) => ({
      pid: c.pid,
      peakRssMb: mb(c.peakRss),
      hwmMb: mb(hwm[i]!),
      cpuSeconds: cpu[i]!,
      flows: Number(stopped[i]!.flows),
      datagrams: Number(stopped[i]!.datagrams),
      rcvbuf: Number(listening[i]!.rcvbuf),
      receiverScheduling: listening[i]!.receiverScheduling as string | undefined,
      kernelDrops: drops[i]!,
      receiveDropped: Number(stopped[i]!.receiveDropped),
      dropped: Number(stopped[i]!.dropped),
    })),
  };
}

function print(r: RunResult): { ok: boolean; rate: number } {
  const rate = r.reached / r.elapsed;
  const loss = Math.max(0, 1 - r.reached / r.sent);
  console.log(
    `  sent ${fmt(r.sent)} flows in ${r.elapsed.toFixed(1)} s (${fmt(r.sent / r.elapsed)} flows/s; the sender fell ≤ ${fmt(r.maxBehind)} datagrams behind); Kafka got ${fmt(r.reached)}: ${fmt(rate)} flows/s ` +
      `(target ${fmt(r.offered)}, ratio ${(rate / r.offered).toFixed(2)}); loss ${(loss * 100).toFixed(3)} % ` +
      `(target ≤ ${MAX_LOSS * 100} %, ratio ${(loss / MAX_LOSS).toFixed(2)} of the allowance)`,
  );
  let ok = rate >= r.offered * 0.99 && loss <= MAX_LOSS;
  for (const p of r.perProcess) {
    const usPerFlow = (p.cpuSeconds / Math.max(1, p.flows)) * 1e6;
    const rssMb = Math.max(p.peakRssMb, p.hwmMb);
    console.log(
      `  process ${p.pid}: ${fmt(p.flows)} flows (${((p.flows / Math.max(1, r.sent)) * 100).toFixed(0)} % of the traffic), ` +
        `kernel dropped ${fmt(p.kernelDrops)} datagrams, receiver dropped ${fmt(p.receiveDropped)}, ${fmt(p.dropped)} records dropped inside\n` +
        `    RSS peak ${rssMb.toFixed(0)} MB (VmHWM ${p.hwmMb.toFixed(0)}; target ≤ ${MAX_RSS_MB} MB, ratio ${(rssMb / MAX_RSS_MB).toFixed(2)}); ` +
        `CPU ${p.cpuSeconds.toFixed(1)} s = ${usPerFlow.toFixed(2)} µs/flow, ${fmt(p.flows / Math.max(0.01, p.cpuSeconds))} flows per CPU-second ` +
        `(target ≤ ${MAX_CPU_US_PER_FLOW} µs, ratio ${(usPerFlow / MAX_CPU_US_PER_FLOW).toFixed(2)}); ` +
        `socket buffer ${fmt(p.rcvbuf)} bytes (kernel default ${fmt(kernelDefaultRcvbuf)}, ratio ${(p.rcvbuf / kernelDefaultRcvbuf).toFixed(2)}); ` +
        `receiving thread scheduling ${p.receiverScheduling ?? 'n/a'}`,
    );
    ok &&= rssMb <= MAX_RSS_MB && p.rcvbuf <= kernelDefaultRcvbuf;
  }
  return { ok, rate };
}

async function main(): Promise<void> {
  if (!fromSource) await ensureDist();
  console.log(
    `bench:collector — pathpilot start ingest, IPFIX ${RECORDS_PER_DATAGRAM} records/datagram, ${fmt(ratePerProcess)} flows/s per process, ` +
      `${seconds} s per run, ${fromSource ? 'from source (tsx)' : 'built (dist/)'}; net.core.rmem_default ${fmt(kernelDefaultRcvbuf)} bytes; ` +
      `collector settings (docker-compose.yml's ingest service) ${JSON.stringify(settings)}`,
  );
  let ok = true;
  const rates = new Map<number, number>();
  for (const n of processCounts) {
    const result = print(await run(n));
    ok &&= result.ok;
    rates.set(n, result.rate);
  }
  const one = rates.get(1);
  const two = rates.get(2);
  if (one && two) {
    const ratio = two / one;
    console.log(
      `\nthroughput 2 processes / 1 process: ${ratio.toFixed(2)} (target 2.00, ratio ${(ratio / 2).toFixed(2)}); load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    ok &&= ratio >= 1.9;
  }
  process.exitCode = ok ? 0 : 1;
}

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) await senderRole(Number(process.argv[roleIndex + 2]), Number(process.argv[roleIndex + 3]));
else await main();
