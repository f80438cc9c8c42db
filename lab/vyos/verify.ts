/**
 * Commit-time verification, the emulator's stand-in for the vyos-1x conf-mode scripts' `verify()`.
 * The config is split into subsystems (one conf-mode script and its priority, as vyatta-cfg runs
 * them); each changed subsystem is verified against the whole candidate. Messages are the upstream
 * `ConfigError` texts for the areas pathpilot touches (vyos-facts.md §1.8).
 */
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';
import { ConfigNode } from './tree.ts';

export interface Subsystem {
  /** The config path that owns the subsystem, e.g. `['interfaces','wireguard','wg0']`, `['qos']`. */
  path: string[];
  /** vyatta priority: lower commits first. */
  priority: number;
}

/** How many words name a subsystem under each top-level node. */
function depthOf(top: string): number {
  if (top === 'interfaces') return 3;
  if (top === 'qos' || top === 'firewall') return 1;
  return 2;
}

/** vyatta commit priority of the subsystem at `path` (lower commits first). */
function priorityOf(path: string[]): number {
  const [a, b] = path;
  if (a === 'interfaces')
    return b === 'ethernet' ? 318 : b === 'vti' ? 381 : b === 'wireguard' ? 459 : b === 'openvpn' ? 460 : 400;
  if (a === 'firewall') return 199;
  if (a === 'policy') return b === 'route' || b === 'route6' ? 489 : 201;
  if (a === 'system') return 400;
  if (a === 'protocols') return b === 'static' ? 480 : b === 'bfd' ? 819 : b === 'bgp' ? 820 : 800;
  if (a === 'qos' || a === 'load-balancing') return 900;
  if (a === 'vpn') return 901;
  if (a === 'pki') return 300;
  if (a === 'service') return 1001;
  return 1000;
}

/** All subsystems present in a tree. */
export function subsystemsOf(root: ConfigNode): Subsystem[] {
  const found: Subsystem[] = [];
  const walk = (n: ConfigNode, path: string[]) => {
    if (path.length > 0 && (path.length >= depthOf(path[0]!) || n.children.size === 0)) {
      found.push({ path, priority: priorityOf(path) });
      return;
    }
    for (const [k, c] of n.children) walk(c, [...path, k]);
  };
  walk(root, []);
  return found;
}

function has(n: ConfigNode | undefined, ...path: string[]): boolean {
  return n?.get(path) !== undefined;
}

function value(n: ConfigNode | undefined, ...path: string[]): string | undefined {
  return n?.get(path)?.values?.[0];
}

function tagValues(n: ConfigNode | undefined, ...path: string[]): [string, ConfigNode][] {
  const t = n?.get(path);
  return t ? [...t.children.entries()] : [];
}

function verifyWireguard(wg: ConfigNode, ifname: string, candidate: ConfigNode): string | undefined {
  if (!has(wg, 'private-key')) return 'Wireguard private-key not defined';
  const peers = tagValues(wg, 'peer');
  if (peers.length === 0) return 'At least one Wireguard peer is required!';
  // check_port_availability: a port another WireGuard interface already listens on is busy.
  const port = value(wg, 'port');
  if (port !== undefined)
    for (const [other, cfg] of tagValues(candidate, 'interfaces', 'wireguard'))
      if (other !== ifname && value(cfg, 'port') === port)
        return `UDP port ${port} is busy or unavailable and cannot be used for the interface!`;
  const ownPublic = wireguardPublicKey(value(wg, 'private-key')!);
  const keys = new Set<string>();
  for (const [name, peer] of peers) {
    if (has(peer, 'disable')) continue;
    if (!has(peer, 'allowed-ips')) return `Wireguard allowed-ips required for peer "${name}"!`;
    if (!has(peer, 'public-key')) return `Wireguard public-key required for peer "${name}"!`;
    if (has(peer, 'address') !== has(peer, 'port'))
      return `Both Wireguard port and address must be defined for peer "${name}" if either one of them is set!`;
    const key = value(peer, 'public-key')!;
    if (keys.has(key)) return `Duplicate public-key defined on peer "${name}"`;
    if (key === ownPublic) return `Peer "${name}" has the same public key as the interface "${ifname}"`;
    keys.add(key);
  }
  return undefined;
}

