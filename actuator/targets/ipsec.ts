/**
 * IPsec site-to-site peers (`vpn ipsec site-to-site peer …`, vyos-facts §2.2): one intent owns one peer
 * whole — its IKE and ESP groups (named after the peer, so changing one peer's proposals never touches
 * another's), its pre-shared key entry (`authentication psk`, matched by the two ids), and, route-based,
 * the VTI it binds. Every subtree is rendered in full and the engine sends the minimal diff in one
 * `/configure` request, as VyOS wants for tunnels (the docs: all related sets in one request). A PSK
 * rotation is the same intent with a new secret on both ends, in one change set.
 *
 * The proposals are AEAD (AES-GCM, ChaCha20-Poly1305) with IKEv2. VyOS always writes an integrity
 * algorithm into the proposal it hands strongSwan (`hash`, default sha1); with an AEAD cipher strongSwan
 * takes it as the PRF only, so it is set to the intent's PRF rather than left at sha1.
 */
import type { Topology } from '../../core/config/topology.ts';
import { ValidationError } from '../../core/errors.ts';
import type { IpsecPeerIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtreeProblems } from './subtree-effect.ts';
import { check, child, subtree, values, type ActuationTarget } from './types.ts';

/** The IKE and ESP group (and PSK entry) names of a peer. */
export const ipsecGroupName = (peer: string): string => `pp-${peer}`;

const one = (v: unknown): string | undefined => values(v)[0];

/** The desired subtrees of a peer (null: absent), by path. */
export function ipsecSubtrees(i: IpsecPeerIntent, vtiBefore?: string): { path: string[]; desired: ConfigJson | null }[] {
  const g = ipsecGroupName(i.peer);
  const base = ['vpn', 'ipsec'];
  const vti = i.vti?.interface ?? vtiBefore;
  const out: { path: string[]; desired: ConfigJson | null }[] = [];
  if (i.remove || !i.ike || !i.esp || !i.auth) {
    out.push(
      { path: [...base, 'site-to-site', 'peer', i.peer], desired: null },
      { path: [...base, 'ike-group', g], desired: null },
      { path: [...base, 'esp-group', g], desired: null },
      { path: [...base, 'authentication', 'psk', g], desired: null },
    );
    if (vti) out.push({ path: ['interfaces', 'vti', vti], desired: null });
    return out;
  }
  out.push({
    path: [...base, 'ike-group', g],
    desired: {
      'key-exchange': 'ikev2',
      lifetime: String(i.ike.lifetime_s),
      'dead-peer-detection': { action: i.ike.dpd.action, interval: String(i.ike.dpd.interval_s) },
      proposal: { '1': { encryption: i.ike.encryption, hash: i.ike.prf, 'dh-group': i.ike.dh_group } },
    },
  });
  out.push({
    path: [...base, 'esp-group', g],
    desired: {
      mode: 'tunnel',
      lifetime: String(i.esp.lifetime_s),
      pfs: i.esp.pfs ? `dh-group${i.esp.pfs}` : 'disable',
      proposal: { '1': { encryption: i.esp.encryption, hash: i.ike.prf } },
    },
  });
  const auth: ConfigJson =
    i.auth.mode === 'pre-shared-secret'
      ? { mode: 'pre-shared-secret', 'local-id': i.auth.local_id, 'remote-id': i.auth.remote_id }
      : {
          mode: 'x509',
          x509: { 'ca-certificate': i.auth.ca_certificate, certificate: i.auth.certificate },
          ...(i.auth.remote_id ? { 'remote-id': i.auth.remote_id } : {}),
        };
  out.push({
    path: [...base, 'authentication', 'psk', g],
    desired: i.auth.mode === 'pre-shared-secret' ? { id: [i.auth.local_id, i.auth.remote_id], secret: i.auth.secret } : null,
  });
  const peer: ConfigJson = {
    authentication: auth,
    'ike-group': g,
    'local-address': i.local_address!,
    'remote-address': i.remote_address!,
    'connection-type': 'initiate',
  };
  if (i.vti) peer['vti'] = { bind: i.vti.interface, 'esp-group': g };
  else
    peer['tunnel'] = Object.fromEntries(
      i.tunnels!.map((t, n) => [
        String(n),
        { 'esp-group': g, local: { prefix: t.local_prefix }, remote: { prefix: t.remote_prefix } },
      ]),
    );
  out.push({ path: [...base, 'site-to-site', 'peer', i.peer], desired: peer });
  if (vtiBefore && vtiBefore !== i.vti?.interface) out.push({ path: ['interfaces', 'vti', vtiBefore], desired: null });
  if (i.vti)
    out.push({
      path: ['interfaces', 'vti', i.vti.interface],
      desired: { address: i.vti.address.length === 1 ? i.vti.address[0]! : [...i.vti.address], description: `ipsec ${i.peer}` },
    });
  return out;
}

