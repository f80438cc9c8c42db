/**
 * bench:queries — path quality and traffic matrix over 30 days of rollups for 50 sites
 * (target < 300 ms each). Fills the hourly rollups the 30-day range reads (probes_1h: 50 × 49 site
 * pairs × 2 paths; flows_1h: 50 × 49 pairs × 4 classes, one link per pair) for 720 hours with
 * INSERT … SELECT from numbers(), then times each query 10 times after a warm-up.
 * Target: ClickHouse server (CLICKHOUSE_URL) by default; `--target chdb` runs it on embedded chDB.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createStore, ServerStore } from '../../core/store/index.ts';
import { raw, sql, ident } from '../../core/store/sql.ts';
import { migrate } from '../../analytics/schema/index.ts';
import { pathQuality, trafficMatrix } from '../../analytics/queries/index.ts';

const { values } = parseArgs({ options: { target: { type: 'string', default: 'server' } } });
const target = values.target === 'chdb' ? 'chdb' : 'server';
const url = process.env.CLICKHOUSE_URL ?? '';
if (target === 'server' && !url) {
  process.stderr.write('bench:queries needs CLICKHOUSE_URL (run `npm run services -- up`) or --target chdb\n');
  process.exit(2);
}
const SITES = 50;
const HOURS = 30 * 24;
const PATHS_PER_PAIR = 2;
const CLASSES = ['voice', 'video', 'business', 'bulk'];
const hour = 3_600_000;
const end = Math.floor(Date.now() / hour) * hour;
const start = end - HOURS * hour;

const database = `bench_q_${randomBytes(4).toString('hex')}`;
// Loading millions of rows on a busy 2-core machine can take minutes: a long request timeout.
const store =
  target === 'server'
    ? new ServerStore({ url, database, requestTimeoutMs: 600_000 })
    : createStore({ kind: 'chdb', url, path: '', database });
await store.start();
try {
  await migrate(store);
  const db = ident(store.database);
  const pairs = SITES * (SITES - 1);
  const t0 = performance.now();
  // Pair index p → src = p / 49, dst = the p % 49-th other site.
  const src = `intDiv(p, ${SITES - 1})`;
  const dst = `(${src} + 1 + p % ${SITES - 1}) % ${SITES}`;
  const probeRows = pairs * PATHS_PER_PAIR * HOURS;
  await store.exec(
    raw(`INSERT INTO \`${store.database}\`.probes_1h
      SELECT toDateTime(${start / 1000} + h * 3600) AS t, concat('s', toString(${src}), '.s', toString(${dst}), '.', toString(path)) AS path_id,
        'voice' AS class, concat('s', toString(${src})) AS src_site, concat('s', toString(${dst})) AS dst_site,
        arrayReduce('quantilesTDigestState(0.5, 0.95, 0.99)', [toFloat64(20 + (p * 7 + h) % 50)]) AS rtt,
        arrayReduce('maxState', [toFloat64(40 + (p + h) % 60)]) AS rtt_p95_max,
        arrayReduce('sumState', [toUInt64(600)]) AS sent, arrayReduce('sumState', [toUInt64(600 - (p + h) % 3)]) AS received,
        arrayReduce('avgState', [toFloat64((p + h) % 5)]) AS jitter, arrayReduce('countState', [toUInt8(1)]) AS windows
      FROM (SELECT intDiv(number, ${HOURS * PATHS_PER_PAIR}) AS p, intDiv(number % ${HOURS * PATHS_PER_PAIR}, ${PATHS_PER_PAIR}) AS h,
                   number % ${PATHS_PER_PAIR} + 1 AS path FROM numbers(${probeRows}))`),
  );
  const flowRows = pairs * CLASSES.length * HOURS;
  await store.exec(
    raw(`INSERT INTO \`${store.database}\`.flows_1h
      SELECT toDateTime(${start / 1000} + h * 3600) AS t, concat('s', toString(${src})) AS site, concat('l', toString(p)) AS link,
        arrayElement(['voice', 'video', 'business', 'bulk'], toUInt32(c + 1)) AS class, concat('s', toString(${dst})) AS dst_site,
        toUInt64(1000000 + (p * 13 + h) % 100000) AS bytes, toUInt64(1000) AS packets, toUInt64(10) AS flows
      FROM (SELECT intDiv(number, ${HOURS * CLASSES.length}) AS p, intDiv(number % ${HOURS * CLASSES.length}, ${CLASSES.length}) AS h,
                   number % ${CLASSES.length} AS c FROM numbers(${flowRows}))`),
  );
  // The daily tiers (their views fill them from raw rows in production): one state per path and day
  // built from that day's 24 values, generated the same way.
  const days = HOURS / 24;
  await store.exec(
    raw(`INSERT INTO \`${store.database}\`.probes_1d
      SELECT toDateTime(${start / 1000} + d * 86400) AS t, concat('s', toString(${src}), '.s', toString(${dst}), '.', toString(path)) AS path_id,
        'voice' AS class, concat('s', toString(${src})) AS src_site, concat('s', toString(${dst})) AS dst_site,
        arrayReduce('quantilesTDigestState(0.5, 0.95, 0.99)', arrayMap(h -> toFloat64(20 + (p * 7 + h) % 50), range(24))) AS rtt,
        arrayReduce('maxState', [toFloat64(99)]) AS rtt_p95_max,
        arrayReduce('sumState', [toUInt64(14400)]) AS sent, arrayReduce('sumState', [toUInt64(14376)]) AS received,
        arrayReduce('avgState', [toFloat64(2)]) AS jitter, arrayReduce('countState', arrayMap(h -> toUInt8(1), range(24))) AS windows
      FROM (SELECT intDiv(number, ${days * PATHS_PER_PAIR}) AS p, intDiv(number % ${days * PATHS_PER_PAIR}, ${PATHS_PER_PAIR}) AS d,
                   number % ${PATHS_PER_PAIR} + 1 AS path FROM numbers(${pairs * PATHS_PER_PAIR * days}))`),
  );
  await store.exec(
    raw(`INSERT INTO \`${store.database}\`.flows_1d
      SELECT toDateTime(${start / 1000} + d * 86400) AS t, concat('s', toString(${src})) AS site, concat('l', toString(p)) AS link,
        arrayElement(['voice', 'video', 'business', 'bulk'], toUInt32(c + 1)) AS class, concat('s', toString(${dst})) AS dst_site,
        toUInt64(24000000) AS bytes, toUInt64(24000) AS packets, toUInt64(240) AS flows
      FROM (SELECT intDiv(number, ${days * CLASSES.length}) AS p, intDiv(number % ${days * CLASSES.length}, ${CLASSES.length}) AS d,
                   number % ${CLASSES.length} AS c FROM numbers(${pairs * CLASSES.length * days}))`),
  );
  await store.exec(raw(`OPTIMIZE TABLE \`${store.database}\`.probes_1h FINAL`)).catch(() => undefined);
  await store.exec(raw(`OPTIMIZE TABLE \`${store.database}\`.flows_1h FINAL`)).catch(() => undefined);
  const [sizes] = await store.query<{ p: number; f: number }>(
    sql`SELECT (SELECT count() FROM ${db}.probes_1h) AS p, (SELECT count() FROM ${db}.flows_1h) AS f`,
  );
  process.stdout.write(
    `${target} ${store.version().text}: loaded ${sizes!.p.toLocaleString('en-US')} probes_1h rows and ${sizes!.f.toLocaleString('en-US')} flows_1h rows ` +
      `(${SITES} sites, ${HOURS / 24} days) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const range = { from: start, to: end };
  const cases: [string, () => Promise<number>][] = [
    ['path quality (all paths, 30 days)', async () => (await pathQuality(store, { range })).length],
    [
      'path quality (one site pair, 30 days)',
      async () => (await pathQuality(store, { range, srcSite: 's3', dstSite: 's7' })).length,
    ],
    ['traffic matrix (all pairs × classes, 30 days)', async () => (await trafficMatrix(store, { range })).length],
  ];
  for (const [name, run] of cases) {
    const rows = await run(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const p50 = times[5]!;
    const worst = times[9]!;
    process.stdout.write(
      `${name}: ${rows.toLocaleString('en-US')} rows, median ${p50.toFixed(0)} ms, max ${worst.toFixed(0)} ms ` +
        `(target 300 ms, ratio ${(300 / p50).toFixed(2)} on the median, ${(300 / worst).toFixed(2)} on the max)\n`,
    );
  }
} finally {
  await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
  await store.stop();
}
