/**
 * Tunnel failover as intents: when a node's primary tunnel on an interface is down, the prefixes its backup
 * peers hold for failover move onto them (WireGuard routes a prefix to one peer, so the primary loses them
 * in the same change); when the primary is healthy again they move back. Each is one `wireguard-peers`
 * intent per affected interface, through the normal pipeline (the emergency policy applies a failover
 * unattended; the restore waits for the health hysteresis). The plan is what `overlay gen` wrote
 * (plan.json); public keys come from pathpilot's key state.
 */
import type { WireguardPeersIntent } from '../../core/proposal.ts';
import type { OverlayPlan, PlannedInterface, PlannedPeer } from './overlay-plan.ts';

/** Public key of `node`'s interface `iface`. */
export type PublicKeyOf = (node: string, iface: string) => string;

function peerIntent(p: PlannedPeer, allowed: string[], publicKeyOf: PublicKeyOf): WireguardPeersIntent['peers'][number] {
  return {
    name: p.node,
    public_key: publicKeyOf(p.node, p.iface),
    allowed_ips: allowed,
    ...(p.endpoint ? { endpoint: { address: p.endpoint.host, port: p.endpoint.port } } : {}),
    ...(p.keepaliveS ? { keepalive_s: p.keepaliveS } : {}),
    description: p.failoverIps.length ? `${p.path}; failover ${p.failoverIps.join(' ')}` : p.path,
  };
}

/**
 * The peers of `iface` with the prefixes of every primary peer in `down` moved to the backups that hold
 * them for failover (the lowest priority backup that is not down itself takes each prefix).
 */
function shifted(iface: PlannedInterface, down: ReadonlySet<string>, publicKeyOf: PublicKeyOf): WireguardPeersIntent['peers'] {
  const allowed = new Map(iface.peers.map((p) => [p.node, [...p.allowedIps]]));
  for (const primary of iface.peers.filter((p) => p.path === 'primary' && down.has(p.node))) {
    for (const ip of primary.allowedIps) {
      const backup = iface.peers
        .filter((b) => b.failoverIps.includes(ip) && !down.has(b.node))
        .sort((a, b) => a.priority - b.priority)[0];
      if (!backup) continue;
      allowed.set(
        primary.node,
        allowed.get(primary.node)!.filter((x) => x !== ip),
      );
      allowed.get(backup.node)!.push(ip);
    }
  }
  // A primary left with nothing would have no allowed-ips (VyOS refuses): it keeps its own address.
  return iface.peers.map((p) => peerIntent(p, allowed.get(p.node)!.length ? allowed.get(p.node)! : p.allowedIps, publicKeyOf));
}

/**
 * Intents that carry traffic around the peers whose tunnels are `down` (`node` names, e.g. a relay): one per
 * interface of every node that has one of them as a primary with a backup; none when nothing can move.
 * `down` empty gives the intents that restore the planned state.
 */
export function tunnelFailoverIntents(
  plan: OverlayPlan,
  down: ReadonlySet<string>,
  publicKeyOf: PublicKeyOf,
  /** Every interface with failover prefixes, touched or not (a partial restore must reach them all). */
  every = false,
): WireguardPeersIntent[] {
  const out: WireguardPeersIntent[] = [];
  for (const pn of plan.nodes)
    for (const iface of pn.interfaces) {
      // A Linux node's wg-quick file is rewritten by `overlay gen`, not over an API: no intent for it.
      if ((pn.node.platform ?? 'vyos') !== 'vyos') continue;
      if (!iface.peers.some((p) => p.failoverIps.length > 0)) continue;
      const touched = iface.peers.some((p) => p.path === 'primary' && down.has(p.node));
      if (!every && down.size > 0 && !touched) continue;
      out.push({
        kind: 'wireguard-peers',
        router: pn.node.name,
        interface: iface.name,
        peers: shifted(iface, down, publicKeyOf),
      });
    }
  return out;
}

/**
 * The primaries whose failover prefixes sit on a backup in the routers' running configs now (`peersOf`:
 * a node interface's `peer` subtree, undefined when it cannot be read): what a restarted watch finds
 * applied, so it can restore a failover made before it started.
 */
export async function failedOverOnRouters(
  plan: OverlayPlan,
  peersOf: (node: string, iface: string) => Promise<Record<string, { 'allowed-ips'?: string | string[] }> | undefined>,
): Promise<Set<string>> {
  const down = new Set<string>();
  for (const pn of plan.nodes) {
    if ((pn.node.platform ?? 'vyos') !== 'vyos') continue;
    for (const iface of pn.interfaces) {
      const backups = iface.peers.filter((p) => p.failoverIps.length > 0);
      if (backups.length === 0) continue;
      const running = await peersOf(pn.node.name, iface.name);
      if (!running) continue;
      const holds = (peer: string, ip: string) => [running[peer]?.['allowed-ips'] ?? []].flat().includes(ip);
      for (const primary of iface.peers.filter((p) => p.path === 'primary'))
        for (const ip of primary.allowedIps)
          if (!holds(primary.node, ip) && backups.some((b) => b.failoverIps.includes(ip) && holds(b.node, ip)))
            down.add(primary.node);
    }
  }
  return down;
}
