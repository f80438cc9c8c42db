/**
 * Which IPsec site-to-site SAs come up between emulated routers, from their running `vpn ipsec` configs,
 * as strongSwan would negotiate them: two peers face each other when each one's remote-address is the
 * other's local-address; the IKE SA needs the same key exchange (IKEv1/IKEv2), one IKE proposal both
 * offer (encryption, hash, DH group), matching identities (each side's remote-id is the other's local-id,
 * or `%any`) and, with pre-shared keys, the same secret found for those ids on both sides (x509: both
 * name certificates; the PKI itself is not modelled). The CHILD SA needs one ESP proposal both offer, the
 * same PFS setting and the same shape (both route-based with a VTI, or policy-based with mirrored
 * prefixes). Disabled peers never come up. A PSK changed on one side only shows as the SA going away.
 */
import type { ConfigJson } from './types.ts';

export interface IpsecEnd {
  node: string;
  peer: string;
  localAddress?: string;
  remoteAddresses: string[];
  localId: string;
  remoteId: string;
  exchange?: string;
  ike: string[];
  esp: string[];
  pfs: string;
  mode?: string;
  secret?: string;
  vti?: string;
  tunnels: string[];
  disabled: boolean;
}

export interface IpsecSa {
  a: { node: string; peer: string };
  b: { node: string; peer: string };
  up: boolean;
  reason?: string;
  /** The CHILD SA names as vyos-1x's swanctl config has them: `<peer>-vti` or `<peer>-tunnel-N`. */
  connections: string[];
  /** The negotiated ESP proposal (when up). */
  proposal?: string;
}

const obj = (v: unknown): ConfigJson => (v && typeof v === 'object' && !Array.isArray(v) ? (v as ConfigJson) : {});
const list = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
const one = (v: unknown): string | undefined => list(v)[0];

/** `encryption-hash-dh` per proposal of a group, in proposal order (VyOS's defaults where unset). */
function proposals(group: ConfigJson, withDh: boolean): string[] {
  return Object.keys(obj(group['proposal']))
    .sort((a, b) => Number(a) - Number(b))
    .map((n) => {
      const p = obj(obj(group['proposal'])[n]);
      const parts = [one(p['encryption']) ?? 'aes128', one(p['hash']) ?? 'sha1'];
      if (withDh) parts.push(one(p['dh-group']) ?? '2');
      return parts.join('-');
    });
}

/** The site-to-site peers of one router, from `showConfig(['vpn','ipsec'])`. */
export function ipsecEnds(node: string, ipsec: ConfigJson): IpsecEnd[] {
  const ikeGroups = obj(ipsec['ike-group']);
  const espGroups = obj(ipsec['esp-group']);
  const psk = obj(obj(ipsec['authentication'])['psk']);
  return Object.entries(obj(obj(ipsec['site-to-site'])['peer'])).map(([peer, raw]) => {
    const cfg = obj(raw);
    const auth = obj(cfg['authentication']);
    const localAddress = one(cfg['local-address']);
    const localId = one(auth['local-id']) ?? localAddress ?? '%any';
    const remoteId = one(auth['remote-id']) ?? '%any';
    const ike = obj(ikeGroups[one(cfg['ike-group']) ?? '']);
    const vti = obj(cfg['vti']);
    const tunnels = obj(cfg['tunnel']);
    const espName = one(vti['esp-group']) ?? one(cfg['default-esp-group']) ?? one(obj(Object.values(tunnels)[0])['esp-group']);
    const esp = obj(espGroups[espName ?? '']);
    // strongSwan finds the secret by the two identities: a psk entry listing both (or either, for %any).
    const secret = Object.values(psk)
      .map(obj)
      .find((e) => {
        const ids = list(e['id']);
        return ids.includes(localId) && (remoteId === '%any' || ids.includes(remoteId));
      })?.['secret'];
    return {
      node,
      peer,
      ...(localAddress ? { localAddress } : {}),
      remoteAddresses: list(cfg['remote-address']),
      localId,
      remoteId,
      ...(one(ike['key-exchange']) ? { exchange: one(ike['key-exchange'])! } : {}),
      ike: proposals(ike, true),
      esp: proposals(esp, false),
      pfs: one(esp['pfs']) ?? 'enable',
      ...(one(auth['mode']) ? { mode: one(auth['mode'])! } : {}),
      ...(one(secret) ? { secret: one(secret)! } : {}),
      ...(one(vti['bind']) ? { vti: one(vti['bind'])! } : {}),
      tunnels: Object.keys(tunnels)
        .sort((a, b) => Number(a) - Number(b))
        .map(
          (t) =>
            `${list(obj(obj(tunnels[t])['local'])['prefix']).join(',')}>${list(obj(obj(tunnels[t])['remote'])['prefix']).join(',')}`,
        ),
      disabled: 'disable' in cfg,
    };
  });
}

const idMatches = (wanted: string, offered: string) => wanted === '%any' || wanted === offered;
const mirrored = (t: string) => t.split('>').reverse().join('>');

