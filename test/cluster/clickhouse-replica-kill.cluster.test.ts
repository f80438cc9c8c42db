/**
 * Issue 20, ClickHouse cluster: the schema converged ON CLUSTER on 2 shards × 2 replicas (a second
 * converge applies nothing), then the project's sink loads a few hundred thousand flow records from
 * a Kafka topic into the cluster, sharded by site. In the middle of the load, while an INSERT runs
 * on it, the replica the sink writes shard 1 to is killed with -9; loading goes on (the sink moves
 * to the other replica), the replica is restarted and catches up. Then, through the Distributed
 * tables and on every node: every record stored exactly once, each shard holding only its sites,
 * the rollups equal to the raw rows (no view fed twice or missed), and both replicas of each shard
 * holding the same data.
 */
import { streamFlow } from './flows.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../core/bus/index.ts';
import type { Bus, BusMessage } from '../../core/bus/types.ts';
import { ServerStore } from '../../core/store/index.ts';
import { ident, raw, sql } from '../../core/store/sql.ts';
import { encodeRecords, flowRecord, schemaHeader, schemaId, type FlowRecord } from '../../core/records/index.ts';
import { createRegistry, metricValues } from '../../core/metrics.ts';
import { createSink, type Sink } from '../../analytics/sink/index.ts';
import { applyRetention, migrate, schemaObjects } from '../../analytics/schema/index.ts';
import { clusterSchema, clusterStoreSettings, throughIngest } from '../../analytics/schema/cluster.ts';
import { halfMd5Mod } from '../../analytics/sink/shards.ts';
import { clickhouseClusterEnv, clusterServicesConfig, serviceDir } from '../../scripts/services/config.ts';
import { clusterNodes } from '../../scripts/services/clickhouse-cluster.ts';
import { ownedPid } from '../../scripts/services/process.ts';
import { pidFile } from '../../scripts/services/service.ts';
import { up } from '../../scripts/services/index.ts';
import { requireService, uniqueName } from '../support/services.ts';
import { until } from '../support/until.ts';
import { discoverShards, requireClickhouseCluster } from './clickhouse-cluster.ts';

/** 300 messages × 1,000 records, in three phases: before the kill, while the replica is down, after its restart. */
const MESSAGES = 300;
const PER_MESSAGE = 1_000;
const PER_PUBLISH = 10;
const PARTITIONS = 2;
/** The replica is killed (during an INSERT into it) once this many rows are stored. */
const KILL_AFTER = 30_000;
const SITES = Array.from({ length: 10 }, (_, i) => `site-${i}`);

const brokers = requireService('kafka');
const cluster = requireClickhouseCluster();
const cfg = clusterServicesConfig();
const header = { [schemaHeader]: schemaId(flowRecord) };
const log = (line: string): void => {
  process.stderr.write(`[replica-kill] ${line}\n`);
};

function flow(seq: number, now: number): FlowRecord {
  return streamFlow(seq, {
    time_received: now - (seq % 600) * 1000,
    exporter: `127.0.3.${1 + (seq % 5)}`,
    // Varied, so two different INSERTs practically never roll up to identical blocks by accident.
    bytes: 1000 + (seq % 997),
    packets: 1 + (seq % 7),
    site: SITES[seq % SITES.length],
    dst_site: SITES[(seq + 3) % SITES.length],
    link: `l${seq % 3}`,
    class: seq % 2 === 0 ? 'gold' : 'bronze',
  });
}

function message(m: number, now: number): BusMessage {
  const records = Array.from({ length: PER_MESSAGE }, (_, i) => flow(m * PER_MESSAGE + i, now));
  return { key: `e${m % 7}`, value: encodeRecords(records), headers: header };
}

