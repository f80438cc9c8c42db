/**
 * Reads what the twin needs from a router's running config (as `/retrieve showConfig` renders it):
 * WAN load-balancing rules (destination prefix → interface weights, failover, health checks),
 * policy routes (DSCP → table) with their static tables, and QoS shapers on interfaces.
 * Only the routing decision is modelled; everything else in the config is ignored.
 */
import { ipv4ToNumber } from '../../core/config/index.ts';
import type { ConfigJson } from '../vyos/index.ts';

type Node = ConfigJson | string | string[] | undefined;

function child(node: Node, key: string): Node {
  return node && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined;
}
function entries(node: Node): [string, Node][] {
  return node && typeof node === 'object' && !Array.isArray(node) ? Object.entries(node) : [];
}
function values(node: Node): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node;
  return [];
}
function value(node: Node): string | undefined {
  return values(node)[0];
}
const byNumber = (a: [string, Node], b: [string, Node]) => Number(a[0]) - Number(b[0]);

export interface Prefix4 {
  network: number;
  length: number;
}

export function parsePrefix(text: string): Prefix4 | undefined {
  const [addr, len] = text.includes('/') ? text.split('/') : [text, '32'];
  const n = ipv4ToNumber(addr!);
  const length = Number(len);
  if (n === undefined || !Number.isInteger(length) || length < 0 || length > 32) return undefined;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return { network: (n & mask) >>> 0, length };
}

/** True when `inner` lies inside `outer`. */
export function prefixContains(outer: Prefix4, inner: Prefix4): boolean {
  if (inner.length < outer.length) return false;
  const mask = outer.length === 0 ? 0 : (0xffffffff << (32 - outer.length)) >>> 0;
  return (inner.network & mask) >>> 0 === outer.network;
}

export interface LbRule {
  rule: number;
  destinations: Prefix4[];
  sources: Prefix4[];
  /** Interface → weight (1–255). */
  weights: Map<string, number>;
  failover: boolean;
  exclude: boolean;
}

export interface PolicyRule {
  policy: string;
  rule: number;
  dscp: Set<number> | undefined;
  destinations: Prefix4[];
  /** Routing table number, or undefined for `main` / no table action. */
  table: number | undefined;
  bound: boolean;
}

export interface TableRoute {
  prefix: Prefix4;
  nextHops: string[];
  interfaces: string[];
}

export interface ShaperClass {
  dscp: Set<number>;
  /** Guaranteed and ceiling rates, bits/s (ceiling defaults to bandwidth). */
  bandwidthBps: number;
  ceilingBps: number;
  priority: number;
}

export interface Shaper {
  policy: string;
  /** Total rate of the shaper (bits/s); undefined = the interface speed. */
  bandwidthBps: number | undefined;
  classes: ShaperClass[];
  defaultClass: { bandwidthBps: number; ceilingBps: number } | undefined;
}

/** What the twin knows about one router's routing decisions. */
export interface RouterRouting {
  lbRules: LbRule[];
  healthChecked: Set<string>;
  policyRules: PolicyRule[];
  tables: Map<number, TableRoute[]>;
  /** Egress shaper per interface; rates with % are resolved against `speedBps(interface)`. */
  shapers: Map<string, Shaper>;
  /** Things in the config the twin could not use (for a counter). */
  ignored: string[];
}

export function emptyRouting(): RouterRouting {
  return { lbRules: [], healthChecked: new Set(), policyRules: [], tables: new Map(), shapers: new Map(), ignored: [] };
}

const DSCP_NAMES: Record<string, number> = {
  default: 0,
  ef: 46,
  cs0: 0,
  cs1: 8,
  cs2: 16,
  cs3: 24,
  cs4: 32,
  cs5: 40,
  cs6: 48,
  cs7: 56,
  af11: 10,
  af12: 12,
  af13: 14,
  af21: 18,
  af22: 20,
  af23: 22,
  af31: 26,
  af32: 28,
  af33: 30,
  af41: 34,
  af42: 36,
  af43: 38,
};

function parseDscp(list: string[]): Set<number> {
  const out = new Set<number>();
  for (const v of list) {
    const named = DSCP_NAMES[v.toLowerCase()];
    if (named !== undefined) {
      out.add(named);
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(v);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    for (let d = lo; d <= hi && d <= 63; d++) out.add(d);
  }
  return out;
}

/**
 * VyOS rate syntax: a plain number is kbit/s; suffixes bit, kbit, mbit, gbit, tbit (and kibit…, bps = bytes);
 * `N%` is relative to `speedBps`; `auto` is the interface speed.
 */
export function parseRate(text: string | undefined, speedBps: number): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  if (t === 'auto') return speedBps;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) return (Number(pct[1]) / 100) * speedBps;
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  const units: Record<string, number> = {
    '': 1e3,
    bit: 1,
    kbit: 1e3,
    mbit: 1e6,
    gbit: 1e9,
    tbit: 1e12,
    kibit: 1024,
    mibit: 1024 ** 2,
    gibit: 1024 ** 3,
    tibit: 1024 ** 4,
    bps: 8,
    kbps: 8e3,
    mbps: 8e6,
    gbps: 8e9,
    tbps: 8e12,
  };
  const u = units[m[2]!];
  return u === undefined ? undefined : n * u;
}

