import { createHash } from 'node:crypto';
import type { Store } from '../../core/store/types.ts';
import { ServerStore } from '../../core/store/server.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { StoreError } from '../../core/store/errors.ts';
import type { RawBody, RawFormat, RawInsertOptions } from '../../core/store/common.ts';
import { errorMessage } from '../../core/errors.ts';
import type { ClusterConfig } from '../config.ts';
import { ingestName, localName } from '../schema/cluster.ts';

/**
 * Where the sink's rows go: one store (a server or chDB: a single "shard"), or the shards of a
 * ClickHouse cluster, each written directly by the sink (docs/notes/analytics.md "Cluster").
 *
 * On a cluster a row's shard is `halfMD5(<shard key>) % total weight` mapped through the shards'
 * weights in `remote_servers` order: what the Distributed tables compute for the same row, so reads
 * by site stay on one shard and rows written through a Distributed table land where the sink puts
 * them. halfMD5 is MD5's first 8 bytes read big-endian, which node:crypto reproduces exactly (and
 * `start` checks against the server). Each shard's rows go to its raw table's ingest entry
 * (`<raw>_ingest_local`) on one replica — the first that answers, kept until it fails — so one
 * INSERT is one block on one shard, as on a single server.
 */
export interface SinkTarget {
  /** Shards written (1 for one server or chDB). */
  readonly shards: number;
  /** True on a cluster: an INSERT whose outcome is unknown is repeated as it was (see insertWithRetry). */
  readonly clustered: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The shard (0-based) of a row whose shard-key column holds `key`. */
  shardOf(key: string): number;
  /**
   * One INSERT of a raw table's rows into a shard (named `options.queryId` on the server); throws
   * when it failed or its outcome is unknown.
   */
  insert(
    shard: number,
    table: string,
    format: RawFormat,
    body: RawBody,
    columns: readonly string[],
    options: RawInsertOptions,
  ): Promise<void>;
  /**
   * Whether the INSERT named `queryId` is still running on the shard's server (its client gave up,
   * the server did not): its block may yet be stored, so the mark cannot say yet. Throws (transient)
   * when the server cannot be asked.
   */
  running(shard: number, queryId: string): Promise<boolean>;
  /**
   * The highest stored offset of a raw table, Kafka partition and offset space on a shard, or
   * undefined when nothing is stored. Throws (transient) when it cannot be known yet.
   */
  readMark(shard: number, table: string, partition: number, space: number): Promise<bigint | undefined>;
}

function markQuery(store: Pick<Store, 'database'>, offsetsTable: string, table: string, partition: number, space: number) {
  return sql`SELECT toString(max(max_offset)) AS m, count() AS n FROM ${ident(store.database)}.${ident(offsetsTable)}
    WHERE tbl = ${table} AND src_partition = ${partition} AND space = ${space} HAVING n > 0`;
}

/** The store itself: every row on one server (or chDB). */
export function singleTarget(store: Store): SinkTarget {
  return {
    shards: 1,
    clustered: false,
    start: async () => {},
    stop: async () => {},
    shardOf: () => 0,
    async insert(_shard, table, format, body, columns, options) {
      if (!store.insertRaw) throw new StoreError('store has no insertRaw');
      await store.insertRaw(table, format, body, columns, options);
    },
    async running(_shard, queryId) {
      // chDB runs in this process: an INSERT whose call returned is over.
      if (store.kind === 'chdb') return false;
      const rows = await store.query<{ n: number }>(sql`SELECT count() AS n FROM system.processes WHERE query_id = ${queryId}`);
      return rows[0]!.n > 0;
    },
    async readMark(_shard, table, partition, space) {
      const rows = await store.query<{ m: string | number }>(markQuery(store, 'sink_offsets', table, partition, space));
      return rows.length > 0 ? BigInt(String(rows[0]!.m)) : undefined;
    },
  };
}

