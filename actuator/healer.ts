/**
 * Self-healing: every interval, each candidate path's probe quality over the last interval is judged
 * against its class SLO. When a pair's path breaks the SLO and another path of the pair (with a
 * different first hop) holds it, an emergency failover proposal moves the pair's traffic onto the
 * healthy first hops at once; the emergency policy may apply it without approval (policy.ts).
 */
import type { Topology } from '../core/config/topology.ts';
import type { ProposalInput } from '../core/proposal.ts';
import { compareForClass, judge, type GuardData, type SloObjective } from './guard/index.ts';

export interface Breach {
  pair: [string, string];
  class: string;
  path: string;
  reasons: string[];
  healthy: string[];
  /** The pair's paths carrying this class when the breach was seen (the failover's guard baseline). */
  carrying: string[];
}

/**
 * Told every path and class judged: the SLO objectives it breaks (empty when it holds them), or
 * undefined when the interval had no probe data for it.
 */
export type SloObserver = (pathId: string, cls: string, broken: readonly SloObjective[] | undefined) => void;

/** Which of a pair's paths carry its traffic now (the source router's config is the truth). */
/** The paths a pair's traffic (of one class, when given: pinned pairs route class by class) leaves over. */
export type CarryingPaths = (from: string, to: string, cls?: string) => Promise<ReadonlySet<string>>;

/**
 * Breaching paths with at least one healthy alternative (different first hop), per pair and class. Only
 * paths that carry the pair's traffic count as breaches: an idle backup that probes badly harms nobody,
 * and failing away from it would move the whole pair for nothing. Without `carrying`, the primary.
 */
export async function findBreaches(
  topology: Topology,
  data: GuardData,
  now: number,
  windowMs: number,
  carrying?: CarryingPaths,
  observe?: SloObserver,
): Promise<Breach[]> {
  const out: Breach[] = [];
  const current = { from: now - windowMs, to: now };
  const all = await data.qualityByPath?.(current);
  // The class's own probes, else the path's probes of any class (as compareForClass does).
  const comparison = async (pathId: string, cls: string) =>
    all
      ? { current: all.get(`${pathId}|${cls}`) ?? all.get(`${pathId}|*`) ?? null, baseline: null, change: null }
      : compareForClass(data, {
          pathIds: [pathId],
          class: cls,
          current,
          baseline: { from: now - 2 * windowMs, to: now - windowMs },
        });
  for (const [from, to] of topology.pairs()) {
    const paths = topology.pathsFor(from, to);
    // A pair with one path has nowhere to fail over to, but its SLO state is still reported.
    if (paths.length === 0 || (paths.length < 2 && !observe)) continue;
    for (const cls of topology.classes.values()) {
      let inUse: ReadonlySet<string> | undefined;
      const verdicts = new Map<string, { result: string; reasons: string[] }>();
      for (const p of paths) {
        const cmp = await comparison(p.id, cls.id);
        // SLO only: a self-heal reacts to absolute breaches, not to drifts against a baseline.
        const verdict = judge({ ...cmp, baseline: null, change: null }, cls.slo, Infinity);
        verdicts.set(p.id, verdict);
        observe?.(p.id, cls.id, verdict.result === 'inconclusive' ? undefined : verdict.broken);
      }
      if (paths.length < 2) continue;
      for (const p of paths) {
        const v = verdicts.get(p.id)!;
        if (v.result !== 'fail') continue;
        const badHop = p.links[0];
        const healthy = paths.filter((q) => verdicts.get(q.id)!.result === 'pass' && q.links[0] !== badHop).map((q) => q.id);
        if (healthy.length === 0) continue;
        // The router is read only for a pair with a breach to act on (most passes read none).
        inUse ??= carrying ? await carrying(from, to, cls.id) : new Set([paths[0]!.id]);
        if (inUse.has(p.id))
          out.push({ pair: [from, to], class: cls.id, path: p.id, reasons: v.reasons, healthy, carrying: [...inUse] });
      }
    }
  }
  return out;
}

/**
 * The failover proposal for a breach: the pair's prefixes over the healthy paths' first hops. A balanced
 * pair gets one WAN rule with equal weights (class `*`); a pinned pair (its prefixes excluded from WAN
 * balancing, see targets/pin.ts) gets every class pinned to the best healthy first hop, since a pinned
 * prefix cannot also be balanced (vyos-facts §5.4).
 */
export function failoverProposal(topology: Topology, b: Breach, now: number, pinned = false): ProposalInput {
  const [from, to] = b.pair;
  const dstPrefixes = topology.site(to).prefixes;
  const weights: Record<string, number> = {};
  for (const id of b.healthy) weights[topology.paths.get(id)!.links[0]!] = 1;
  const best = topology.paths.get(b.healthy[0]!)!.links[0]!;
  const intents: ProposalInput['intents'] = pinned
    ? [...topology.classes.values()]
        .filter((c) => c.dscp.length > 0)
        .map((c) => ({
          kind: 'class-pin' as const,
          router: from,
          pair: [from, to] as [string, string],
          class: c.id,
          dscp: c.dscp,
          dst_prefixes: dstPrefixes,
          link: best,
        }))
    : [
        // A WAN load-balancing rule moves every class of the pair (rules match prefixes, not DSCP).
        { kind: 'path-weights', router: from, pair: [from, to], class: '*', dst_prefixes: dstPrefixes, weights },
      ];
  const minute = Math.floor(now / 60_000);
  return {
    // Actuators healing side by side make the same id, so one proposal per pair, class, kind and minute.
    id: `failover-${from}-${to}-${b.class}-${pinned ? 'pinned-' : ''}${minute}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
    created_at: now,
    kind: 'failover',
    reason: `path ${b.path} breaks the ${b.class} SLO (${b.reasons.join('; ')}); fail over to ${pinned ? b.healthy[0] : b.healthy.join(', ')}`,
    inputs: { model_versions: {}, horizon_min: 0, data_from: now - 60_000, data_to: now },
    intents,
    predicted: { cost_per_day: 0, rtt_p95_ms: {}, max_utilization: 0, slo_risk: 0.5 },
    risk: 'medium',
    emergency: true,
    scope: [{ pair: [from, to], class: b.class, paths: pinned ? b.healthy.slice(0, 1) : b.healthy, paths_before: b.carrying }],
  };
}
