import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { intentSchema, type OpenvpnSiteIntent } from '../../core/proposal.ts';
import { openvpnEnds, openvpnTunnels } from '../../lab/vyos/openvpn-tunnels.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import { applyIntents, configAt } from './testing.ts';

const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
const staticKey = () => randomBytes(256).toString('hex');
const host = { left: '192.0.2.1', right: '198.51.100.2' } as const;

/** left dials right over UDP 1194; tunnel 10.255.1.1 ↔ .2. */
function site(router: 'left' | 'right', key: string, extra: Partial<OpenvpnSiteIntent> = {}): OpenvpnSiteIntent {
  const other = router === 'left' ? 'right' : 'left';
  return intentSchema.parse({
    kind: 'openvpn-site',
    router,
    interface: 'vtun3',
    local_host: host[router],
    local_port: 1194,
    ...(router === 'left' ? { remote_host: host[other], remote_port: 1194 } : {}),
    local_address: router === 'left' ? '10.255.1.1' : '10.255.1.2',
    remote_address: router === 'left' ? '10.255.1.2' : '10.255.1.1',
    auth: { mode: 'shared-secret', shared_secret: key },
    ...extra,
  }) as OpenvpnSiteIntent;
}

function pair() {
  const left = new EmulatedRouter({ name: 'left', version: '1.5', apiKey: 'k' }, clock);
  const right = new EmulatedRouter({ name: 'right', version: '1.4', apiKey: 'k' }, clock);
  const tunnels = () =>
    openvpnTunnels(
      [left, right].flatMap((r) =>
        openvpnEnds(r.name, configAt(r, ['interfaces', 'openvpn']) ?? {}, configAt(r, ['pki', 'openvpn']) ?? {}),
      ),
    );
  return { left, right, tunnels };
}

describe('openvpn-site target on emulated routers', () => {
  it('brings a static-key site-to-site tunnel up between 1.5 and 1.4; a one-sided key rotation takes it down, both sides bring it back', () => {
    const { left, right, tunnels } = pair();
    const key = staticKey();
    applyIntents(left, [site('left', key)]);
    applyIntents(right, [site('right', key)]);
    expect(tunnels()).toEqual([{ a: { node: 'left', iface: 'vtun3' }, b: { node: 'right', iface: 'vtun3' }, up: true }]);
    expect(left.returnValue(['interfaces', 'openvpn', 'vtun3', 'shared-secret-key'])).toBe('pp-vtun3');
    expect(left.returnValue(['pki', 'openvpn', 'shared-secret', 'pp-vtun3', 'key'])).toBe(key);
    const next = staticKey();
    applyIntents(left, [site('left', next)]);
    expect(tunnels()[0]).toMatchObject({ up: false, reason: expect.stringMatching(/static keys differ/) });
    applyIntents(right, [site('right', next)]);
    expect(tunnels()[0]!.up).toBe(true);
    applyIntents(left, [{ kind: 'openvpn-site', router: 'left', interface: 'vtun3', remove: true } as OpenvpnSiteIntent]);
    expect(configAt(left, ['interfaces', 'openvpn'])).toBeNull();
    expect(configAt(left, ['pki'])).toBeNull();
    expect(tunnels()).toEqual([]);
  });

  it("refuses what vyos-1x's verify refuses, with its messages", () => {
    const { left } = pair();
    const set = (path: string) => ({ op: 'set' as const, path: ['interfaces', 'openvpn', 'vtun4', ...path.split(' ')] });
    expect(() => left.configure([set('local-port 1195')])).toThrow(/Must specify OpenVPN operation mode!/);
    expect(() => left.configure([set('mode site-to-site'), set('remote-address 10.0.0.2')])).toThrow(
      /Must specify "local-address" or add interface to bridge/,
    );
    const base = [set('mode site-to-site'), set('local-address 10.0.0.1'), set('remote-address 10.0.0.2')];
    expect(() => left.configure(base)).toThrow(/Must specify only one of "shared-secret-key" and "tls"/);
    expect(() => left.configure([...base, set('shared-secret-key nope')])).toThrow(/PKI is not configured/);
    applyIntents(left, [site('left', staticKey())]);
    expect(() => left.configure([...base, set('shared-secret-key nope')])).toThrow(
      /Invalid shared-secret on openvpn interface vtun4/,
    );
    expect(() => left.configure([...base, set('shared-secret-key pp-vtun3'), set('encryption cipher aes256gcm')])).toThrow(
      /GCM encryption with shared-secret-key not supported/,
    );
    expect(() => left.configure([...base, set('protocol tcp-active'), set('shared-secret-key pp-vtun3')])).toThrow(
      /Must specify "remote-host" with "tcp-active"/,
    );
    // TLS needs certificates in the PKI; the emulator's PKI holds none, as a router without them.
    expect(() =>
      applyIntents(left, [
        site('left', staticKey(), {
          interface: 'vtun5',
          local_port: 1195,
          auth: { mode: 'tls', role: 'active', ca_certificate: 'ca-1', certificate: 'left' },
        }),
      ]),
    ).toThrow(/Invalid CA certificate on openvpn interface vtun5/);
  });

  it('rejects an intent that cannot be a tunnel', () => {
    expect(() => intentSchema.parse({ kind: 'openvpn-site', router: 'r', interface: 'vtun1' })).toThrow(/required unless remove/);
    expect(() =>
      intentSchema.parse({ ...site('left', staticKey()), auth: { mode: 'shared-secret', shared_secret: 'abc' } }),
    ).toThrow(/512 digits/);
    expect(() => intentSchema.parse({ ...site('right', staticKey()), local_port: undefined })).toThrow(
      /dials a remote host or listens/,
    );
  });
});