/** Why two facing peers cannot establish, or undefined when they can. */
function mismatch(a: IpsecEnd, b: IpsecEnd): string | undefined {
  if (a.disabled || b.disabled) return 'a peer is disabled';
  if (!a.exchange || a.exchange !== b.exchange) return `key exchange ${a.exchange ?? 'unset'} vs ${b.exchange ?? 'unset'}`;
  if (!a.ike.some((p) => b.ike.includes(p))) return `no common IKE proposal (${a.ike.join(' ')} vs ${b.ike.join(' ')})`;
  if (!idMatches(a.remoteId, b.localId) || !idMatches(b.remoteId, a.localId)) return 'identities do not match';
  if (a.mode !== b.mode) return `authentication ${a.mode ?? 'unset'} vs ${b.mode ?? 'unset'}`;
  if (a.mode === 'pre-shared-secret' && (!a.secret || a.secret !== b.secret))
    return 'pre-shared keys differ (AUTHENTICATION_FAILED)';
  if (!a.esp.some((p) => b.esp.includes(p))) return `no common ESP proposal (${a.esp.join(' ')} vs ${b.esp.join(' ')})`;
  if (a.pfs !== b.pfs) return `PFS ${a.pfs} vs ${b.pfs}`;
  if (Boolean(a.vti) !== Boolean(b.vti)) return 'one side route-based (VTI), the other policy-based';
  if (!a.vti && (a.tunnels.length !== b.tunnels.length || a.tunnels.some((t) => !b.tunnels.includes(mirrored(t)))))
    return 'traffic selectors do not mirror (TS_UNACCEPTABLE)';
  return undefined;
}

/** Every pair of facing peers across `ends`, up or with the reason it is down. */
export function ipsecSas(ends: readonly IpsecEnd[]): IpsecSa[] {
  const out: IpsecSa[] = [];
  for (let i = 0; i < ends.length; i++)
    for (let j = i + 1; j < ends.length; j++) {
      const a = ends[i]!;
      const b = ends[j]!;
      if (a.node === b.node || !a.localAddress || !b.localAddress) continue;
      if (!a.remoteAddresses.includes(b.localAddress) || !b.remoteAddresses.includes(a.localAddress)) continue;
      const reason = mismatch(a, b);
      const connections = (e: IpsecEnd) => (e.vti ? [`${e.peer}-vti`] : e.tunnels.map((_, n) => `${e.peer}-tunnel-${n}`));
      out.push({
        a: { node: a.node, peer: a.peer },
        b: { node: b.node, peer: b.peer },
        up: reason === undefined,
        ...(reason ? { reason } : {}),
        connections: [...connections(a), ...connections(b)],
        ...(reason ? {} : { proposal: a.esp.find((p) => b.esp.includes(p))! }),
      });
    }
  return out;
}

/** One established SA as a router lists it. */
export interface IpsecSaView {
  connections: string[];
  remoteAddress: string;
  remoteId: string;
  proposal: string;
}

/** What `node`'s router sees of its peers' SAs: peer → the established SA (absent: none, as strongSwan lists). */
export function saStatus(sas: readonly IpsecSa[], ends: readonly IpsecEnd[], node: string): Map<string, IpsecSaView> {
  const out = new Map<string, IpsecSaView>();
  for (const sa of sas) {
    if (!sa.up) continue;
    for (const [mine, theirs] of [
      [sa.a, sa.b],
      [sa.b, sa.a],
    ] as const) {
      if (mine.node !== node) continue;
      const me = ends.find((e) => e.node === mine.node && e.peer === mine.peer)!;
      const them = ends.find((e) => e.node === theirs.node && e.peer === theirs.peer)!;
      out.set(mine.peer, {
        connections: me.vti ? [`${me.peer}-vti`] : me.tunnels.map((_, n) => `${me.peer}-tunnel-${n}`),
        remoteAddress: them.localAddress!,
        remoteId: them.localId,
        proposal: proposalLabel(sa.proposal!, me.pfs),
      });
    }
  }
  return out;
}

const ENCRYPTION: Record<string, string> = {
  aes256gcm128: 'AES_GCM_16_256',
  aes192gcm128: 'AES_GCM_16_192',
  aes128gcm128: 'AES_GCM_16_128',
  chacha20poly1305: 'CHACHA20_POLY1305_256',
  aes256: 'AES_CBC_256',
  aes128: 'AES_CBC_128',
};
const INTEGRITY: Record<string, string> = {
  sha1: 'HMAC_SHA1_96',
  sha256: 'HMAC_SHA2_256_128',
  sha384: 'HMAC_SHA2_384_192',
  sha512: 'HMAC_SHA2_512_256',
};
const DH: Record<string, string> = {
  '2': 'MODP_1024',
  '5': 'MODP_1536',
  '14': 'MODP_2048',
  '15': 'MODP_3072',
  '16': 'MODP_4096',
  '19': 'ECP_256',
  '20': 'ECP_384',
  '21': 'ECP_521',
  '31': 'CURVE_25519',
};

/**
 * The CHILD SA's proposal as vyos-1x's `show vpn ipsec sa` prints it from strongSwan's names:
 * `<encr-alg>_<keysize>[/<integ-alg>][/<dh-group>]` (AEAD ciphers have no integrity algorithm; the DH
 * group shows when PFS is on).
 */
function proposalLabel(esp: string, pfs: string): string {
  const [enc = '', hash = ''] = esp.split('-');
  const parts = [ENCRYPTION[enc] ?? enc.toUpperCase()];
  if (!/gcm|poly1305/.test(enc)) parts.push(INTEGRITY[hash] ?? hash.toUpperCase());
  const group = /^dh-group(\d+)$/.exec(pfs)?.[1];
  if (group) parts.push(DH[group] ?? `DH${group}`);
  return parts.join('/');
}

/** vyos-1x `seconds_to_human`: `1w2d3h4m5s`, zero parts left out (an SA up for 0 s prints nothing). */
export function humanSeconds(total: number): string {
  let s = Math.max(0, Math.floor(total));
  let out = '';
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    const n = Math.floor(s / size);
    if (n > 0) out += `${n}${unit}`;
    s %= size;
  }
  return s > 0 ? `${out}${s}s` : out;
}
