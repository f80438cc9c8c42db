import { createHash } from 'node:crypto';
import type { PathConfig } from '../core/config/index.ts';
import { proposalSchema, type ClassPinIntent, type Intent, type Proposal, type RiskLevel } from '../core/proposal.ts';
import { ANY_CLASS, planIntents, splitByFirstHop, type PlanTopology } from './te/plan.ts';
import { demandKey, type SplitEvaluation, type TeResult } from './te/solve.ts';

export interface ProposalContext {
  now: number;
  topo: PlanTopology;
  plan: TeResult;
  before: SplitEvaluation;
  after: SplitEvaluation;
  current: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** Demand keys whose current path breaks its SLO now (measured): moving them is a failover. */
  breakingNow: ReadonlySet<string>;
  modelVersions: Record<string, string>;
  horizonMin: number;
  dataFrom: number;
  dataTo: number;
  /** Smallest change in any fraction that counts as a change. */
  minShift?: number;
  /**
   * Scores the plan applied to these demand keys only (the others keep their current split): the
   * predicted effect of a proposal that carries part of the plan. Without it, the whole plan's.
   */
  evaluatePart?(keys: ReadonlySet<string>): SplitEvaluation;
}

export interface Decision {
  publish: boolean;
  why: string;
  proposal?: Proposal;
  /** Objective of the current split and of the plan (same units). */
  objective_before: number;
  objective_after: number;
}

function currentFractionsByHop(
  cur: Readonly<Record<string, number>> | undefined,
  paths: ReadonlyMap<string, PathConfig>,
  primary: PathConfig | undefined,
) {
  const out: Record<string, number> = {};
  const src = cur ?? (primary ? { [primary.id]: 1 } : {});
  for (const [pid, f] of Object.entries(src)) {
    const p = paths.get(pid);
    if (p) out[p.links[0]!] = (out[p.links[0]!] ?? 0) + f;
  }
  return out;
}

function riskLevel(churn: number, maxUtil: number, routers: number): RiskLevel {
  if (churn < 0.1 && maxUtil < 0.7 && routers <= 2) return 'low';
  if (churn < 0.3 && maxUtil < 0.85) return 'medium';
  return 'high';
}

function money(v: number): string {
  return `$${Math.abs(v).toFixed(2)}`;
}

interface Candidate {
  intent: Intent;
  scope: Proposal['scope'];
  moved: number;
  failover: boolean;
}

/** A class pin of the plan, changed or not, with the first hop carrying most of its class now. */
interface PlanPin {
  candidate: Candidate;
  intent: ClassPinIntent;
  changed: boolean;
  currentHop: string | undefined;
}

/**
 * A pair's prefixes are either balanced or pinned class by class (plan.ts): the first pin on a pair the
 * router balances today excludes its prefixes from balancing, and every class without a pin of its own
 * then follows the main table — the primary path, whatever the plan meant for it. So a proposal that
 * pins one class of a pair carries a pin for each of the plan's other classes of that pair: the plan's
 * own pin when it keeps the class on the first hop carrying most of it now, else (a move this proposal
 * leaves for later, e.g. a failover going out alone) a pin holding the class on that first hop.
 */
function holdPinnedPairs(moving: readonly Candidate[], allPins: readonly PlanPin[], topo: PlanTopology): Candidate[] {
  const pairOf = (i: Intent) => (i.kind === 'class-pin' ? `${i.router}|${i.pair[0]}>${i.pair[1]}` : undefined);
  const pinned = new Set(moving.map((c) => pairOf(c.intent)).filter((k) => k !== undefined));
  const taken = new Set(moving.map((c) => c.intent));
  const out: Candidate[] = [];
  for (const pin of allPins) {
    if (taken.has(pin.intent) || !pinned.has(pairOf(pin.intent)!)) continue;
    if (!pin.changed) {
      out.push({ ...pin.candidate, failover: false });
      continue;
    }
    if (pin.currentHop === undefined) continue;
    const hop = pin.currentHop;
    const [from, to] = pin.intent.pair;
    const onHop = [...topo.paths.values()].filter((p) => p.from === from && p.to === to && p.links[0] === hop).map((p) => p.id);
    out.push({
      intent: { ...pin.intent, link: hop },
      scope: pin.candidate.scope.map((s) => {
        const stay = (s.paths_before ?? []).filter((id) => onHop.includes(id));
        return { ...s, paths: stay.length > 0 ? stay : onHop };
      }),
      moved: 0,
      failover: false,
    });
  }
  return out;
}

