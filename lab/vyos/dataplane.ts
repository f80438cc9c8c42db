/**
 * What a VyOS router really does with its running config — its effective dataplane — as opposed to
 * what the config seems to say. Syntax is not semantics (shared/reference/vyos-facts.md §5): a config
 * that commits can shape an interface to 10 %, match the wrong DSCP, balance over interfaces that are
 * never active, shadow its own rules or let two mechanisms fight over the packet mark. The twin routes
 * and shapes by this model, and the actuator's conformance suite compares it with the intent.
 *
 * Pure: one function of the whole running config (showConfig([])), the router's version and image
 * build, and the interface speeds. It does not import the actuator (the emulator stays an oracle).
 */
import {
  child,
  DSCP_NAMES,
  entries,
  entriesByNumber,
  parseDscpList,
  parsePrefix,
  parseRate,
  prefixContains,
  prefixesOverlap,
  present,
  TOS_NAMES,
  value,
  values,
  type ConfigNodeJson,
} from './config-values.ts';
import type { ConfigJson, VyosVersion } from './types.ts';

/** One HTB class as `tc` builds it (`vyos/qos/trafficshaper.py`). */
export interface HtbClass {
  /** The class number ('10', …) or 'default'. */
  id: string;
  description?: string;
  /** Guaranteed rate, bits/s. */
  rateBps: number;
  /** Most the class may use by borrowing, bits/s; equals `rateBps` when no `ceiling` is set. */
  ceilBps: number;
  /** HTB prio: spare bandwidth goes to lower numbers first (tc's default is 0). */
  priority: number;
  /** DSCP values 0–63 (of ECN-0 packets) the class really matches, ascending. */
  dscp: number[];
}

export interface EffectiveShaper {
  policy: string;
  /** Rate of the root class 1:1 (the shaper's `bandwidth`; `auto` = interface speed): nothing exceeds it. */
  rootBps: number;
  /** Classes in number order (the order their filters are tried). */
  classes: HtbClass[];
  /** Where every packet no class matches goes. */
  default: HtbClass;
}

export interface WanRule {
  rule: number;
  destinations: string[];
  sources: string[];
  /** Interface → weight, for ACTIVE interfaces only. */
  weights: Record<string, number>;
  /** Interfaces the rule names that never carry its traffic, and why. */
  inactive: { iface: string; reason: string }[];
  failover: boolean;
  exclude: boolean;
  /** An earlier rule that takes all of this rule's traffic: this one never matches. */
  shadowedBy?: number;
  inboundInterface?: string;
  protocol?: string;
  /** True when balanced traffic is source-NATed to the egress address (no global `disable-source-nat`). */
  snat: boolean;
}

export interface PolicyRouteRule {
  policy: string;
  rule: number;
  /** DSCP values matched (nftables compares the DSCP field: numbers are right on every version); undefined = any. */
  dscp?: number[];
  destinations: string[];
  sources: string[];
  /** `set table N`; undefined for `main` or no table action. */
  table?: number;
  /** Interfaces the policy is applied to (inbound); a policy on none does nothing. */
  interfaces: string[];
}

export interface TableRoute {
  prefix: string;
  nextHops: string[];
  interfaces: string[];
}

export interface MarkConflict {
  policy: string;
  rule: number;
  wanRule: number;
  /** Which mechanism's mark the packet leaves with; 'undetermined' = not guaranteed either way. */
  winner: 'policy-route' | 'wan-load-balancing' | 'undetermined';
}

export interface EffectiveDataplane {
  version: VyosVersion;
  build?: string;
  /** Egress shaper per interface. */
  shapers: Record<string, EffectiveShaper>;
  wan: { rules: WanRule[] };
  policy: { rules: PolicyRouteRule[] };
  /** `protocols static table N` routes, most specific first. */
  tables: Record<string, TableRoute[]>;
  /** Traffic a bound pin (policy route `set table`) and a WAN rule both match. */
  markConflicts: MarkConflict[];
  /** Config the model could not interpret (for a counter or a test message). */
  ignored: string[];
}

