import type { Store } from '../../core/store/types.ts';
import { sql, raw } from '../../core/store/sql.ts';
import type { RetentionConfig } from '../config.ts';
import { retentionSchema } from '../config.ts';
import { retentionDays, tableDefs } from './tables.ts';
import { clusterAddresses, localName } from './cluster.ts';
import { alterTableSql } from './ddl.ts';

/**
 * Retention where TTL is missing (ClickHouse 18.16): drop whole partitions older than the tier's
 * retention. Tables are partitioned by day (or month for small tables), so a partition is dropped
 * once its last day is past the cutoff. Servers with TTL do this themselves; the job is a no-op there
 * unless `force` is set. On a cluster (`cluster`) the partitions of every node's local tables count,
 * and each drop runs ON CLUSTER (the replicated tables pass it to every replica).
 */
export interface RetentionResult {
  dropped: { table: string; partition: string }[];
}

function partitionEnd(id: string): number | undefined {
  if (/^\d{8}$/.test(id)) return Date.UTC(Number(id.slice(0, 4)), Number(id.slice(4, 6)) - 1, Number(id.slice(6, 8)) + 1);
  if (/^\d{6}$/.test(id)) return Date.UTC(Number(id.slice(0, 4)), Number(id.slice(4, 6)), 1);
  return undefined;
}

export async function applyRetention(
  store: Store,
  options: { now: number; retention?: Partial<RetentionConfig>; force?: boolean; cluster?: string },
): Promise<RetentionResult> {
  const dropped: RetentionResult['dropped'] = [];
  if (store.capabilities().ttl && !options.force) return { dropped };
  const retention = retentionSchema.parse(options.retention ?? {});
  const cluster = options.cluster;
  const addresses = cluster ? await clusterAddresses(store, cluster) : [];
  for (const t of tableDefs()) {
    const days = retentionDays(t.retention, retention);
    if (days === undefined) continue;
    const cutoff = options.now - days * 86_400_000;
    const table = cluster ? localName(t.name) : t.name;
    const partsOf = (from: ReturnType<typeof raw>) =>
      store.query<{ partition_id: string }>(
        sql`SELECT DISTINCT partition_id FROM ${from} WHERE database = ${store.database} AND table = ${table} AND active`,
      );
    const lists = cluster
      ? await Promise.all(addresses.map((a) => partsOf(sql`remote(${a}, system, parts)`)))
      : [await partsOf(raw('system.parts'))];
    for (const partition_id of new Set(lists.flat().map((p) => p.partition_id))) {
      const end = partitionEnd(partition_id);
      if (end === undefined || end > cutoff) continue;
      await store.exec(
        alterTableSql(store.database, table, `DROP PARTITION ID '${partition_id.replace(/[^0-9]/g, '')}'`, cluster),
      );
      dropped.push({ table: t.name, partition: partition_id });
    }
  }
  return { dropped };
}