function prefixes(list: string[], ignored: string[], where: string): Prefix4[] {
  const out: Prefix4[] = [];
  for (const p of list) {
    const parsed = parsePrefix(p);
    if (parsed) out.push(parsed);
    else ignored.push(`${where}: unsupported address "${p}"`);
  }
  return out;
}

/**
 * Reads the routing-relevant subtrees. `show(path)` returns the children of `path` or throws when the path
 * is empty (exactly like the emulator handle and `/retrieve showConfig`); a throw means "not configured".
 */
export function readRouterRouting(show: (path: string[]) => ConfigJson, speedBps: (iface: string) => number): RouterRouting {
  const get = (path: string[]): Node => {
    try {
      return show(path);
    } catch {
      return undefined;
    }
  };
  const r = emptyRouting();

  const wan = get(['load-balancing', 'wan']);
  for (const [iface] of entries(child(wan, 'interface-health'))) r.healthChecked.add(iface);
  for (const [num, rule] of entries(child(wan, 'rule')).sort(byNumber)) {
    const weights = new Map<string, number>();
    for (const [iface, opts] of entries(child(rule, 'interface'))) {
      const w = Number(value(child(opts, 'weight')) ?? '1');
      weights.set(iface, Number.isFinite(w) && w > 0 ? w : 1);
    }
    r.lbRules.push({
      rule: Number(num),
      destinations: prefixes(values(child(child(rule, 'destination'), 'address')), r.ignored, `lb rule ${num}`),
      sources: prefixes(values(child(child(rule, 'source'), 'address')), r.ignored, `lb rule ${num}`),
      weights,
      failover: child(rule, 'failover') !== undefined,
      exclude: child(rule, 'exclude') !== undefined,
    });
  }

  const policies = get(['policy', 'route']);
  for (const [name, policy] of entries(policies).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const bound = values(child(policy, 'interface')).length > 0;
    if (!bound) r.ignored.push(`policy route ${name} is not applied to any interface`);
    for (const [num, rule] of entries(child(policy, 'rule')).sort(byNumber)) {
      const dscpList = values(child(rule, 'dscp'));
      const table = value(child(child(rule, 'set'), 'table'));
      r.policyRules.push({
        policy: name,
        rule: Number(num),
        dscp: dscpList.length ? parseDscp(dscpList) : undefined,
        destinations: prefixes(values(child(child(rule, 'destination'), 'address')), r.ignored, `policy ${name} rule ${num}`),
        table: table === undefined || table === 'main' ? undefined : Number(table),
        bound,
      });
    }
  }

  for (const [num, table] of entries(get(['protocols', 'static', 'table']))) {
    const routes: TableRoute[] = [];
    for (const [net, route] of entries(child(table, 'route'))) {
      const prefix = parsePrefix(net);
      if (!prefix) continue;
      routes.push({
        prefix,
        nextHops: entries(child(route, 'next-hop'))
          .filter(([, opts]) => child(opts, 'disable') === undefined)
          .map(([ip]) => ip),
        interfaces: entries(child(route, 'interface')).map(([i]) => i),
      });
    }
    routes.sort((a, b) => b.prefix.length - a.prefix.length);
    r.tables.set(Number(num), routes);
  }

  const qos = get(['qos']);
  const shaperPolicies = child(child(qos, 'policy'), 'shaper');
  for (const [iface, opts] of entries(child(qos, 'interface'))) {
    const name = value(child(opts, 'egress'));
    if (!name) continue;
    const policy = child(shaperPolicies, name);
    if (!policy) {
      r.ignored.push(`qos interface ${iface} egress ${name}: not a shaper policy`);
      continue;
    }
    const speed = speedBps(iface);
    const total = parseRate(value(child(policy, 'bandwidth')), speed);
    const base = total ?? speed;
    const classes: ShaperClass[] = [];
    for (const [, cls] of entries(child(policy, 'class')).sort(byNumber)) {
      const dscp = new Set<number>();
      for (const [, match] of entries(child(cls, 'match'))) {
        for (const d of parseDscp(values(child(child(match, 'ip'), 'dscp')))) dscp.add(d);
      }
      const bw = parseRate(value(child(cls, 'bandwidth')), base) ?? base;
      classes.push({
        dscp,
        bandwidthBps: bw,
        ceilingBps: parseRate(value(child(cls, 'ceiling')), base) ?? bw,
        priority: Number(value(child(cls, 'priority')) ?? '20'),
      });
    }
    const def = child(policy, 'default');
    const defBw = parseRate(value(child(def, 'bandwidth')), base);
    r.shapers.set(iface, {
      policy: name,
      bandwidthBps: total,
      classes,
      defaultClass:
        defBw === undefined
          ? undefined
          : { bandwidthBps: defBw, ceilingBps: parseRate(value(child(def, 'ceiling')), base) ?? defBw },
    });
  }
  return r;
}
