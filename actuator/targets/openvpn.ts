/**
 * OpenVPN site-to-site tunnels (`interfaces openvpn vtunN mode site-to-site`): one intent owns one
 * interface whole, and with a static key its `pki openvpn shared-secret pp-<vtunN>` entry (the key's
 * name follows the interface, so rotating one tunnel's secret never touches another's). Both subtrees go
 * in the same commit, as VyOS checks the interface's key reference against the PKI at commit time.
 *
 * Shared-secret tunnels use a CBC cipher with an HMAC: OpenVPN (and vyos-1x's verify) refuse GCM with a
 * static key. TLS tunnels name a certificate and CA already in the router's PKI and a role (one side
 * active, the other passive); no cipher is set, as 1.5 refuses `encryption cipher` in TLS mode.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { OpenvpnSiteIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { check, subtree, type ActuationTarget } from './types.ts';
import { subtreeProblems } from './subtree-effect.ts';

/** The `pki openvpn shared-secret` entry of an interface's static key. */
export const openvpnKeyName = (iface: string): string => `pp-${iface}`;

/** The desired subtrees of a tunnel (null: absent), by path. */
export function openvpnSubtrees(i: OpenvpnSiteIntent): { path: string[]; desired: ConfigJson | null }[] {
  const keyPath = ['pki', 'openvpn', 'shared-secret', openvpnKeyName(i.interface)];
  const ifacePath = ['interfaces', 'openvpn', i.interface];
  if (i.remove || !i.auth)
    return [
      { path: ifacePath, desired: null },
      { path: keyPath, desired: null },
    ];
  const cfg: ConfigJson = {
    mode: 'site-to-site',
    protocol: i.protocol,
    'local-address': { [i.local_address!]: {} },
    'remote-address': i.remote_address!,
    'keep-alive': { interval: String(i.keepalive.interval_s), 'failure-count': String(i.keepalive.failure_count) },
    'persistent-tunnel': {},
    ...(i.local_host ? { 'local-host': i.local_host } : {}),
    ...(i.local_port ? { 'local-port': String(i.local_port) } : {}),
    ...(i.remote_host ? { 'remote-host': i.remote_host } : {}),
    ...(i.remote_port ? { 'remote-port': String(i.remote_port) } : {}),
    ...(i.description ? { description: i.description } : {}),
  };
  if (i.auth.mode === 'shared-secret') {
    cfg['shared-secret-key'] = openvpnKeyName(i.interface);
    cfg['encryption'] = { cipher: i.auth.cipher };
    cfg['hash'] = i.auth.hash;
  } else {
    cfg['tls'] = { role: i.auth.role, 'ca-certificate': i.auth.ca_certificate, certificate: i.auth.certificate };
  }
  return [
    { path: ifacePath, desired: cfg },
    { path: keyPath, desired: i.auth.mode === 'shared-secret' ? { key: i.auth.shared_secret, version: '1' } : null },
  ];
}

/** The router's `interfaces openvpn` and `pki openvpn` before the change (undefined: not read). */
interface OpenvpnState {
  openvpn: ConfigJson | null | undefined;
  pkiOpenvpn: ConfigJson | null | undefined;
}

export const openvpnTarget: ActuationTarget<'openvpn-site', OpenvpnState> = {
  name: 'openvpn-site',
  kinds: ['openvpn-site'],
  contexts: ['openvpn', 'pkiOpenvpn'],
  read: (pre) => ({ openvpn: pre.openvpn, pkiOpenvpn: pre.pkiOpenvpn }),
  render(intent, state, { touch }) {
    for (const s of openvpnSubtrees(intent)) {
      const base = s.path[0] === 'pki' ? state.pkiOpenvpn : state.openvpn;
      touch(s.path, subtree(base ?? null, s.path.slice(2))).desired = s.desired;
    }
  },
  effect(intent, dataplane) {
    return check(subtreeProblems(openvpnSubtrees(intent), dataplane.config));
  },
  cases(topology: Topology, router: string) {
    if (!topology.sites.has(router)) return [];
    const intent: OpenvpnSiteIntent = {
      kind: 'openvpn-site',
      router,
      interface: 'vtun90',
      protocol: 'udp',
      local_port: 1194,
      remote_host: '203.0.113.30',
      remote_port: 1194,
      local_address: '10.255.90.1',
      remote_address: '10.255.90.2',
      keepalive: { interval_s: 10, failure_count: 6 },
      auth: { mode: 'shared-secret', shared_secret: 'ab'.repeat(256), cipher: 'aes256', hash: 'sha256' },
    };
    return [{ name: 'a site-to-site tunnel with a static key', intents: [intent] }];
  },
};
