/**
 * WAN weights: `path-weights` → `load-balancing wan rule N` (destination prefix, `interface <if> weight 1–255`),
 * vyos-facts §2.4. The rule for a prefix is found in the router's config (one rule per prefix) or allocated
 * after the highest rule number; a rollout step interpolates traffic shares from the weights before the change.
 */
import { ValidationError } from '../../core/errors.ts';
import type { PathWeightsIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import {
  check,
  child,
  contextPaths,
  ifaceOf,
  isObj,
  nextNumber,
  pairWithAlternatives,
  subtree,
  values,
  type ActuationTarget,
  type RenderOptions,
} from './types.ts';

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

/** The LB rules before the change, and what this render allocated: every step renders the same rule numbers. */
interface WeightsState {
  rules: ConfigJson | null;
  used: Set<string>;
  allocated: Map<string, string>;
  /** Prefix → the intent that owns it: two intents for one prefix conflict. */
  owners: Map<string, string>;
}

export const weightsTarget: ActuationTarget<'path-weights', WeightsState> = {
  name: 'weights',
  kinds: ['path-weights'],
  contexts: ['lbRules'],
  read: (pre) => {
    const rules = pre.lbRules ?? null;
    return { rules, used: new Set(Object.keys(rules ?? {})), allocated: new Map(), owners: new Map() };
  },
  render(intent, state, { opts, f, touch }) {
    const after = intentWeights(intent, opts);
    for (const prefix of intent.dst_prefixes) {
      const owner = `${intent.pair.join('>')}/${intent.class}`;
      const prev = state.owners.get(prefix);
      if (prev !== undefined && prev !== owner)
        throw new ValidationError(`router ${opts.router}: two path-weights intents for prefix ${prefix} (${prev}, ${owner})`);
      state.owners.set(prefix, owner);
      let num = findRule(state.rules, prefix) ?? state.allocated.get(prefix);
      if (num === undefined) {
        num = nextNumber(state.used, opts.firstRule ?? 10);
        state.used.add(num);
        state.allocated.set(prefix, num);
      }
      const base = child(state.rules, num);
      const t = touch([...contextPaths.lbRules, num], base);
      const rule: ConfigJson = t.desired ?? {
        description: `pathpilot ${intent.pair[0]} to ${intent.pair[1]}`,
        'inbound-interface': opts.lanInterface,
        destination: { address: prefix },
      };
      const ifaces: ConfigJson = {};
      for (const [iface, w] of Object.entries(stepWeights(ruleWeights(base), after, f))) ifaces[iface] = { weight: String(w) };
      rule['interface'] = ifaces;
      t.desired = rule;
    }
  },
  effect(intent, dataplane, opts) {
    const after = intentWeights(intent, opts);
    const rules = subtree(dataplane.config, contextPaths.lbRules);
    const problems: string[] = [];
    for (const prefix of intent.dst_prefixes) {
      const held = weightsForPrefix(rules, prefix);
      if (Object.keys(held).length === 0) problems.push(`no WAN load-balancing rule for ${prefix}`);
      else if (shiftBetween(held, after) > 1e-9 || Object.keys(held).length !== Object.keys(after).length)
        problems.push(`${prefix} is balanced ${JSON.stringify(held)}, not ${JSON.stringify(after)}`);
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
