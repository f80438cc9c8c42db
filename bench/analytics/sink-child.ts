/**
 * One sink process for bench:sink's multi-process run: the project's sink on the given topic and
 * group, stopped by SIGTERM, after which it prints its own CPU time and peak RSS as one JSON line.
 * Env: KAFKA_BROKERS, CLICKHOUSE_URL, SINK_DATABASE, SINK_TOPIC, SINK_GROUP, SINK_DLQ, and the
 * optional tuning FLOW_CONSUMERS, BATCH_ROWS.
 */
import { createBus } from '../../core/bus/index.ts';
import { createStore } from '../../core/store/index.ts';
import { createSink } from '../../analytics/sink/index.ts';
import { createLogger } from '../../core/log.ts';

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
const sink = createSink(
  { bus, store, log },
  {
    topics: { flow: env('SINK_TOPIC') },
    records: ['flow'],
    group: env('SINK_GROUP'),
    dead_letter_topic: env('SINK_DLQ'),
    migrate: false,
    ...(process.env.FLOW_CONSUMERS ? { flow_consumers: Number(process.env.FLOW_CONSUMERS) } : {}),
    ...(process.env.BATCH_ROWS ? { batch_rows: Number(process.env.BATCH_ROWS) } : {}),
  },
);
// Connected and loaded: the parent starts every child's sink at once (a line on stdin), so the
// timing and CPU cover the sinks' work (group join included), not process start-up.
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
await new Promise((resolve) => process.stdin.once('data', resolve));
const cpu0 = process.cpuUsage();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
await sink.start();

process.on('SIGTERM', () => {
  void (async () => {
    await sink.stop();
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRss, stored: sink.stored() })}\n`);
    await bus.stop();
    await store.stop();
    process.exit(0);
  })();
});
