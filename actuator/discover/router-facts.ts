/**
 * What one router's running config says about the network around it, read from its `/retrieve
 * showConfig []` tree: interfaces with their addresses (VLAN sub-interfaces as `eth1.101`), WireGuard
 * peers, IPsec site-to-site peers and the VTI each binds, OpenVPN site-to-site ends, BGP neighbors and
 * static routes. Pure: the HTTP side is routers.ts, the matching between routers is links.ts.
 */
import { tagsAt, valuesAt, nodeAt, type ConfigNode } from '../vyos/tree.ts';
import type { ConfigJson, VyosVersion } from '../vyos/types.ts';
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';

export interface InterfaceFacts {
  /** `eth1`, `eth1.101` for a VLAN sub-interface, `wg1`, `vti2`. */
  name: string;
  /** The config node type the interface sits under: `ethernet`, `wireguard`, `vti`, `openvpn`, `bonding`… */
  type: string;
  /** Configured addresses with their lengths (`10.1.0.1/30`); `dhcp` and friends are left out. */
  addresses: string[];
  description?: string;
  disabled: boolean;
  /** `show interfaces` S/L column (`u/u`, `u/D`, `A/D`) when the router answered it. */
  state?: string;
}

export interface WireguardPeerFacts {
  name: string;
  publicKey?: string;
  /** The peer's endpoint host (`peer X address`), when this side dials. */
  endpoint?: string;
  allowedIps: string[];
  disabled: boolean;
}

export interface WireguardFacts {
  interface: string;
  /** Derived from the interface's private key: what the other end lists as this peer's key. */
  publicKey?: string;
  peers: WireguardPeerFacts[];
}

export interface IpsecPeerFacts {
  name: string;
  localAddress?: string;
  remoteAddresses: string[];
  /** The VTI a route-based peer binds (`vti bind vti1`); absent for policy-based tunnels. */
  vti?: string;
  disabled: boolean;
}

export interface OpenvpnFacts {
  interface: string;
  localHost?: string;
  remoteHosts: string[];
  localAddresses: string[];
  remoteAddresses: string[];
}

export interface BgpNeighborFacts {
  address: string;
  remoteAs?: string;
  /** From `show ip bgp summary`: Established (with the prefixes received) or the FSM state it is stuck in. */
  session?: BgpSessionState;
}

export interface BgpSessionState {
  established: boolean;
  /** `Active`, `Idle (Admin)`… or `Established`. */
  state: string;
  received?: number;
}

export interface StaticRouteFacts {
  prefix: string;
  nextHops: string[];
}

/** Everything discovery learns from one router. */
export interface RouterFacts {
  site: string;
  url: string;
  version: VyosVersion;
  interfaces: InterfaceFacts[];
  wireguard: WireguardFacts[];
  ipsec: IpsecPeerFacts[];
  openvpn: OpenvpnFacts[];
  bgp: { localAs?: string; neighbors: BgpNeighborFacts[] };
  staticRoutes: StaticRouteFacts[];
}

export type ConfigFacts = Omit<RouterFacts, 'site' | 'url' | 'version'>;

const first = (node: ConfigNode, ...path: string[]): string | undefined => valuesAt(node, ...path)[0];
/** A node's keys whether VyOS renders it as a tag node (`local-address { 10.0.0.1 {} }`) or a leaf. */
const keysOrValues = (node: ConfigNode): string[] =>
  node && typeof node === 'object' && !Array.isArray(node) ? Object.keys(node) : valuesAt(node);
const addressesOf = (cfg: ConfigJson): string[] => valuesAt(cfg, 'address').filter((a) => a.includes('/'));

function interfaceFacts(type: string, name: string, cfg: ConfigJson): InterfaceFacts {
  const description = first(cfg, 'description');
  return {
    name,
    type,
    addresses: addressesOf(cfg),
    ...(description ? { description } : {}),
    disabled: nodeAt(cfg, 'disable') !== undefined,
  };
}

function interfacesOf(config: ConfigJson): InterfaceFacts[] {
  const out: InterfaceFacts[] = [];
  for (const [type, byName] of Object.entries(tagsAt(config, 'interfaces'))) {
    for (const [name, cfg] of Object.entries(tagsAt(byName))) {
      out.push(interfaceFacts(type, name, cfg));
      // 802.1Q sub-interfaces carry most Direct Connect / ExpressRoute / Interconnect peerings.
      for (const [vlan, sub] of Object.entries(tagsAt(cfg, 'vif'))) out.push(interfaceFacts(type, `${name}.${vlan}`, sub));
    }
  }
  return out;
}

