import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { intentSchema, type IpsecPeerIntent } from '../../core/proposal.ts';
import { ipsecEnds, ipsecSas, saStatus } from '../../lab/vyos/ipsec-tunnels.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import { ipsecPeerUp, parseIpsecSa } from '../tunnels/ipsec-health.ts';
import { applyIntents, configAt } from './testing.ts';

const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
/** A route-based IKEv2 peer from `router` (at `local`) to `remote`, with the shared secret. */
function peer(
  router: string,
  local: string,
  remote: string,
  secret: string,
  extra: Partial<IpsecPeerIntent> = {},
): IpsecPeerIntent {
  return intentSchema.parse({
    kind: 'ipsec-peer',
    router,
    peer: router === 'left' ? 'to-right' : 'to-left',
    local_address: local,
    remote_address: remote,
    ike: { encryption: 'aes256gcm128', dh_group: '19' },
    esp: { encryption: 'aes256gcm128', pfs: '19' },
    auth: {
      mode: 'pre-shared-secret',
      local_id: router,
      remote_id: router === 'left' ? 'right' : 'left',
      secret,
    },
    vti: { interface: 'vti5', address: [router === 'left' ? '10.255.5.1/30' : '10.255.5.2/30'] },
    ...extra,
  }) as IpsecPeerIntent;
}

function pair(versions: ['1.4' | '1.5', '1.4' | '1.5'] = ['1.5', '1.4']) {
  const left = new EmulatedRouter({ name: 'left', version: versions[0], apiKey: 'k' }, clock);
  const right = new EmulatedRouter({ name: 'right', version: versions[1], apiKey: 'k' }, clock);
  const routers = [left, right];
  const ends = () => routers.flatMap((r) => ipsecEnds(r.name, configAt(r, ['vpn', 'ipsec']) ?? {}));
  for (const r of routers) r.setIpsecStatus(() => saStatus(ipsecSas(ends()), ends(), r.name));
  return { left, right, sas: () => ipsecSas(ends()) };
}

const secret = 'first-shared-secret-0123';

