/**
 * The starting config of each lab router, derived from the topology so the lab begins realistic:
 * a LAN interface per site prefix, one interface per link end (ethernet for interconnects, vti for
 * IPsec, wireguard with real X25519 keys and the peer's public key), static routes to the other
 * sites' prefixes through each candidate first hop (distance by path priority), a WAN
 * load-balancing base (health checks on every link, one rule per destination prefix sending it to
 * the primary path's first hop) and the API key.
 */
import { createHash } from 'node:crypto';
import type { Topology } from '../../core/config/topology.ts';
import type { LinkConfig } from '../../core/config/schema.ts';
import ipaddr from 'ipaddr.js';
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';

/** A deterministic, clamped X25519 private key for one link end (both sides can derive the peer's). */
export function labWireguardPrivateKey(siteId: string, iface: string): string {
  const k = createHash('sha256').update(`pathpilot-lab-wg|${siteId}|${iface}`).digest();
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return k.toString('base64');
}

/** The lab's underlay ("public") address of a site, used as the WireGuard endpoint. */
function underlayAddress(topology: Topology, siteId: string): string {
  const index = [...topology.sites.keys()].indexOf(siteId);
  return `198.51.100.${index + 1}`;
}

function tunnelPrefixLength(a: string | undefined, b: string | undefined): number {
  // Both ends in one /30 (the usual point-to-point addressing); fall back to /31 or /32.
  if (!a || !b || !ipaddr.IPv4.isValid(a) || !ipaddr.IPv4.isValid(b)) return 32;
  for (const len of [30, 31]) {
    const net = ipaddr.IPv4.networkAddressFromCIDR(`${a}/${len}`).toString();
    if (net === ipaddr.IPv4.networkAddressFromCIDR(`${b}/${len}`).toString()) {
      if (len === 30 && (a === net || b === net)) continue;
      return len;
    }
  }
  return 32;
}

function kindOf(iface: string): 'ethernet' | 'wireguard' | 'vti' | undefined {
  if (/^(eth|lan)\d+$/.test(iface)) return 'ethernet';
  if (/^wg\d+$/.test(iface)) return 'wireguard';
  if (/^vti\d+$/.test(iface)) return 'vti';
  return undefined;
}

function q(v: string): string {
  return `'${v}'`;
}

/**
 * The initial config of a site's router as `set …` lines, ready for `createVyosLab({ routers: [{ seed }] })`
 * or `router.applyCommands()`. Throws when the site is unknown.
 */
