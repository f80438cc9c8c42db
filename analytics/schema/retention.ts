import type { Store } from '../../core/store/types.ts';
import { sql, raw } from '../../core/store/sql.ts';
import type { RetentionConfig } from '../config.ts';
import { retentionSchema } from '../config.ts';
import { retentionDays, tableDefs } from './tables.ts';

/**
 * Retention where TTL is missing (ClickHouse 18.16): drop whole partitions older than the tier's
 * retention. Tables are partitioned by day (or month for small tables), so a partition is dropped
 * once its last day is past the cutoff. Servers with TTL do this themselves; the job is a no-op there
 * unless `force` is set.
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
  options: { now: number; retention?: Partial<RetentionConfig>; force?: boolean },
): Promise<RetentionResult> {
  const dropped: RetentionResult['dropped'] = [];
  if (store.capabilities().ttl && !options.force) return { dropped };
  const retention = retentionSchema.parse(options.retention ?? {});
  for (const t of tableDefs()) {
    const days = retentionDays(t.retention, retention);
    if (days === undefined) continue;
    const cutoff = options.now - days * 86_400_000;
    const parts = await store.query<{ partition_id: string }>(
      sql`SELECT DISTINCT partition_id FROM system.parts WHERE database = ${store.database} AND table = ${t.name} AND active`,
    );
    for (const { partition_id } of parts) {
      const end = partitionEnd(partition_id);
      if (end === undefined || end > cutoff) continue;
      await store.exec(
        raw(`ALTER TABLE \`${store.database}\`.\`${t.name}\` DROP PARTITION ID '${partition_id.replace(/[^0-9]/g, '')}'`),
      );
      dropped.push({ table: t.name, partition: partition_id });
    }
  }
  return { dropped };
}
