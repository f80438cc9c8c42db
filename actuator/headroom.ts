/**
 * Whether a failover's target paths can take the pair's traffic. A self-heal failover moves a whole pair
 * (a WAN rule matches prefixes, not DSCP; a pinned pair is re-pinned class by class onto one hop): onto a
 * backup without room for it, it congests the backup and breaks the SLO there too — in an 8× surge the
 * guard rolled back every such move. A breach caused by load is the optimizer's to spread (it plans with
 * capacities); the self-heal fails over only where the traffic fits.
 */
import type { Topology } from '../core/config/topology.ts';
import type { TimeRange } from '../analytics/queries/types.ts';

/** What the check reads; implemented over analytics/queries (actuator/guard), faked in unit tests. */
export interface LoadData {
  /** Mean Mbit/s leaving each router over each link in the range, keyed `${link}|${router}`. */
  linkLoad(range: TimeRange): Promise<ReadonlyMap<string, number>>;
  /** Mean Mbit/s of every class from `from` to `to` in the range (flow records). */
  pairTraffic(range: TimeRange, from: string, to: string): Promise<number>;
}

/** Share of a link's capacity a failover may fill (what is there now plus what it moves). */
export const FAILOVER_FILL = 0.95;

/**
 * The healthy paths (of `healthy`, in order) that can take `movedMbps` split evenly with the others kept:
 * on every hop, load now + the share ≤ FAILOVER_FILL × capacity. Drops the tightest path and tries again,
 * so a failover goes to the backups with room rather than not at all.
 */
export function pathsWithRoom(
  topology: Topology,
  from: string,
  healthy: readonly string[],
  movedMbps: number,
  load: ReadonlyMap<string, number>,
): string[] {
  let kept = [...healthy];
  while (kept.length > 0) {
    const share = movedMbps / kept.length;
    const slack = kept.map((id) => pathSlack(topology, from, id, share, load));
    const worst = Math.min(...slack);
    if (worst >= 0) return kept;
    kept = kept.filter((_, i) => slack[i] !== worst);
  }
  return kept;
}

/** The least room (Mbit/s) any hop of path `id` has left once it carries `share` more. */
function pathSlack(topology: Topology, from: string, id: string, share: number, load: ReadonlyMap<string, number>): number {
  const path = topology.paths.get(id);
  if (!path) return -Infinity;
  let site = from;
  let least = Infinity;
  for (const linkId of path.links) {
    const link = topology.link(linkId);
    const now = load.get(`${linkId}|${site}`) ?? 0;
    least = Math.min(least, FAILOVER_FILL * link.capacity_mbps - now - share);
    site = link.a.site === site ? link.b.site : link.a.site;
  }
  return least;
}
