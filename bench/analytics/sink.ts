/**
 * bench:sink — Kafka → ClickHouse server on this machine (loopback only, bounded in rows and time).
 * 1. Throughput and efficiency: pre-produce ROWS flow records, run 1 and then 2 sink
 *    processes in one consumer group (SINK_PROCESSES=1,2) into a fresh database with the four
 *    rollups, time until the first ROWS are stored (target ≥ 200,000 rows/s) and add up the CPU the
 *    sink processes and the ClickHouse server spent on them (target ≤ 3.0 CPU-s per million rows;
 *    the server's CPU is read from /proc for the process listening on CLICKHOUSE_URL's port, so it
 *    must run on this machine); then the same per million rows for a warm process (WARM_ROWS).
 *    ClickHouse's system time depends on the file system: see `databases` below.
 * 2. Steady load (STEADY_RATES, rows/s; STEADY_SECONDS each): one sink process while a producer
 *    publishes at that rate, as flows arrive from collectors: the sink's and ClickHouse's CPU per
 *    million rows and the INSERTs per million rows, between 20 % and 100 % of the rows stored (the
 *    group join and the first fetch left out). A sink that keeps up writes what each fetch brought.
 * 3. End-to-end lag at 50,000 rows/s: produce 5,000-row bursts every 100 ms for LAG_SECONDS; each
 *    burst's lag is publish time → its rows visible to a query (target p99 < 5 s).
 * Needs KAFKA_BROKERS and CLICKHOUSE_URL (`npm run services -- up`, then `eval $(npm run -s services -- env)`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleScript } from '../../scripts/build.ts';
import { createBus } from '../../core/bus/index.ts';
import { processCpuSeconds, processCpuSplit } from '../core/proc.ts';
import type { Bus } from '../../core/bus/types.ts';
import { createStore } from '../../core/store/index.ts';
import type { Store } from '../../core/store/types.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { encodeRecords, flowRecord, schemaHeader, schemaId, type FlowRecord } from '../../core/records/index.ts';
import { createSink } from '../../analytics/sink/index.ts';
import { migrate } from '../../analytics/schema/index.ts';

const brokers = process.env.KAFKA_BROKERS;
const url = process.env.CLICKHOUSE_URL;
if (!brokers || !url) {
  process.stderr.write('bench:sink needs KAFKA_BROKERS and CLICKHOUSE_URL (run `npm run services -- up`)\n');
  process.exit(2);
}
const ROWS = Number(process.env.ROWS ?? 1_000_000);
/**
 * The warm figure (one process, WARM_ROWS > 0): a sink runs for months, and the first million rows
 * also pay V8's compilation of the hot paths, the group join and the first fetches' allocations.
 * A second single-process run reads a backlog of ROWS + WARM_ROWS + TAIL_ROWS rows; the CPU it and
 * ClickHouse spend between the first poll past ROWS stored and the first past ROWS + WARM_ROWS is
 * the warm figure. Rows keep flowing past both ends, so at each the sink holds a fetch in hand and
 * an INSERT in flight, and what it spent ahead of the rows stored at one end is roughly matched at
 * the other (a fetch is ~380k rows: the sink's share is good to about ±0.3 CPU-s per million rows;
 * a larger WARM_ROWS narrows it). (The cold figure is a separate run that ends with everything stored: it starts idle and
 * ends idle.)
 */
const WARM_ROWS = Number(process.env.WARM_ROWS ?? 1_000_000);
const TAIL_ROWS = Math.max(250_000, WARM_ROWS / 2);
const PER_MESSAGE = 500;
const PARTITIONS = Number(process.env.PARTITIONS ?? 4);
const LAG_SECONDS = Number(process.env.LAG_SECONDS ?? 20);
const PROCESSES = (process.env.SINK_PROCESSES ?? '1,2').split(',').filter(Boolean).map(Number);
const STEADY_RATES = (process.env.STEADY_RATES ?? '50000,200000').split(',').filter(Boolean).map(Number);
const STEADY_SECONDS = Number(process.env.STEADY_SECONDS ?? 15);
const CPU_TARGET = 3.0;
const childScript = fileURLToPath(new URL('./sink-child.ts', import.meta.url));
/**
 * The sink children run as plain JavaScript (esbuild, as the deployed roles run dist/), not through
 * tsx, whose module-hooks thread and compiled modules are not in a deployed sink's CPU or memory;
 * BENCH_FROM=source runs them through tsx.
 */
