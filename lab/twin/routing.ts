/**
 * What the twin needs from a router: its effective dataplane (lab/vyos/dataplane.ts — what the router
 * really does with its running config on its version and image), turned into lookups the per-tick
 * routing reads fast: WAN load-balancing rules that can match, with their active interfaces only;
 * class pins (policy route → static table) and whether their mark is contested; egress shapers as HTB
 * builds them. The twin routes and shapes by this, never by the intent that produced the config.
 */
import { effectiveDataplane, wanRuleCarriesTraffic, type EffectiveDataplane, type EffectiveShaper } from '../vyos/dataplane.ts';
import { parsePrefix, type Prefix4 } from '../vyos/config-values.ts';
import type { ConfigJson, VyosVersion } from '../vyos/index.ts';
import type { BgpRib } from '../vyos/bgp.ts';

export { parseRate } from '../vyos/config-values.ts';

export interface LbRule {
  rule: number;
  destinations: Prefix4[];
  sources: Prefix4[];
  /** Active interface → weight (1–255); interfaces without interface-health are not here. */
  weights: Map<string, number>;
  failover: boolean;
  exclude: boolean;
}

export interface PinRule {
  policy: string;
  rule: number;
  dscp: Set<number> | undefined;
  destinations: Prefix4[];
  table: number;
  /** WAN rules whose mark may override this pin's on common traffic (vyos-facts §5.4). */
  contestedBy: Set<number>;
}

export interface TableRoute {
  prefix: Prefix4;
  nextHops: string[];
  interfaces: string[];
}

/** What the twin knows about one router's routing decisions. */
export interface RouterRouting {
  /** The model everything below is read from; undefined when the router's config is unknown. */
  dataplane: EffectiveDataplane | undefined;
  /** WAN rules that can take traffic, in number order: not shadowed, and exclude or with an active interface. */
  lbRules: LbRule[];
  /** Interfaces with `interface-health … nexthop`: the balancer takes them out while their link is down. */
  healthChecked: Set<string>;
  /** Bound policy-route rules that send traffic to a static table. */
  pins: PinRule[];
  tables: Map<number, TableRoute[]>;
  /** Egress shaper per interface (rates resolved against the interface speed). */
  shapers: Map<string, EffectiveShaper>;
  /** WAN rules that carry traffic and source-NAT it to the egress address (no global disable-source-nat). */
  snatRules: number[];
  /** Things in the config the twin could not use (for a counter). */
  ignored: string[];
  /** The running config itself (BGP needs every router's: engine.ts computes the lab's RIBs from them). */
  config?: ConfigJson;
  /** The router's BGP RIB this tick (the engine installs it; undefined: no BGP). */
  bgp?: BgpRib;
}

export function emptyRouting(): RouterRouting {
  return {
    dataplane: undefined,
    lbRules: [],
    healthChecked: new Set(),
    pins: [],
    tables: new Map(),
    shapers: new Map(),
    snatRules: [],
    ignored: [],
  };
}

/** Parses prefixes the dataplane already validated (it lists only IPv4 prefixes it could read). */
function prefixes(list: string[]): Prefix4[] {
  return list.map((p) => parsePrefix(p)!);
}

/** The twin's lookups from an effective dataplane. */
export function routingFromDataplane(dp: EffectiveDataplane): RouterRouting {
  const r = emptyRouting();
  r.dataplane = dp;
  r.ignored.push(...dp.ignored);
  for (const rule of dp.wan.rules) {
    for (const iface of Object.keys(rule.weights)) r.healthChecked.add(iface);
    if (!wanRuleCarriesTraffic(rule)) continue;
    if (rule.snat) r.snatRules.push(rule.rule);
    r.lbRules.push({
      rule: rule.rule,
      destinations: prefixes(rule.destinations),
      sources: prefixes(rule.sources),
      weights: new Map(Object.entries(rule.weights)),
      failover: rule.failover,
      exclude: rule.exclude,
    });
  }
  for (const pin of dp.policy.rules) {
    if (pin.table === undefined || pin.interfaces.length === 0) continue;
    const contestedBy = new Set(
      dp.markConflicts
        .filter((c) => c.policy === pin.policy && c.rule === pin.rule && c.winner !== 'policy-route')
        .map((c) => c.wanRule),
    );
    r.pins.push({
      policy: pin.policy,
      rule: pin.rule,
      dscp: pin.dscp ? new Set(pin.dscp) : undefined,
      destinations: prefixes(pin.destinations),
      table: pin.table,
      contestedBy,
    });
  }
  for (const [num, routes] of Object.entries(dp.tables)) {
    r.tables.set(
      Number(num),
      routes.map((t) => ({ prefix: parsePrefix(t.prefix)!, nextHops: t.nextHops, interfaces: t.interfaces })),
    );
  }
  for (const [iface, shaper] of Object.entries(dp.shapers)) r.shapers.set(iface, shaper);
  return r;
}

/**
 * Reads a router's whole running config through `show` (the emulator handle's or `/retrieve
 * showConfig`'s semantics: a throw means "empty") and models it for the router's version and image
 * build (unknown build on 1.5: a current rolling image, as the lab's emulator runs by default).
 */
export function readRouterRouting(
  show: (path: string[]) => ConfigJson,
  speedBps: (iface: string) => number,
  version: VyosVersion,
  build?: string,
): RouterRouting {
  let config: ConfigJson;
  try {
    config = show([]);
  } catch (err) {
    // An empty config is a config; any other failure is the caller's to report (it keeps the last routing).
    if (!(err instanceof Error && /empty/i.test(err.message))) throw err;
    config = {};
  }
  const routing = routingFromDataplane(
    effectiveDataplane(config, { version, ...(build !== undefined ? { build } : {}), speedBps }),
  );
  routing.config = config;
  return routing;
}