export interface DataplaneOptions {
  version: VyosVersion;
  /** Image build, e.g. '1.5-rolling-202506020019'; without it a 1.5 router is taken as current rolling. */
  build?: string;
  /** Interface speed, bits/s (`auto` and some percentages are relative to it). */
  speedBps: (iface: string) => number;
}

/**
 * vyos-1x PR #4302 (T681), merged 2025-01-13, shifts numeric QoS DSCP values into the DSCP bits;
 * before it, `ip dscp N` became `match ip dsfield N 0xff` (the whole TOS byte). vyos-facts §5.2.
 */
const NUMERIC_DSCP_FIX_BUILD = 20250113;

/** YYYYMMDD of a rolling build string, in either naming VyOS used (`1.5-rolling-YYYYMMDDHHMM`, `YYYY.MM.DD-HHMM-rolling`). */
function rollingBuildDay(build: string): number | undefined {
  const old = /^1\.5-rolling-(\d{8})\d{4}$/.exec(build);
  if (old) return Number(old[1]);
  const dotted = /^(\d{4})\.(\d{2})\.(\d{2})-\d{4}-rolling$/.exec(build);
  return dotted ? Number(`${dotted[1]}${dotted[2]}${dotted[3]}`) : undefined;
}

/** True when this image compares a numeric QoS `ip dscp` with the whole TOS byte. */
export function numericQosDscpIsTos(version: VyosVersion, build: string | undefined): boolean {
  if (version === '1.4') return true;
  const day = build === undefined ? undefined : rollingBuildDay(build);
  return day !== undefined && day < NUMERIC_DSCP_FIX_BUILD;
}

/** DSCP values of ECN-0 packets that a TOS byte value equals (none when ECN bits are set). */
function dscpOfTos(tos: number): number[] {
  return tos % 4 === 0 && tos <= 255 ? [tos >> 2] : [];
}

/** DSCP values one QoS `match … ip dscp VALUE` really matches on this image. */
function qosDscpMatch(v: string, tosCompare: boolean): number[] | undefined {
  const named = DSCP_NAMES[v.toLowerCase()];
  if (named !== undefined) return [named];
  const tos = TOS_NAMES[v.toLowerCase()];
  if (tos !== undefined) return dscpOfTos(tos);
  if (!/^\d+$/.test(v) || Number(v) > 63) return undefined;
  return tosCompare ? dscpOfTos(Number(v)) : [Number(v)];
}

function readShaper(
  name: string,
  policy: ConfigNodeJson,
  speedBps: number,
  tosCompare: boolean,
  ignored: string[],
): EffectiveShaper {
  const where = `qos policy shaper ${name}`;
  // trafficshaper.py: root class 1:1 `htb rate {bandwidth}` without ceil, so nothing exceeds it.
  const rootBps = parseRate(value(child(policy, 'bandwidth')) ?? 'auto', speedBps) ?? speedBps;
  const classes: HtbClass[] = [];
  for (const [id, cls] of entriesByNumber(child(policy, 'class'))) {
    const dscp = new Set<number>();
    for (const [matchName, match] of entries(child(cls, 'match'))) {
      const dscpValue = value(child(child(match, 'ip'), 'dscp'));
      if (dscpValue === undefined) {
        ignored.push(`${where} class ${id} match ${matchName}: only ip dscp matches are modelled`);
        continue;
      }
      const matched = qosDscpMatch(dscpValue, tosCompare);
      if (matched === undefined) ignored.push(`${where} class ${id} match ${matchName}: unreadable dscp "${dscpValue}"`);
      for (const d of matched ?? []) dscp.add(d);
    }
    // Class bandwidth: `auto`/N% of the shaper's bandwidth (T5296); ceiling goes through
    // QoSBase._rate_convert, whose N% is of the interface speed. No ceiling: HTB ceil = rate.
    const rateBps = parseRate(value(child(cls, 'bandwidth')), rootBps) ?? rootBps;
    const ceilBps = parseRate(value(child(cls, 'ceiling')), speedBps) ?? rateBps;
    const description = value(child(cls, 'description'));
    classes.push({
      id,
      ...(description !== undefined ? { description } : {}),
      rateBps,
      ceilBps,
      priority: Number(value(child(cls, 'priority')) ?? '0'),
      dscp: [...dscp].sort((a, b) => a - b),
    });
  }
  const def = child(policy, 'default');
  if (!present(def)) ignored.push(`${where}: no default class (VyOS refuses to commit this)`);
  // Default bandwidth and ceiling: N% of the shaper's bandwidth.
  const defRate = parseRate(value(child(def, 'bandwidth')), rootBps) ?? rootBps;
  const defCeil = parseRate(value(child(def, 'ceiling')), rootBps) ?? defRate;
  const claimed = new Set(classes.flatMap((c) => c.dscp));
  const defDescription = value(child(def, 'description'));
  // The default's minor id is (highest class number) + 1: with no class that is 1, so the default is
  // written over the root class 1:1 itself, which has no parent to borrow from — the whole interface
  // runs at the default's rate whatever its ceiling (docs/notes/vyos.md "Router truth" row 4).
  const defaultIsRoot = classes.length === 0;
  const defaultClass: HtbClass = {
    id: 'default',
    ...(defDescription !== undefined ? { description: defDescription } : {}),
    rateBps: defRate,
    ceilBps: defaultIsRoot ? defRate : defCeil,
    priority: Number(value(child(def, 'priority')) ?? '0'),
    dscp: Array.from({ length: 64 }, (_, d) => d).filter((d) => !claimed.has(d)),
  };
  return { policy: name, rootBps: defaultIsRoot ? defRate : rootBps, classes, default: defaultClass };
}