describe('ipsec-peer target on emulated routers', () => {
  it('brings a route-based IKEv2 SA up between a 1.5 and a 1.4 router; show vpn ipsec sa lists it', async () => {
    const { left, right, sas } = pair();
    applyIntents(left, [peer('left', '192.0.2.1', '198.51.100.2', secret)]);
    applyIntents(right, [peer('right', '198.51.100.2', '192.0.2.1', secret)]);
    expect(sas()).toMatchObject([{ up: true, connections: ['to-right-vti', 'to-left-vti'] }]);
    expect(left.returnValues(['vpn', 'ipsec', 'authentication', 'psk', 'pp-to-right', 'id'])).toEqual(['left', 'right']);
    expect(left.returnValue(['interfaces', 'vti', 'vti5', 'address'])).toBe('10.255.5.1/30');
    left.show(['vpn', 'ipsec', 'sa']);
    await clock.advance(125_000);
    const text = left.show(['vpn', 'ipsec', 'sa']);
    const rows = parseIpsecSa(text);
    expect(rows).toEqual([
      {
        connection: 'to-right-vti',
        state: 'up',
        uptime: '2m5s',
        remoteAddress: '198.51.100.2',
        remoteId: 'right',
        proposal: 'AES_GCM_16_256/ECP_256',
      },
    ]);
    expect(ipsecPeerUp(rows, 'to-right')).toBe(true);
    expect(text.split('\n')[1]).toMatch(/^-+ {2}-+/);
  });

  it('rotating the PSK on both ends keeps the SA; on one end only, the SA is gone; remove cleans every subtree', () => {
    const { left, right, sas } = pair(['1.4', '1.5']);
    applyIntents(left, [peer('left', '192.0.2.1', '198.51.100.2', secret)]);
    applyIntents(right, [peer('right', '198.51.100.2', '192.0.2.1', secret)]);
    const next = 'second-shared-secret-456';
    applyIntents(left, [peer('left', '192.0.2.1', '198.51.100.2', next)]);
    expect(sas()[0]).toMatchObject({ up: false, reason: expect.stringMatching(/pre-shared keys differ/) });
    expect(parseIpsecSa(left.show(['vpn', 'ipsec', 'sa']))).toEqual([]);
    applyIntents(right, [peer('right', '198.51.100.2', '192.0.2.1', next)]);
    expect(sas()[0]!.up).toBe(true);
    // Proposals that share nothing: down, with the reason.
    applyIntents(right, [
      peer('right', '198.51.100.2', '192.0.2.1', next, {
        ike: {
          encryption: 'chacha20poly1305',
          prf: 'sha256',
          dh_group: '31',
          lifetime_s: 28_800,
          dpd: { action: 'restart', interval_s: 30 },
        },
      }),
    ]);
    expect(sas()[0]).toMatchObject({ up: false, reason: expect.stringMatching(/no common IKE proposal/) });
    applyIntents(left, [{ kind: 'ipsec-peer', router: 'left', peer: 'to-right', remove: true }]);
    expect(configAt(left, ['vpn', 'ipsec'])).toBeNull();
    expect(configAt(left, ['interfaces', 'vti'])).toBeNull();
  });

  it("refuses what VyOS's verify refuses: a VTI bound by another peer, a missing VTI, no ike-group", () => {
    const { left } = pair();
    applyIntents(left, [peer('left', '192.0.2.1', '198.51.100.2', secret)]);
    expect(() => applyIntents(left, [{ ...peer('left', '192.0.2.1', '203.0.113.9', secret), peer: 'other' }])).toThrow(
      /vti5 is bound by IPsec peer to-right/,
    );
    expect(() =>
      left.configure([{ op: 'set', path: ['vpn', 'ipsec', 'site-to-site', 'peer', 'x', 'vti', 'bind', 'vti7'] }]),
    ).toThrow(/Missing ike-group on site-to-site peer x/);
    expect(() =>
      left.configure([
        { op: 'set', path: ['vpn', 'ipsec', 'site-to-site', 'peer', 'x', 'ike-group', 'pp-to-right'] },
        { op: 'set', path: ['vpn', 'ipsec', 'site-to-site', 'peer', 'x', 'authentication', 'mode', 'pre-shared-secret'] },
        { op: 'set', path: ['vpn', 'ipsec', 'site-to-site', 'peer', 'x', 'local-address', '192.0.2.1'] },
        { op: 'set', path: ['vpn', 'ipsec', 'site-to-site', 'peer', 'x', 'vti', 'bind', 'vti7'] },
      ]),
    ).toThrow(/VTI interface vti7 for site-to-site peer x does not exist!/);
    expect(() =>
      left.configure([{ op: 'set', path: ['vpn', 'ipsec', 'authentication', 'psk', 'lonely', 'id', 'left'] }]),
    ).toThrow(/Authentication psk "lonely" missing "id" or "secret"/);
  });

  it("never deletes a VTI that carries one of the topology's links", () => {
    const topology = new Topology(loadConfig(undefined, {}).root);
    const nyc = new EmulatedRouter({ name: 'onprem-nyc', version: '1.5', apiKey: 'k' }, clock);
    const bound = {
      ...peer('left', '192.0.2.1', '198.51.100.2', secret),
      router: 'onprem-nyc',
      vti: { interface: 'vti1', address: ['172.16.1.1/30'] },
    };
    applyIntents(nyc, [bound], topology);
    expect(() =>
      applyIntents(nyc, [{ kind: 'ipsec-peer', router: 'onprem-nyc', peer: 'to-right', remove: true }], topology),
    ).toThrow(/vti1 carries a topology link/);
    expect(configAt(nyc, ['interfaces', 'vti', 'vti1'])).not.toBeNull();
  });

  it('rejects an intent without the parts a peer needs, and a policy-based one that also names a VTI', () => {
    expect(() => intentSchema.parse({ kind: 'ipsec-peer', router: 'r', peer: 'p' })).toThrow(/required unless remove/);
    expect(() =>
      intentSchema.parse({
        ...peer('left', '192.0.2.1', '198.51.100.2', secret),
        tunnels: [{ local_prefix: '10.0.0.0/24', remote_prefix: '10.1.0.0/24' }],
      }),
    ).toThrow(/one of vti/);
    expect(() => intentSchema.parse({ ...peer('left', '192.0.2.1', '198.51.100.2', 'short') })).toThrow(/at least 16/);
    expect(() => intentSchema.parse({ ...peer('left', '192.0.2.1', '198.51.100.2', "it's-a-long-secret-0123") })).toThrow(
      /without quotes/,
    );
  });
});
