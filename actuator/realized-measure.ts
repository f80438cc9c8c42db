/**
 * What one window of network life measures for the realized effect of a proposal (realized.ts): the
 * whole network's transfer cost and volume per day, and the SLO pair-class minutes of the proposal's
 * scope. Read through `RealizedData` (analytics/queries on ClickHouse; fakes in unit tests).
 *
 * Flows carry the first-hop link (the source router exports what it sends), and a pair's paths have
 * distinct first hops, so (source, destination, first hop) names the path the bytes took. Cost prices
 * those bytes over every link of that path, as the optimizer's `predicted.cost_per_day` does: a two-hop
 * route pays both links, and the realized figure stays comparable with the promise.
 */
import type { Topology } from '../core/config/topology.ts';
import type { Proposal } from '../core/proposal.ts';
import type { Store } from '../core/store/types.ts';
import { firstHopMinutes, pathQualityByMinute, trafficByFirstHop } from '../analytics/queries/index.ts';
import type { FirstHopMinute, FirstHopVolume, PathMinuteQuality, TimeRange } from '../analytics/queries/types.ts';
import { judge } from './guard/index.ts';

/** What the realized effect reads; implemented over analytics/queries, faked in unit tests. */
export interface RealizedData {
  volume(range: TimeRange): Promise<FirstHopVolume>;
  minutes(q: { range: TimeRange; sites: readonly string[]; classes: readonly string[] }): Promise<FirstHopMinute[]>;
  quality(q: { range: TimeRange; pathIds: readonly string[] }): Promise<PathMinuteQuality[]>;
}

export function realizedDataFromStore(store: Store): RealizedData {
  return {
    volume: (range) => trafficByFirstHop(store, { range }),
    minutes: (q) => firstHopMinutes(store, q),
    quality: (q) => pathQualityByMinute(store, q),
  };
}

export interface WindowEffect {
  cost_per_day: number;
  gb_per_day: number;
  slo_pair_class_minutes: number;
}

const GB = 1e9;
const day = 86_400_000;
/** A path counts for a pair-class minute when it carried at least this share of it (as the twin counts). */
const minShare = 0.02;

/** The path of a pair leaving through `link`, by priority; undefined for traffic outside the topology's paths. */
function pathOf(topology: Topology, from: string, to: string, link: string) {
  return topology.pathsFor(from, to).find((p) => p.links[0] === link);
}

/** Price per GB of bytes that left `from` for `to` through `link`: every link of the path, or the link alone. */
function pricePerGb(topology: Topology, from: string, to: string, link: string): number {
  const path = pathOf(topology, from, to, link);
  if (!path) return topology.links.get(link)?.cost_per_gb ?? 0;
  return path.links.reduce((a, l) => a + (topology.links.get(l)?.cost_per_gb ?? 0), 0);
}

/** Cost and volume per day over the range read. */
export function transferPerDay(volume: FirstHopVolume, topology: Topology): { cost_per_day: number; gb_per_day: number } {
  const days = (volume.to - volume.from) / day;
  let gb = 0;
  let cost = 0;
  for (const r of volume.rows) {
    gb += r.bytes / GB;
    cost += (r.bytes / GB) * pricePerGb(topology, r.src_site, r.dst_site, r.link);
  }
  return { cost_per_day: days > 0 ? cost / days : 0, gb_per_day: days > 0 ? gb / days : 0 };
}

/**
 * The (pair, class) entries a proposal's SLO minutes are counted for: its scope, or, for a proposal
 * without one, the pairs of its intents (a `*` class standing for every class).
 */
export function sloScope(proposal: Proposal, topology: Topology): { pair: [string, string]; class: string }[] {
  const entries = proposal.scope.length
    ? proposal.scope.map((s) => ({ pair: s.pair, classes: [s.class] }))
    : proposal.intents.flatMap((i) =>
        i.kind === 'path-weights' || i.kind === 'class-pin'
          ? [{ pair: i.pair, classes: i.class === '*' ? [...topology.classes.keys()] : [i.class] }]
          : [],
      );
  const seen = new Map<string, { pair: [string, string]; class: string }>();
  for (const e of entries)
    for (const cls of e.classes)
      if (topology.classes.has(cls)) seen.set(`${e.pair.join('>')}|${cls}`, { pair: e.pair, class: cls });
  return [...seen.values()];
}

