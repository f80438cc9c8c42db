/**
 * What a router's `firewall ipv4 forward filter` does with one packet at one time, as nftables does it
 * with the chain vyos-1x renders: rules in number order, the first whose every match holds decides
 * (`accept`, `drop`, `reject`; `continue` goes on, `return` ends in the default), and without a match the
 * chain's `default-action` (accept when unset, for a base chain). Matches modelled: protocol (`tcp_udp`,
 * `all`, `!proto`), source/destination address (address, network, range, `!` negation), ports (lists,
 * ranges), address/network/port groups, `time` (the nftables frames of actuator/security/time-window.ts), `disable`.
 * A rule with any other match is treated as not matching (and said so in `unmodelled`).
 */
import ipaddr from 'ipaddr.js';
import { pieceMatches, type Weekday } from '../../actuator/security/time-window.ts';
import type { ConfigJson } from './types.ts';

export interface Packet {
  protocol: 'tcp' | 'udp' | 'icmp';
  source: string;
  destination: string;
  sourcePort?: number;
  destinationPort?: number;
}

export interface Verdict {
  action: 'accept' | 'drop' | 'reject';
  /** The rule that decided, or undefined for the default action. */
  rule?: number;
  /** Rules skipped because they match on something this model does not evaluate. */
  unmodelled: number[];
}

const obj = (v: unknown): ConfigJson => (v && typeof v === 'object' && !Array.isArray(v) ? (v as ConfigJson) : {});
const one = (v: unknown): string | undefined => (Array.isArray(v) ? String(v[0]) : typeof v === 'string' ? v : undefined);

const MODELLED = new Set(['action', 'description', 'protocol', 'source', 'destination', 'time', 'disable', 'log']);

function addressMatches(spec: string, ip: string): boolean {
  const negate = spec.startsWith('!');
  const s = negate ? spec.slice(1) : spec;
  const addr = ipaddr.parse(ip);
  let hit: boolean;
  if (s.includes('/')) hit = addr.match(ipaddr.parseCIDR(s));
  else if (s.includes('-')) {
    const [a, b] = s.split('-').map((x) =>
      ipaddr
        .parse(x)
        .toByteArray()
        .reduce((n, o) => n * 256 + o, 0),
    );
    const v = addr.toByteArray().reduce((n, o) => n * 256 + o, 0);
    hit = v >= a! && v <= b!;
  } else hit = addr.toString() === ipaddr.parse(s).toString();
  return negate ? !hit : hit;
}

function portMatches(spec: string, port: number | undefined): boolean {
  if (port === undefined) return false;
  return spec.split(',').some((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? port === a : port >= a! && port <= b;
  });
}

function protocolMatches(spec: string | undefined, p: Packet['protocol']): boolean {
  if (spec === undefined || spec === 'all') return true;
  const negate = spec.startsWith('!');
  const s = negate ? spec.slice(1) : spec;
  const hit = s === p || (s === 'tcp_udp' && (p === 'tcp' || p === 'udp'));
  return negate ? !hit : hit;
}

/** Members of `firewall group <kind> <name>` (`network`, `address` or `port` leaves). */
function members(groups: ConfigJson, kind: string, name: string, leaf: string): string[] {
  const v = obj(obj(groups[kind])[name])[leaf];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

function endpointMatches(side: ConfigJson, ip: string, port: number | undefined, groups: ConfigJson): boolean {
  const address = one(side['address']);
  if (address !== undefined && !addressMatches(address, ip)) return false;
  const ports = one(side['port']);
  if (ports !== undefined && !portMatches(ports, port)) return false;
  const group = obj(side['group']);
  const net = one(group['network-group']);
  if (net !== undefined && !members(groups, 'network-group', net, 'network').some((n) => addressMatches(n, ip))) return false;
  const addr = one(group['address-group']);
  if (addr !== undefined && !members(groups, 'address-group', addr, 'address').some((a) => addressMatches(a, ip))) return false;
  const portGroup = one(group['port-group']);
  if (portGroup !== undefined && !members(groups, 'port-group', portGroup, 'port').some((p) => portMatches(p, port)))
    return false;
  return true;
}

/** The forward chain's verdict on `packet` at `at` on a router in `routerTimeZone` (its `system time-zone`). */
export function forwardVerdict(config: ConfigJson, packet: Packet, at: number, routerTimeZone = 'UTC'): Verdict {
  const chain = obj(obj(obj(obj(config['firewall'])['ipv4'])['forward'])['filter']);
  const groups = obj(obj(config['firewall'])['group']);
  const rules = Object.entries(obj(chain['rule'])).sort(([a], [b]) => Number(a) - Number(b));
  const unmodelled: number[] = [];
  const fallback = (one(chain['default-action']) ?? 'accept') as Verdict['action'];
  for (const [n, raw] of rules) {
    const r = obj(raw);
    if ('disable' in r) continue;
    if (Object.keys(r).some((k) => !MODELLED.has(k))) {
      unmodelled.push(Number(n));
      continue;
    }
    if (!protocolMatches(one(r['protocol']), packet.protocol)) continue;
    if (!endpointMatches(obj(r['source']), packet.source, packet.sourcePort, groups)) continue;
    if (!endpointMatches(obj(r['destination']), packet.destination, packet.destinationPort, groups)) continue;
    if (r['time'] !== undefined) {
      const t = obj(r['time']);
      const days = (one(t['weekdays']) ?? '').split(',').filter(Boolean) as Weekday[];
      // VyOS writes `hour >= start` and `hour < stop` only for the leaves that are set.
      const start = one(t['starttime']);
      const stop = one(t['stoptime']);
      const piece = { ...(start !== undefined ? { starttime: start } : {}), ...(stop !== undefined ? { stoptime: stop } : {}) };
      const onDay = (days.length ? days : (['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as Weekday[])).some((weekday) =>
        pieceMatches({ weekday, ...piece }, routerTimeZone, at),
      );
      if (!onDay) continue;
    }
    const action = one(r['action']);
    if (action === 'continue') continue;
    if (action === 'return') break;
    if (action === 'accept' || action === 'drop' || action === 'reject') return { action, rule: Number(n), unmodelled };
    unmodelled.push(Number(n));
  }
  return { action: fallback, unmodelled };
}