function readShapers(config: ConfigJson, opts: DataplaneOptions, ignored: string[]): Record<string, EffectiveShaper> {
  const qos = child(config, 'qos');
  const shaperPolicies = child(child(qos, 'policy'), 'shaper');
  const tosCompare = numericQosDscpIsTos(opts.version, opts.build);
  const out: Record<string, EffectiveShaper> = {};
  for (const [iface, attach] of entries(child(qos, 'interface'))) {
    const name = value(child(attach, 'egress'));
    if (name === undefined) continue;
    const policy = child(shaperPolicies, name);
    if (!present(policy)) {
      ignored.push(`qos interface ${iface} egress ${name}: not a shaper policy`);
      continue;
    }
    out[iface] = readShaper(name, policy, opts.speedBps(iface), tosCompare, ignored);
  }
  return out;
}

function readPrefixes(list: string[], where: string, ignored: string[]): string[] {
  const out: string[] = [];
  for (const p of list) {
    if (parsePrefix(p)) out.push(p);
    else ignored.push(`${where}: unsupported address "${p}"`);
  }
  return out;
}

/** True when every address of `inner` (a list; [] = any) is inside `outer` ([] = any). */
function addressesCover(outer: string[], inner: string[]): boolean {
  if (outer.length === 0) return true;
  if (inner.length === 0) return false;
  const o = outer.map((p) => parsePrefix(p)!);
  return inner.every((p) => {
    const i = parsePrefix(p)!;
    return o.some((op) => prefixContains(op, i));
  });
}