const fromSource = process.env.BENCH_FROM === 'source';
const builtChild = join(fileURLToPath(new URL('../../', import.meta.url)), `dist.bench-${process.pid}`, 'sink-child.mjs');

/** User and system CPU seconds of a process, or undefined when its pid is unknown. */
function cpuOf(pid: number | undefined): { user: number; system: number } | undefined {
  return pid === undefined ? undefined : processCpuSplit(pid);
}

interface Snapshot {
  rows: number;
  at: number;
  sinkCpu: number;
  mainCpu: number;
  inserts: number;
  ch: { user: number; system: number } | undefined;
}

interface ProcessRun {
  /** Seconds until the first ROWS were stored. */
  seconds: number;
  inTable: number;
  /** CPU of the sink processes until the first ROWS were stored. */
  sinkCpu: number;
  /** The warm figure (see WARM_ROWS), on the single-process run. */
  warm: { rows: number; sinkCpu: number; clickhouseCpu: number | undefined; inserts: number } | undefined;
  /** Snapshots at each target of rows stored. */
  marks: Snapshot[];
  /** Of sinkCpu, the main threads' (the rest: V8's JIT compiler and GC threads); undefined off Linux. */
  sinkMainThreadCpu: number;
  /** Rows stored at the first poll past ROWS (INSERTs land whole). */
  coldRows: number;
  clickhouseCpu: number | undefined;
  peakRssMb: number[];
  inserts: number;
}

/** The pid listening on a local TCP port (`ss`), or undefined. */
function listenerPid(port: string): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON lines a child prints, one at a time. */
function jsonLines(child: ChildProcess): { next(): Promise<unknown> } {
  const queue: unknown[] = [];
  const waiting: ((v: unknown) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    // What node itself prints for BENCH_CHILD_ARGS (--trace-gc…) is passed on; its log lines
    // (JSON) are not.
    if (!line.startsWith('{')) process.stderr.write(`${line}\n`);
    // The child's own report lines, not its log lines (also JSON on stdout).
    if (!line.startsWith('{"ready"') && !line.startsWith('{"cpuSeconds"')) return;
    const value: unknown = JSON.parse(line);
    const w = waiting.shift();
    if (w) w(value);
    else queue.push(value);
  });
  return {
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift())
        : new Promise((resolve, reject) => {
            waiting.push(resolve);
            child.once('exit', (code) => reject(new Error(`sink child exited (${code}) before reporting`)));
          }),
  };
}
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

/**
 * The rows of flows_raw's committed parts: what count() returns, from the parts' metadata. count()
 * reads a column on 18.16 (11.5 ms of server CPU per call on 1M rows, against 1.4 ms), and the
 * throughput run polls every 100 ms: 0.3–0.6 CPU-s per run that were counted as the sink's cost.
 */
async function committedRows(store: Store): Promise<number> {
  const [r] = await store.query<{ n: number }>(
    sql`SELECT sum(rows) AS n FROM system.parts WHERE database = ${store.database} AND table = 'flows_raw' AND active`,
  );
  return Number(r?.n ?? 0);
}

/**
 * INSERTs stored so far into flows_raw: each makes one level-0 part (one partition per INSERT
 * here: every row has the same day), listed, merged or not, for 8 minutes after a merge.
 */
async function insertsSoFar(store: Store): Promise<number> {
  const [r] = await store.query<{ n: number }>(
    sql`SELECT count() AS n FROM system.parts WHERE database = ${store.database} AND table = 'flows_raw' AND level = 0`,
  );
  return Number(r?.n ?? 0);
}

if (!fromSource) await bundleScript(childScript, builtChild);
process.on('exit', () => rmSync(dirname(builtChild), { recursive: true, force: true }));

