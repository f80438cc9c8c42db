/**
 * The kind and capacity of each inferred link, from its transport and the cloud inventory:
 * - WireGuard is `wireguard`; OpenVPN and GRE run over the internet: `internet`.
 * - An Ethernet point-to-point link is an `interconnect`. When both addresses lie in a Direct Connect
 *   virtual interface, an ExpressRoute private peering or an Interconnect VLAN attachment, the circuit's
 *   bandwidth is its capacity; a circuit the provider deleted or deprovisioned takes the link away.
 * - An IPsec (VTI) link ending at a cloud site with a managed site-to-site VPN there (AWS VPN connection,
 *   Azure IPsec connection) is `ipsec`: the provider's VPN, billed by it per GB. An IPsec tunnel where the
 *   exports show no such VPN is one of your own over the internet: `internet`. With no export for either
 *   end's cloud, discovery cannot tell and the kind stays what the current config says.
 */
import type { LinkConfig } from '../../core/config/schema.ts';
import { cidrContains } from './net.ts';
import type { CircuitProduct, CloudCircuit, CloudInventory, CloudVpn } from './inventory.ts';
import type { InferredLink, Transport } from './links.ts';
import type { DiscoveredSite } from './sites.ts';

export type LinkKind = LinkConfig['kind'];

export interface ClassifiedLink {
  link: InferredLink;
  /** Undefined when the evidence cannot tell (an IPsec link with no export for its clouds). */
  kind?: LinkKind;
  capacityMbps?: number;
  /** Names the product in new link ids: `dx`, `er`, `ic`, `vpn`, `inet`, `wg`. */
  suffix: string;
  circuit?: CloudCircuit;
  vpns: CloudVpn[];
  /** Why the link is gone although both routers still configure it (its circuit was deleted). */
  dropped?: string;
}

const circuitSuffix: Record<CircuitProduct, string> = { 'direct-connect': 'dx', expressroute: 'er', interconnect: 'ic' };
export const kindSuffix: Record<LinkKind, string> = { interconnect: 'ic', ipsec: 'vpn', internet: 'inet', wireguard: 'wg' };
export const circuitNames: Record<CircuitProduct, string> = {
  'direct-connect': 'Direct Connect',
  expressroute: 'ExpressRoute',
  interconnect: 'Cloud Interconnect',
};

/** The kinds a transport can be: what a current config may say without contradicting the routers. */
export const kindsOf: Record<Transport, readonly LinkKind[]> = {
  ethernet: ['interconnect'],
  wireguard: ['wireguard'],
  ipsec: ['ipsec', 'internet'],
  openvpn: ['internet'],
  gre: ['internet'],
};

const endAddresses = (l: InferredLink) => [l.a.address, l.b.address].filter((a): a is string => a !== undefined);

function circuitFor(link: InferredLink, inventory: CloudInventory): CloudCircuit | undefined {
  const addresses = endAddresses(link);
  if (addresses.length < 2) return undefined;
  return inventory.circuits.find((c) => c.subnets.some((s) => addresses.every((a) => cidrContains(s, a))));
}

/**
 * Managed VPNs of a link's cloud end: by tunnel inside CIDR when one holds both addresses, else those of
 * the end's network (or region, when the export does not say which network a VPN terminates in).
 */
function vpnsFor(link: InferredLink, ends: DiscoveredSite[], inventory: CloudInventory): CloudVpn[] {
  const addresses = endAddresses(link);
  const exact = inventory.vpns.filter((v) =>
    v.insideCidrs.some((c) => addresses.length === 2 && addresses.every((a) => cidrContains(c, a))),
  );
  if (exact.length > 0) return exact;
  return inventory.vpns.filter((v) =>
    ends.some(
      (s) =>
        s.provider === v.provider &&
        s.region === v.region &&
        (v.networkIds.length === 0 || (s.network && v.networkIds.includes(s.network.id))),
    ),
  );
}

function classifyIpsec(link: InferredLink, ends: DiscoveredSite[], inventory: CloudInventory): ClassifiedLink {
  const vpns = vpnsFor(link, ends, inventory);
  const live = vpns.filter((v) => v.active);
  if (live.length > 0) {
    const capacities = new Set(live.map((v) => v.capacityMbps));
    const [capacity] = [...capacities];
    return {
      link,
      kind: 'ipsec',
      suffix: 'vpn',
      vpns: live,
      ...(capacities.size === 1 && capacity ? { capacityMbps: capacity } : {}),
    };
  }
  // Every VPN there is being deleted or gone: the tunnel has nothing to terminate on.
  if (vpns.length > 0)
    return { link, kind: 'ipsec', suffix: 'vpn', vpns, dropped: `its VPN ${vpns[0]!.id} is ${vpns[0]!.state}` };
  // A tunnel between two of your own sites is no cloud's managed VPN. Towards a cloud, the absence of a VPN
  // is evidence only where that cloud's exports were read.
  const cloudEnds = ends.filter((s) => s.provider !== 'onprem');
  const absent = cloudEnds.length === 0 || cloudEnds.some((s) => inventory.providers.some((p) => p === s.provider));
  return absent ? { link, kind: 'internet', suffix: 'inet', vpns: [] } : { link, suffix: 'vpn', vpns: [] };
}

export function classifyLink(
  link: InferredLink,
  sites: ReadonlyMap<string, DiscoveredSite>,
  inventory: CloudInventory,
): ClassifiedLink {
  const ends = [sites.get(link.a.site)!, sites.get(link.b.site)!];
  switch (link.transport) {
    case 'wireguard':
      return { link, kind: 'wireguard', suffix: 'wg', vpns: [] };
    case 'openvpn':
    case 'gre':
      return { link, kind: 'internet', suffix: 'inet', vpns: [] };
    case 'ipsec':
      return classifyIpsec(link, ends, inventory);
    case 'ethernet': {
      const circuit = circuitFor(link, inventory);
      if (!circuit) return { link, kind: 'interconnect', suffix: 'ic', vpns: [] };
      const base = { link, kind: 'interconnect' as const, suffix: circuitSuffix[circuit.product], circuit, vpns: [] };
      if (!circuit.active) return { ...base, dropped: `its ${circuitNames[circuit.product]} ${circuit.id} is ${circuit.state}` };
      return { ...base, ...(circuit.capacityMbps ? { capacityMbps: circuit.capacityMbps } : {}) };
    }
  }
}

/** Inventory the links did not account for, and IPsec links outnumbering a site's VPNs: for the notes. */
export function inventoryNotes(classified: readonly ClassifiedLink[], inventory: CloudInventory): string[] {
  const notes: string[] = [];
  const usedCircuits = new Set(classified.flatMap((c) => (c.circuit ? [c.circuit] : [])));
  for (const c of inventory.circuits)
    if (!usedCircuits.has(c) && c.active)
      notes.push(
        `${c.source}: ${circuitNames[c.product]} (${c.subnets.join(', ') || 'no peering subnet'}) joins no two discovered routers: not a link`,
      );
  const byVpn = new Map<CloudVpn, number>();
  for (const c of classified) for (const v of c.vpns) byVpn.set(v, (byVpn.get(v) ?? 0) + 1);
  for (const [vpn, n] of byVpn)
    if (n > 1) notes.push(`${vpn.source}: ${n} IPsec links end where this one VPN is: check which is which`);
  return notes;
}
