/**
 * Class pin (application-aware routing): `class-pin` → `policy route PATHPILOT rule N` (DSCP + destination →
 * `set table T`) and `protocols static table T route <prefix> next-hop <peer>`, vyos-facts §2.5. The policy is
 * bound to the LAN interface; one table per first-hop link, numbered by the link's place among the router's links.
 *
 * A pin wins by construction: WAN load balancing and policy route both set the packet mark in the same
 * hook, in no guaranteed order (vyos-facts §5.4), so each pinned prefix also gets a WAN `exclude` rule
 * ahead of every rule that balances it (wan.ts). WAN rules cannot match DSCP, so the prefix's other
 * classes then follow the main routing table, and a weights intent for a pinned prefix is refused.
 */
import { ValidationError } from '../../core/errors.ts';
import type { ClassPinIntent } from '../../core/proposal.ts';
import type { Topology } from '../../core/config/topology.ts';
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
  type PreState,
  type RenderContext,
  type RenderOptions,
} from './types.ts';
import { effectiveRuleFor, readWan, renderPinExclude, type WanState } from './wan.ts';

export const pinPolicyName = 'PATHPILOT';

/** The table, next hop and interface a pin over `intent.link` uses on this router. */
function pinRoute(intent: ClassPinIntent, opts: RenderOptions): { table: string; peer: string; iface: string } {
  const iface = ifaceOf(opts, intent.link);
  const link = opts.topology.link(intent.link);
  const peer = link.a.site === opts.router ? link.b : link.a;
  if (!peer.address) throw new ValidationError(`class-pin over ${intent.link}: the peer end has no address`);
  const mine = [...opts.topology.links.values()].filter((l) => l.a.site === opts.router || l.b.site === opts.router);
  return { table: String(101 + mine.findIndex((l) => l.id === intent.link)), peer: peer.address, iface };
}

const ruleDescription = (intent: ClassPinIntent, prefix: string) =>
  `pathpilot pin ${intent.class} ${intent.pair[0]} to ${intent.pair[1]} ${prefix}`;
const sortedDscp = (intent: ClassPinIntent) => [...new Set(intent.dscp)].sort((a, b) => a - b).map(String);

export const pinTarget: ActuationTarget<'class-pin', WanState> = {
  name: 'pin',
  kinds: ['class-pin'],
  contexts: ['policyRoute', 'staticTables', 'lbRules'],
  // The WAN targets' read: the exclusions share rule numbers and prefix owners with weights and failover.
  read: readWan,
  render(intent, state, ctx) {
    const { opts, touch } = ctx;
    const pre = state.pre;
    const { table, peer, iface } = pinRoute(intent, opts);
    const tt = touch([...contextPaths.staticTables, table], child(pre.staticTables ?? null, table));
    const tdes: ConfigJson = tt.desired ?? {};
    tdes['description'] = `pathpilot pin via ${intent.link}`;
    const routes: ConfigJson = child(tdes, 'route') ?? {};
    for (const prefix of intent.dst_prefixes) routes[prefix] = { 'next-hop': { [peer]: { interface: iface } } };
    tdes['route'] = routes;
    tt.desired = tdes;

    const pt = touch([...contextPaths.policyRoute, pinPolicyName], child(pre.policyRoute ?? null, pinPolicyName));
    const pdes: ConfigJson = pt.desired ?? {};
    const ifaces = new Set(values(pdes['interface']));
    ifaces.add(opts.lanInterface);
    pdes['interface'] = ifaces.size === 1 ? [...ifaces][0]! : [...ifaces];
    const rules: ConfigJson = child(pdes, 'rule') ?? {};
    for (const prefix of intent.dst_prefixes) {
      const desc = ruleDescription(intent, prefix);
      const existing = Object.entries(rules).find(([, r]) => isObj(r) && r['description'] === desc)?.[0];
      const dscp = sortedDscp(intent);
      rules[existing ?? nextNumber(Object.keys(rules), 100)] = {
        description: desc,
        destination: { address: prefix },
        dscp: dscp.length === 1 ? dscp[0]! : dscp,
        set: { table },
      };
    }
    pdes['rule'] = rules;
    pt.desired = pdes;
    for (const prefix of intent.dst_prefixes) renderPinExclude(state, prefix, `${intent.class} (${intent.pair.join('>')})`, ctx);
  },
  effect(intent, dataplane, opts) {
    const { table, peer, iface } = pinRoute(intent, opts);
    const policy = subtree(dataplane.config, [...contextPaths.policyRoute, pinPolicyName]);
    const problems: string[] = [];
    const { effective } = dataplane;
    const routes = effective.tables[table] ?? [];
    for (const prefix of intent.dst_prefixes) {
      // The class's own rule (several classes may pin one prefix): found by the description it renders.
      const num = Object.entries(child(policy, 'rule') ?? {}).find(
        ([, r]) => isObj(r) && values(r['description'])[0] === ruleDescription(intent, prefix),
      )?.[0];
      const rule = effective.policy.rules.find((r) => r.policy === pinPolicyName && String(r.rule) === num);
      const dscp = [...(rule?.dscp ?? [])].sort((a, b) => a - b).join(',');
      if (!rule || !rule.destinations.includes(prefix)) problems.push(`no policy route rule for ${prefix}`);
      else if (!rule.interfaces.includes(opts.lanInterface))
        problems.push(`policy route ${pinPolicyName} is not bound to ${opts.lanInterface}`);
      else if (rule.table !== Number(table)) problems.push(`${prefix} is not sent to table ${table}`);
      else if (dscp !== [...new Set(intent.dscp)].sort((a, b) => a - b).join(','))
        problems.push(`${prefix} matches DSCP ${dscp}, not ${intent.dscp.join(',')}`);
      const route = routes.find((r) => r.prefix === prefix);
      if (!route?.nextHops.includes(peer)) problems.push(`table ${table} has no route ${prefix} via ${peer} on ${iface}`);
      // Pin wins by construction: no WAN rule may mark the same packets.
      for (const c of effective.markConflicts)
        if (rule && c.policy === pinPolicyName && c.rule === rule.rule)
          problems.push(`WAN rule ${c.wanRule} also marks ${prefix} (winner ${c.winner})`);
      const wan = effectiveRuleFor(effective, prefix, opts.lanInterface);
      if (wan && !wan.exclude) problems.push(`WAN rule ${wan.rule} balances ${prefix} beside the pin`);
    }
    return check(problems);
  },
  cases(topology, router) {
    const { to, prefixes, alternative } = pairWithAlternatives(topology, router);
    const pin = { kind: 'class-pin' as const, router, pair: [router, to] as [string, string], dst_prefixes: prefixes };
    return [
      { name: 'one class on the alternative first hop', intents: [{ ...pin, class: 'voice', dscp: [46], link: alternative }] },
      {
        name: 'two classes, several DSCP values',
        intents: [
          { ...pin, class: 'voice', dscp: [46, 34], link: alternative },
          { ...pin, class: 'video', dscp: [26], link: alternative, dst_prefixes: prefixes.slice(0, 1) },
        ],
      },
    ];
  },
};

