/**
 * Which OpenVPN site-to-site tunnels come up between emulated routers, from their running configs: one
 * end dials the other (its remote-host is the other's local-host, on the other's local-port, UDP with UDP
 * or tcp-active towards tcp-passive), the tunnel addresses mirror (each one's remote-address is the
 * other's local-address), and both authenticate the same way — the same static key (the `pki openvpn
 * shared-secret` each names) with the same cipher and HMAC, or TLS with one side active and one passive
 * and the same CA. A disabled interface never comes up; a secret rotated on one end only shows as the
 * tunnel down.
 */
import type { ConfigJson } from './types.ts';

export interface OpenvpnEnd {
  node: string;
  iface: string;
  protocol: string;
  localHost?: string;
  localPort: number;
  remoteHosts: string[];
  remotePort: number;
  localAddresses: string[];
  remoteAddresses: string[];
  key?: string;
  cipher?: string;
  hash?: string;
  tls?: { role?: string; ca: string[] };
  disabled: boolean;
}

export interface OpenvpnTunnel {
  a: { node: string; iface: string };
  b: { node: string; iface: string };
  up: boolean;
  reason?: string;
}

const obj = (v: unknown): ConfigJson => (v && typeof v === 'object' && !Array.isArray(v) ? (v as ConfigJson) : {});
const list = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
const one = (v: unknown): string | undefined => list(v)[0];
/** OpenVPN's own port when none is set. */
const DEFAULT_PORT = 1194;

/** The site-to-site interfaces of one router, from `interfaces openvpn` and `pki openvpn`. */
export function openvpnEnds(node: string, openvpn: ConfigJson, pkiOpenvpn: ConfigJson): OpenvpnEnd[] {
  const secrets = obj(pkiOpenvpn['shared-secret']);
  return Object.entries(openvpn)
    .map(([iface, raw]) => ({ iface, cfg: obj(raw) }))
    .filter(({ cfg }) => one(cfg['mode']) === 'site-to-site')
    .map(({ iface, cfg }) => {
      const keyName = one(cfg['shared-secret-key']);
      const tls = cfg['tls'] === undefined ? undefined : obj(cfg['tls']);
      const key = keyName === undefined ? undefined : one(obj(secrets[keyName])['key']);
      return {
        node,
        iface,
        protocol: one(cfg['protocol']) ?? 'udp',
        ...(one(cfg['local-host']) ? { localHost: one(cfg['local-host'])! } : {}),
        localPort: Number(one(cfg['local-port']) ?? DEFAULT_PORT),
        remoteHosts: list(cfg['remote-host']),
        remotePort: Number(one(cfg['remote-port']) ?? DEFAULT_PORT),
        localAddresses: Object.keys(obj(cfg['local-address'])),
        remoteAddresses: list(cfg['remote-address']),
        ...(key ? { key } : {}),
        ...(one(obj(cfg['encryption'])['cipher']) ? { cipher: one(obj(cfg['encryption'])['cipher'])! } : {}),
        ...(one(cfg['hash']) ? { hash: one(cfg['hash'])! } : {}),
        ...(tls ? { tls: { ...(one(tls['role']) ? { role: one(tls['role'])! } : {}), ca: list(tls['ca-certificate']) } } : {}),
        disabled: 'disable' in cfg,
      };
    });
}

/** `from` dials `to`: a remote host of `from` is `to`'s local host, on `to`'s port, with protocols that meet. */
function dials(from: OpenvpnEnd, to: OpenvpnEnd): boolean {
  if (!to.localHost || !from.remoteHosts.includes(to.localHost) || from.remotePort !== to.localPort) return false;
  return (from.protocol === 'udp' && to.protocol === 'udp') || (from.protocol === 'tcp-active' && to.protocol === 'tcp-passive');
}

/** Why two ends that face each other cannot bring the tunnel up, or undefined when they can. */
function mismatch(a: OpenvpnEnd, b: OpenvpnEnd): string | undefined {
  if (a.disabled || b.disabled) return 'an interface is disabled';
  if (!dials(a, b) && !dials(b, a)) return 'neither end reaches the other (host, port or protocol)';
  if (a.tls || b.tls) {
    if (!a.tls || !b.tls) return 'one end uses TLS, the other a static key';
    if (!a.tls.role || !b.tls.role || a.tls.role === b.tls.role) return 'TLS needs one active and one passive end';
    if (!a.tls.ca.some((c) => b.tls!.ca.includes(c))) return 'no common CA';
    return undefined;
  }
  if (!a.key || a.key !== b.key) return 'static keys differ (HMAC authentication failed)';
  if ((a.cipher ?? 'bf-cbc') !== (b.cipher ?? 'bf-cbc') || (a.hash ?? 'sha1') !== (b.hash ?? 'sha1'))
    return 'cipher or HMAC differs';
  return undefined;
}

/** Every pair of ends whose tunnel addresses mirror, up or with the reason it is down. */
export function openvpnTunnels(ends: readonly OpenvpnEnd[]): OpenvpnTunnel[] {
  const out: OpenvpnTunnel[] = [];
  for (let i = 0; i < ends.length; i++)
    for (let j = i + 1; j < ends.length; j++) {
      const a = ends[i]!;
      const b = ends[j]!;
      if (a.node === b.node) continue;
      const facing =
        a.remoteAddresses.some((x) => b.localAddresses.includes(x)) &&
        b.remoteAddresses.some((x) => a.localAddresses.includes(x));
      if (!facing) continue;
      const reason = mismatch(a, b);
      out.push({
        a: { node: a.node, iface: a.iface },
        b: { node: b.node, iface: b.iface },
        up: !reason,
        ...(reason ? { reason } : {}),
      });
    }
  return out;
}
