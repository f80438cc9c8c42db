/**
 * The sink as a child process, for the kill -9 test (test/functional/analytics/sink.functional.test.ts).
 * Env: KAFKA_BROKERS, SINK_STORE (server|chdb), CLICKHOUSE_URL, SINK_CHDB_PATH, SINK_DATABASE,
 * SINK_TOPIC, SINK_GROUP, SINK_DLQ. Prints one JSON line when ready and then, every 250 ms, the
 * row count and the number of distinct (partition, offset, sequence) keys it sees in flows_raw.
 */
import { createBus } from '../../../core/bus/index.ts';
import { createStore } from '../../../core/store/index.ts';
import { sql, ident } from '../../../core/store/sql.ts';
import { createSink } from '../../../analytics/sink/index.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const bus = createBus({ kind: 'kafka', brokers: env('KAFKA_BROKERS').split(',') });
const store = createStore({
  kind: env('SINK_STORE') === 'chdb' ? 'chdb' : 'server',
  url: process.env.CLICKHOUSE_URL ?? '',
  path: process.env.SINK_CHDB_PATH ?? '',
  database: env('SINK_DATABASE'),
});
await bus.start();
await store.start();
const sink = createSink(
  { bus, store },
  { topics: { flow: env('SINK_TOPIC') }, records: ['flow'], group: env('SINK_GROUP'), dead_letter_topic: env('SINK_DLQ') },
);
await sink.start();
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);

let stopping = false;
const timer = setInterval(() => {
  void (async () => {
    if (stopping) return;
    const [r] = await store.query<{ rows: number; distinct: number }>(
      sql`SELECT count() AS rows, uniqExact(src_partition, src_offset, sequence) AS distinct FROM ${ident(store.database)}.flows_raw`,
    );
    process.stdout.write(`${JSON.stringify(r)}\n`);
  })().catch(() => undefined);
}, 250);

process.on('SIGTERM', () => {
  stopping = true;
  clearInterval(timer);
  void (async () => {
    await sink.stop();
    await bus.stop();
    await store.stop();
    process.exit(0);
  })();
});
