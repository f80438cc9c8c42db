/**
 * From the two overlay files to a plan: one WireGuard interface per node endpoint, its peers, and what
 * each peer carries. Everything wrong is collected (not only the first), each with its file position.
 *
 * The model (../shared/reference/overlay-example/README.md): nodes of a group mesh directly; groups talk
 * through relays; clients sit behind NAT, so they dial relays (endpoint + keepalive on the client side)
 * and relays never dial clients (no endpoint). Several relays give redundancy: per source and destination
 * prefix the lowest `priority` is the primary path, the others backups. WireGuard routes a prefix to
 * exactly one peer per interface, so a prefix that a primary and a backup peer of one interface both list
 * stays on the primary only; the backup keeps it as a *failover prefix* that the actuator moves onto it
 * when the primary's tunnel is down (and back once it is healthy).
 */
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../../core/errors.ts';
import { isPublicHost } from '../../core/net-hosts.ts';
import type { LocatedFile } from '../../core/located-json.ts';
import type { OverlayNode, Peering } from './overlay-input.ts';

export interface OverlayOptions {
  /** Keep only each prefix's primary path: backup peerings are left out (both directions). */
  disableMultipath?: boolean;
  /** Persistent keepalive (s) from a client to its primary and to its backup peers. */
  keepalivePrimaryS?: number;
  keepaliveBackupS?: number;
}

export interface PlannedPeer {
  /** The peer node's name (also the VyOS peer alias). */
  node: string;
  /** The peer node's interface at the other end of this tunnel. */
  iface: string;
  allowedIps: string[];
  /** Prefixes this backup peer takes over when the primary's tunnel is down (not installed now). */
  failoverIps: string[];
  /** Where to dial the peer; absent where this side never dials (a relay towards a client behind NAT). */
  endpoint?: { host: string; port: number };
  keepaliveS?: number;
  priority: number;
  path: 'primary' | 'backup';
}

export interface PlannedInterface {
  node: string;
  /** `wgN`, one per endpoint of the node in the file's order. */
  name: string;
  endpointName: string;
  listen: { host: string; port: number };
  /** The node's overlay address, as a host prefix. */
  address: string;
  peers: PlannedPeer[];
}

export interface PlannedNode {
  node: OverlayNode;
  interfaces: PlannedInterface[];
  /** Static routes the router needs (VyOS adds none for allowed-ips; wg-quick does). */
  routes: { prefix: string; iface: string }[];
}

export interface OverlayPlan {
  nodes: PlannedNode[];
  /** Each tunnel once: its two ends and the path it is for. */
  tunnels: { a: { node: string; iface: string }; b: { node: string; iface: string }; path: 'primary' | 'backup' }[];
  /** Client groups (meshes) as found from the client-to-client peerings. */
  groups: string[][];
  notes: string[];
}

const DEFAULT_KEEPALIVE_PRIMARY_S = 25;
const DEFAULT_KEEPALIVE_BACKUP_S = 50;

/** `host:port` or `[v6]:port`. */
export function parseEndpoint(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const host = m[1]!;
  if (!ipaddr.isValid(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host))
    return undefined;
  return { host, port };
}

function parseCidr(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    return ipaddr.parseCIDR(text);
  } catch {
    return undefined;
  }
}

function overlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y || x[0].kind() !== y[0].kind()) return false;
  return x[0].match(y[0], Math.min(x[1], y[1]));
}

const hostPrefix = (ip: string) => `${ip}/${ipaddr.parse(ip).kind() === 'ipv6' ? 128 : 32}`;

