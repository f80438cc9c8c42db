/**
 * Reading values out of a showConfig tree the way VyOS reads them: walking the JSON (tag nodes,
 * single- and multi-value leaves), IPv4 prefixes, rates (`100mbit`, `25%`, `auto`) and DSCP names.
 * One copy for the emulator's effective dataplane and the twin that routes by it.
 */
import { ipv4ToNumber } from '../../core/config/index.ts';
import type { ConfigJson } from './types.ts';

/** Any node of a showConfig tree, or undefined when the path is not configured. */
export type ConfigNodeJson = ConfigJson | string | string[] | undefined;

export function child(node: ConfigNodeJson, key: string): ConfigNodeJson {
  return node && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined;
}

/** The children of a (tag) node as [key, node] pairs; [] for leaves and missing nodes. */
export function entries(node: ConfigNodeJson): [string, ConfigNodeJson][] {
  return node && typeof node === 'object' && !Array.isArray(node) ? Object.entries(node) : [];
}

/** Tag node children in number order (rule 10 before rule 9 is not how VyOS counts). */
export function entriesByNumber(node: ConfigNodeJson): [string, ConfigNodeJson][] {
  return entries(node).sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** The values of a leaf: one string, a list, or [] when unset. */
export function values(node: ConfigNodeJson): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node;
  return [];
}

export function value(node: ConfigNodeJson): string | undefined {
  return values(node)[0];
}

/** True when the node is present (a valueless leaf renders as `{}`). */
export function present(node: ConfigNodeJson): boolean {
  return node !== undefined;
}

export interface Prefix4 {
  network: number;
  length: number;
}

/** `10.1.0.0/16` or a bare address (a /32); undefined for anything else (IPv6, ranges, groups). */
export function parsePrefix(text: string): Prefix4 | undefined {
  const [addr, len] = text.includes('/') ? text.split('/') : [text, '32'];
  const n = ipv4ToNumber(addr!);
  const length = Number(len);
  if (n === undefined || !/^\d+$/.test(len!) || length > 32) return undefined;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return { network: (n & mask) >>> 0, length };
}

/** True when `inner` lies inside `outer`. */
export function prefixContains(outer: Prefix4, inner: Prefix4): boolean {
  if (inner.length < outer.length) return false;
  const mask = outer.length === 0 ? 0 : (0xffffffff << (32 - outer.length)) >>> 0;
  return (inner.network & mask) >>> 0 === outer.network;
}

/** True when some address lies in both prefixes (for prefixes: one contains the other). */
export function prefixesOverlap(a: Prefix4, b: Prefix4): boolean {
  return prefixContains(a, b) || prefixContains(b, a);
}

const RATE_UNITS: Record<string, number> = {
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

/**
 * VyOS rate syntax: a plain number is kbit/s (`vyos/qos/base.py` `_rate_convert`: "no suffix implies
 * Kbps just as Cisco IOS"); suffixes bit…tbit (and kibit…, bps = bytes); `N%` is relative to `baseBps`;
 * `auto` is `baseBps`. Undefined for text VyOS would reject.
 */
export function parseRate(text: string | undefined, baseBps: number): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  if (t === 'auto') return baseBps;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) return (Number(pct[1]) / 100) * baseBps;
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(t);
  if (!m) return undefined;
  const unit = RATE_UNITS[m[2]!];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/**
 * DSCP code points by name (RFC 2474/2597/3246). In a QoS class VyOS turns these into the TOS byte
 * with the ECN bits clear (`vyos/qos/base.py` `_dsfields`: EF → 0xb8 = 46 << 2), so a name matches
 * its DSCP on every version.
 */
export const DSCP_NAMES: Readonly<Record<string, number>> = {
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

/**
 * The legacy TOS names a QoS class also accepts, as the TOS byte `_dsfields` writes. Values with ECN
 * bits set (mincost 0x02, critical 0x0a) match no ECN-0 packet.
 */
export const TOS_NAMES: Readonly<Record<string, number>> = {
  lowdelay: 0x10,
  throughput: 0x08,
  reliability: 0x04,
  mincost: 0x02,
  priority: 0x20,
  immediate: 0x40,
  flash: 0x60,
  'flash-override': 0x80,
  critical: 0x0a,
  internet: 0xc0,
  network: 0xe0,
};

/**
 * DSCP values of a `policy route … dscp` list (nftables `ip dscp`: numbers are DSCP on every version):
 * names, numbers and ranges `lo-hi`. Entries it cannot read are returned in `unreadable`.
 */
export function parseDscpList(list: string[]): { dscp: Set<number>; unreadable: string[] } {
  const dscp = new Set<number>();
  const unreadable: string[] = [];
  for (const v of list) {
    const named = DSCP_NAMES[v.toLowerCase()];
    if (named !== undefined) {
      dscp.add(named);
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(v);
    if (!m) {
      unreadable.push(v);
      continue;
    }
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    for (let d = lo; d <= hi && d <= 63; d++) dscp.add(d);
  }
  return { dscp, unreadable };
}
