/**
 * Self-healing: every interval, each candidate path's probe quality over the last interval is judged
 * against its class SLO. When a pair's path breaks the SLO and another path of the pair (with a
 * different first hop) holds it, an emergency failover proposal moves the pair's traffic onto the
 * healthy first hops at once; the emergency policy may apply it without approval (policy.ts).
 */
import type { PathConfig } from '../core/config/schema.ts';
import type { Topology } from '../core/config/topology.ts';
import type { ClassPinIntent, ProposalInput } from '../core/proposal.ts';
import { compareForClass, judge, type GuardData, type SloObjective } from './guard/index.ts';
import { residencyViolation } from '../core/config/residency.ts';

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
  /** Links localized as faulty (localize.ts): no path over one is an alternative, however its probes look. */
  avoid: ReadonlySet<string> = new Set(),
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
  // Data residency holds in a failover too: a WAN rule moves every class of the pair that is not pinned, so
  // an alternative must keep every class within its rules (core/config/residency.ts).
  const classIds = [...topology.classes.keys()];
  const resident = (p: PathConfig) => classIds.every((c) => residencyViolation(topology.config, p, c) === undefined);
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
        const healthy = paths
          .filter(
            (q) =>
              verdicts.get(q.id)!.result === 'pass' && q.links[0] !== badHop && resident(q) && !q.links.some((l) => avoid.has(l)),
          )
          .map((q) => q.id);
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
 * The breaches of one pair merged class by class: a class seen breaking on several carrying paths keeps
 * only the healthy paths every one of them left (none of the broken first hops).
 */
function byClass(breaches: readonly Breach[]): Breach[] {
  const out = new Map<string, Breach>();
  for (const b of breaches) {
    const seen = out.get(b.class);
    if (!seen) out.set(b.class, { ...b, reasons: [...b.reasons], healthy: [...b.healthy] });
    else {
      seen.reasons.push(...b.reasons.filter((r) => !seen.reasons.includes(r)));
      seen.healthy = healthyForBoth(seen.healthy, b.healthy);
    }
  }
  return [...out.values()];
}

/** The paths healthy in both lists; the first list when they share none (a move is still better than none). */
function healthyForBoth(a: readonly string[], b: readonly string[]): string[] {
  const both = a.filter((id) => b.includes(id));
  return both.length > 0 ? both : [...a];
}

/**
 * The failover proposal for the breaches of one pair seen in one pass (every breaking class at once: one
 * open emergency per pair, so a class left out would wait for this one's bake). The pair's prefixes over
 * the healthy paths' first hops:
 * - a balanced pair gets one WAN rule with equal weights over the paths healthy for every breaking class
 *   (class `*`: a WAN rule matches prefixes, not DSCP, so every class of the pair moves);
 * - a pinned pair (its prefixes excluded from WAN balancing, see targets/pin.ts) gets each breaking class
 *   pinned to its best healthy first hop, and its other classes stay where their pins (or the main table)
 *   send them — bulk that holds its SLO on a degraded interconnect is not moved onto a pricier backup. A
 *   pinned prefix cannot also be balanced (vyos-facts §5.4).
 */
export function failoverProposal(topology: Topology, breaches: readonly Breach[], now: number, pinned = false): ProposalInput {
  const classes = byClass(breaches);
  const first = classes[0]!;
  const [from, to] = first.pair;
  const dstPrefixes = topology.site(to).prefixes;
  const firstHop = (pathId: string) => topology.paths.get(pathId)!.links[0]!;
  // Pins need DSCP values; a breaking class without them follows the main table and cannot be moved alone.
  const pinnable = classes.filter((b) => (topology.classes.get(b.class)?.dscp.length ?? 0) > 0);
  const sharedHealthy = classes.slice(1).reduce((acc, b) => healthyForBoth(acc, b.healthy), first.healthy);
  const pin = (cls: string, link: string): ClassPinIntent => ({
    kind: 'class-pin',
    router: from,
    pair: [from, to],
    class: cls,
    dscp: topology.classes.get(cls)!.dscp,
    dst_prefixes: dstPrefixes,
    link,
  });
  let intents: ProposalInput['intents'];
  let scope: ProposalInput['scope'];
  if (pinned && pinnable.length > 0) {
    intents = pinnable.map((b) => pin(b.class, firstHop(b.healthy[0]!)));
    scope = pinnable.map((b) => ({ pair: [from, to], class: b.class, paths: b.healthy.slice(0, 1), paths_before: b.carrying }));
  } else if (pinned) {
    // No breaking class can be pinned: every class with DSCP goes to the best healthy first hop.
    const best = firstHop(first.healthy[0]!);
    intents = [...topology.classes.values()].filter((c) => c.dscp.length > 0).map((c) => pin(c.id, best));
    scope = classes.map((b) => ({
      pair: [from, to],
      class: b.class,
      paths: first.healthy.slice(0, 1),
      paths_before: b.carrying,
    }));
  } else {
    const weights: Record<string, number> = {};
    for (const id of sharedHealthy) weights[firstHop(id)] = 1;
    intents = [{ kind: 'path-weights', router: from, pair: [from, to], class: '*', dst_prefixes: dstPrefixes, weights }];
    scope = classes.map((b) => ({ pair: [from, to], class: b.class, paths: sharedHealthy, paths_before: b.carrying }));
  }
  const minute = Math.floor(now / 60_000);
  const names = classes.map((b) => b.class);
  const targets = pinned ? scope.map((s) => `${s.class} to ${(s.paths ?? []).join(', ')}`).join('; ') : sharedHealthy.join(', ');
  return {
    // Actuators healing side by side make the same id, so one proposal per pair, classes, kind and minute.
    id: `failover-${from}-${to}-${names.join('-')}-${pinned ? 'pinned-' : ''}${minute}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
    created_at: now,
    kind: 'failover',
    reason: `${classes.map((b) => `path ${b.path} breaks the ${b.class} SLO (${b.reasons.join('; ')})`).join('; ')}; fail over ${targets}`,
    inputs: { model_versions: {}, horizon_min: 0, data_from: now - 60_000, data_to: now },
    intents,
    predicted: { cost_per_day: 0, rtt_p95_ms: {}, max_utilization: 0, slo_risk: 0.5 },
    risk: 'medium',
    emergency: true,
    scope,
  };
}