function wireguardOf(config: ConfigJson): WireguardFacts[] {
  return Object.entries(tagsAt(config, 'interfaces', 'wireguard')).map(([iface, cfg]) => {
    const priv = first(cfg, 'private-key');
    const publicKey = priv ? wireguardPublicKey(priv) : undefined;
    return {
      interface: iface,
      ...(publicKey ? { publicKey } : {}),
      peers: Object.entries(tagsAt(cfg, 'peer')).map(([name, peer]) => {
        const key = first(peer, 'public-key');
        const endpoint = first(peer, 'address') ?? first(peer, 'host-name');
        return {
          name,
          ...(key ? { publicKey: key } : {}),
          ...(endpoint ? { endpoint } : {}),
          allowedIps: valuesAt(peer, 'allowed-ips'),
          disabled: nodeAt(peer, 'disable') !== undefined,
        };
      }),
    };
  });
}

function ipsecOf(config: ConfigJson): IpsecPeerFacts[] {
  return Object.entries(tagsAt(config, 'vpn', 'ipsec', 'site-to-site', 'peer')).map(([name, cfg]) => {
    const local = first(cfg, 'local-address');
    const vti = first(cfg, 'vti', 'bind');
    return {
      name,
      ...(local && local !== 'any' ? { localAddress: local } : {}),
      remoteAddresses: valuesAt(cfg, 'remote-address').filter((a) => a !== 'any'),
      ...(vti ? { vti } : {}),
      disabled: nodeAt(cfg, 'disable') !== undefined,
    };
  });
}

function openvpnOf(config: ConfigJson): OpenvpnFacts[] {
  return Object.entries(tagsAt(config, 'interfaces', 'openvpn'))
    .filter(([, cfg]) => first(cfg, 'mode') === 'site-to-site')
    .map(([iface, cfg]) => {
      const localHost = first(cfg, 'local-host');
      return {
        interface: iface,
        ...(localHost ? { localHost } : {}),
        remoteHosts: valuesAt(cfg, 'remote-host'),
        localAddresses: keysOrValues(nodeAt(cfg, 'local-address')),
        remoteAddresses: keysOrValues(nodeAt(cfg, 'remote-address')),
      };
    });
}

function bgpOf(config: ConfigJson): RouterFacts['bgp'] {
  const bgp = nodeAt(config, 'protocols', 'bgp');
  const localAs = first(bgp, 'system-as');
  return {
    ...(localAs ? { localAs } : {}),
    neighbors: Object.entries(tagsAt(bgp, 'neighbor')).map(([address, cfg]) => {
      const remoteAs = first(cfg, 'remote-as');
      return { address, ...(remoteAs ? { remoteAs } : {}) };
    }),
  };
}

function staticRoutesOf(config: ConfigJson): StaticRouteFacts[] {
  return Object.entries(tagsAt(config, 'protocols', 'static', 'route')).map(([prefix, cfg]) => ({
    prefix,
    nextHops: Object.keys(tagsAt(cfg, 'next-hop')),
  }));
}

/** The facts of a router's whole running config (`showConfig([])`). */
export function configFacts(config: ConfigJson): ConfigFacts {
  return {
    interfaces: interfacesOf(config),
    wireguard: wireguardOf(config),
    ipsec: ipsecOf(config),
    openvpn: openvpnOf(config),
    bgp: bgpOf(config),
    staticRoutes: staticRoutesOf(config),
  };
}

/**
 * The sessions of `show ip bgp summary` (FRR through VyOS op mode: `Neighbor V AS MsgRcvd MsgSent TblVer
 * InQ OutQ Up/Down State/PfxRcd PfxSnt Desc`): a number in State/PfxRcd means Established with that many
 * prefixes received, anything else is the state the session is in.
 */
export function bgpSessions(text: string): Map<string, BgpSessionState> {
  const sessions = new Map<string, BgpSessionState>();
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 10 || t[1] !== '4' || !/^[0-9a-fA-F.:]+$/.test(t[0]!) || !/^\d+$/.test(t[2]!)) continue;
    const state = t[9] === 'Idle' && t[10] === '(Admin)' ? 'Idle (Admin)' : t[9]!;
    sessions.set(
      t[0]!,
      /^\d+$/.test(state) ? { established: true, state: 'Established', received: Number(state) } : { established: false, state },
    );
  }
  return sessions;
}

/**
 * The S/L column of `show interfaces` per interface (vyos-1x `show_interfaces`: `Interface  IP Address
 * S/L  Description`, extra addresses on indented lines). Lines it cannot read are skipped: the state only
 * annotates what the config already says.
 */
export function interfaceStates(text: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\S+\s+([uAD]\/[uD])(\s|$)/.exec(line);
    if (m) states.set(m[1]!, m[2]!);
  }
  return states;
}
