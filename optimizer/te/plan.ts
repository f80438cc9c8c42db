import type { ClassConfig, LinkConfig, PathConfig, SiteConfig } from '../../core/config/index.ts';
import type {
  BandwidthIntent,
  BgpPolicyIntent,
  ClassPinIntent,
  Intent,
  PathWeightsIntent,
  QosIntent,
} from '../../core/proposal.ts';
import type { TeResult, TeSplit } from './solve.ts';

/** Fractions below this are dropped from a weight rule (VyOS cannot express "almost nothing"). */
export const minFraction = 0.01;

/**
 * Converts fractions per first-hop link into VyOS load-balancing weights: integers 1–255, the largest
 * share gets 255, shares under 1% are left out (that link carries nothing for this rule).
 */
export function toVyosWeights(byLink: Readonly<Record<string, number>>): Record<string, number> {
  const kept = Object.entries(byLink).filter(([, f]) => f >= minFraction);
  if (kept.length === 0) return {};
  const max = Math.max(...kept.map(([, f]) => f));
  const out: Record<string, number> = {};
  for (const [link, f] of kept) out[link] = Math.max(1, Math.min(255, Math.round((f / max) * 255)));
  return out;
}

/** The fractions a weight rule actually produces (weights normalised), keyed by link. */
export function weightsToFractions(weights: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  for (const [k, w] of Object.entries(weights)) out[k] = total > 0 ? w / total : 0;
  return out;
}

export interface PlanTopology {
  sites: ReadonlyMap<string, SiteConfig>;
  paths: ReadonlyMap<string, PathConfig>;
  classes: ReadonlyMap<string, ClassConfig>;
  /** Links (their `bgp` flag and end addresses): pairs that run over BGP sessions are steered by BGP. */
  links?: ReadonlyMap<string, LinkConfig>;
}

export interface PlanIntents {
  weights: PathWeightsIntent[];
  pins: ClassPinIntent[];
  bandwidth: BandwidthIntent[];
  qos: QosIntent[];
  /** Local-preference per BGP neighbor of a router whose pairs run over BGP sessions (one intent per neighbor). */
  bgp: BgpPolicyIntent[];
  /** The pairs each router steers by BGP, and why (said in the proposal). */
  bgpPairs: { pair: [string, string]; neighbor: string; link: string; why: string }[];
}

/** Local-preference pathpilot gives the neighbor a BGP-steered pair should leave by (FRR's default is 100). */
export const PREFERRED_LOCAL_PREF = 200;

/** The neighbor address over `link` when `router` peers over it by BGP (both ends have an AS); else undefined. */
export function bgpNeighborOver(topo: PlanTopology, router: string, link: string): string | undefined {
  const l = topo.links?.get(link);
  if (!l?.bgp || !topo.sites.get(router)?.router.asn) return undefined;
  const far = l.a.site === router ? l.b : l.b.site === router ? l.a : undefined;
  return far?.address && topo.sites.get(far.site)?.router.asn ? far.address : undefined;
}

function firstHop(path: PathConfig): string {
  return path.links[0]!;
}

/** Path split of one demand re-expressed per first-hop link (paths of a pair have distinct first hops). */
export function splitByFirstHop(split: TeSplit, paths: ReadonlyMap<string, PathConfig>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, f] of Object.entries(split.fractions)) {
    const p = paths.get(pid);
    if (!p) continue;
    const hop = firstHop(p);
    out[hop] = (out[hop] ?? 0) + f;
  }
  return out;
}

/**
 * VyOS-ready intents from a TE plan: on the source router, a pair with a latency-critical class
 * (`pin: true`) has each class pinned to the first hop carrying most of its traffic, every other pair one
 * weight rule (class `*`); per directed link a shaper at the link capacity with class shares sized from
 * the planned load (at least 5% each).
 */
/** The class of a path-weights intent that carries every class not pinned by policy routing. */
export const ANY_CLASS = '*';