/** True when a WAN rule excludes one of `prefixes` from balancing: the prefix is pinned class by class. */
export function excludedFromBalancing(lbRules: ConfigJson | null, prefixes: readonly string[]): boolean {
  return Object.values(lbRules ?? {}).some(
    (r) =>
      isObj(r) && r['exclude'] !== undefined && values(child(r, 'destination')?.['address']).some((d) => prefixes.includes(d)),
  );
}

/**
 * The links router `site` sends pinned traffic to `prefixes` over: its policy routes' tables, by next-hop
 * interface. With `dscp`, only the rules matching one of those code points (one class's pins).
 */
export function pinnedLinks(
  topology: Topology,
  site: string,
  policyRoute: ConfigJson | null,
  staticTables: ConfigJson | null,
  prefixes: readonly string[],
  dscp?: readonly number[],
): Set<string> {
  const links = new Set<string>();
  for (const rule of Object.values(child(child(policyRoute, pinPolicyName), 'rule') ?? {})) {
    if (!isObj(rule)) continue;
    if (dscp && !values(rule['dscp']).some((v) => dscp.includes(Number(v)))) continue;
    const table = values(child(rule, 'set')?.['table'])[0];
    const dst = values(child(rule, 'destination')?.['address']).filter((d) => prefixes.includes(d));
    if (table === undefined || dst.length === 0) continue;
    const routes = child(child(staticTables, table), 'route');
    for (const prefix of dst) {
      for (const hop of Object.values(child(child(routes, prefix), 'next-hop') ?? {})) {
        const iface = isObj(hop) ? values(hop['interface'])[0] : undefined;
        const link = iface === undefined ? undefined : topology.linkForInterface(site, iface);
        if (link) links.add(link);
      }
    }
  }
  return links;
}

/**
 * Takes the pins of `prefix` away (every `PATHPILOT` policy-route rule whose destination is it): a later
 * weights intent balances the prefix again, and a pin left beside it would fight over the packet mark.
 * Only when the policy was read (an intake check renders against nothing).
 */
export function removePins(pre: PreState, prefix: string, ctx: RenderContext): void {
  if (pre.policyRoute === undefined) return;
  const base = child(pre.policyRoute, pinPolicyName);
  if (!base) return;
  const t = ctx.touch([...contextPaths.policyRoute, pinPolicyName], base);
  const desired: ConfigJson = t.desired ?? {};
  const rules: ConfigJson = child(desired, 'rule') ?? {};
  for (const [num, r] of Object.entries(rules))
    if (isObj(r) && values(child(r, 'destination')?.['address']).includes(prefix)) delete rules[num];
  if (Object.keys(rules).length > 0) desired['rule'] = rules;
  else delete desired['rule'];
  t.desired = desired;
}
