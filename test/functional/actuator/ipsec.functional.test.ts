/**
 * IPsec site-to-site through the actuator over the routers' HTTP API (issue 17): a route-based IKEv2 peer
 * pair between onprem-nyc (VyOS 1.5) and aws-use1 (1.4) is created by one approved proposal and rolled out
 * like any change; each router's `show vpn ipsec sa` (answered from what the lab negotiates between their
 * running configs) lists the SA. A PSK rotation on both ends in one change set keeps it; a change on one
 * end only takes it down (the twin shows the outage, the tunnel watch reads the SA gone); removal leaves
 * no trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configAt } from '../../../actuator/targets/testing.ts';
import { ipsecPeerUp, parseIpsecSa } from '../../../actuator/tunnels/ipsec-health.ts';
import type { Actuator } from '../../../actuator/types.ts';
import type { IpsecPeerIntent } from '../../../core/proposal.ts';
import { ipsecEnds, ipsecSas, saStatus } from '../../../lab/vyos/ipsec-tunnels.ts';
import type { EmulatedRouter } from '../../../lab/vyos/router.ts';
import { rollOut, startLabActuator, type LabRig } from './support.ts';

const NYC = 'onprem-nyc';
const AWS = 'aws-use1';
const address = { [NYC]: '192.0.2.10', [AWS]: '198.51.100.20' } as Record<string, string>;
let rig: LabRig;
let actuator: Actuator;
let lab: Awaited<ReturnType<typeof startLabActuator>>;
const emulated = (site: string) => rig.lab.router(site) as unknown as EmulatedRouter;
const ends = () => [NYC, AWS].flatMap((s) => ipsecEnds(s, configAt(emulated(s), ['vpn', 'ipsec']) ?? {}));

function peerIntent(router: string, secret: string): IpsecPeerIntent {
  const other = router === NYC ? AWS : NYC;
  return {
    kind: 'ipsec-peer',
    router,
    peer: `to-${other}`,
    local_address: address[router]!,
    remote_address: address[other]!,
    ike: {
      encryption: 'aes256gcm128',
      prf: 'sha256',
      dh_group: '20',
      lifetime_s: 28_800,
      dpd: { action: 'restart', interval_s: 30 },
    },
    esp: { encryption: 'aes256gcm128', pfs: '20', lifetime_s: 3600 },
    auth: { mode: 'pre-shared-secret', local_id: router, remote_id: other, secret },
    vti: { interface: 'vti9', address: [router === NYC ? '10.255.9.1/30' : '10.255.9.2/30'] },
  };
}

/** Submits, approves and waits for the rollout; the final status. */
const roll = (intents: IpsecPeerIntent[], reason: string) => rollOut(actuator, 'tunnel', intents, reason);

const saUp = (site: string) =>
  ipsecPeerUp(parseIpsecSa(emulated(site).show(['vpn', 'ipsec', 'sa'])), `to-${site === NYC ? AWS : NYC}`);

beforeAll(async () => {
  lab = await startLabActuator();
  rig = lab.rig;
  actuator = lab.actuator;
  for (const s of [NYC, AWS]) emulated(s).setIpsecStatus(() => saStatus(ipsecSas(ends()), ends(), s));
});
afterAll(async () => {
  await lab?.stop();
});

describe('IPsec site-to-site through the actuator', () => {
  it('creates the peer pair in one rollout; both routers list the SA; PSK rotation keeps it; one-sided change drops it; removal is clean', async () => {
    const before = [NYC, AWS].map((s) => emulated(s).runningCommands().join('\n'));
    expect(
      await roll([peerIntent(NYC, 'first-secret-0123456789'), peerIntent(AWS, 'first-secret-0123456789')], 'IPsec NYC ↔ AWS'),
    ).toBe('confirmed');
    expect(saUp(NYC)).toBe(true);
    expect(saUp(AWS)).toBe(true);
    // The actuator's tunnel watch reads the same: each IPsec router's peers, their SA up.
    const watched = await actuator.service.checkIpsec();
    expect(watched.get(NYC)).toEqual(new Map([[`to-${AWS}`, true]]));
    expect(watched.get(AWS)).toEqual(new Map([[`to-${NYC}`, true]]));
    const row = parseIpsecSa(emulated(NYC).show(['vpn', 'ipsec', 'sa']))[0]!;
    expect(row).toMatchObject({
      connection: `to-${AWS}-vti`,
      remoteAddress: address[AWS],
      remoteId: AWS,
      proposal: 'AES_GCM_16_256/ECP_384',
    });
    // No audit event (memory, console, Kafka) carries the PSK: ops and snapshots are redacted.
    const audit = JSON.stringify(actuator.changes());
    expect(audit).not.toContain('first-secret-0123456789');

    // PSK rotation: both ends in one change set.
    expect(
      await roll([peerIntent(NYC, 'second-secret-0123456789'), peerIntent(AWS, 'second-secret-0123456789')], 'rotate the PSK'),
    ).toBe('confirmed');
    expect(emulated(AWS).returnValue(['vpn', 'ipsec', 'authentication', 'psk', `pp-to-${NYC}`, 'secret'])).toBe(
      'second-secret-0123456789',
    );
    expect(saUp(NYC) && saUp(AWS)).toBe(true);

    // One end only: the routers accept it, the SA is gone (what the tunnel health reads as down).
    expect(await roll([peerIntent(NYC, 'third-secret-0123456789x')], 'half a rotation')).toBe('confirmed');
    expect(saUp(NYC)).toBe(false);
    expect((await actuator.service.checkIpsec()).get(NYC)).toEqual(new Map([[`to-${AWS}`, false]]));
    expect(ipsecSas(ends())[0]).toMatchObject({ up: false, reason: expect.stringMatching(/pre-shared keys differ/) });

    // Removal: both routers back to what they ran before.
    expect(
      await roll(
        [NYC, AWS].map(
          (s) => ({ kind: 'ipsec-peer', router: s, peer: `to-${s === NYC ? AWS : NYC}`, remove: true }) as IpsecPeerIntent,
        ),
        'remove the IPsec pair',
      ),
    ).toBe('confirmed');
    expect([NYC, AWS].map((s) => emulated(s).runningCommands().join('\n'))).toEqual(before);
  });
});
