/**
 * Links between the discovered routers, inferred by matching the two ends:
 * - a point-to-point subnet (/29–/31, /126–/127) configured on exactly two routers' interfaces;
 * - a WireGuard peer whose public key is the key of another router's WireGuard interface (the key is
 *   derived from that interface's private key, as the handshake proves it);
 * - an IPsec site-to-site peer whose remote-address is another router's local-address and back, joining
 *   the VTIs they bind;
 * - an OpenVPN site-to-site interface whose remote-host is another router's local-host.
 * BGP neighbors on a link's far address are added as evidence. Every link keeps the evidence it was found
 * by, so a reviewer can see why discovery believes in it.
 */
import { interfaceAddress, isPointToPoint } from './net.ts';
import type { InterfaceFacts, RouterFacts } from './router-facts.ts';

/** How the link is carried, from its interfaces: what decides the link kind (classify.ts). */
export type Transport = 'ethernet' | 'wireguard' | 'ipsec' | 'openvpn' | 'gre';

export interface InferredEnd {
  site: string;
  interface: string;
  /** The end's tunnel-side address (no length): the probe source and the peer's next hop. */
  address?: string;
}

export interface InferredLink {
  a: InferredEnd;
  b: InferredEnd;
  transport: Transport;
  /** The point-to-point subnet both ends sit in, when they share one. */
  subnet?: string;
  evidence: string[];
  /** An end is disabled or `show interfaces` reports it down. */
  down: boolean;
  /** Both ends configure a BGP neighbor on the other's address (a session runs over the link). */
  bgp: boolean;
  /** BGP sessions over the link that `show ip bgp summary` reports not Established (`site → address: state`). */
  bgpDown: string[];
}

/** An interface that looks like a link end (a tunnel, or a point-to-point address) with no router on the far side. */
export interface UnmatchedEnd {
  site: string;
  interface: string;
  addresses: string[];
}

export interface LinkInference {
  links: InferredLink[];
  unmatched: UnmatchedEnd[];
  notes: string[];
}

const tunnelTypes: Record<string, Transport> = { wireguard: 'wireguard', vti: 'ipsec', openvpn: 'openvpn', tunnel: 'gre' };

export function transportOf(type: string): Transport {
  return tunnelTypes[type] ?? 'ethernet';
}

interface Located {
  site: string;
  iface: InterfaceFacts;
}

const endKey = (site: string, iface: string) => `${site}|${iface}`;
const isDown = (i: InterfaceFacts) => i.disabled || (i.state !== undefined && i.state !== 'u/u');
const firstAddress = (i: InterfaceFacts) => i.addresses.map(interfaceAddress).find((a) => a !== undefined)?.address;

/** Collects links keyed by their two ends (in either order), merging the evidence of each rule. */
class LinkSet {
  private readonly byKey = new Map<string, InferredLink>();
  add(x: Located, y: Located, evidence: string, addresses?: { a?: string; b?: string; subnet?: string }): void {
    const key = [endKey(x.site, x.iface.name), endKey(y.site, y.iface.name)].sort().join('~');
    const existing = this.byKey.get(key);
    if (existing) {
      if (!existing.evidence.includes(evidence)) existing.evidence.push(evidence);
      return;
    }
    const a = addresses?.a ?? firstAddress(x.iface);
    const b = addresses?.b ?? firstAddress(y.iface);
    this.byKey.set(key, {
      a: { site: x.site, interface: x.iface.name, ...(a ? { address: a } : {}) },
      b: { site: y.site, interface: y.iface.name, ...(b ? { address: b } : {}) },
      // Two tunnel ends of different kinds cannot talk; the first end's kind is reported (with a note).
      transport: transportOf(x.iface.type),
      ...(addresses?.subnet ? { subnet: addresses.subnet } : {}),
      evidence: [evidence],
      down: isDown(x.iface) || isDown(y.iface),
      bgp: false,
      bgpDown: [],
    });
  }
  has(site: string, iface: string): boolean {
    return [...this.byKey.values()].some(
      (l) => (l.a.site === site && l.a.interface === iface) || (l.b.site === site && l.b.interface === iface),
    );
  }
  values(): InferredLink[] {
    return [...this.byKey.values()];
  }
}

function bySharedSubnet(routers: readonly RouterFacts[], links: LinkSet, notes: string[]): void {
  const members = new Map<string, { at: Located; address: string }[]>();
  for (const r of routers)
    for (const iface of r.interfaces)
      for (const text of iface.addresses) {
        const addr = interfaceAddress(text);
        if (!addr || !isPointToPoint(addr)) continue;
        const list = members.get(addr.network) ?? [];
        list.push({ at: { site: r.site, iface }, address: addr.address });
        members.set(addr.network, list);
      }
  for (const [subnet, list] of members) {
    if (list.length < 2) continue;
    const names = list.map((m) => `${m.at.site} ${m.at.iface.name}`);
    if (list.length > 2 || list[0]!.at.site === list[1]!.at.site) {
      notes.push(`subnet ${subnet} is on ${names.join(', ')}: not a link between two routers, left out`);
      continue;
    }
    const [x, y] = list as [(typeof list)[0], (typeof list)[0]];
    links.add(x.at, y.at, `shared subnet ${subnet}`, { a: x.address, b: y.address, subnet });
  }
}