/** `halfMD5(key)`: the first 8 bytes of MD5 as a big-endian UInt64, reduced modulo `m` (m < 2^21). */
export function halfMd5Mod(key: string, m: number): number {
  const digest = createHash('md5').update(key, 'utf8').digest();
  const high = digest.readUInt32BE(0) % m;
  const low = digest.readUInt32BE(4) % m;
  // (high · 2^32 + low) mod m, in safe integers: 2^32 mod m < m, so every product stays below 2^42.
  return (high * (4_294_967_296 % m) + low) % m;
}

/**
 * ClickHouse errors after which another replica (or a later try) may take the same INSERT: the
 * replica lost ZooKeeper (read-only tables, keeper errors), or it cannot tell whether its commit
 * happened (UNKNOWN_STATUS_OF_INSERT). Never "the data is wrong".
 */
export const replicaFailureCodes: ReadonlySet<number> = new Set([
  225, // NO_ZOOKEEPER
  242, // TABLE_IS_READ_ONLY
  319, // UNKNOWN_STATUS_OF_INSERT
  999, // KEEPER_EXCEPTION
]);

interface Replica {
  url: string;
  store: ServerStore;
  started: boolean;
}

interface ReplicaMark {
  url: string;
  mark: bigint | undefined;
  /** Has fetched every part of sink_offsets_local committed so far (nothing to get, log read to the end). */
  complete: boolean;
}

