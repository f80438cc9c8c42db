/**
 * How the cluster-tier ClickHouse tests reach the 2×2 cluster: CLICKHOUSE_CLUSTER (its name) and
 * CLICKHOUSE_CLUSTER_URLS (every node), exported by test/support/cluster-setup.ts. Each node says
 * which shard it is (`system.macros`), so the shards are read from the servers, not assumed.
 */
import { ServerStore } from '../../core/store/index.ts';
import { sql } from '../../core/store/sql.ts';

export interface ClickhouseCluster {
  name: string;
  urls: string[];
  /** Per shard (1, 2, …), its replicas' URLs in CLICKHOUSE_CLUSTER_URLS order. */
  shards: string[][];
}

export function requireClickhouseCluster(): { name: string; urls: string[] } {
  const name = process.env.CLICKHOUSE_CLUSTER;
  const urls = process.env.CLICKHOUSE_CLUSTER_URLS?.split(',').filter(Boolean) ?? [];
  if (!name || urls.length === 0) {
    throw new Error(
      'the ClickHouse cluster is not available: CLICKHOUSE_CLUSTER / CLICKHOUSE_CLUSTER_URLS are unset ' +
        "(the cluster project's global setup starts it; see test/support/cluster-setup.ts).",
    );
  }
  return { name, urls };
}

/** The shard macro of every node, grouped: `shards[i]` holds the replicas of shard i + 1. */
export async function discoverShards(urls: readonly string[]): Promise<string[][]> {
  const shards: string[][] = [];
  for (const url of urls) {
    const store = new ServerStore({ url, database: 'default' });
    await store.start();
    try {
      const [m] = await store.query<{ shard: string }>(
        sql`SELECT substitution AS shard FROM system.macros WHERE macro = 'shard'`,
      );
      const shard = Number(m?.shard);
      if (!Number.isInteger(shard) || shard < 1) throw new Error(`${url}: no numeric shard macro`);
      (shards[shard - 1] ??= []).push(url);
    } finally {
      await store.stop();
    }
  }
  if (shards.some((s) => s === undefined)) throw new Error(`the shard macros of ${urls.join(', ')} leave a gap`);
  return shards;
}