export function planOverlay(
  nodesFile: LocatedFile<{ nodes: OverlayNode[] }>,
  topologyFile: LocatedFile<{ peers: Peering[] }>,
  options: OverlayOptions = {},
): OverlayPlan {
  const errors: string[] = [];
  const notes: string[] = [];
  const fail = (where: string, msg: string) => errors.push(`${where}: ${msg}`);
  const nodes = nodesFile.data.nodes;
  const peers = topologyFile.data.peers;
  const byName = new Map<string, { node: OverlayNode; index: number }>();
  const ips = new Map<string, string>();

  nodes.forEach((n, i) => {
    if (byName.has(n.name)) fail(nodesFile.at(['nodes', i, 'name']), `duplicate node name "${n.name}"`);
    else byName.set(n.name, { node: n, index: i });
    if (!ipaddr.isValid(n.wireguard_ip))
      fail(nodesFile.at(['nodes', i, 'wireguard_ip']), `"${n.wireguard_ip}" is not an IP address`);
    else {
      const ip = ipaddr.parse(n.wireguard_ip).toString();
      const other = ips.get(ip);
      if (other) fail(nodesFile.at(['nodes', i, 'wireguard_ip']), `${n.wireguard_ip} is already node ${other}'s overlay address`);
      else ips.set(ip, n.name);
    }
    const endpointNames = new Set<string>();
    const ports = new Map<number, string>();
    n.endpoints.forEach((e, j) => {
      const where = (field: string) => nodesFile.at(['nodes', i, 'endpoints', j, field]);
      if (endpointNames.has(e.name)) fail(where('name'), `node ${n.name} has two endpoints named "${e.name}"`);
      endpointNames.add(e.name);
      const ep = parseEndpoint(e.endpoint);
      if (!ep) {
        fail(where('endpoint'), `"${e.endpoint}" is not host:port (port 1-65535)`);
        return;
      }
      const clash = ports.get(ep.port);
      if (clash)
        fail(
          where('endpoint'),
          `UDP port ${ep.port} is already endpoint "${clash}"'s on node ${n.name} (one WireGuard interface per port)`,
        );
      ports.set(ep.port, e.name);
      if (n.role === 'relay' && !isPublicHost(ep.host))
        fail(where('endpoint'), `relay ${n.name} needs a public endpoint: ${ep.host} is not reachable from behind NAT`);
    });
  });
  nodes.forEach((n, i) =>
    n.endpoints.forEach((e, j) =>
      e.allowed_peers.forEach((p, k) => {
        const where = nodesFile.at(['nodes', i, 'endpoints', j, 'allowed_peers', k]);
        if (p === n.name) fail(where, `node ${n.name} lists itself as a peer`);
        else if (!byName.has(p)) fail(where, `unknown peer "${p}" (no node of that name in ${nodesFile.file})`);
      }),
    ),
  );

  // Peerings: known nodes, an endpoint of the source that allows the destination, valid prefixes, and a
  // peering back (WireGuard needs both ends to know each other).
  const key = (p: Pick<Peering, 'from' | 'to'>) => `${p.from}→${p.to}`;
  const seen = new Map<string, number>();
  peers.forEach((p, i) => {
    const at = (field: string) => topologyFile.at(['peers', i, field]);
    const from = byName.get(p.from)?.node;
    if (!from) fail(at('from'), `unknown node "${p.from}"`);
    if (!byName.has(p.to)) fail(at('to'), `unknown node "${p.to}"`);
    if (p.from === p.to) fail(at('to'), `a node cannot peer with itself`);
    if (seen.has(key(p))) fail(at('to'), `${key(p)} is listed twice (also peers[${seen.get(key(p))}])`);
    seen.set(key(p), i);
    if (from) {
      const e = from.endpoints.find((x) => x.name === p.endpoint);
      if (!e)
        fail(
          at('endpoint'),
          `node ${p.from} has no endpoint "${p.endpoint}" (it has ${from.endpoints.map((x) => x.name).join(', ')})`,
        );
      else if (!e.allowed_peers.includes(p.to))
        fail(at('to'), `${p.to} is not in node ${p.from}'s endpoint "${p.endpoint}" allowed_peers`);
    }
    p.allowed_ips.forEach((ip, k) => {
      if (!parseCidr(ip)) fail(topologyFile.at(['peers', i, 'allowed_ips', k]), `"${ip}" is not a prefix (address/length)`);
    });
  });
  peers.forEach((p, i) => {
    if (byName.has(p.from) && byName.has(p.to) && !seen.has(key({ from: p.to, to: p.from })))
      fail(topologyFile.at(['peers', i]), `asymmetric: ${key(p)} has no ${p.to}→${p.from} (a tunnel needs both ends)`);
  });
  if (errors.length > 0) throw new ValidationError(errors.join('\n'));

  // Multipath: per source, a prefix listed by several peers belongs to the lowest priority; with
  // --disable-multipath the backup peerings go (both directions), else they keep it as a failover prefix.
  const dropped = new Set<string>();
  const active = (p: Peering) => !dropped.has(key(p)) && !dropped.has(key({ from: p.to, to: p.from }));
  if (options.disableMultipath) {
    for (const p of peers) {
      const rivals = peers.filter((q) => q.from === p.from && q !== p && q.priority < p.priority);
      if (rivals.some((q) => q.allowed_ips.some((a) => p.allowed_ips.some((b) => overlap(a, b))))) dropped.add(key(p));
    }
    if (dropped.size > 0) notes.push(`multipath disabled: left out ${[...dropped].join(', ')} and their reverse peerings`);
  }

  const primaryS = options.keepalivePrimaryS ?? DEFAULT_KEEPALIVE_PRIMARY_S;
  const backupS = options.keepaliveBackupS ?? DEFAULT_KEEPALIVE_BACKUP_S;
  const ifaceOf = (node: string, endpointName: string) =>
    `wg${byName.get(node)!.node.endpoints.findIndex((e) => e.name === endpointName)}`;
  const listenOf = (node: string, endpointName: string) =>
    parseEndpoint(byName.get(node)!.node.endpoints.find((e) => e.name === endpointName)!.endpoint)!;
  const reverse = (p: Peering) => peers.find((q) => q.from === p.to && q.to === p.from)!;

  const planned: PlannedNode[] = nodes.map((n) => {
    const interfaces: PlannedInterface[] = n.endpoints.map((e, j) => {
      const mine = peers
        .filter((p) => p.from === n.name && p.endpoint === e.name && active(p))
        .sort((a, b) => a.priority - b.priority);
      const best = Math.min(...mine.map((p) => p.priority));
      const planPeers: PlannedPeer[] = mine.map((p) => {
        const back = reverse(p);
        const to = byName.get(p.to)!.node;
        const dials = n.role === 'client' || to.role === 'relay';
        return {
          node: p.to,
          iface: ifaceOf(p.to, back.endpoint),
          allowedIps: [...p.allowed_ips],
          failoverIps: [],
          ...(dials ? { endpoint: listenOf(p.to, back.endpoint) } : {}),
          ...(n.role === 'client' ? { keepaliveS: p.priority === best ? primaryS : backupS } : {}),
          priority: p.priority,
          path: p.priority === best ? 'primary' : 'backup',
        };
      });
      // One peer per prefix on an interface: the lowest priority keeps it, the others hold it for failover.
      planPeers.forEach((peer, a) => {
        for (let b = 0; b < a; b++) {
          const first = planPeers[b]!;
          for (const ip of [...peer.allowedIps]) {
            const clash = first.allowedIps.find((x) => overlap(x, ip));
            if (!clash) continue;
            if (first.priority === peer.priority) {
              const i = peers.findIndex((p) => p.from === n.name && p.to === peer.node);
              errors.push(
                `${topologyFile.at(['peers', i, 'allowed_ips'])}: ${ip} overlaps ${clash} of peer ${first.node} on ${n.name}'s interface "${e.name}" at the same priority ${peer.priority}: WireGuard routes a prefix to one peer per interface; give one of them a higher priority`,
              );
              continue;
            }
            peer.allowedIps = peer.allowedIps.filter((x) => x !== ip);
            peer.failoverIps.push(ip);
            notes.push(`${n.name} ${`wg${j}`}: ${ip} via ${first.node} (primary); ${peer.node} takes it over on failover`);
          }
        }
      });
      for (const peer of planPeers) {
        if (peer.allowedIps.length === 0)
          errors.push(
            `${topologyFile.at(['peers', peers.findIndex((p) => p.from === n.name && p.to === peer.node), 'allowed_ips'])}: every prefix of ${n.name}→${peer.node} is also a primary's: the peer would have no allowed-ips (VyOS requires one); give it its own address`,
          );
      }
      const port = listenOf(n.name, e.name);
      return {
        node: n.name,
        name: `wg${j}`,
        endpointName: e.name,
        listen: port,
        address: hostPrefix(n.wireguard_ip),
        peers: planPeers,
      };
    });
    const own = hostPrefix(n.wireguard_ip);
    const routes = interfaces.flatMap((i) =>
      i.peers.flatMap((p) => p.allowedIps.filter((ip) => ip !== own).map((prefix) => ({ prefix, iface: i.name }))),
    );
    return { node: n, interfaces: interfaces.filter((i) => i.peers.length > 0), routes };
  });
  if (errors.length > 0) throw new ValidationError(errors.join('\n'));

  const tunnels: OverlayPlan['tunnels'] = [];
  for (const pn of planned)
    for (const i of pn.interfaces)
      for (const p of i.peers)
        if (pn.node.name < p.node)
          tunnels.push({ a: { node: pn.node.name, iface: i.name }, b: { node: p.node, iface: p.iface }, path: p.path });

  // Groups: connected components of client-to-client peerings.
  const clients = nodes.filter((n) => n.role === 'client').map((n) => n.name);
  const groupOf = new Map<string, number>();
  const groups: string[][] = [];
  for (const c of clients) {
    if (groupOf.has(c)) continue;
    const group: string[] = [];
    const stack = [c];
    groupOf.set(c, groups.length);
    while (stack.length) {
      const x = stack.pop()!;
      group.push(x);
      for (const p of peers)
        if (p.from === x && active(p) && byName.get(p.to)!.node.role === 'client' && !groupOf.has(p.to)) {
          groupOf.set(p.to, groups.length);
          stack.push(p.to);
        }
    }
    groups.push(group.sort());
  }
  return { nodes: planned, tunnels, groups, notes };
}