/**
 * Minutes × (pair, class) in which a path carrying at least 2 % of the pair-class's bytes broke the
 * class SLO (p95 RTT of the minute's worst probe window, loss, jitter; the guard's `judge`). A path
 * whose probes never carry the class in the range is judged by its probes of any class (probe agents
 * often probe with one DSCP, as the guard assumes too); a minute without probes of a path is no breach.
 */
export function sloPairClassMinutes(
  scope: readonly { pair: [string, string]; class: string }[],
  traffic: readonly FirstHopMinute[],
  quality: readonly PathMinuteQuality[],
  topology: Topology,
): number {
  const own = new Map<string, PathMinuteQuality>();
  const ownClass = new Set<string>();
  // Any class: the windows of every class in the minute merged (worst p95, summed counts, window-weighted jitter).
  const any = new Map<string, PathMinuteQuality & { received: number; jitterSum: number }>();
  for (const q of quality) {
    own.set(`${q.path_id}|${q.class}|${q.t}`, q);
    ownClass.add(`${q.path_id}|${q.class}`);
    const k = `${q.path_id}|${q.t}`;
    const a = any.get(k) ?? { ...q, class: '*', rtt_p95_max_ms: 0, windows: 0, sent: 0, received: 0, jitterSum: 0 };
    a.rtt_p95_max_ms = Math.max(a.rtt_p95_max_ms, q.rtt_p95_max_ms);
    a.windows += q.windows;
    a.sent += q.sent;
    a.received += q.sent * (1 - q.loss_ratio);
    a.jitterSum += q.jitter_ms * q.windows;
    a.loss_ratio = a.sent > 0 ? Math.max(0, 1 - a.received / a.sent) : 0;
    a.jitter_ms = a.windows > 0 ? a.jitterSum / a.windows : 0;
    any.set(k, a);
  }
  const byMinute = new Map<string, { link: string; bytes: number }[]>();
  for (const r of traffic) {
    const k = `${r.src_site}>${r.dst_site}|${r.class}|${r.t}`;
    const list = byMinute.get(k) ?? [];
    list.push({ link: r.link, bytes: r.bytes });
    byMinute.set(k, list);
  }
  let minutes = 0;
  for (const s of scope) {
    const slo = topology.classes.get(s.class)?.slo;
    if (!slo) continue;
    const prefix = `${s.pair[0]}>${s.pair[1]}|${s.class}|`;
    for (const [k, links] of byMinute) {
      if (!k.startsWith(prefix)) continue;
      const t = k.slice(prefix.length);
      const total = links.reduce((a, l) => a + l.bytes, 0);
      const broken = links.some((l) => {
        if (total <= 0 || l.bytes / total < minShare) return false;
        const path = pathOf(topology, s.pair[0], s.pair[1], l.link);
        if (!path) return false;
        const q = ownClass.has(`${path.id}|${s.class}`) ? own.get(`${path.id}|${s.class}|${t}`) : any.get(`${path.id}|${t}`);
        if (!q || q.windows === 0) return false;
        const current = {
          rtt_p50_ms: 0,
          rtt_p95_ms: q.rtt_p95_max_ms,
          loss_ratio: q.loss_ratio,
          jitter_ms: q.jitter_ms,
          windows: q.windows,
          sent: q.sent,
        };
        return judge({ current, baseline: null, change: null }, slo, Infinity).broken.length > 0;
      });
      if (broken) minutes++;
    }
  }
  return minutes;
}

/** One window's effect: three queries for the network's volume, the scope's traffic minutes and its paths' quality. */
export async function measureWindow(
  data: RealizedData,
  topology: Topology,
  scope: readonly { pair: [string, string]; class: string }[],
  range: TimeRange,
): Promise<WindowEffect> {
  const transfer = transferPerDay(await data.volume(range), topology);
  if (scope.length === 0) return { ...transfer, slo_pair_class_minutes: 0 };
  const sites = [...new Set(scope.flatMap((s) => s.pair))];
  const classes = [...new Set(scope.map((s) => s.class))];
  const pathIds = [...new Set(scope.flatMap((s) => topology.pathsFor(s.pair[0], s.pair[1]).map((p) => p.id)))];
  const [traffic, quality] = await Promise.all([data.minutes({ range, sites, classes }), data.quality({ range, pathIds })]);
  return { ...transfer, slo_pair_class_minutes: sloPairClassMinutes(scope, traffic, quality, topology) };
}