/** True when some address is in both lists ([] = any). */
function addressesOverlap(a: string[], b: string[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((x) => b.some((y) => prefixesOverlap(parsePrefix(x)!, parsePrefix(y)!)));
}

/** A rule takes traffic when it excludes it from balancing or has an interface to send it to. */
function takesTraffic(rule: WanRule): boolean {
  return rule.exclude || Object.keys(rule.weights).length > 0;
}

/** True when a WAN rule ever decides a packet: not shadowed, and an exclude or with an active interface. */
export function wanRuleCarriesTraffic(rule: WanRule): boolean {
  return rule.shadowedBy === undefined && takesTraffic(rule);
}

/** True when `earlier` matches every packet `later` matches (same or wider on every field). */
function covers(earlier: WanRule, later: WanRule): boolean {
  const field = (a: string | undefined, b: string | undefined) => a === undefined || a === 'all' || a === b;
  return (
    addressesCover(earlier.destinations, later.destinations) &&
    addressesCover(earlier.sources, later.sources) &&
    field(earlier.inboundInterface, later.inboundInterface) &&
    field(earlier.protocol, later.protocol)
  );
}

/**
 * WAN load balancing (vyos-facts §5.3): an interface is active only with `interface-health IF` having a
 * `nexthop` (vyatta-wanloadbalance `lbdata.cc` `is_active`); rules are tried in number order, first match
 * wins; balanced traffic is SNATed unless the WAN balancer has the global `disable-source-nat` (there is
 * no per-rule form in VyOS 1.4/1.5: docs/notes/vyos.md "Router truth" row 21).
 */
function readWan(config: ConfigJson, ignored: string[]): WanRule[] {
  const wan = child(child(config, 'load-balancing'), 'wan');
  const globalNoSnat = present(child(wan, 'disable-source-nat'));
  const health = child(wan, 'interface-health');
  const rules: WanRule[] = [];
  for (const [num, rule] of entriesByNumber(child(wan, 'rule'))) {
    const where = `load-balancing wan rule ${num}`;
    const weights: Record<string, number> = {};
    const inactive: WanRule['inactive'] = [];
    for (const [iface, opts] of entries(child(rule, 'interface'))) {
      const h = child(health, iface);
      if (!present(h)) {
        inactive.push({ iface, reason: `no load-balancing wan interface-health ${iface}` });
        continue;
      }
      if (value(child(h, 'nexthop')) === undefined) {
        inactive.push({ iface, reason: `interface-health ${iface} has no nexthop` });
        continue;
      }
      const w = Number(value(child(opts, 'weight')) ?? '1');
      weights[iface] = Number.isInteger(w) && w >= 1 && w <= 255 ? w : 1;
    }
    const exclude = present(child(rule, 'exclude'));
    if (present(child(rule, 'disable-source-nat')))
      ignored.push(`${where} disable-source-nat: not a VyOS option (only load-balancing wan disable-source-nat is)`);
    const inboundInterface = value(child(rule, 'inbound-interface'));
    const protocol = value(child(rule, 'protocol'));
    rules.push({
      rule: Number(num),
      destinations: readPrefixes(values(child(child(rule, 'destination'), 'address')), where, ignored),
      sources: readPrefixes(values(child(child(rule, 'source'), 'address')), where, ignored),
      weights,
      inactive,
      failover: present(child(rule, 'failover')),
      exclude,
      ...(inboundInterface !== undefined ? { inboundInterface } : {}),
      ...(protocol !== undefined ? { protocol } : {}),
      snat: !exclude && !globalNoSnat,
    });
  }
  for (let i = 0; i < rules.length; i++) {
    const later = rules[i]!;
    const earlier = rules.slice(0, i).find((e) => wanRuleCarriesTraffic(e) && covers(e, later));
    if (earlier) later.shadowedBy = earlier.rule;
  }
  return rules;
}

function readPolicyRoutes(config: ConfigJson, ignored: string[]): PolicyRouteRule[] {
  const out: PolicyRouteRule[] = [];
  const policies = entries(child(child(config, 'policy'), 'route')).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, policy] of policies) {
    const interfaces = values(child(policy, 'interface'));
    if (interfaces.length === 0) ignored.push(`policy route ${name} is not applied to any interface`);
    for (const [num, rule] of entriesByNumber(child(policy, 'rule'))) {
      const where = `policy route ${name} rule ${num}`;
      const dscpList = values(child(rule, 'dscp'));
      const { dscp, unreadable } = parseDscpList(dscpList);
      for (const u of unreadable) ignored.push(`${where}: unreadable dscp "${u}"`);
      const table = value(child(child(rule, 'set'), 'table'));
      const tableNumber = table === undefined || table === 'main' ? undefined : Number(table);
      out.push({
        policy: name,
        rule: Number(num),
        ...(dscpList.length ? { dscp: [...dscp].sort((a, b) => a - b) } : {}),
        destinations: readPrefixes(values(child(child(rule, 'destination'), 'address')), where, ignored),
        sources: readPrefixes(values(child(child(rule, 'source'), 'address')), where, ignored),
        ...(tableNumber !== undefined && Number.isInteger(tableNumber) ? { table: tableNumber } : {}),
        interfaces,
      });
    }
  }
  return out;
}

