/**
 * BGP policy towards a neighbor (VyOS 1.4/1.5; vyos-facts §2.7): one route-map per neighbor and direction,
 * `PP-BGP-IN-<neighbor>` / `PP-BGP-OUT-<neighbor>`, bound with `protocols bgp neighbor <ip> address-family
 * ipv4-unicast route-map import|export`. Each intent rule becomes a route-map rule (10, 20, …) matching its
 * own prefix-list (`PP-BGP-IN-<neighbor>-<n>`, exact prefixes) and setting local-preference (import: which
 * interconnect carries egress), MED (`set metric`), AS-path prepend of the router's own AS and communities
 * (export: what the other side prefers); a last rule permits everything else unchanged (FRR denies what no
 * rule permits). Owned subtrees: those route-maps and prefix-lists, and the neighbor's `address-family
 * ipv4-unicast` node (so a rollback restores an operator's binding exactly, and never loses the family). FRR re-applies a changed route-map to the
 * neighbor's routes by itself (route refresh, which every FRR peer supports), so no `soft-reconfiguration`
 * is needed.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { BgpPolicyIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtreeProblems } from './subtree-effect.ts';
import { ValidationError } from '../../core/errors.ts';
import { check, child, isObj, subtree, type ActuationTarget } from './types.ts';

const invalid = (message: string): never => {
  throw new ValidationError(message);
};

interface BgpState {
  /** `protocols bgp` before the change (null: absent; undefined: not read — intake's dry render). */
  bgp: ConfigJson | null | undefined;
  routeMaps: ConfigJson | null;
  prefixLists: ConfigJson | null;
}

/** The names pathpilot gives a neighbor's route-map in one direction (VyOS names: letters, digits, - _ .). */
export function bgpRouteMapName(neighbor: string, direction: 'import' | 'export'): string {
  return `PP-BGP-${direction === 'import' ? 'IN' : 'OUT'}-${neighbor.replace(/\./g, '-')}`;
}

/** Every subtree the intent owns on the router, as it must be after the change. */
function bgpSubtrees(intent: BgpPolicyIntent, state: BgpState): { path: string[]; desired: ConfigJson | null }[] {
  const known = state.bgp !== undefined;
  if (known && !child(child(state.bgp ?? null, 'neighbor'), intent.neighbor))
    invalid(`router ${intent.router} has no BGP neighbor ${intent.neighbor}`);
  const asn = String((state.bgp?.['system-as'] as string | undefined) ?? (known ? '' : '0'));
  const name = bgpRouteMapName(intent.neighbor, intent.direction);
  const out: { path: string[]; desired: ConfigJson | null }[] = [];
  const rules: ConfigJson = {};
  intent.rules.forEach((r, i) => {
    const list = `${name}-${i + 1}`;
    const plRules: ConfigJson = {};
    r.prefixes.forEach((p, j) => (plRules[String((j + 1) * 10)] = { action: 'permit', prefix: p }));
    out.push({ path: ['policy', 'prefix-list', list], desired: { rule: plRules } });
    const set: ConfigJson = {};
    if (r.local_pref !== undefined) set['local-preference'] = String(r.local_pref);
    if (r.med !== undefined) set['metric'] = String(r.med);
    if (r.prepend !== undefined) {
      if (!asn) invalid(`router ${intent.router} has no protocols bgp system-as to prepend`);
      set['as-path'] = { prepend: Array.from({ length: r.prepend }, () => asn).join(' ') };
    }
    if (r.communities?.length) set['community'] = { add: r.communities.join(' ') };
    rules[String((i + 1) * 10)] = {
      action: 'permit',
      match: { ip: { address: { 'prefix-list': list } } },
      ...(Object.keys(set).length ? { set } : {}),
    };
  });
  // Prefix-lists of an earlier, longer rendering go with it.
  for (const old of Object.keys(state.prefixLists ?? {}))
    if (old.startsWith(`${name}-`) && Number(old.slice(name.length + 1)) > intent.rules.length)
      out.push({ path: ['policy', 'prefix-list', old], desired: null });
  const bound = intent.rules.length > 0;
  rules['1000'] = { action: 'permit', description: 'everything else unchanged' };
  out.push({ path: ['policy', 'route-map', name], desired: bound ? { rule: rules } : null });
  // The neighbor's address family whole (its route-map binding: pathpilot's map in this direction, the
  // rest as it was): restoring it re-creates an empty `ipv4-unicast`, which a route-map delete would prune.
  const afPath = ['protocols', 'bgp', 'neighbor', intent.neighbor, 'address-family', 'ipv4-unicast'];
  const af = subtree(state.bgp ?? {}, afPath.slice(2));
  const desiredAf: ConfigJson = { ...(isObj(af) ? af : {}) };
  const before = child(desiredAf, 'route-map');
  const binding: ConfigJson = { ...(isObj(before) ? before : {}) };
  if (bound) binding[intent.direction] = name;
  else if (binding[intent.direction] === name) delete binding[intent.direction];
  if (Object.keys(binding).length) desiredAf['route-map'] = binding;
  else delete desiredAf['route-map'];
  out.push({ path: afPath, desired: desiredAf });
  return out;
}

export const bgpTarget: ActuationTarget<'bgp-policy', BgpState> = {
  name: 'bgp-policy',
  kinds: ['bgp-policy'],
  contexts: ['bgp', 'routeMaps', 'prefixLists'],
  read: (pre) => ({ bgp: pre.bgp, routeMaps: pre.routeMaps ?? null, prefixLists: pre.prefixLists ?? null }),
  render(intent, state, { touch }) {
    for (const s of bgpSubtrees(intent, state)) {
      const base =
        s.path[0] === 'policy'
          ? child(s.path[1] === 'route-map' ? state.routeMaps : state.prefixLists, s.path[2]!)
          : subtree(state.bgp ?? {}, s.path.slice(2));
      touch(s.path, isObj(base) ? base : null).desired = s.desired;
    }
  },
  effect(intent, dataplane) {
    const config = dataplane.config;
    const state: BgpState = {
      bgp: subtree(config, ['protocols', 'bgp']),
      routeMaps: subtree(config, ['policy', 'route-map']),
      prefixLists: subtree(config, ['policy', 'prefix-list']),
    };
    return check(subtreeProblems(bgpSubtrees(intent, state), config));
  },
  cases(topology: Topology, router: string) {
    // Only where the topology runs BGP from this router (router.asn and a link with bgp).
    const site = topology.sites.get(router);
    if (!site?.router.asn) return [];
    const link = [...topology.links.values()].find(
      (l) =>
        l.bgp &&
        (l.a.site === router || l.b.site === router) &&
        topology.site(l.a.site === router ? l.b.site : l.a.site).router.asn,
    );
    if (!link) return [];
    const far = link.a.site === router ? link.b : link.a;
    const prefixes = topology.site(far.site).prefixes.slice(0, 1);
    return [
      {
        name: `local-preference towards ${far.site} over ${link.id}`,
        intents: [
          { kind: 'bgp-policy', router, neighbor: far.address!, direction: 'import', rules: [{ prefixes, local_pref: 200 }] },
        ],
      },
      {
        name: `MED and AS-path prepend to ${far.site} over ${link.id}`,
        intents: [
          {
            kind: 'bgp-policy',
            router,
            neighbor: far.address!,
            direction: 'export',
            rules: [{ prefixes: site.prefixes.slice(0, 1), med: 50, prepend: 2, communities: ['65000:100'] }],
          },
        ],
      },
    ];
  },
};
