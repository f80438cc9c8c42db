import type { CostRecord } from '../../core/records/index.ts';
import type { Topology } from '../../core/config/index.ts';
import type { LinkRule } from './config.ts';

/**
 * Maps a cost line to a link of the topology, when config allows:
 * 1. explicit `ingest.billing.link_rules` (first match wins);
 * 2. otherwise, when `map_links` is on: the source site is the one site with the line's provider and
 *    source region; for inter-region lines the destination site is the one at the destination region
 *    with the same provider; the line maps when exactly one link of a fitting kind joins them
 *    (interconnect lines: the one interconnect link at the source site; tunnels otherwise).
 * Ambiguous lines stay unmapped rather than guessed.
 */
export type LinkMapper = (record: CostRecord) => string | undefined;

export function createLinkMapper(topology: Topology | undefined, rules: readonly LinkRule[], auto: boolean): LinkMapper {
  const sitesAt = new Map<string, string[]>();
  if (topology) {
    for (const s of topology.sites.values()) {
      const key = `${s.provider}|${s.region}`;
      sitesAt.set(key, [...(sitesAt.get(key) ?? []), s.id]);
    }
  }
  const links = topology ? [...topology.links.values()] : [];
  const cache = new Map<string, string | undefined>();

  const byRules = (r: CostRecord): string | undefined => {
    for (const rule of rules) {
      if (rule.provider && rule.provider !== r.provider) continue;
      if (rule.src_region && rule.src_region !== r.src_region) continue;
      if (rule.dst_region && rule.dst_region !== r.dst_region) continue;
      if (rule.category && rule.category !== r.category) continue;
      return rule.link;
    }
    return undefined;
  };

  const byTopology = (r: CostRecord): string | undefined => {
    if (!r.src_region) return undefined;
    const src = sitesAt.get(`${r.provider}|${r.src_region}`);
    if (!src || src.length !== 1) return undefined;
    const site = src[0]!;
    let candidates = links.filter((l) => l.a.site === site || l.b.site === site);
    if (r.category === 'interconnect') {
      candidates = candidates.filter((l) => l.kind === 'interconnect');
    } else if (r.category === 'inter-region' || r.category === 'internet-egress') {
      if (!r.dst_region) return undefined;
      const dst = sitesAt.get(`${r.provider}|${r.dst_region}`);
      if (!dst || dst.length !== 1) return undefined;
      const other = dst[0]!;
      candidates = candidates.filter((l) => l.kind !== 'interconnect' && (l.a.site === other || l.b.site === other));
    } else {
      return undefined;
    }
    return candidates.length === 1 ? candidates[0]!.id : undefined;
  };

  return (r) => {
    if (r.category === 'other') return rules.length > 0 ? byRules(r) : undefined;
    const key = `${r.provider}|${r.category}|${r.src_region ?? ''}|${r.dst_region ?? ''}`;
    if (cache.has(key)) return cache.get(key);
    const link = byRules(r) ?? (auto ? byTopology(r) : undefined);
    cache.set(key, link);
    return link;
  };
}