/**
 * vyos-1x `src/conf_mode/vpn_ipsec.py` verify(), the site-to-site part: peer names without dots or
 * colons, an existing IKE group, an authentication mode (x509 with both certificates), a local address,
 * a VTI or a tunnel, the ESP groups it names, and the bound VTI present (vti commits before vpn).
 */
function verifyIpsec(ipsec: ConfigNode, root: ConfigNode): string | undefined {
  for (const [name, psk] of tagValues(ipsec, 'authentication', 'psk'))
    if (!has(psk, 'id') || !has(psk, 'secret')) return `Authentication psk "${name}" missing "id" or "secret"`;
  const ike = new Set(tagValues(ipsec, 'ike-group').map(([n]) => n));
  const esp = new Set(tagValues(ipsec, 'esp-group').map(([n]) => n));
  for (const [peer, cfg] of tagValues(ipsec, 'site-to-site', 'peer')) {
    if (/[:.]/.test(peer))
      return `Incorrect peer name "${peer}" Peer name can contain alpha-numeric letters, hyphen and underscore`;
    const defaultEsp = value(cfg, 'default-esp-group');
    if (defaultEsp !== undefined && !esp.has(defaultEsp)) return `Invalid esp-group on site-to-site peer ${peer}`;
    const ikeGroup = value(cfg, 'ike-group');
    if (ikeGroup === undefined) return `Missing ike-group on site-to-site peer ${peer}`;
    if (!ike.has(ikeGroup)) return `Invalid ike-group on site-to-site peer ${peer}`;
    const mode = value(cfg, 'authentication', 'mode');
    if (mode === undefined) return `Missing authentication on site-to-site peer ${peer}`;
    if (has(cfg, 'authentication', 'id') && has(cfg, 'authentication', 'use-x509-id'))
      return 'Manually set peer id and use-x509-id are mutually exclusive!';
    if (mode === 'x509') {
      if (!has(cfg, 'authentication', 'x509')) return `Missing x509 settings on site-to-site peer ${peer}`;
      if (!has(cfg, 'authentication', 'x509', 'ca-certificate') || !has(cfg, 'authentication', 'x509', 'certificate'))
        return `Missing x509 certificates on site-to-site peer ${peer}`;
      // verify_pki_x509: the CA and the certificate (with its private key) must be in the PKI.
      const pki = root.get(['pki']);
      if (!pki || !has(pki, 'ca') || !has(pki, 'certificate')) return 'PKI is not configured';
      const ca = value(cfg, 'authentication', 'x509', 'ca-certificate')!;
      const cert = value(cfg, 'authentication', 'x509', 'certificate')!;
      if (!has(pki, 'ca', ca, 'certificate')) return `Missing CA certificate on specified PKI CA certificate "${ca}"`;
      if (!has(pki, 'certificate', cert, 'certificate')) return `Missing certificate on specified PKI certificate "${cert}"`;
      if (!has(pki, 'certificate', cert, 'private', 'key')) return `Missing private key on specified PKI certificate "${cert}"`;
    }
    if (!has(cfg, 'local-address') && !has(cfg, 'dhcp-interface'))
      return `Missing local-address or dhcp-interface on site-to-site peer ${peer}`;
    if (has(cfg, 'vti')) {
      if (has(cfg, 'local-address') && has(cfg, 'dhcp-interface'))
        return `A single local-address or dhcp-interface is required when using VTI on site-to-site peer ${peer}`;
      const bind = value(cfg, 'vti', 'bind');
      if (bind !== undefined && !has(root, 'interfaces', 'vti', bind))
        return `VTI interface ${bind} for site-to-site peer ${peer} does not exist!`;
    }
    if (!has(cfg, 'vti') && !has(cfg, 'tunnel')) return `No VTI or tunnel specified on site-to-site peer ${peer}`;
    for (const [tunnel, t] of tagValues(cfg, 'tunnel')) {
      const group = value(t, 'esp-group') ?? defaultEsp;
      if (group === undefined) return `Missing esp-group on tunnel ${tunnel} for site-to-site peer ${peer}`;
      if (!esp.has(group)) return `Invalid esp-group on tunnel ${tunnel} for site-to-site peer ${peer}`;
    }
  }
  return undefined;
}

