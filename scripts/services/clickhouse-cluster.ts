import type { ServicesConfig } from './config.ts';
import type { LocalService } from './service.ts';

/**
 * A ClickHouse cluster on loopback: `topology.clickhouseCluster` shards × replicas of ClickHouse
 * 18.16 from Debian, and the ZooKeeper they replicate through (issue 20).
 */
export function clickhouseClusterNodes(cfg: ServicesConfig): LocalService[] {
  const c = cfg.topology.clickhouseCluster;
  throw new Error(`a ClickHouse cluster of ${c?.shards}x${c?.replicas} is not built yet`);
}