/** What the router holds now under `vpn ipsec` and `interfaces vti` (undefined: not read — intake's check). */
interface IpsecState {
  ipsec: ConfigJson | null | undefined;
  vti: ConfigJson | null | undefined;
}

export const ipsecTarget: ActuationTarget<'ipsec-peer', IpsecState> = {
  name: 'ipsec-peer',
  kinds: ['ipsec-peer'],
  contexts: ['ipsec', 'vti'],
  read: (pre) => ({ ipsec: pre.ipsec, vti: pre.vti }),
  render(intent, state, { opts, touch }) {
    const peers = subtree(state.ipsec ?? null, ['site-to-site', 'peer']);
    const before = child(peers, intent.peer);
    const vtiBefore = one(child(before, 'vti')?.['bind']);
    if (intent.vti && state.vti !== undefined) {
      // A VTI bound by another peer cannot be taken over: two SAs would feed one interface.
      for (const name of Object.keys(peers ?? {}))
        if (name !== intent.peer && one(child(child(peers, name), 'vti')?.['bind']) === intent.vti.interface)
          throw new ValidationError(
            `router ${opts.router}: ${intent.vti.interface} is bound by IPsec peer ${name}: choose another VTI`,
          );
    }
    // A VTI the topology's links run over is never deleted by a peer change (it carries a modelled link).
    const deletes = ipsecSubtrees(intent, vtiBefore).filter((s) => s.path[1] === 'vti' && s.desired === null);
    for (const s of deletes)
      if (opts.topology.linkForInterface?.(opts.router, s.path[2]!) !== undefined)
        throw new ValidationError(
          `router ${opts.router}: ${s.path[2]} carries a topology link: an IPsec peer change may not delete it (rebind the peer instead)`,
        );
    for (const s of ipsecSubtrees(intent, vtiBefore)) {
      const rel =
        s.path[0] === 'vpn' ? subtree(state.ipsec ?? null, s.path.slice(2)) : subtree(state.vti ?? null, s.path.slice(2));
      touch(s.path, rel).desired = s.desired;
    }
  },
  effect(intent, dataplane) {
    return check(subtreeProblems(ipsecSubtrees(intent), dataplane.config, (p) => p.slice(p[0] === 'vpn' ? 2 : 0).join(' ')));
  },
  cases(topology: Topology, router: string) {
    const link = topology.config.links.find((l) => l.kind === 'ipsec' && (l.a.site === router || l.b.site === router));
    if (!link) return [];
    const intent: IpsecPeerIntent = {
      kind: 'ipsec-peer',
      router,
      peer: 'pathpilot-conformance',
      local_address: '198.51.100.10',
      remote_address: '203.0.113.20',
      ike: {
        encryption: 'aes256gcm128',
        prf: 'sha256',
        dh_group: '19',
        lifetime_s: 28_800,
        dpd: { action: 'restart', interval_s: 30 },
      },
      esp: { encryption: 'aes256gcm128', pfs: '19', lifetime_s: 3600 },
      auth: { mode: 'pre-shared-secret', local_id: 'pp-a', remote_id: 'pp-b', secret: 'conformance-secret-0123456789' },
      vti: { interface: 'vti90', address: ['198.18.250.1/30'] },
    };
    return [{ name: 'a route-based IKEv2 peer with a VTI', intents: [intent] }];
  },
};