/** The shards of a ClickHouse cluster, written replica by replica (see SinkTarget). */
export function clusterTarget(cluster: ClusterConfig, database: string): SinkTarget {
  const shards: Replica[][] = cluster.shards.map((urls) =>
    urls.map((url) => ({ url, store: new ServerStore({ url, database, requestTimeoutMs: 30_000 }), started: false })),
  );
  /** Which replica each shard writes to: the first that answers, kept until it fails. */
  const current = shards.map(() => 0);
  /** Shard index per weight slot (`remote_servers` weights), and a memo of keys already placed. */
  let slots: number[] = [];
  const memo = new Map<string, number>();

  async function ready(r: Replica): Promise<ServerStore> {
    if (!r.started) {
      await r.store.start();
      r.started = true;
    }
    return r.store;
  }

  async function replicaMark(r: Replica, table: string, partition: number, space: number): Promise<ReplicaMark> {
    const store = await ready(r);
    const [rows, [replication]] = await Promise.all([
      store.query<{ m: string | number }>(markQuery(store, localName('sink_offsets'), table, partition, space)),
      store.query<{ inserts: number; pointer: number; max_index: number; path: string }>(
        sql`SELECT inserts_in_queue AS inserts, log_pointer AS pointer, log_max_index AS max_index, zookeeper_path AS path
            FROM system.replicas WHERE database = ${database} AND table = ${localName('sink_offsets')}`,
      ),
    ]);
    return {
      url: r.url,
      mark: rows.length > 0 ? BigInt(String(rows[0]!.m)) : undefined,
      complete: await fetchedAll(store, replication),
    };
  }

  /**
   * Whether a replica has every part committed so far: nothing left to fetch in its queue, and every
   * entry of the replication log pulled (log_pointer is the next entry to pull). Both read 0 for an
   * empty log and for one entry not pulled yet: then the log itself (in ZooKeeper) tells.
   */
  async function fetchedAll(
    store: ServerStore,
    replication: { inserts: number; pointer: number; max_index: number; path: string } | undefined,
  ): Promise<boolean> {
    if (!replication || replication.inserts > 0) return false;
    if (replication.pointer > replication.max_index) return true;
    if (replication.pointer > 0) return false;
    const [log] = await store.query<{ n: number }>(
      sql`SELECT count() AS n FROM system.zookeeper WHERE path = ${`${replication.path}/log`}`,
    );
    return log !== undefined && log.n === 0;
  }

  return {
    shards: shards.length,
    clustered: true,
    async start() {
      // The cluster as the servers define it: the same shards, in order, with their weights.
      let layout: { shard_num: number; shard_weight: number }[] | undefined;
      let lastError: unknown;
      for (const r of shards.flat()) {
        try {
          const store = await ready(r);
          layout = await store.query(
            sql`SELECT shard_num, any(shard_weight) AS shard_weight FROM system.clusters WHERE cluster = ${cluster.name}
                GROUP BY shard_num ORDER BY shard_num`,
          );
          const [check] = await store.query<{ h: string }>(sql`SELECT toString(halfMD5('pathpilot') % 1000003) AS h`);
          if (Number(check?.h) !== halfMd5Mod('pathpilot', 1_000_003))
            throw new Error(`halfMD5 on ${r.url} differs from the sink's (${check?.h})`);
          break;
        } catch (err) {
          lastError = err;
        }
      }
      if (!layout)
        throw new StoreError(`no replica of cluster ${cluster.name} answers: ${errorMessage(lastError)}`, { transient: true });
      if (layout.length !== shards.length)
        throw new StoreError(
          `cluster ${cluster.name} has ${layout.length} shards on the servers, analytics.store.cluster.shards lists ${shards.length}`,
        );
      slots = layout.flatMap((s, i) => Array.from({ length: Math.max(1, Number(s.shard_weight)) }, () => i));
      // Each reachable replica must be listed under its own shard (its `shard` macro).
      await Promise.all(
        shards.flatMap((replicas, i) =>
          replicas.map(async (r) => {
            const store = await ready(r).catch(() => undefined);
            if (!store) return;
            const [m] = await store.query<{ s: string }>(sql`SELECT substitution AS s FROM system.macros WHERE macro = 'shard'`);
            if (m && m.s !== String(i + 1))
              throw new StoreError(
                `${r.url} is shard ${m.s} on the server but listed as shard ${i + 1} in analytics.store.cluster.shards`,
              );
          }),
        ),
      );
    },
    async stop() {
      await Promise.allSettled(shards.flat().map((r) => r.store.stop()));
      for (const r of shards.flat()) r.started = false;
    },
    shardOf(key) {
      let shard = memo.get(key);
      if (shard === undefined) {
        shard = slots[halfMd5Mod(key, slots.length)]!;
        if (memo.size >= 100_000) memo.clear();
        memo.set(key, shard);
      }
      return shard;
    },
    async insert(shard, table, format, body, columns, options) {
      const replicas = shards[shard]!;
      const r = replicas[current[shard]!]!;
      try {
        const store = await ready(r);
        await store.insertRaw(localName(ingestName(table)), format, body, columns, options);
      } catch (err) {
        // Next time, the next replica: the same block goes there, and a replicated table drops a
        // block it already has (this replica may have committed it before failing).
        current[shard] = (current[shard]! + 1) % replicas.length;
        if (err instanceof StoreError && err.chCode !== undefined && replicaFailureCodes.has(err.chCode))
          throw new StoreError(`${r.url}: ${err.message}`, { chCode: err.chCode, transient: true, cause: err });
        throw err;
      }
    },
    async running() {
      // Never asked: on a cluster a block of unknown outcome goes again as it was, and the
      // replicated table drops it if it is already stored.
      return false;
    },
    async readMark(shard, table, partition, space) {
      const results = await Promise.allSettled(shards[shard]!.map((r) => replicaMark(r, table, partition, space)));
      const answered = results
        .filter((x): x is PromiseFulfilledResult<ReplicaMark> => x.status === 'fulfilled')
        .map((x) => x.value);
      // Every replica answered: each committed mark is on the replica that wrote it. Some did not: a
      // replica that has fetched everything committed still knows them all. Otherwise the silent one
      // may hold the newest mark alone — wait for it rather than store its rows a second time.
      if (answered.length < results.length && !answered.some((a) => a.complete)) {
        const down = results.flatMap((x, i) => (x.status === 'rejected' ? [shards[shard]![i]!.url] : []));
        throw new StoreError(
          `shard ${shard + 1}: ${down.join(', ')} unreachable and no other replica has fetched all offset marks yet; waiting`,
          { transient: true },
        );
      }
      let mark: bigint | undefined;
      for (const a of answered) if (a.mark !== undefined && (mark === undefined || a.mark > mark)) mark = a.mark;
      return mark;
    },
  };
}