const isV4 = (a: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(a);

/**
 * vyos-1x `src/conf_mode/interfaces_openvpn.py` verify() and verify_pki() for site-to-site tunnels (the
 * checks both 1.4 and 1.5 make; the version-specific cipher ones are not modelled): addresses, tcp-active,
 * exactly one of shared-secret-key and tls, the key and certificates present in the PKI, with the upstream
 * messages (one of which really holds a run of spaces and a literal `{interface}`).
 */
function verifyOpenvpn(vpn: ConfigNode, ifname: string, root: ConfigNode): string | undefined {
  const mode = value(vpn, 'mode');
  if (mode === undefined) return 'Must specify OpenVPN operation mode!';
  if (mode === 'site-to-site') {
    const local = tagValues(vpn, 'local-address').map(([a]) => a);
    const remote = vpn.get(['remote-address'])?.values ?? [];
    if (local.length === 0) return 'Must specify "local-address" or add interface to bridge';
    if (local.filter(isV4).length > 1) return 'Only one IPv4 local-address can be specified';
    if (local.filter((a) => !isV4(a)).length > 1) return 'Only one IPv6 local-address can be specified';
    if ((value(vpn, 'device-type') ?? 'tun') === 'tun' && remote.length === 0) return 'Must specify "remote-address"';
    if (remote.length > 0) {
      if (remote.filter(isV4).length > 1) return 'Only one IPv4 remote-address can be specified';
      if (remote.filter((a) => !isV4(a)).length > 1) return 'Only one IPv6 remote-address can be specified';
      const l4 = local.filter(isV4);
      const r4 = remote.filter(isV4);
      const l6 = local.filter((a) => !isV4(a));
      const r6 = remote.filter((a) => !isV4(a));
      if (l4.length && !r4.length) return 'IPv4 "local-address" requires IPv4 "remote-address"';
      if (r4.length && !l4.length) return 'IPv4 "remote-address" requires IPv4 "local-address"';
      if (l6.length && !r6.length) return 'IPv6 "local-address" requires IPv6 "remote-address"';
      if (r6.length && !l6.length) return 'IPv6 "remote-address" requires IPv6 "local-address"';
      if ((l4.length && l4.join() === r4.join()) || (l6.length && l6.join() === r6.join()))
        return '"local-address" and "remote-address" cannot be the same';
      const localHost = value(vpn, 'local-host');
      if (localHost !== undefined && local.includes(localHost)) return '"local-address" cannot be the same as "local-host"';
      if ((vpn.get(['remote-host'])?.values ?? []).some((h) => remote.includes(h)))
        return '"remote-address" and "remote-host" can not be the same';
    }
  }
  const protocol = value(vpn, 'protocol') ?? 'udp';
  if (protocol === 'tcp-active' && has(vpn, 'local-port')) return 'Cannot specify "local-port" with "tcp-active"';
  if (protocol === 'tcp-active' && !has(vpn, 'remote-host')) return 'Must specify "remote-host" with "tcp-active"';
  const secret = value(vpn, 'shared-secret-key');
  if (secret !== undefined && /gcm$/.test(value(vpn, 'encryption', 'cipher') ?? ''))
    return 'GCM encryption with shared-secret-key not supported';
  const tls = vpn.get(['tls']);
  if (tls) {
    if (has(tls, 'auth-key') && has(tls, 'crypt-key')) return 'TLS auth and crypt keys are mutually exclusive';
    const role = value(tls, 'role');
    if (role === 'active' && protocol === 'tcp-passive') return 'Cannot specify "tcp-passive" when "tls role" is "active"';
    if (role === 'active' && has(tls, 'dh-params')) return 'Cannot specify "tls dh-params" when "tls role" is "active"';
    if (role === 'passive' && protocol === 'tcp-active') return 'Cannot specify "tcp-active" when "tls role" is "passive"';
  }
  // verify_pki()
  if ((secret !== undefined) === (tls !== undefined)) return 'Must specify only one of "shared-secret-key" and "tls"';
  const pki = root.get(['pki']);
  if (!pki) return 'PKI is not configured';
  if (secret !== undefined) {
    const secrets = tagValues(pki, 'openvpn', 'shared-secret');
    if (secrets.length === 0) return 'There are no openvpn shared-secrets in PKI configuration';
    if (!secrets.some(([n]) => n === secret)) return `Invalid shared-secret on openvpn interface ${ifname}`;
  }
  if (tls) {
    if (mode === 'site-to-site' && !has(tls, 'role')) return '"tls role" is required for site-to-site OpenVPN with TLS';
    if (!has(tls, 'ca-certificate') && !has(tls, 'peer-fingerprint'))
      return 'Either "tls ca-certificate" or "tls peer-fingerprint" is required                  on openvpn interface {interface} in site-to-site mode';
    for (const ca of tls.get(['ca-certificate'])?.values ?? [])
      if (!has(pki, 'ca', ca, 'certificate')) return `Invalid CA certificate on openvpn interface ${ifname}`;
    const cert = value(tls, 'certificate');
    if (cert === undefined && !has(tls, 'auth-key') && mode !== 'client')
      return `Missing "tls certificate" on openvpn interface ${ifname}`;
    if (cert !== undefined && !has(pki, 'certificate', cert, 'certificate'))
      return `Invalid certificate on openvpn interface ${ifname}`;
  }
  return undefined;
}

/**
 * vyos-1x `src/conf_mode/firewall.py` verify_rule, the part pathpilot's rules rely on: a group a rule names
 * (`source|destination group address-group|network-group|port-group X`) must exist.
 */
function verifyFirewall(fw: ConfigNode): string | undefined {
  const chains: ConfigNode[] = [];
  for (const hook of ['forward', 'input', 'output']) {
    const c = fw.get(['ipv4', hook, 'filter']);
    if (c) chains.push(c);
  }
  for (const [, c] of tagValues(fw, 'ipv4', 'name')) chains.push(c);
  for (const chain of chains)
    for (const [, rule] of tagValues(chain, 'rule'))
      for (const side of ['source', 'destination'])
        for (const kind of ['address-group', 'network-group', 'port-group']) {
          const name = value(rule, side, 'group', kind);
          if (name !== undefined && !has(fw, 'group', kind, name)) return `Invalid ${kind} "${name}" on firewall rule`;
        }
  return undefined;
}

function verifyWan(lb: ConfigNode): string | undefined {
  const health = tagValues(lb, 'interface-health');
  if (health.length === 0) return 'A valid WAN load-balance configuration requires an interface with a nexthop!';
  for (const [ifname, cfg] of health) {
    if (!has(cfg, 'nexthop')) return `interface-health ${ifname} nexthop must be specified!`;
    for (const [test, t] of tagValues(cfg, 'test')) {
      if (value(t, 'type') === 'user-defined' && !has(t, 'test-script'))
        return `test ${test} script must be defined for test-script!`;
    }
  }
  for (const [rule, cfg] of tagValues(lb, 'rule')) {
    if (!has(cfg, 'inbound-interface')) return `rule ${rule} inbound-interface must be specified!`;
    if (has(cfg, 'failover') && has(cfg, 'exclude')) return `rule ${rule} failover cannot be configured with exclude!`;
    if (has(cfg, 'limit') && has(cfg, 'exclude')) return `rule ${rule} limit cannot be used with exclude!`;
    for (const dir of ['destination', 'source']) {
      if (has(cfg, dir, 'port')) {
        const proto = value(cfg, 'protocol');
        if (proto !== 'tcp' && proto !== 'udp') return 'ports can only be specified when protocol is "tcp" or "udp"';
      }
    }
  }
  return undefined;
}

/** Policy types whose classes/default need no bandwidth (upstream exception list). */
const noBandwidthTypes = new Set(['priority-queue', 'round-robin', 'shaper-hfsc']);
/** Policy types whose class bandwidth has a default (`auto`), so the class check cannot fire. */
const classBandwidthDefault = new Set(['shaper']);

function verifyQos(qos: ConfigNode): string | undefined {
  const owner = new Map<string, string>();
  for (const [type, byName] of tagValues(qos, 'policy')) {
    for (const [name, policy] of byName.children) {
      if (owner.has(name)) return `Conflicting policy name "${name}", already in use!`;
      owner.set(name, type);
      if (noBandwidthTypes.has(type)) continue;
      for (const [cls, cfg] of tagValues(policy, 'class')) {
        if (!has(cfg, 'bandwidth') && !classBandwidthDefault.has(type))
          return `Bandwidth must be defined for policy "${name}" class "${cls}"!`;
      }
      if (has(policy, 'default') && !has(policy, 'default', 'bandwidth')) return 'Bandwidth not defined for default traffic!';
    }
  }
  for (const [ifname, cfg] of tagValues(qos, 'interface')) {
    for (const direction of ['egress', 'ingress']) {
      const name = value(cfg, direction);
      if (name === undefined) continue;
      const type = owner.get(name);
      if (type === undefined) return `Selected QoS policy "${name}" does not exist!`;
      if (direction === 'ingress' && type !== 'limiter')
        return `Selected QoS policy on interface "${ifname}" only supports "['egress']"!`;
    }
  }
  return undefined;
}

function routeMapExists(root: ConfigNode, name: string): boolean {
  return has(root, 'policy', 'route-map', name);
}

function verifyStatic(st: ConfigNode, root: ConfigNode): string | undefined {
  const rm = value(st, 'route-map');
  if (rm !== undefined && !routeMapExists(root, rm)) return `Specified route-map "${rm}" does not exist!`;
  return undefined;
}

function verifyBgp(bgp: ConfigNode, root: ConfigNode): string | undefined {
  if (!has(bgp, 'system-as')) return 'BGP system-as number must be defined!';
  for (const [peer, cfg] of tagValues(bgp, 'neighbor')) {
    if (!has(cfg, 'remote-as') && !has(cfg, 'peer-group') && !has(cfg, 'interface', 'remote-as'))
      return `Neighbor "${peer}" remote-as must be set!`;
    for (const [, afi] of tagValues(cfg, 'address-family')) {
      for (const dir of ['import', 'export']) {
        const rm = value(afi, 'route-map', dir);
        if (rm !== undefined && !routeMapExists(root, rm)) return `Specified route-map "${rm}" does not exist!`;
      }
    }
  }
  return undefined;
}

function verifyPolicyRoute(pr: ConfigNode): string | undefined {
  for (const [name, set] of pr.children) {
    for (const [rule, cfg] of tagValues(set, 'rule')) {
      for (const dir of ['destination', 'source']) {
        if (has(cfg, dir, 'port')) {
          const proto = value(cfg, 'protocol');
          if (proto !== 'tcp' && proto !== 'udp' && proto !== 'tcp_udp')
            return `${name} rule ${rule}: ports can only be specified when protocol is either tcp, udp or tcp_udp`;
        }
      }
    }
  }
  return undefined;
}

function verifyHttps(https: ConfigNode): string | undefined {
  const api = https.get(['api']);
  if (!api) return undefined;
  const keys = tagValues(api, 'keys', 'id');
  if (keys.length === 0 && value(api, 'graphql', 'authentication', 'type') !== 'token')
    return 'At least one HTTPS API key is required unless GraphQL token authentication is enabled!';
  for (const [id, cfg] of keys) {
    if (!has(cfg, 'key')) return `Missing HTTPS API key string for key id "${id}"`;
  }
  return undefined;
}

/**
 * Verifies one subsystem of the candidate; returns the ConfigError text or undefined. A subsystem
 * that is absent from the candidate (deleted) always verifies.
 */
export function verifySubsystem(sub: Subsystem, candidate: ConfigNode): string | undefined {
  const node = candidate.get(sub.path);
  if (!node) return undefined;
  const key = sub.path.join(' ');
  if (sub.path[0] === 'interfaces' && sub.path[1] === 'wireguard' && sub.path.length === 3)
    return verifyWireguard(node, sub.path[2]!, candidate);
  if (sub.path[0] === 'interfaces' && sub.path[1] === 'openvpn' && sub.path.length === 3)
    return verifyOpenvpn(node, sub.path[2]!, candidate);
  if (key === 'load-balancing wan') return verifyWan(node);
  if (key === 'qos') return verifyQos(node);
  if (key === 'protocols static') return verifyStatic(node, candidate);
  if (key === 'protocols bgp') return verifyBgp(node, candidate);
  if (key === 'policy route') return verifyPolicyRoute(node);
  if (key === 'service https') return verifyHttps(node);
  if (key === 'vpn ipsec') return verifyIpsec(node, candidate);
  if (key === 'firewall') return verifyFirewall(node);
  return undefined;
}

/** The vyatta-cfg block for a failed subsystem. */
export function commitFailureText(path: string[], message: string): string {
  const p = path.join(' ');
  return `[ ${p} ]\n${message}\n\n[[${p}]] failed\n`;
}
