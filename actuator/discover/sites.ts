/**
 * Which cloud (and region) each router sits in, and the prefixes behind it. A router's LAN addresses
 * (connected subnets that are not links) lie inside exactly one cloud network of the inventory — a VPC,
 * a VNet, a GCP network's subnets in one region — which gives the provider, the region and the prefixes.
 * A router that is a GCP Cloud Router's BGP peer is in that router's region. Anything else is on-prem,
 * with the prefixes of its connected LANs and of static routes pointing into them.
 */
import type { SiteConfig } from '../../core/config/schema.ts';
import { canonicalCidr, cidrContains, interfaceAddress, isPointToPoint, prefixLength } from './net.ts';
import type { CloudInventory, CloudNetwork } from './inventory.ts';
import type { LinkInference } from './links.ts';
import type { RouterFacts } from './router-facts.ts';

export type SiteProvider = SiteConfig['provider'];

export interface DiscoveredSite {
  id: string;
  provider: SiteProvider;
  region: string;
  prefixes: string[];
  name?: string;
  /** The cloud network the router's LAN lies in. */
  network?: CloudNetwork;
  /** Where provider and region came from: `inventory`, the `current` config, or nowhere yet (`unknown`). */
  placedBy: 'inventory' | 'current' | 'unknown';
}

/** A router's LAN subnets: connected, not point-to-point, not a link end. */
export function lanSubnets(router: RouterFacts, inference: LinkInference): { address: string; network: string }[] {
  const linkEnds = new Set<string>();
  for (const l of inference.links) for (const end of [l.a, l.b]) if (end.site === router.site) linkEnds.add(end.interface);
  for (const u of inference.unmatched) if (u.site === router.site) linkEnds.add(u.interface);
  return router.interfaces
    .filter((i) => !linkEnds.has(i.name) && i.type !== 'loopback')
    .flatMap((i) => i.addresses.map(interfaceAddress))
    .flatMap((a) => (a && !isPointToPoint(a) && a.length < (a.family === 'ipv4' ? 32 : 128) ? [a] : []));
}

/** Prefixes behind the router: its LANs and static routes whose next hops are all on a LAN. */
function localPrefixes(router: RouterFacts, lans: { address: string; network: string }[]): string[] {
  const out = lans.map((l) => l.network);
  for (const route of router.staticRoutes) {
    const viaLan = route.nextHops.length > 0 && route.nextHops.every((nh) => lans.some((l) => cidrContains(l.network, nh)));
    const prefix = canonicalCidr(route.prefix);
    if (viaLan && prefix) out.push(prefix);
  }
  return [...new Set(out)];
}

/** The cloud network holding one of the router's LAN addresses; the most specific prefix wins. */
function networkOf(lans: { address: string }[], inventory: CloudInventory): CloudNetwork | undefined {
  let best: { network: CloudNetwork; length: number } | undefined;
  for (const network of inventory.networks)
    for (const prefix of network.prefixes)
      for (const lan of lans)
        if (cidrContains(prefix, lan.address) && (!best || prefixLength(prefix) > best.length))
          best = { network, length: prefixLength(prefix) };
  return best?.network;
}

/** Prefixes of the network plus the router's own prefixes it does not already cover. */
function mergePrefixes(network: CloudNetwork | undefined, local: string[]): string[] {
  const base = network?.prefixes ?? [];
  const extra = local.filter((p) => !base.some((b) => cidrContains(b, p.split('/')[0]!) && prefixLength(b) <= prefixLength(p)));
  return [...base, ...extra];
}

export function discoverSites(
  routers: readonly RouterFacts[],
  inference: LinkInference,
  inventory: CloudInventory,
  current: ReadonlyMap<string, SiteConfig>,
  notes: string[],
): DiscoveredSite[] {
  const used = new Map<CloudNetwork, string>();
  const sites = routers.map((router): DiscoveredSite => {
    const lans = lanSubnets(router, inference);
    const local = localPrefixes(router, lans);
    const network = networkOf(lans, inventory);
    const was = current.get(router.site);
    const name = was?.name ?? network?.name;
    const common = { id: router.site, ...(name ? { name } : {}) };
    if (network) {
      const other = used.get(network);
      if (other) notes.push(`${router.site} and ${other} are both in ${network.provider} network ${network.id}`);
      used.set(network, router.site);
      return {
        ...common,
        provider: network.provider,
        region: network.region,
        prefixes: mergePrefixes(network, local),
        network,
        placedBy: 'inventory',
      };
    }
    const peer = inventory.routerPeers.find((p) =>
      router.interfaces.some((i) => i.addresses.some((a) => a.split('/')[0] === p.address)),
    );
    if (peer) return { ...common, provider: peer.provider, region: peer.region, prefixes: local, placedBy: 'inventory' };
    // No cloud network holds it. A provider whose exports were read would have listed it: say so.
    if (was && was.provider !== 'onprem' && inventory.providers.includes(was.provider))
      notes.push(
        `${router.site}: no ${was.provider} network in the exports holds its LAN (${lans.map((l) => l.address).join(', ') || 'none'}): provider and region kept from the current config`,
      );
    const prefixes = local.length > 0 ? local : (was?.prefixes ?? []);
    if (local.length === 0)
      notes.push(`${router.site}: no LAN prefix found on the router${was ? ': prefixes kept from the current config' : ''}`);
    if (was) return { ...common, provider: was.provider, region: was.region, prefixes, placedBy: 'current' };
    return { ...common, provider: 'onprem', region: 'unknown', prefixes, placedBy: 'unknown' };
  });
  for (const network of inventory.networks)
    if (!used.has(network))
      notes.push(
        `${network.source}: ${network.provider} ${network.region} network ${network.prefixes.join(', ')} holds no discovered router: not a site`,
      );
  return sites;
}
