/**
 * One sink process for bench:sink's multi-process run: the project's sink on the given topic and
 * group, stopped by SIGTERM, after which it prints its own CPU time (in all and per thread) and peak
 * RSS as one JSON line.
 * Env: KAFKA_BROKERS, CLICKHOUSE_URL, SINK_DATABASE, SINK_TOPIC, SINK_GROUP, SINK_DLQ, and the
 * optional tuning FLOW_CONSUMERS, BATCH_ROWS.
 */
import { createBus } from '../../core/bus/index.ts';
import { createStore } from '../../core/store/index.ts';
import { createSink } from '../../analytics/sink/index.ts';
import { createLogger } from '../../core/log.ts';
import { createRegistry } from '../../core/metrics.ts';
import { readdirSync, readFileSync } from 'node:fs';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const log = createLogger({ level: 'warn' });
const bus = createBus({ kind: 'kafka', brokers: env('KAFKA_BROKERS').split(',') }, { log });
const store = createStore({ kind: 'server', url: env('CLICKHOUSE_URL'), path: '', database: env('SINK_DATABASE') });
await bus.start();
await store.start();
const registry = createRegistry();
const sink = createSink(
  { bus, store, log, registry },
  {
    topics: { flow: env('SINK_TOPIC') },
    records: ['flow'],
    group: env('SINK_GROUP'),
    dead_letter_topic: env('SINK_DLQ'),
    migrate: false,
    ...(process.env.FLOW_CONSUMERS ? { flow_consumers: Number(process.env.FLOW_CONSUMERS) } : {}),
    ...(process.env.BATCH_ROWS ? { batch_rows: Number(process.env.BATCH_ROWS) } : {}),
    ...(process.env.FETCH_MIN_BYTES ? { fetch_min_bytes: Number(process.env.FETCH_MIN_BYTES) } : {}),
    ...(process.env.PARTITIONS_CONCURRENTLY ? { partitions_concurrently: Number(process.env.PARTITIONS_CONCURRENTLY) } : {}),
    ...(process.env.FETCH_MAX_WAIT_MS ? { fetch_max_wait_ms: Number(process.env.FETCH_MAX_WAIT_MS) } : {}),
  },
);
// Connected and loaded: the parent starts every child's sink at once (a line on stdin), so the
// timing and CPU cover the sinks' work (group join included), not process start-up.
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
await new Promise((resolve) => process.stdin.once('data', resolve));
/** CPU seconds per thread name (/proc/self/task/<tid>/comm and stat), to say where the rest goes. */
function threadCpuSeconds(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const name = tid === String(process.pid) ? 'main' : comm;
        out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // The thread ended while we looked.
      }
    }
  } catch {
    // Not Linux.
  }
  return out;
}
const threads0 = threadCpuSeconds();
const cpu0 = process.cpuUsage();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
// Listened for before the sink has joined its group: with two processes, one may have stored every
// row (and the parent sent SIGTERM) while the other still waits for the group's rebalance.
const started = sink.start();
process.on('SIGTERM', () => {
  void (async () => {
    await started.catch(() => undefined);
    await sink.stop();
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu0);
    const threads1 = threadCpuSeconds();
    const byThread = Object.fromEntries(
      [...threads1]
        .map(([name, s]) => [name, Math.round((s - (threads0.get(name) ?? 0)) * 100) / 100])
        .filter(([, s]) => (s as number) > 0),
    );
    process.stdout.write(
      `${JSON.stringify({
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        peakRss,
        byThread,
        stored: sink.stored(),
      })}\n`,
    );
    await bus.stop();
    await store.stop();
    process.exit(0);
  })();
});
await started;