export function initialRouterConfig(topology: Topology, siteId: string, apiKey?: string): string[] {
  const site = topology.site(siteId);
  const lines: string[] = [];
  const lanIface = 'eth0';
  site.prefixes.forEach((p, i) => {
    if (!ipaddr.IPv4.isValidCIDR(p)) return;
    const host = ipaddr.IPv4.networkAddressFromCIDR(p).toByteArray();
    host[3]! += 1;
    lines.push(`set interfaces ethernet ${lanIface} address ${q(`${host.join('.')}/${p.split('/')[1]}`)}`);
    if (i === 0) lines.push(`set interfaces ethernet ${lanIface} description ${q(`LAN ${site.name ?? site.id}`)}`);
  });

  const myLinks: { link: LinkConfig; mine: LinkConfig['a']; peer: LinkConfig['a'] }[] = [];
  for (const link of topology.links.values()) {
    if (link.a.site === siteId) myLinks.push({ link, mine: link.a, peer: link.b });
    else if (link.b.site === siteId) myLinks.push({ link, mine: link.b, peer: link.a });
  }
  for (const { link, mine, peer } of myLinks) {
    const kind = kindOf(mine.interface);
    if (!kind) continue;
    const base = `set interfaces ${kind} ${mine.interface}`;
    const len = tunnelPrefixLength(mine.address, peer.address);
    if (mine.address) lines.push(`${base} address ${q(`${mine.address}/${len}`)}`);
    lines.push(`${base} description ${q(`${link.kind} ${link.id} to ${peer.site}`)}`);
    if (kind === 'wireguard') {
      const port = 51800 + Number(mine.interface.slice(2));
      lines.push(`${base} port ${q(String(port))}`);
      lines.push(`${base} private-key ${q(labWireguardPrivateKey(siteId, mine.interface))}`);
      const peerKey = wireguardPublicKey(labWireguardPrivateKey(peer.site, peer.interface))!;
      const p = `${base} peer ${peer.site}`;
      lines.push(`${p} public-key ${q(peerKey)}`);
      const allowed = new Set<string>();
      if (peer.address) allowed.add(`${ipaddr.IPv4.networkAddressFromCIDR(`${peer.address}/${len}`).toString()}/${len}`);
      // Any remote prefix may be routed over any tunnel: the optimizer moves traffic between them.
      for (const s of topology.sites.values()) {
        if (s.id !== siteId) for (const pre of s.prefixes) allowed.add(pre);
      }
      for (const a of allowed) lines.push(`${p} allowed-ips ${q(a)}`);
      lines.push(`${p} address ${q(underlayAddress(topology, peer.site))}`);
      lines.push(`${p} port ${q(String(51800 + Number(peer.interface.slice(2))))}`);
      lines.push(`${p} persistent-keepalive '25'`);
    }
  }

  // BGP where the topology says so (router.asn and links with bgp): sessions to each BGP peer, own prefixes
  // originated; destinations a candidate path reaches over a BGP link are routed by BGP (no static route,
  // no WAN rule: the main table's BGP route decides, as on a real interconnect).
  const bgpPeers = site.router.asn
    ? myLinks.filter(({ link, peer }) => link.bgp && topology.site(peer.site).router.asn && peer.address)
    : [];
  const overBgp = new Set(bgpPeers.map(({ link }) => link.id));
  if (bgpPeers.length > 0) {
    const bgp = 'set protocols bgp';
    lines.push(`${bgp} system-as ${q(String(site.router.asn))}`);
    lines.push(`${bgp} parameters router-id ${q(bgpPeers[0]!.mine.address!)}`);
    for (const p of site.prefixes)
      if (ipaddr.IPv4.isValidCIDR(p)) lines.push(`${bgp} address-family ipv4-unicast network ${q(p)}`);
    for (const { link, peer } of bgpPeers) {
      const n = `${bgp} neighbor ${peer.address}`;
      lines.push(`${n} remote-as ${q(String(topology.site(peer.site).router.asn))}`);
      lines.push(`${n} description ${q(`${link.id} to ${peer.site}`)}`);
      lines.push(`${n} address-family ipv4-unicast`);
    }
  }

  // Static routes: every remote prefix via the first hop of each candidate path (distance by priority).
  const lbRules: { prefix: string; iface: string; site: string }[] = [];
  for (const other of topology.sites.values()) {
    if (other.id === siteId) continue;
    const paths = topology.pathsFor(siteId, other.id);
    if (paths.some((p) => overBgp.has(p.links[0]!))) continue;
    const hops = new Map<string, { address: string; iface: string; priority: number }>();
    for (const path of paths) {
      const first = topology.link(path.links[0]!);
      const peerEnd = first.a.site === siteId ? first.b : first.a;
      const mineEnd = first.a.site === siteId ? first.a : first.b;
      if (!peerEnd.address || !ipaddr.IPv4.isValid(peerEnd.address)) continue;
      const prev = hops.get(peerEnd.address);
      if (!prev || path.priority < prev.priority)
        hops.set(peerEnd.address, { address: peerEnd.address, iface: mineEnd.interface, priority: path.priority });
    }
    if (hops.size === 0) {
      // No candidate path configured: adjacent sites are still reached over their direct links.
      for (const { mine, peer } of myLinks) {
        if (peer.site !== other.id || !peer.address || !ipaddr.IPv4.isValid(peer.address)) continue;
        hops.set(peer.address, { address: peer.address, iface: mine.interface, priority: 1 });
      }
    }
    const primary = [...hops.values()].sort((a, b) => a.priority - b.priority)[0];
    for (const prefix of other.prefixes) {
      if (!ipaddr.IPv4.isValidCIDR(prefix)) continue;
      for (const h of hops.values()) {
        lines.push(`set protocols static route ${prefix} next-hop ${h.address} distance ${q(String(h.priority * 10))}`);
      }
      if (primary) lbRules.push({ prefix, iface: primary.iface, site: other.id });
    }
  }

  // WAN load balancing: health checks on every link interface, one rule per remote prefix.
  if (lbRules.length > 0) {
    for (const { mine, peer } of myLinks) {
      if (!peer.address || !ipaddr.IPv4.isValid(peer.address)) continue;
      const h = `set load-balancing wan interface-health ${mine.interface}`;
      lines.push(`${h} nexthop ${q(peer.address)}`);
      lines.push(`${h} failure-count '3'`);
      lines.push(`${h} test 10 type 'ping'`);
      lines.push(`${h} test 10 target ${q(peer.address)}`);
    }
    lbRules.forEach((r, i) => {
      const rule = `set load-balancing wan rule ${(i + 1) * 10}`;
      lines.push(`${rule} description ${q(`to ${r.site}`)}`);
      lines.push(`${rule} inbound-interface ${q(lanIface)}`);
      lines.push(`${rule} destination address ${q(r.prefix)}`);
      lines.push(`${rule} interface ${r.iface} weight '1'`);
    });
    lines.push('set load-balancing wan disable-source-nat');
  }

  if (apiKey !== undefined) lines.push(`set service https api keys id pathpilot key ${q(apiKey)}`);
  if (site.router.vyos_version === '1.5') lines.push('set service https api rest');
  return lines;
}