function readTables(config: ConfigJson): Record<string, TableRoute[]> {
  const out: Record<string, TableRoute[]> = {};
  const tables = child(child(child(config, 'protocols'), 'static'), 'table');
  for (const [num, table] of entries(tables)) {
    const routes: TableRoute[] = [];
    for (const [prefix, route] of entries(child(table, 'route'))) {
      if (!parsePrefix(prefix)) continue;
      routes.push({
        prefix,
        nextHops: entries(child(route, 'next-hop'))
          .filter(([, opts]) => !present(child(opts, 'disable')))
          .map(([ip]) => ip),
        interfaces: entries(child(route, 'interface')).map(([i]) => i),
      });
    }
    routes.sort((a, b) => parsePrefix(b.prefix)!.length - parsePrefix(a.prefix)!.length);
    out[num] = routes;
  }
  return out;
}

/**
 * Pins (bound policy route rules with `set table`) and effective WAN rules that match common traffic:
 * both set the packet mark in the same hook at the same priority, and which runs last is not
 * guaranteed (vyos-facts §5.4), so the winner is 'undetermined'.
 */
function findMarkConflicts(policy: PolicyRouteRule[], wan: WanRule[]): MarkConflict[] {
  const out: MarkConflict[] = [];
  for (const pin of policy) {
    if (pin.table === undefined || pin.interfaces.length === 0) continue;
    for (const w of wan) {
      if (w.shadowedBy !== undefined) continue;
      if (w.inboundInterface !== undefined && !pin.interfaces.includes(w.inboundInterface)) continue;
      // Rules go in number order: an earlier exclusion taking every packet of the pin keeps the balancer
      // off them (excluded packets are accepted before any mark is set), so later rules cannot conflict.
      if (
        w.exclude &&
        (w.protocol === undefined || w.protocol === 'all') &&
        addressesCover(w.destinations, pin.destinations) &&
        addressesCover(w.sources, pin.sources)
      )
        break;
      if (w.exclude || Object.keys(w.weights).length === 0) continue;
      if (!addressesOverlap(pin.destinations, w.destinations) || !addressesOverlap(pin.sources, w.sources)) continue;
      out.push({ policy: pin.policy, rule: pin.rule, wanRule: w.rule, winner: 'undetermined' });
    }
  }
  return out;
}

/** What the router does with `config` (its whole running config, as showConfig([]) returns it). */
export function effectiveDataplane(config: ConfigJson, opts: DataplaneOptions): EffectiveDataplane {
  const ignored: string[] = [];
  const shapers = readShapers(config, opts, ignored);
  const wanRules = readWan(config, ignored);
  const policyRules = readPolicyRoutes(config, ignored);
  return {
    version: opts.version,
    ...(opts.build !== undefined ? { build: opts.build } : {}),
    shapers,
    wan: { rules: wanRules },
    policy: { rules: policyRules },
    tables: readTables(config),
    markConflicts: findMarkConflicts(policyRules, wanRules),
    ignored,
  };
}

/** The HTB class a packet with this DSCP (ECN 0) lands in: the first class matching it, else the default. */
export function classFor(shaper: EffectiveShaper, dscp: number): HtbClass {
  return shaper.classes.find((c) => c.dscp.includes(dscp)) ?? shaper.default;
}

/**
 * The WAN rule traffic from `srcPrefix` to `dstPrefix` (IPv4 addresses or prefixes) takes, arriving on
 * the rule's inbound interface: the first non-shadowed rule, in number order, that matches all of it and
 * takes traffic (an exclude rule, or one with an active interface); undefined = no rule (the main
 * routing table decides). Throws on text that is not an IPv4 prefix.
 */
export function wanRuleFor(dp: EffectiveDataplane, srcPrefix: string, dstPrefix: string): WanRule | undefined {
  for (const p of [srcPrefix, dstPrefix]) if (!parsePrefix(p)) throw new Error(`wanRuleFor: "${p}" is not an IPv4 prefix`);
  return dp.wan.rules.find(
    (r) => wanRuleCarriesTraffic(r) && addressesCover(r.sources, [srcPrefix]) && addressesCover(r.destinations, [dstPrefix]),
  );
}
