/**
 * Failover: the self-heal's emergency move of a pair off a first hop that breaks its SLO. It is a WAN
 * load-balancing rule like `weights` (it renders through the same rules and shares their state within a
 * render), but for every class of the pair at once (`class: '*'`, rules match prefixes, not DSCP). Its
 * read tells the self-heal which first hops carry a destination now; its effect is that only the
 * intent's first hops do.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { Intent, PathWeightsIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { check, child, isObj, pairWithAlternatives, values, type ActuationTarget } from './types.ts';
import type { WanState } from './wan.ts';
import { balancingProblems, intentWeights, weightsTarget } from './weights.ts';

/** The class a failover intent names: every class of the pair. */
export const allClasses = '*';

export const isFailover = (intent: Intent): intent is PathWeightsIntent =>
  intent.kind === 'path-weights' && intent.class === allClasses;

/**
 * The links that carry traffic to `prefixes` on router `site` now, one set per WAN load-balancing rule
 * whose destination is one of them (in rule order): the rule's interfaces with a weight above 0.
 */
export function carryingLinks(
  topology: Topology,
  site: string,
  lbRules: ConfigJson | null,
  prefixes: readonly string[],
): Set<string>[] {
  const wanted = new Set(prefixes);
  const out: Set<string>[] = [];
  for (const rule of Object.values(lbRules ?? {})) {
    if (!isObj(rule)) continue;
    const dst = child(rule, 'destination')?.['address'];
    if (typeof dst !== 'string' || !wanted.has(dst)) continue;
    const ifaces = Object.entries(child(rule, 'interface') ?? {});
    const carrying = ifaces.filter(([, v]) => Number(values(isObj(v) ? v['weight'] : undefined)[0] ?? '1') > 0);
    out.push(
      new Set(carrying.map(([name]) => topology.linkForInterface(site, name)).filter((l): l is string => l !== undefined)),
    );
  }
  return out;
}

export const failoverTarget: ActuationTarget<'path-weights', WanState> = {
  name: 'failover',
  kinds: ['path-weights'],
  contexts: weightsTarget.contexts,
  // The same read as weights and pin: the registry gives them one state, so rule numbers and prefix owners are shared.
  read: weightsTarget.read,
  render: weightsTarget.render,
  effect(intent, dataplane, opts) {
    const healthy = new Set(Object.keys(intentWeights(intent, opts)));
    const problems: string[] = [];
    for (const prefix of intent.dst_prefixes) {
      // What the router does: the rule that really takes the prefix, over its ACTIVE interfaces only.
      const { rule, problems: wrong } = balancingProblems(dataplane, prefix, opts);
      problems.push(...wrong);
      if (!rule || rule.exclude) continue;
      for (const iface of Object.keys(rule.weights))
        if (!healthy.has(iface))
          problems.push(`${prefix} still goes over ${opts.topology.linkForInterface(opts.router, iface) ?? iface}`);
    }
    return check(problems);
  },
  cases(topology, router) {
    const { to, prefixes, alternative } = pairWithAlternatives(topology, router);
    const pair: [string, string] = [router, to];
    const intent = { kind: 'path-weights' as const, router, pair, class: allClasses, dst_prefixes: prefixes };
    return [{ name: 'every class off the primary first hop', intents: [{ ...intent, weights: { [alternative]: 1 } }] }];
  },
};