function byWireguardKeys(
  routers: readonly RouterFacts[],
  links: LinkSet,
  find: (site: string, iface: string) => Located | undefined,
) {
  const byKey = new Map<string, Located>();
  for (const r of routers)
    for (const wg of r.wireguard) {
      const at = find(r.site, wg.interface);
      if (wg.publicKey && at) byKey.set(wg.publicKey, at);
    }
  for (const r of routers)
    for (const wg of r.wireguard) {
      const here = find(r.site, wg.interface);
      for (const peer of wg.peers) {
        const there = peer.publicKey ? byKey.get(peer.publicKey) : undefined;
        if (!here || !there || there.site === r.site) continue;
        links.add(here, there, `WireGuard peer "${peer.name}" holds the public key of ${there.site} ${there.iface.name}`);
      }
    }
}

function byIpsecPeers(
  routers: readonly RouterFacts[],
  links: LinkSet,
  find: (site: string, iface: string) => Located | undefined,
  notes: string[],
) {
  const byLocal = new Map<string, { site: string; peer: RouterFacts['ipsec'][number] }>();
  for (const r of routers) for (const p of r.ipsec) if (p.localAddress) byLocal.set(p.localAddress, { site: r.site, peer: p });
  for (const r of routers)
    for (const p of r.ipsec)
      for (const remote of p.remoteAddresses) {
        const other = byLocal.get(remote);
        if (!other || other.site === r.site || !p.localAddress || !other.peer.remoteAddresses.includes(p.localAddress)) continue;
        const here = p.vti ? find(r.site, p.vti) : undefined;
        const there = other.peer.vti ? find(other.site, other.peer.vti) : undefined;
        if (here && there) links.add(here, there, `IPsec peer "${p.name}" faces ${other.site} (${remote} ↔ ${p.localAddress})`);
        else if (r.site < other.site)
          notes.push(
            `IPsec ${r.site} ↔ ${other.site} (${p.localAddress} ↔ ${remote}) is policy-based: no VTI to attach a link to`,
          );
      }
}

function byOpenvpnHosts(
  routers: readonly RouterFacts[],
  links: LinkSet,
  find: (site: string, iface: string) => Located | undefined,
) {
  const byHost = new Map<string, Located>();
  for (const r of routers)
    for (const o of r.openvpn) {
      const at = find(r.site, o.interface);
      if (o.localHost && at) byHost.set(o.localHost, at);
    }
  for (const r of routers)
    for (const o of r.openvpn) {
      const here = find(r.site, o.interface);
      for (const host of o.remoteHosts) {
        const there = byHost.get(host);
        if (here && there && there.site !== r.site)
          links.add(here, there, `OpenVPN ${o.interface} dials ${there.site} (${host})`);
      }
    }
}

/**
 * BGP sessions run over the links: a neighbor on the far address of a link is evidence for it, and with
 * neighbors on both ends the link carries BGP (`bgp: true`).
 */
function addBgpEvidence(routers: readonly RouterFacts[], links: LinkSet): void {
  for (const l of links.values()) {
    const sides = new Set<string>();
    for (const r of routers)
      for (const n of r.bgp.neighbors) {
        const [mine, far] = l.a.site === r.site ? [l.a, l.b] : l.b.site === r.site ? [l.b, l.a] : [];
        if (!mine || far?.address !== n.address) continue;
        sides.add(mine.site);
        l.evidence.push(`BGP neighbor ${mine.site} → ${n.address}${n.remoteAs ? ` (AS ${n.remoteAs})` : ''}`);
        if (n.session && !n.session.established) l.bgpDown.push(`${mine.site} → ${n.address}: ${n.session.state}`);
      }
    l.bgp = sides.size === 2;
  }
}

/** Interfaces that look like link ends but reach no discovered router (a cloud gateway, a removed peer). */
function unmatchedEnds(routers: readonly RouterFacts[], links: LinkSet): UnmatchedEnd[] {
  const out: UnmatchedEnd[] = [];
  for (const r of routers)
    for (const iface of r.interfaces) {
      const looksLikeLink =
        transportOf(iface.type) !== 'ethernet' ||
        iface.addresses.some((t) => {
          const a = interfaceAddress(t);
          return a !== undefined && isPointToPoint(a);
        });
      if (looksLikeLink && !links.has(r.site, iface.name))
        out.push({ site: r.site, interface: iface.name, addresses: iface.addresses });
    }
  return out;
}

export function inferLinks(routers: readonly RouterFacts[]): LinkInference {
  const index = new Map<string, Located>();
  for (const r of routers) for (const iface of r.interfaces) index.set(endKey(r.site, iface.name), { site: r.site, iface });
  const find = (site: string, iface: string) => index.get(endKey(site, iface));
  const links = new LinkSet();
  const notes: string[] = [];
  bySharedSubnet(routers, links, notes);
  byWireguardKeys(routers, links, find);
  byIpsecPeers(routers, links, find, notes);
  byOpenvpnHosts(routers, links, find);
  addBgpEvidence(routers, links);
  for (const l of links.values()) {
    const a = find(l.a.site, l.a.interface)!;
    const b = find(l.b.site, l.b.interface)!;
    if (transportOf(a.iface.type) !== transportOf(b.iface.type))
      notes.push(
        `${l.a.site} ${l.a.interface} (${a.iface.type}) ↔ ${l.b.site} ${l.b.interface} (${b.iface.type}): the two ends differ in kind`,
      );
  }
  return { links: links.values(), unmatched: unmatchedEnds(routers, links), notes };
}
