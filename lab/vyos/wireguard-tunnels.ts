/**
 * Which WireGuard tunnels come up between emulated routers, from their running configs: a tunnel between
 * two interfaces is up only when each end lists the other's public key (derived from the other end's
 * private key, as the handshake proves), neither peer is disabled, and one end can dial the other — its
 * peer endpoint is the other end's underlay address and listen port, and that address is reachable
 * from the dialling side (a public address, or a private one on the dialler's own /24: the NAT model of
 * the overlay). The other end then learns the endpoint from the handshake (WireGuard roaming), so one
 * correct side is enough. A botched key rotation or a wrong port shows here as a tunnel down.
 */
import ipaddr from 'ipaddr.js';
import { isPublicHost } from '../../core/net-hosts.ts';
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';
import type { ConfigJson } from './types.ts';

export interface WireguardPeerConfig {
  alias: string;
  publicKey?: string;
  address?: string;
  port?: number;
  allowedIps: string[];
  disabled: boolean;
}

export interface WireguardEnd {
  node: string;
  iface: string;
  publicKey?: string;
  port?: number;
  disabled: boolean;
  peers: WireguardPeerConfig[];
}

export interface TunnelState {
  a: { node: string; iface: string; peer: string };
  b?: { node: string; iface: string; peer?: string };
  up: boolean;
  /** Why it is down. */
  reason?: string;
}

const list = (v: ConfigJson | string | string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : Array.isArray(v) ? v : Object.keys(v);
const one = (v: ConfigJson | string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: ConfigJson | string | string[] | undefined): ConfigJson =>
  v && typeof v === 'object' && !Array.isArray(v) ? v : {};

/** The WireGuard interfaces of one router, from its `showConfig(['interfaces','wireguard'])`. */
export function wireguardEnds(node: string, wireguard: ConfigJson): WireguardEnd[] {
  return Object.entries(wireguard).map(([iface, raw]) => {
    const cfg = obj(raw);
    const priv = one(cfg['private-key']);
    const port = one(cfg['port']);
    return {
      node,
      iface,
      ...(priv && wireguardPublicKey(priv) ? { publicKey: wireguardPublicKey(priv)! } : {}),
      ...(port ? { port: Number(port) } : {}),
      disabled: 'disable' in cfg,
      peers: Object.entries(obj(cfg['peer'])).map(([alias, p]) => {
        const pc = obj(p);
        const address = one(pc['address']);
        const pport = one(pc['port']);
        const pub = one(pc['public-key']);
        return {
          alias,
          ...(pub ? { publicKey: pub } : {}),
          ...(address ? { address } : {}),
          ...(pport ? { port: Number(pport) } : {}),
          allowedIps: list(pc['allowed-ips']),
          disabled: 'disable' in pc,
        };
      }),
    };
  });
}

/** Can a host at `from` open a UDP flow to `to`? Public targets yes; private ones from the same /24 only. */
function reachable(from: string | undefined, to: string): boolean {
  if (isPublicHost(to)) return true;
  if (!from || !ipaddr.isValid(from) || !ipaddr.isValid(to)) return false;
  const a = ipaddr.parse(from);
  const b = ipaddr.parse(to);
  return a.kind() === b.kind() && a.match(b, a.kind() === 'ipv4' ? 24 : 64);
}

/**
 * Every peer of every end, paired with the end that holds its key. `underlay(node, iface)` is the
 * address the interface listens on (the node's endpoint host).
 */
export function wireguardTunnels(
  ends: readonly WireguardEnd[],
  underlay: (node: string, iface: string) => string | undefined,
): TunnelState[] {
  const byKey = new Map<string, WireguardEnd>();
  for (const e of ends) if (e.publicKey) byKey.set(e.publicKey, e);
  const seen = new Set<string>();
  const out: TunnelState[] = [];
  const dials = (from: WireguardEnd, p: WireguardPeerConfig, to: WireguardEnd) =>
    p.address !== undefined &&
    p.address === underlay(to.node, to.iface) &&
    p.port === to.port &&
    reachable(underlay(from.node, from.iface), p.address);
  for (const x of ends)
    for (const p of x.peers) {
      const y = p.publicKey ? byKey.get(p.publicKey) : undefined;
      const a = { node: x.node, iface: x.iface, peer: p.alias };
      if (!y) {
        out.push({ a, up: false, reason: `no router holds the private key of peer ${p.alias}'s public key` });
        continue;
      }
      const pair = [`${x.node}/${x.iface}`, `${y.node}/${y.iface}`].sort().join('|');
      if (seen.has(pair)) continue;
      seen.add(pair);
      const q = y.peers.find((r) => r.publicKey === x.publicKey);
      const b = { node: y.node, iface: y.iface, ...(q ? { peer: q.alias } : {}) };
      const reason = !q
        ? `${y.node}/${y.iface} has no peer with ${x.node}/${x.iface}'s public key`
        : x.disabled || y.disabled || p.disabled || q.disabled
          ? 'disabled'
          : !dials(x, p, y) && !dials(y, q, x)
            ? 'neither end can dial the other (endpoint address/port wrong, missing or behind NAT)'
            : undefined;
      out.push({ a, b, up: reason === undefined, ...(reason ? { reason } : {}) });
    }
  return out;
}

/** Which peers of `node`'s interface `iface` have a live tunnel (peer alias → up): what `summary` reports. */
export function peerStatus(tunnels: readonly TunnelState[], node: string, iface: string): Map<string, boolean> {
  const up = new Map<string, boolean>();
  for (const t of tunnels) {
    if (t.a.node === node && t.a.iface === iface) up.set(t.a.peer, t.up);
    if (t.b?.node === node && t.b.iface === iface && t.b.peer) up.set(t.b.peer, t.up);
  }
  return up;
}