const bus = createBus({ kind: 'kafka', brokers: brokers.split(',') });
await bus.start();
const store = createStore({ kind: 'server', url, path: '', database: `bench_sink_${suffix}` });
await store.start();
await migrate(store);
const topics: string[] = [];
/**
 * The runs' databases, dropped only when every run is done. On ext4 without a journal (this
 * machine's root file system) creating a file skips every free inode deleted in the last 60 s
 * (360 s while its inode-table block is not yet written back: fs/ext4/ialloc.c, recently_deleted),
 * looking each one up: right after a DROP DATABASE of a million-row run, ClickHouse's ~160 file
 * creations per INSERT cost up to 0.6 CPU-s more per million rows (its system time 0.5 → 1.2 s).
 * A run after another's drop would measure the drop, not the sink; for the same reason, run the
 * bench again only a minute after the last one ended (after `sync`). A journaled ext4, or XFS,
 * has no such scan.
 */
const databases: string[] = [];

try {
  // --- 1. throughput and CPU, with 1 and 2 sink processes in one consumer group ----------------
  topics.push(`bench-dlq-${suffix}`);
  const clickhousePid = listenerPid(new URL(url).port || '8123');
  const results = new Map<number, ProcessRun>();
  for (const n of PROCESSES) {
    const topic = `bench-flows-${suffix}-p${n}`;
    topics.push(topic);
    await bus.ensureTopics([{ topic, partitions: PARTITIONS }]);
    const tp = performance.now();
    await produce(bus, topic, ROWS, 0);
    process.stdout.write(`produced ${ROWS.toLocaleString('en-US')} rows in ${((performance.now() - tp) / 1000).toFixed(1)} s\n`);
    const run = await runSinkProcesses(n, topic, [ROWS]);
    if (n === 1 && WARM_ROWS > 0) {
      const warmTopic = `bench-flows-${suffix}-warm`;
      topics.push(warmTopic);
      await bus.ensureTopics([{ topic: warmTopic, partitions: PARTITIONS }]);
      await produce(bus, warmTopic, ROWS + WARM_ROWS + TAIL_ROWS, 0);
      const w = await runSinkProcesses(n, warmTopic, [ROWS, ROWS + WARM_ROWS, ROWS + WARM_ROWS + TAIL_ROWS]);
      const [from, to] = [w.marks[0]!, w.marks[1]!];
      run.warm = {
        rows: to.rows - from.rows,
        sinkCpu: to.sinkCpu - from.sinkCpu,
        clickhouseCpu: from.ch && to.ch ? to.ch.user + to.ch.system - from.ch.user - from.ch.system : undefined,
        inserts: to.inserts - from.inserts,
      };
    }
    results.set(n, run);
    const rate = run.coldRows / run.seconds;
    const cpuPerMillion = ((run.sinkCpu + (run.clickhouseCpu ?? 0)) * 1e6) / run.coldRows;
    process.stdout.write(
      `sink × ${n} process${n > 1 ? 'es' : ''}: ${Math.round(rate).toLocaleString('en-US')} rows/s (${run.coldRows.toLocaleString('en-US')} rows in ${run.seconds.toFixed(2)} s; ` +
        `target 200,000, ratio ${(rate / 200_000).toFixed(2)}); peak RSS ${run.peakRssMb.map((r) => r.toFixed(0)).join('/')} MB; ` +
        `${run.inserts} INSERTs (${Math.round(run.coldRows / Math.max(1, run.inserts)).toLocaleString('en-US')} rows each)\n` +
        `  CPU: sink ${run.sinkCpu.toFixed(2)} s (main thread ${run.sinkMainThreadCpu.toFixed(2)} s) + ClickHouse ${run.clickhouseCpu === undefined ? 'n/a (its pid was not found)' : `${run.clickhouseCpu.toFixed(2)} s`} = ` +
        `${cpuPerMillion.toFixed(2)} CPU-s per million rows (target ≤ ${CPU_TARGET.toFixed(1)}, ratio ${(CPU_TARGET / cpuPerMillion).toFixed(2)}; ` +
        `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)\n`,
    );
    if (run.warm) {
      const warmPerMillion = ((run.warm.sinkCpu + (run.warm.clickhouseCpu ?? 0)) * 1e6) / run.warm.rows;
      process.stdout.write(
        `  warm (a second run's rows ${ROWS.toLocaleString('en-US')}–${(ROWS + WARM_ROWS).toLocaleString('en-US')} of a backlog): ${run.warm.rows.toLocaleString('en-US')} rows in ${run.warm.inserts} INSERTs: sink ${run.warm.sinkCpu.toFixed(2)} s + ClickHouse ` +
          `${run.warm.clickhouseCpu === undefined ? 'n/a' : `${run.warm.clickhouseCpu.toFixed(2)} s`} = ${warmPerMillion.toFixed(2)} CPU-s per million rows ` +
          `(target ≤ ${CPU_TARGET.toFixed(1)}, ratio ${(CPU_TARGET / warmPerMillion).toFixed(2)})\n`,
      );
    }
    const expected = ROWS;
    if (run.inTable !== expected) process.stdout.write(`WARNING: flows_raw holds ${run.inTable}, expected ${expected}\n`);
  }
  const one = results.get(1);
  const two = results.get(2);
  if (one && two)
    process.stdout.write(
      `scaling: 2 processes / 1 process = ${(one.seconds / two.seconds).toFixed(2)}× throughput (on ${cpus().length} cores shared with ClickHouse)\n`,
    );

  // --- 2. steady load: the producer publishes at a rate while one sink keeps up --------------------
  for (const rate of STEADY_RATES) {
    const topic = `bench-steady-${suffix}-${rate}`;
    topics.push(topic);
    await bus.ensureTopics([{ topic, partitions: PARTITIONS }]);
    const total = Math.ceil((rate * STEADY_SECONDS) / PER_MESSAGE) * PER_MESSAGE;
    let producing = true;
    const producer = (async () => {
      // Bursts every 100 ms, as collectors flush; rows stop at `total`.
      const burst = Math.max(PER_MESSAGE, Math.round(rate / 10 / PER_MESSAGE) * PER_MESSAGE);
      const start = performance.now();
      for (let sent = 0, i = 0; sent < total && producing; i++) {
        const wait = start + i * 100 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const n = Math.min(burst, total - sent);
        await produce(bus, topic, n, sent);
        sent += n;
      }
    })();
    try {
      const run = await runSinkProcesses(1, topic, [Math.round(total * 0.2), total]);
      const [from, to] = [run.marks[0]!, run.marks[1]!];
      const rows = to.rows - from.rows;
      const sinkCpu = to.sinkCpu - from.sinkCpu;
      const chUser = from.ch && to.ch ? to.ch.user - from.ch.user : undefined;
      const chSystem = from.ch && to.ch ? to.ch.system - from.ch.system : undefined;
      const ch = chUser === undefined || chSystem === undefined ? undefined : chUser + chSystem;
      const perMillion = ((sinkCpu + (ch ?? 0)) * 1e6) / rows;
      const insertsPerMillion = ((to.inserts - from.inserts) * 1e6) / rows;
      process.stdout.write(
        `steady load at ${rate.toLocaleString('en-US')} rows/s offered (${rows.toLocaleString('en-US')} rows measured): sink ${((sinkCpu * 1e6) / rows).toFixed(2)} + ClickHouse ` +
          `${ch === undefined ? 'n/a' : ((ch * 1e6) / rows).toFixed(2)} = ${perMillion.toFixed(2)} CPU-s per million rows (target ≤ ${CPU_TARGET.toFixed(1)}, ratio ${(CPU_TARGET / perMillion).toFixed(2)}); ` +
          `${insertsPerMillion.toFixed(0)} INSERTs per million rows (${Math.round(rows / Math.max(1, to.inserts - from.inserts)).toLocaleString('en-US')} rows each)` +
          `${ch === undefined ? '' : `; ClickHouse user ${((chUser! * 1e6) / rows).toFixed(2)}, system ${((chSystem! * 1e6) / rows).toFixed(2)}`}\n`,
      );
    } finally {
      producing = false;
      await producer;
    }
  }

  /** Runs n sink processes on topic `from` until each of `targets` rows are stored (a snapshot at each). */
  async function runSinkProcesses(n: number, from: string, targets: number[]): Promise<ProcessRun> {
    const database = `bench_sink_${suffix}_p${n}_${databases.length}`;
    const runStore = createStore({ kind: 'server', url: url!, path: '', database });
    await runStore.start();
    await migrate(runStore);
    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers!,
      CLICKHOUSE_URL: url!,
      SINK_DATABASE: database,
      SINK_TOPIC: from,
      SINK_GROUP: `bench-${suffix}-p${n}`,
      SINK_DLQ: `bench-dlq-${suffix}`,
    };
    const children = Array.from({ length: n }, () =>
      spawn(
        process.execPath,
        [
          ...(process.env.BENCH_CHILD_ARGS ?? '').split(' ').filter(Boolean),
          ...(fromSource ? ['--import', 'tsx', childScript] : [builtChild]),
        ],
        { env, stdio: ['pipe', 'pipe', 'inherit'] },
      ),
    );
    const lines = children.map((c) => jsonLines(c));
    try {
      await Promise.all(lines.map((l) => l.next()));
      const deadline = Date.now() + 300_000;
      const mainThreads = () =>
        children.reduce((sum, c) => {
          const t = processCpuSplit(c.pid!, c.pid!);
          return sum + t.user + t.system;
        }, 0);
      const snapshot = (rows: number): Snapshot => ({
        rows,
        at: performance.now(),
        sinkCpu: children.reduce((sum, c) => sum + processCpuSeconds(c.pid!), 0),
        mainCpu: mainThreads(),
        inserts: 0,
        ch: cpuOf(clickhousePid),
      });
      /** Polls until `rows` are stored: a snapshot then. */
      const storedUpTo = async (rows: number) => {
        while (Date.now() < deadline) {
          const inTable = await committedRows(runStore);
          if (inTable >= rows) {
            const at = snapshot(inTable);
            at.inserts = await insertsSoFar(runStore);
            return at;
          }
          // Not faster: every poll is ClickHouse CPU too, which this run adds up.
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`fewer than ${rows} rows stored within 300 s`);
      };
      const start = snapshot(0);
      for (const c of children) c.stdin!.write('go\n');
      const cold = await storedUpTo(targets[0]!);
      const chCpu = (a?: { user: number; system: number }, b?: { user: number; system: number }) =>
        a && b ? b.user + b.system - a.user - a.system : undefined;
      if (start.ch && cold.ch && targets.length === 1)
        process.stdout.write(
          `  ClickHouse CPU on the first ${cold.rows.toLocaleString('en-US')} rows: user ${(cold.ch.user - start.ch.user).toFixed(2)} s, system ${(cold.ch.system - start.ch.system).toFixed(2)} s\n`,
        );
      const marks = [cold];
      for (const rows of targets.slice(1)) marks.push(await storedUpTo(rows));
      for (const c of children) c.kill('SIGTERM');
      const reports = (await Promise.all(lines.map((l) => l.next()))) as {
        cpuSeconds: number;
        peakRss: number;
        byThread?: Record<string, number>;
      }[];
      for (const r of reports)
        if (r.byThread && targets.length === 1)
          process.stdout.write(
            `  sink CPU by thread, whole run: ${Object.entries(r.byThread)
              .sort((a, b) => b[1] - a[1])
              .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
              .join(', ')}\n`,
          );
      await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      return {
        seconds: (cold.at - start.at) / 1000,
        inTable: await count(runStore),
        // From `go` to the first ROWS stored (the consumer-group join included).
        sinkCpu: cold.sinkCpu - start.sinkCpu,
        warm: undefined,
        marks,
        sinkMainThreadCpu: cold.mainCpu - start.mainCpu,
        coldRows: cold.rows,
        clickhouseCpu: chCpu(start.ch, cold.ch),
        peakRssMb: reports.map((r) => r.peakRss / 2 ** 20),
        inserts: cold.inserts,
      };
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      // Dropped at the very end, with the bench's own: see `databases`.
      databases.push(database);
      await runStore.stop();
    }
  }

  if (LAG_SECONDS > 0) {
    // --- 3. end-to-end lag at 50,000 rows/s ------------------------------------------------------
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
  for (const database of [...databases, store.database])
    await store.exec(sql`DROP DATABASE IF EXISTS ${ident(database)}`).catch(() => undefined);
  await store.stop();
  await bus.deleteTopics(topics).catch(() => undefined);
  await bus.stop();
}