/** Objective used to decide whether a plan is worth proposing (cost + penalties + SLO and overload terms). */
export function objectiveOf(e: SplitEvaluation, sloPenalty = 500, slackPenalty = 1e4): number {
  return e.cost_per_day + e.penalty + sloPenalty * e.slo_violating_mbps + slackPenalty * e.overload_mbps;
}

/**
 * Turns a plan into a proposal when it is worth it: only the (pair, class) rules that change, the predicted
 * effect, a risk level and one sentence of why. Thresholds: relative improvement, $/day saved, or a fix for
 * an overload or an SLO breach.
 */
export function decide(ctx: ProposalContext, thresholds: { min_improvement: number; min_saving_per_day: number }): Decision {
  const objBefore = objectiveOf(ctx.before);
  const planObjective = objectiveOf(ctx.after);
  const base = { objective_before: objBefore, objective_after: planObjective };
  const hard = ctx.plan.binding.filter((b) => b.kind !== 'slo');
  // A plan that needs slack (demand beyond what the links can carry at max_utilization) is still the least
  // overloaded split: worth proposing when it carries less overload than today's, never otherwise.
  if (hard.length > 0 && !(ctx.after.overload_mbps < ctx.before.overload_mbps - 1e-6)) {
    return { ...base, publish: false, why: `no feasible plan: ${hard.map((b) => b.message).join('; ')}` };
  }
  const minShift = ctx.minShift ?? 0.05;
  const intents = planIntents(ctx.plan, ctx.topo);
  const pathsByPair = new Map<string, PathConfig[]>();
  for (const p of ctx.topo.paths.values())
    pathsByPair.set(`${p.from}>${p.to}`, [...(pathsByPair.get(`${p.from}>${p.to}`) ?? []), p]);
  const primary = (from: string, to: string) =>
    (pathsByPair.get(`${from}>${to}`) ?? []).sort((a, b) => a.priority - b.priority)[0];
  const splitByKey = new Map(ctx.plan.splits.map((s) => [demandKey(s.from, s.to, s.class), s]));
  /** Changed intents, each with the scope it covers, its moved volume and whether it moves a breaking demand. */
  const candidates: Candidate[] = [];
  const allPins: PlanPin[] = [];
  let totalMbps = 0;
  for (const s of ctx.plan.splits) totalMbps += s.mbps;
  // One intent may stand for several demand keys (a pair's shared WAN split covers every unpinned class):
  // compare volume-weighted first-hop splits, planned against current.
  const consider = (keys: { key: string; cls: string }[], pair: [string, string], intent: Intent) => {
    const want: Record<string, number> = {};
    const have: Record<string, number> = {};
    let mbps = 0;
    const covered: { key: string; cls: string; paths: string[]; before: string[] }[] = [];
    for (const { key, cls } of keys) {
      const split = splitByKey.get(key);
      if (!split) continue;
      const weight = split.mbps > 0 ? split.mbps : 1e-9;
      for (const [hop, f] of Object.entries(splitByFirstHop(split, ctx.topo.paths))) want[hop] = (want[hop] ?? 0) + f * weight;
      const cur = currentFractionsByHop(ctx.current.get(key), ctx.topo.paths, primary(pair[0], pair[1]));
      for (const [hop, f] of Object.entries(cur)) have[hop] = (have[hop] ?? 0) + f * weight;
      mbps += weight;
      const carrying = (fractions: Readonly<Record<string, number>>) =>
        Object.entries(fractions)
          .filter(([, f]) => f > 0.005)
          .map(([id]) => id);
      const now = ctx.current.get(key);
      const fallback = primary(pair[0], pair[1]);
      covered.push({
        key,
        cls,
        paths: carrying(split.fractions),
        before: now ? carrying(now) : fallback ? [fallback.id] : [],
      });
    }
    if (covered.length === 0) return;
    let shift = 0;
    for (const hop of new Set([...Object.keys(want), ...Object.keys(have)]))
      shift += Math.abs((want[hop] ?? 0) / mbps - (have[hop] ?? 0) / mbps);
    shift /= 2;
    const candidate: Candidate = {
      intent,
      scope: covered.map((c) => ({ pair, class: c.cls, paths: c.paths, paths_before: c.before })),
      moved: shift * mbps,
      failover: covered.some((c) => ctx.breakingNow.has(c.key)),
    };
    if (intent.kind === 'class-pin') {
      const top = Object.entries(have).sort((a, b) => b[1] - a[1])[0]?.[0];
      allPins.push({ candidate, intent, changed: top !== intent.link, currentHop: top });
      if (top === intent.link) return;
    } else if (shift < minShift) return;
    candidates.push(candidate);
  };
  const pinned = new Set(intents.pins.map((p) => demandKey(p.pair[0], p.pair[1], p.class)));
  for (const w of intents.weights) {
    const keys =
      w.class === ANY_CLASS
        ? ctx.plan.splits
            .filter((s) => s.from === w.pair[0] && s.to === w.pair[1] && !pinned.has(demandKey(s.from, s.to, s.class)))
            .map((s) => ({ key: demandKey(s.from, s.to, s.class), cls: s.class }))
        : [{ key: demandKey(w.pair[0], w.pair[1], w.class), cls: w.class }];
    consider(keys, w.pair, w);
  }
  for (const p of intents.pins) consider([{ key: demandKey(p.pair[0], p.pair[1], p.class), cls: p.class }], p.pair, p);
  // A BGP intent owns its neighbor's route-map, which may move any BGP-steered pair of its router: it goes
  // out with a change to any of them.
  for (const b of intents.bgp)
    for (const { pair } of intents.bgpPairs.filter((x) => x.pair[0] === b.router))
      consider(
        ctx.plan.splits
          .filter((s) => s.from === pair[0] && s.to === pair[1] && !pinned.has(demandKey(s.from, s.to, s.class)))
          .map((s) => ({ key: demandKey(s.from, s.to, s.class), cls: s.class })),
        pair,
        b,
      );
  if (candidates.length === 0) return { ...base, publish: false, why: 'the plan matches the current weights' };
  // A failover goes out alone: the emergency policy may apply it unattended, which must not carry the
  // plan's routine moves with it (those are proposed at the next run, through the normal approval).
  const failover = candidates.some((c) => c.failover);
  const moving = failover ? candidates.filter((c) => c.failover) : candidates;
  const held = holdPinnedPairs(moving, allPins, ctx.topo);
  const chosen = [...moving, ...held];
  const changed = [...new Set(chosen.map((c) => c.intent))];
  const scope = chosen.flatMap((c) => c.scope);
  const movedMbps = chosen.reduce((a, c) => a + c.moved, 0);
  // Held pins keep their class where it is: the part is priced with their current split.
  const after =
    moving.length < candidates.length && ctx.evaluatePart
      ? ctx.evaluatePart(new Set(moving.flatMap((c) => c.scope).map((s) => demandKey(s.pair[0], s.pair[1], s.class))))
      : ctx.after;

  const saving = ctx.before.cost_per_day - after.cost_per_day;
  const objAfter = objectiveOf(after);
  const improvement = objBefore > 0 ? (objBefore - objAfter) / objBefore : 0;
  const fixesOverload = ctx.before.overload_mbps > 1e-6 && after.overload_mbps < ctx.before.overload_mbps;
  const fixesSlo = ctx.before.slo_violating_mbps > 1e-6 && after.slo_violating_mbps < ctx.before.slo_violating_mbps;
  const worth =
    improvement >= thresholds.min_improvement || saving >= thresholds.min_saving_per_day || fixesOverload || fixesSlo || failover;
  if (!worth) {
    return {
      ...base,
      publish: false,
      why: `improvement ${(improvement * 100).toFixed(1)}% and saving ${money(saving)}/day are under the thresholds (${(thresholds.min_improvement * 100).toFixed(0)}%, ${money(thresholds.min_saving_per_day)}/day)`,
    };
  }
  const parts: string[] = [];
  if (failover) parts.push(`moves traffic off paths breaking their SLO now`);
  if (fixesSlo)
    parts.push(
      `cuts traffic on paths predicted to break their SLO from ${ctx.before.slo_violating_mbps.toFixed(0)} to ${after.slo_violating_mbps.toFixed(0)} Mbit/s`,
    );
  if (fixesOverload)
    parts.push(
      `brings peak utilization from ${(ctx.before.max_utilization * 100).toFixed(0)}% to ${(after.max_utilization * 100).toFixed(0)}%`,
    );
  if (Math.abs(saving) >= 0.01) parts.push(saving > 0 ? `saves ${money(saving)}/day` : `costs ${money(saving)}/day more`);
  if (parts.length === 0 || (!failover && !fixesSlo && !fixesOverload && saving < thresholds.min_saving_per_day))
    parts.push(`lowers the latency/loss penalty by ${(improvement * 100).toFixed(0)}%`);
  const churn = totalMbps > 0 ? movedMbps / totalMbps : 0;
  // Why BGP carries a pair's move instead of WAN weights, for each BGP-steered pair in the change.
  const bgpWhy = intents.bgpPairs
    .filter(
      (b) =>
        changed.some((i) => i.kind === 'bgp-policy' && i.router === b.pair[0]) &&
        scope.some((s) => s.pair[0] === b.pair[0] && s.pair[1] === b.pair[1]),
    )
    .map((b) => b.why);
  const reason = `Shift ${(churn * 100).toFixed(1)}% of traffic on ${scope.length} pair/class rule${scope.length === 1 ? '' : 's'} over the next ${ctx.horizonMin} min: ${parts.join(', ')}.${bgpWhy.length ? ` ${bgpWhy.join('; ')}.` : ''}`;
  const routers = new Set(changed.map((i) => i.router));
  const proposal = proposalSchema.parse({
    // Named by time and content, not at random: a rerun of a seeded lab run names its proposals alike.
    id: `prop-${ctx.now}-${createHash('sha256').update(JSON.stringify(changed)).digest('hex').slice(0, 8)}`,
    created_at: ctx.now,
    kind: failover ? 'failover' : 'path-weights',
    reason,
    inputs: { model_versions: ctx.modelVersions, horizon_min: ctx.horizonMin, data_from: ctx.dataFrom, data_to: ctx.dataTo },
    intents: changed,
    predicted: {
      cost_per_day: after.cost_per_day,
      cost_per_day_before: ctx.before.cost_per_day,
      rtt_p95_ms: after.rtt_p95_ms,
      max_utilization: after.max_utilization,
      slo_risk: after.slo_risk,
    },
    risk: failover ? 'medium' : riskLevel(churn, after.max_utilization, routers.size),
    emergency: failover,
    scope,
    status: 'proposed',
    history: [{ status: 'proposed', at: ctx.now, actor: 'optimizer' }],
  });
  return { ...base, publish: true, why: reason, proposal };
}
