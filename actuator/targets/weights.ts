/**
 * WAN weights: `path-weights` → `load-balancing wan rule N` (destination prefix, `interface <if> weight 1–255`),
 * vyos-facts §2.4. The rule for a prefix is found in the router's config (one rule per prefix) or allocated
 * where no earlier rule shadows it (wan.ts, vyos-facts §5.3); a rollout step interpolates traffic shares from
 * the weights before the change. The effect is judged on the router's effective dataplane: the rule that
 * really takes the prefix's traffic balances it over active interfaces by the intent's shares, unNATed.
 */
import { ValidationError } from '../../core/errors.ts';
import type { PathWeightsIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { removePins } from './pin.ts';
import {
  check,
  child,
  contextPaths,
  ifaceOf,
  isObj,
  pairWithAlternatives,
  values,
  type ActuationTarget,
  type Dataplane,
  type RenderContext,
  type RenderOptions,
  type WanRuleView,
} from './types.ts';
import {
  claimBalanced,
  effectiveRuleFor,
  ensureHealth,
  readWan,
  requireNoSourceNat,
  ruleNumberFor,
  type WanState,
} from './wan.ts';

/** Traffic shares of a weight map (sum 1), by interface. */
export function shares(weights: Record<string, number>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  if (total <= 0) return out;
  for (const [k, w] of Object.entries(weights)) out[k] = w / total;
  return out;
}

/** Fraction of traffic that moves between two weight maps (½ Σ |Δshare|). */
export function shiftBetween(a: Record<string, number>, b: Record<string, number>): number {
  const sa = shares(a);
  const sb = shares(b);
  let sum = 0;
  for (const k of new Set([...Object.keys(sa), ...Object.keys(sb)])) sum += Math.abs((sa[k] ?? 0) - (sb[k] ?? 0));
  return sum / 2;
}

/**
 * Weights for a rollout fraction `f` between `before` and `after` (integers 1–255). At f = 1 the
 * target weights exactly; before that, interpolated shares scaled to 100, an interface keeps weight
 * ≥ 1 while its share is above 0.
 */
export function stepWeights(before: Record<string, number>, after: Record<string, number>, f: number): Record<string, number> {
  if (f >= 1 || Object.keys(before).length === 0) return { ...after };
  const sa = shares(before);
  const sb = shares(after);
  const out: Record<string, number> = {};
  for (const k of [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort()) {
    const s = (sa[k] ?? 0) + f * ((sb[k] ?? 0) - (sa[k] ?? 0));
    if (s > 1e-9) out[k] = Math.min(255, Math.max(1, Math.round(s * 100)));
  }
  return out;
}

function ruleWeights(rule: ConfigJson | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [iface, opts] of Object.entries(child(rule, 'interface') ?? {})) {
    const w = Number(values(isObj(opts) ? opts['weight'] : undefined)[0] ?? '1');
    out[iface] = Number.isFinite(w) && w >= 1 ? w : 1;
  }
  return out;
}

/** Finds the LB rule whose destination is exactly `prefix` (and nothing narrower: no source/port match). */
function findRule(rules: ConfigJson | null, prefix: string): string | undefined {
  for (const [num, rule] of Object.entries(rules ?? {})) {
    if (!isObj(rule)) continue;
    const dst = values(child(rule, 'destination')?.['address']);
    if (rule['exclude'] !== undefined) continue; // a pin's exclusion, not a balancing rule
    if (dst.length === 1 && dst[0] === prefix && !rule['source'] && !child(rule, 'destination')?.['port']) return num;
  }
  return undefined;
}

/** Current LB weights for a prefix from a `load-balancing wan rule` subtree ({} when no rule). */
export function weightsForPrefix(lbRules: ConfigJson | null, prefix: string): Record<string, number> {
  const num = findRule(lbRules, prefix);
  return num === undefined ? {} : ruleWeights(child(lbRules, num));
}

/** The intent's target weights by interface (a ValidationError for an unknown link or no weights). */
export function intentWeights(intent: PathWeightsIntent, opts: RenderOptions): Record<string, number> {
  const after: Record<string, number> = {};
  for (const [link, w] of Object.entries(intent.weights)) after[ifaceOf(opts, link)] = w;
  if (Object.keys(after).length === 0) throw new ValidationError(`path-weights for ${intent.pair.join('→')}: no weights`);
  return after;
}

/**
 * Renders the balancing rule of every prefix of a weights (or failover) intent at fraction `f`: the rule
 * placed where nothing shadows it, an interface-health for every interface it weights (any step's: the
 * touched subtrees must be the same at every step), refused when balanced traffic would be source-NATed.
 */
export function renderWeights(intent: PathWeightsIntent, state: WanState, ctx: RenderContext): void {
  const { opts, f, touch } = ctx;
  const after = intentWeights(intent, opts);
  requireNoSourceNat(state, opts);
  const owner = `${intent.pair.join('>')}/${intent.class}`;
  for (const prefix of intent.dst_prefixes) {
    claimBalanced(state, prefix, owner, opts);
    // A prefix an earlier pin excluded is balanced again in the exclusion's own rule, and its pins go.
    const exclusion = state.unpinned.get(prefix);
    if (exclusion !== undefined) removePins(state.pre, prefix, ctx);
    const num = ruleNumberFor(state, prefix, exclusion ?? findRule(state.rules, prefix), opts);
    const base = child(state.rules, num);
    const before = ruleWeights(base);
    for (const iface of new Set([...Object.keys(before), ...Object.keys(after)])) ensureHealth(state, iface, ctx);
    const t = touch([...contextPaths.lbRules, num], base);
    const rule: ConfigJson = t.desired ?? {
      description: `pathpilot ${intent.pair[0]} to ${intent.pair[1]}`,
      'inbound-interface': opts.lanInterface,
      destination: { address: prefix },
    };
    if (exclusion !== undefined) {
      delete rule['exclude'];
      rule['description'] = `pathpilot ${intent.pair[0]} to ${intent.pair[1]}`;
    }
    const ifaces: ConfigJson = {};
    for (const [iface, w] of Object.entries(stepWeights(before, after, f))) ifaces[iface] = { weight: String(w) };
    rule['interface'] = ifaces;
    t.desired = rule;
  }
}

/** What the router does with LAN traffic to `prefix`: the rule that takes it, with why it does not do what it says. */
export function balancingProblems(
  dataplane: Dataplane,
  prefix: string,
  opts: RenderOptions,
): { rule: WanRuleView | undefined; problems: string[] } {
  const rule = effectiveRuleFor(dataplane.effective, prefix, opts.lanInterface);
  if (!rule) {
    // Say why the rules written for the prefix take nothing (every interface inactive, or shadowed).
    const why = dataplane.effective.wan.rules
      .filter((r) => r.destinations.includes(prefix))
      .flatMap((r) => [
        ...r.inactive.map((i) => `rule ${r.rule} never uses ${i.iface}: ${i.reason}`),
        ...(r.shadowedBy !== undefined ? [`rule ${r.rule} is shadowed by rule ${r.shadowedBy}`] : []),
      ]);
    return { rule, problems: [`no active WAN load-balancing rule takes traffic to ${prefix}`, ...why] };
  }
  const problems: string[] = [];
  if (rule.exclude) problems.push(`${prefix} is excluded from WAN load balancing by rule ${rule.rule}`);
  for (const i of rule.inactive) problems.push(`rule ${rule.rule} never uses ${i.iface}: ${i.reason}`);
  if (rule.snat) problems.push(`rule ${rule.rule} source-NATs site-to-site traffic to ${prefix}`);
  for (const c of dataplane.effective.markConflicts)
    if (c.wanRule === rule.rule)
      problems.push(`rule ${rule.rule} and policy route ${c.policy} rule ${c.rule} both mark ${prefix}`);
  return { rule, problems };
}

export const weightsTarget: ActuationTarget<'path-weights', WanState> = {
  name: 'weights',
  kinds: ['path-weights'],
  contexts: ['lbRules', 'lbHealth', 'lbSourceNat', 'policyRoute'],
  read: readWan,
  render: renderWeights,
  effect(intent, dataplane, opts) {
    const after = intentWeights(intent, opts);
    const problems: string[] = [];
    for (const prefix of intent.dst_prefixes) {
      const { rule, problems: wrong } = balancingProblems(dataplane, prefix, opts);
      problems.push(...wrong);
      if (
        rule &&
        !rule.exclude &&
        (shiftBetween(rule.weights, after) > 1e-9 || Object.keys(rule.weights).length !== Object.keys(after).length)
      )
        problems.push(`${prefix} is balanced ${JSON.stringify(rule.weights)} (rule ${rule.rule}), not ${JSON.stringify(after)}`);
    }
    return check(problems);
  },
  cases(topology, router) {
    const { to, prefixes, primary, alternative } = pairWithAlternatives(topology, router);
    const cls = [...topology.classes.keys()][0]!;
    const intent = {
      kind: 'path-weights' as const,
      router,
      pair: [router, to] as [string, string],
      class: cls,
      dst_prefixes: prefixes,
    };
    return [
      { name: 'uneven split over two first hops', intents: [{ ...intent, weights: { [primary]: 37, [alternative]: 63 } }] },
      { name: 'all traffic on the alternative', intents: [{ ...intent, weights: { [alternative]: 5 } }] },
    ];
  },
};