export function planIntents(result: TeResult, topo: PlanTopology): PlanIntents {
  const weights: PathWeightsIntent[] = [];
  const pins: ClassPinIntent[] = [];
  // A WAN load-balancing rule matches the destination prefix, not DSCP, and a pin on traffic a WAN rule
  // also balances is not guaranteed to win the packet mark (vyos-facts §5.4): a pair's prefixes are
  // either balanced or pinned. A pair with a latency-critical class is pinned class by class (each class
  // to the first hop carrying most of its planned traffic); every other pair's classes share one split,
  // weighted by the classes' planned volumes.
  const live = result.splits.filter((s) => s.mbps > 0 && Object.keys(s.fractions).length > 0);
  const pinnedPairs = new Set(
    live
      .filter((s) => topo.classes.get(s.class)?.pin && (topo.classes.get(s.class)?.dscp.length ?? 0) > 0)
      .map((s) => `${s.from}>${s.to}`),
  );
  const shared = new Map<string, { pair: [string, string]; prefixes: string[]; mbps: number; hops: Record<string, number> }>();
  for (const split of live) {
    const dst = topo.sites.get(split.to);
    const cls = topo.classes.get(split.class);
    if (!dst || !cls || dst.prefixes.length === 0) continue;
    const pair: [string, string] = [split.from, split.to];
    const key = `${split.from}>${split.to}`;
    if (pinnedPairs.has(key)) {
      // A class without DSCP values cannot be pinned; it follows the main routing table.
      if (cls.dscp.length === 0) continue;
      const hops = Object.entries(splitByFirstHop(split, topo.paths)).sort((a, b) => b[1] - a[1]);
      const link = hops[0]?.[0];
      if (link)
        pins.push({
          kind: 'class-pin',
          router: split.from,
          pair,
          class: split.class,
          dscp: cls.dscp,
          dst_prefixes: dst.prefixes,
          link,
        });
      continue;
    }
    const entry = shared.get(key) ?? { pair, prefixes: dst.prefixes, mbps: 0, hops: {} };
    entry.mbps += split.mbps;
    for (const [hop, f] of Object.entries(splitByFirstHop(split, topo.paths)))
      entry.hops[hop] = (entry.hops[hop] ?? 0) + f * split.mbps;
    shared.set(key, entry);
  }
  // A pair the plan sends only over BGP sessions of its router follows BGP's best path, which WAN weights
  // cannot steer (where the destination is learned by BGP it has no WAN rule): its router prefers the
  // neighbor over the hop the plan gives most of the pair, by local-preference. BGP picks one best path,
  // so the pair moves whole; every BGP neighbor the pair could leave by gets its route-map (the others
  // lose the pair's rule).
  const bgpRules = new Map<string, { router: string; neighbor: string; rules: BgpPolicyIntent['rules'] }>();
  const bgpPairs: PlanIntents['bgpPairs'] = [];
  for (const [key, entry] of [...shared]) {
    const [from] = entry.pair;
    const planned = Object.entries(entry.hops)
      .filter(([, v]) => v > 0)
      .map(([h]) => h);
    if (planned.length === 0 || !planned.every((h) => bgpNeighborOver(topo, from, h))) continue;
    const hops = [
      ...new Set(
        [...topo.paths.values()]
          .filter((p) => p.from === from && p.to === entry.pair[1])
          .map(firstHop)
          .filter((h) => bgpNeighborOver(topo, from, h)),
      ),
    ];
    const best = Object.entries(entry.hops).sort((a, b) => b[1] - a[1])[0]![0];
    const neighbor = bgpNeighborOver(topo, from, best)!;
    for (const h of hops) {
      const n = bgpNeighborOver(topo, from, h)!;
      const slot = bgpRules.get(`${from}|${n}`) ?? { router: from, neighbor: n, rules: [] };
      if (h === best) slot.rules.push({ prefixes: [...entry.prefixes], local_pref: PREFERRED_LOCAL_PREF });
      bgpRules.set(`${from}|${n}`, slot);
    }
    bgpPairs.push({
      pair: entry.pair,
      neighbor,
      link: best,
      why: `${entry.pair[0]}→${entry.pair[1]} is learned over BGP sessions (${hops.join(', ')}), which WAN weights cannot steer: local-preference ${PREFERRED_LOCAL_PREF} on ${neighbor} moves it to ${best}`,
    });
    shared.delete(key);
  }
  const bgp: BgpPolicyIntent[] = [...bgpRules.values()].map((s) => ({
    kind: 'bgp-policy',
    router: s.router,
    neighbor: s.neighbor,
    direction: 'import',
    rules: s.rules,
  }));
  for (const entry of shared.values()) {
    const fractions = Object.fromEntries(Object.entries(entry.hops).map(([hop, v]) => [hop, v / entry.mbps]));
    const w = toVyosWeights(fractions);
    if (Object.keys(w).length === 0) continue;
    weights.push({
      kind: 'path-weights',
      router: entry.pair[0],
      pair: entry.pair,
      class: ANY_CLASS,
      dst_prefixes: entry.prefixes,
      weights: w,
    });
  }
  const bandwidth: BandwidthIntent[] = [];
  const qos: QosIntent[] = [];
  const classes = [...topo.classes.values()];
  for (const load of result.link_loads) {
    bandwidth.push({ kind: 'bandwidth', router: load.from_site, link: load.link, rate_mbps: load.capacity_mbps });
    const total = Object.values(load.by_class).reduce((a, b) => a + b, 0);
    const raw = classes.map((c) => Math.max(5, total > 0 ? ((load.by_class[c.id] ?? 0) / total) * 100 : 100 / classes.length));
    const sum = raw.reduce((a, b) => a + b, 0);
    qos.push({
      kind: 'qos',
      router: load.from_site,
      link: load.link,
      classes: classes.map((c, i) => ({
        class: c.id,
        dscp: c.dscp,
        bandwidth_pct: Math.max(1, Math.floor((raw[i]! / sum) * 100)),
        priority: Math.min(7, c.priority - 1),
      })),
    });
  }
  return { weights, pins, bandwidth, qos, bgp, bgpPairs };
}

export function allIntents(p: PlanIntents): Intent[] {
  return [...p.weights, ...p.pins, ...p.bgp, ...p.bandwidth, ...p.qos];
}
