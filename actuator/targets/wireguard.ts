/**
 * WireGuard peers of an existing interface (`interfaces wireguard wgN peer …`): the tunnel changes the
 * rollout pipeline carries — an overlay update, a failover prefix moved from the primary to the backup
 * peer when the primary's tunnel is down (and back), the peers' new public key in a rotation. The interface
 * itself and its private key are not rendered here: a private key never travels in an intent (overlay gen
 * writes it into the node's own files; on a router it is generated there).
 *
 * WireGuard routes each prefix to exactly one peer of an interface, so a render that would leave a prefix
 * on two peers is refused (the intent must move it, not copy it).
 */
import type { Topology } from '../../core/config/topology.ts';
import { ValidationError } from '../../core/errors.ts';
import type { WireguardPeersIntent } from '../../core/proposal.ts';
import { wireguardKeyPair } from '../../core/wireguard-keys.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { check, child, isObj, values, type ActuationTarget } from './types.ts';

type Peer = WireguardPeersIntent['peers'][number];

/** A multi-value leaf as VyOS renders it: one value a string, several a list. */
const leaf = (xs: readonly string[]): string | string[] => (xs.length === 1 ? xs[0]! : [...xs]);

function peerConfig(p: Peer): ConfigJson {
  return {
    'public-key': p.public_key,
    'allowed-ips': leaf(p.allowed_ips),
    ...(p.endpoint ? { address: p.endpoint.address, port: String(p.endpoint.port) } : {}),
    ...(p.keepalive_s ? { 'persistent-keepalive': String(p.keepalive_s) } : {}),
    ...(p.description ? { description: p.description } : {}),
  };
}

/** Two peers of one interface holding overlapping prefixes (WireGuard would route one of them only). */
function sharedPrefixes(peers: ConfigJson): string[] {
  const owner = new Map<string, string>();
  const clashes: string[] = [];
  for (const [name, cfg] of Object.entries(peers)) {
    if (!isObj(cfg) || 'disable' in cfg) continue;
    for (const ip of values(cfg['allowed-ips'])) {
      const other = owner.get(ip);
      if (other !== undefined) clashes.push(`${ip} on both ${other} and ${name}`);
      owner.set(ip, name);
    }
  }
  return clashes;
}

export const wireguardTarget: ActuationTarget<'wireguard-peers', ConfigJson | null | undefined> = {
  name: 'wireguard-peers',
  kinds: ['wireguard-peers'],
  contexts: ['wireguard'],
  // Undefined when not read (intake's check against {}: the peers are checked, the interface is not).
  read: (pre) => pre.wireguard,
  render(intent, state, { opts, touch }) {
    const iface = child(state, intent.interface);
    if (state !== undefined && (!iface || !('private-key' in iface)))
      throw new ValidationError(
        `router ${opts.router}: interfaces wireguard ${intent.interface} does not exist (no private key): create it first (pathpilot overlay gen)`,
      );
    const t = touch(['interfaces', 'wireguard', intent.interface, 'peer'], child(iface, 'peer'));
    const peers: ConfigJson = { ...(t.desired ?? {}) };
    for (const name of intent.remove ?? []) delete peers[name];
    for (const p of intent.peers) peers[p.name] = peerConfig(p);
    if (Object.keys(peers).length === 0)
      throw new ValidationError(`router ${opts.router}: ${intent.interface} would have no peer left (VyOS requires one)`);
    const clashes = sharedPrefixes(peers);
    if (clashes.length > 0)
      throw new ValidationError(
        `router ${opts.router}: ${intent.interface} would route ${clashes.join('; ')}: WireGuard takes a prefix to one peer per interface — move it, do not copy it`,
      );
    t.desired = peers;
  },
  effect(intent, dataplane) {
    const peers = child(child(child(child(dataplane.config, 'interfaces'), 'wireguard'), intent.interface), 'peer');
    const problems: string[] = [];
    for (const name of intent.remove ?? [])
      if (peers && name in peers) problems.push(`${intent.interface} still has peer ${name}`);
    for (const p of intent.peers) {
      const cfg = child(peers, p.name);
      if (!cfg) {
        problems.push(`${intent.interface} has no peer ${p.name}`);
        continue;
      }
      if (cfg['public-key'] !== p.public_key) problems.push(`${intent.interface} peer ${p.name} has another public key`);
      const have = new Set(values(cfg['allowed-ips']));
      const want = new Set(p.allowed_ips);
      if (have.size !== want.size || [...want].some((x) => !have.has(x)))
        problems.push(
          `${intent.interface} peer ${p.name} routes ${[...have].join(' ') || 'nothing'}, not ${p.allowed_ips.join(' ')}`,
        );
      const endpoint = p.endpoint ? `${p.endpoint.address}:${p.endpoint.port}` : undefined;
      const got = cfg['address'] !== undefined ? `${values(cfg['address'])[0]}:${values(cfg['port'])[0]}` : undefined;
      if (endpoint !== got)
        problems.push(`${intent.interface} peer ${p.name} dials ${got ?? 'nothing'}, not ${endpoint ?? 'nothing'}`);
      if (cfg['disable'] !== undefined) problems.push(`${intent.interface} peer ${p.name} is disabled`);
    }
    return check(problems);
  },
  cases(topology: Topology, router: string) {
    const wg = topology.config.links.find((l) => l.kind === 'wireguard' && (l.a.site === router || l.b.site === router));
    if (!wg) return [];
    const iface = (wg.a.site === router ? wg.a : wg.b).interface;
    // A new peer (a fresh key pair per run: the suite's routers are fresh too) on one of the router's tunnels.
    const intent: WireguardPeersIntent = {
      kind: 'wireguard-peers',
      router,
      interface: iface,
      peers: [
        {
          name: 'pathpilot-conformance',
          public_key: wireguardKeyPair().publicKey,
          allowed_ips: ['198.18.255.1/32'],
          endpoint: { address: '198.51.100.77', port: 51999 },
          keepalive_s: 25,
        },
      ],
    };
    return [{ name: `a peer added on ${iface}`, intents: [intent] }];
  },
};