describe('ClickHouse cluster: the sink across a replica killed with -9', () => {
  const database = uniqueName('replica_kill');
  const topic = uniqueName('flows_cluster');
  const dlq = uniqueName('dlq');
  let bus: Bus;
  let shards: string[][];
  /** Reads through the Distributed tables, on a node that is not killed. */
  let reader: ServerStore;
  /** One store per node, for what each node holds itself. */
  let nodes: { url: string; shard: number; store: ServerStore }[];
  let sink: Sink | undefined;

  beforeAll(async () => {
    // The test kills and restarts a node of the local cluster set, so it must be the one the
    // variables name; a node an earlier run left down is brought back first (`up` is idempotent).
    expect(cluster.urls.join(','), 'CLICKHOUSE_CLUSTER_URLS names the local cluster set').toBe(
      clickhouseClusterEnv(cfg).CLICKHOUSE_CLUSTER_URLS,
    );
    await up(cfg, { names: ['zookeeper', 'clickhouse'] });
    shards = await discoverShards(cluster.urls);
    expect(shards.map((s) => s.length)).toEqual([2, 2]);
    reader = new ServerStore({ url: shards[1]![0]!, database, settings: clusterStoreSettings });
    await reader.start();
    nodes = shards.flatMap((urls, shard) => urls.map((url) => ({ url, shard, store: new ServerStore({ url, database }) })));
    bus = createBus({ kind: 'kafka', brokers: brokers.split(',') });
    await bus.start();
    await bus.ensureTopics([{ topic, partitions: PARTITIONS }, { topic: dlq }]);
  });

  /** Waits until each node has fetched every part of the tables a flow INSERT writes. */
  const syncReplicas = async (which: { store: ServerStore }[]): Promise<void> => {
    const tables = ['flows_raw', 'flows_1m', 'flows_1h', 'flows_1d', 'link_util_1m', 'sink_offsets'];
    for (const n of which) {
      await n.store.start();
      for (const t of tables) await n.store.exec(raw(`SYSTEM SYNC REPLICA \`${database}\`.\`${t}_local\``));
    }
  };

  afterAll(async () => {
    await sink?.stop();
    if (!reader) return;
    await reader.exec(raw(`DROP DATABASE IF EXISTS \`${database}\` ON CLUSTER \`${cluster.name}\``)).catch(() => undefined);
    await reader.stop();
    await Promise.allSettled(nodes.map((n) => n.store.stop()));
    await bus.deleteTopics([topic, dlq]).catch(() => undefined);
    await bus.stop();
  });

  it('converges the schema ON CLUSTER, and a second converge applies zero steps', async () => {
    const t0 = Date.now();
    const first = await migrate(reader, { cluster: cluster.name });
    log(`first converge: ${first.applied.length} steps in ${Date.now() - t0} ms`);
    expect(first.manual).toEqual([]);
    const wanted = clusterSchema(database, cluster.name, schemaObjects(), reader.capabilities(), {
      raw_days: 15,
      minute_days: 30,
      hour_days: 730,
      cost_days: 730,
      forecast_days: 90,
    });
    expect(first.applied.map((s) => s.object)).toEqual(wanted.map((w) => w.name));
    // Every node has every object.
    for (const n of nodes) {
      await n.store.start();
      const tables = await n.store.query<{ name: string }>(sql`SELECT name FROM system.tables WHERE database = ${database}`);
      expect(new Set(tables.map((t) => t.name)), n.url).toEqual(new Set([...wanted.map((w) => w.name), 'schema_objects']));
    }
    const second = await migrate(reader, { cluster: cluster.name });
    expect(second.applied).toEqual([]);
    expect(second.manual).toEqual([]);
  });

  it('kill -9 the replica being written mid-load, keep loading, restart it: nothing lost or doubled', async () => {
    const registry = createRegistry();
    // The sink's own store (the schema converge at start) is a node that stays up.
    const sinkStore = new ServerStore({ url: shards[1]![1]!, database });
    await sinkStore.start();
    sink = createSink(
      { bus, store: sinkStore, registry },
      {
        topics: { flow: topic },
        records: ['flow'],
        group: uniqueName('g'),
        dead_letter_topic: dlq,
        batch_rows: 20_000,
        retry_min_ms: 100,
        retry_max_ms: 1_000,
        cluster: { name: cluster.name, shards },
      },
    );
    await sink.start();

    const stored = async (): Promise<number> =>
      (await reader.query<{ n: number }>(sql`SELECT count() AS n FROM ${ident(database)}.flows_raw`))[0]!.n;
    const now = Date.now();
    let acked = 0;
    /** Publishes messages [from, to), paced like a steady stream of exporters. */
    const publish = async (from: number, to: number): Promise<void> => {
      for (let m = from; m < to; m += PER_PUBLISH) {
        const batch = Array.from({ length: Math.min(PER_PUBLISH, to - m) }, (_, k) => message(m + k, now));
        await bus.publish(topic, batch);
        acked += batch.length * PER_MESSAGE;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const third = MESSAGES / 3;
    let producing = publish(0, third);

    // The victim: the replica the sink writes shard 1 to (the first listed), killed while an INSERT
    // into it is running.
    const victimUrl = shards[0]![0]!;
    const victim = clusterNodes(cfg).find((n) => victimUrl.endsWith(`:${n.httpPort}`))!;
    const victimStore = nodes.find((n) => n.url === victimUrl)!.store;
    expect(await until(async () => (await stored()) >= KILL_AFTER, 120_000), 'rows stored before the kill').toBe(true);
    const inserting = async (): Promise<boolean> =>
      (
        await victimStore.query<{ n: number }>(
          sql`SELECT count() AS n FROM system.processes WHERE query LIKE 'INSERT INTO%flows_raw_ingest_local%'`,
        )
      )[0]!.n > 0;
    expect(await until(inserting, 20_000, 20), 'an INSERT running on the victim').toBe(true);
    const pid = ownedPid(pidFile(cfg, victim.name), serviceDir(cfg, victim.name));
    expect(pid, `pid of ${victim.name}`).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();
    const atKill = await stored().catch(() => -1);
    log(`killed ${victim.name} (pid ${pid}) during an INSERT, ${atKill} rows stored`);

    // Loading goes on through the other replica of shard 1 when that replica has fetched every part
    // the victim committed. When the victim died holding a part nobody else has yet, the sink cannot
    // know that shard's mark and waits for the victim (storing those rows again could double them):
    // then nothing moves until the restart. Either way the end state below must be exact.
    let restart: Awaited<ReturnType<typeof up>> | undefined;
    try {
      await producing;
      producing = publish(third, 2 * third);
      await producing;
      const allWhileDown = await until(async () => (await stored()) >= 2 * third * PER_MESSAGE, 45_000);
      log(
        allWhileDown
          ? 'the first two thirds stored while the replica was down'
          : `the sink waited for ${victim.name} (it held a part its peer had not fetched): ${await stored()} rows stored while it was down`,
      );
    } finally {
      // (Another run's setup may have restarted it already: `up` then leaves it alone.)
      restart = await up(cfg, { names: [victim.name] });
    }
    expect(restart.states.map((x) => `${x.name} ${x.state}`)).toEqual([`${victim.name} healthy`]);
    log(
      `${restart.started.length > 0 ? 'restarted' : 'found restarted'} ${victim.name} ${Date.now() - killedAt} ms after the kill; ` +
        `${await stored()} rows stored`,
    );

    // The last third after the restart: the restarted replica fetches what it missed meanwhile.
    await publish(2 * third, MESSAGES);
    expect(acked).toBe(MESSAGES * PER_MESSAGE);
    expect(await until(async () => (await stored()) >= acked, 120_000), 'every row stored').toBe(true);
    // Whatever a redelivery would add shows up by now.
    await new Promise((r) => setTimeout(r, 2_000));

    // Every replica has fetched everything (the restarted one what it missed, the other what the
    // victim had committed just before it died).
    await syncReplicas(nodes);

    const db = ident(database);
    const [total] = await reader.query<{ n: number; keys: number; seqs: number; bytes: number }>(
      sql`SELECT count() AS n, uniqExact(src_partition, src_offset, sequence) AS keys, uniqExact(sequence) AS seqs,
          sum(bytes) AS bytes FROM ${db}.flows_raw`,
    );
    const wantBytes = Array.from({ length: acked }, (_, seq) => 1000 + (seq % 997)).reduce((a, b) => a + b, 0);
    expect(total).toEqual({ n: acked, keys: acked, seqs: acked, bytes: wantBytes });

    // The rollups hold exactly the raw rows: no view fed twice, none missed.
    for (const table of ['flows_1m', 'flows_1h', 'flows_1d']) {
      const [r] = await reader.query<{ n: number; bytes: number }>(
        sql`SELECT sum(flows) AS n, sum(bytes) AS bytes FROM ${db}.${ident(table)}`,
      );
      expect(r, table).toEqual({ n: acked, bytes: wantBytes });
    }
    const [lu] = await reader.query<{ bytes: number }>(sql`SELECT sum(bytes) AS bytes FROM ${db}.link_util_1m`);
    expect(lu!.bytes).toBe(wantBytes);

    // Per node: only its shard's sites (the Distributed tables' own sharding expression), and both
    // replicas of a shard identical.
    const perNode = await Promise.all(
      nodes.map(async (n) => {
        const [raw1] = await n.store.query<{ rows: number; bytes: number; wrong: number; sites: number }>(
          sql`SELECT count() AS rows, sum(bytes) AS bytes, countIf(halfMD5(site) % 2 != ${n.shard}) AS wrong,
              uniqExact(site) AS sites FROM ${db}.flows_raw_local`,
        );
        const [roll] = await n.store.query<{ flows: number; bytes: number }>(
          sql`SELECT sum(flows) AS flows, sum(bytes) AS bytes FROM ${db}.flows_1m_local`,
        );
        const [marks] = await n.store.query<{ m: string }>(
          sql`SELECT toString(max(max_offset)) AS m FROM ${db}.sink_offsets_local WHERE tbl = 'flows_raw'`,
        );
        return { ...raw1!, rollupFlows: roll!.flows, rollupBytes: roll!.bytes, mark: marks!.m };
      }),
    );
    log(`per node: ${JSON.stringify(perNode)}`);
    for (const shard of [0, 1]) {
      const [a, b] = perNode.filter((_, i) => nodes[i]!.shard === shard);
      expect(a!.rows, `shard ${shard + 1} has rows`).toBeGreaterThan(0);
      expect(a!.wrong, `shard ${shard + 1} holds only its sites`).toBe(0);
      expect(a!.rollupFlows).toBe(a!.rows);
      expect(a!.rollupBytes).toBe(a!.bytes);
      expect(b, `the replicas of shard ${shard + 1} agree`).toEqual(a);
    }
    expect(
      perNode.filter((_, i) => nodes[i]!.shard === 0)[0]!.rows + perNode.filter((_, i) => nodes[i]!.shard === 1)[0]!.rows,
    ).toBe(acked);

    // The sink noticed the kill (failed INSERTs, retried on the other replica) and dead-lettered nothing.
    const m = await metricValues(registry);
    log(
      `sink metrics: retries ${m['pathpilot_analytics_sink_insert_retries_total']}, sent ${m['pathpilot_analytics_sink_sent_total']}`,
    );
    expect(m['pathpilot_analytics_sink_insert_retries_total'] ?? 0).toBeGreaterThan(0);
    expect(Object.entries(m).filter(([k, v]) => k.startsWith('pathpilot_analytics_sink_dead_lettered_total') && v > 0)).toEqual(
      [],
    );
    await sink.stop();
    sink = undefined;
    await sinkStore.stop();
  });
  it('an INSERT repeated on the other replica is stored once in every table; different INSERTs that roll up alike both count', async () => {
    // What the sink relies on, shown directly on shard 2: a block written to one replica's ingest
    // entry and then again to the other replica's (the sink's retry after a failure) lands once in
    // the raw table, in every rollup and in the marks; a second block whose rows differ only in their
    // Kafka offsets rolls up to the same sums and still counts (src_mark keeps the blocks apart).
    const [a, b] = nodes.filter((n) => n.shard === 1);
    const site = SITES.find((x) => halfMd5Mod(x, 2) === 1)!;
    const db = ident(database);
    const totals = async () =>
      (
        await reader.query<{ raw: number; m1: number; h1: number; d1: number; lu: number; mark: string }>(
          sql`SELECT
            (SELECT count() FROM ${db}.flows_raw WHERE site = ${site}) AS raw,
            (SELECT sum(flows) FROM ${db}.flows_1m WHERE site = ${site}) AS m1,
            (SELECT sum(flows) FROM ${db}.flows_1h WHERE site = ${site}) AS h1,
            (SELECT sum(flows) FROM ${db}.flows_1d WHERE site = ${site}) AS d1,
            (SELECT sum(bytes) FROM ${db}.link_util_1m WHERE link = 'dedup') AS lu,
            (SELECT toString(max(max_offset)) FROM ${db}.sink_offsets WHERE tbl = 'flows_raw' AND src_partition = 99) AS mark`,
        )
      )[0]!;
    const before = await totals();
    const time = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000).toISOString().slice(0, 19).replace('T', ' ');
    const body = (offsets: number[]) =>
      offsets
        .map((o) =>
          JSON.stringify({
            time_received: time,
            exporter: '127.0.9.1',
            format: 'ipfix',
            sequence: 7,
            bytes: 100,
            packets: 1,
            site,
            link: 'dedup',
            class: 'gold',
            src_partition: 99,
            src_offset: o,
          }),
        )
        .join('\n');
    await a!.store.insertRaw('flows_raw_ingest_local', 'JSONEachRow', body([1, 2, 3]));
    await b!.store.insertRaw('flows_raw_ingest_local', 'JSONEachRow', body([1, 2, 3]));
    await b!.store.insertRaw('flows_raw_ingest_local', 'JSONEachRow', body([4, 5, 6]));
    await syncReplicas([a!, b!]);
    const after = await totals();
    expect({
      raw: after.raw - before.raw,
      m1: after.m1 - before.m1,
      h1: after.h1 - before.h1,
      d1: after.d1 - before.d1,
      lu: after.lu - before.lu,
      mark: after.mark,
    }).toEqual({ raw: 6, m1: 6, h1: 6, d1: 6, lu: 600, mark: '6' });
  });
  it('drops expired partitions on every node (18.16 has no TTL: the retention job, ON CLUSTER)', async () => {
    const day = 86_400;
    const now = Math.floor(Date.now() / 1000);
    const probe = (window_start: number, path_id: string, src_site: string) => ({
      window_start,
      window_end: window_start + 10,
      path_id,
      src_site,
      sent: 1,
      received: 1,
    });
    // Both shards get an expired and a current window.
    const sites = [SITES.find((x) => halfMd5Mod(x, 2) === 0)!, SITES.find((x) => halfMd5Mod(x, 2) === 1)!];
    await throughIngest(reader).insert(
      'probes_raw',
      sites.flatMap((site) => [probe(now - 40 * day, `old-${site}`, site), probe(now - day, `new-${site}`, site)]),
    );
    const result = await applyRetention(reader, {
      now: now * 1000,
      retention: { raw_days: 15 },
      force: true,
      cluster: cluster.name,
    });
    expect(result.dropped.filter((d) => d.table === 'probes_raw')).toHaveLength(1);
    for (const n of nodes) await n.store.exec(raw(`SYSTEM SYNC REPLICA \`${database}\`.probes_raw_local`));
    const perNode = await Promise.all(
      nodes.map(async (n) =>
        (
          await n.store.query<{ path_id: string }>(sql`SELECT path_id FROM ${ident(database)}.probes_raw_local ORDER BY path_id`)
        ).map((r) => r.path_id),
      ),
    );
    expect(perNode).toEqual(nodes.map((n) => [`new-${sites[n.shard]}`]));
  });
});
