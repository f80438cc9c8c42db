import { describe, expect, it } from 'vitest';
import { applyIntents, interfaceKeys, overlayPlan, tunnelsOf } from './overlay-testing.ts';
import { SimulatedClock } from '../../core/clock.ts';
import type { Intent } from '../../core/proposal.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import type { ConfigJson } from '../../lab/vyos/types.ts';
import { peerStatus } from '../../lab/vyos/wireguard-tunnels.ts';
import { parseWireguardSummary, TunnelFailover, type PeerHealth } from './health.ts';
import { keyId, vyosOps } from './overlay-render.ts';

const plan = overlayPlan();

/** Seven emulated routers running the overlay, each answering `summary` from the tunnels the lab sees. */
function overlayLab() {
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  const keys = interfaceKeys(plan);
  const routers = new Map(
    plan.nodes.map((n) => {
      const r = new EmulatedRouter({ name: n.node.name, version: '1.5', apiKey: 'k' }, clock);
      r.configure(vyosOps(n, keys));
      return [n.node.name, r] as const;
    }),
  );
  const status = (node: string) => (iface: string) => peerStatus(tunnelsOf(plan, routers.values()), node, iface);
  for (const [name, r] of routers) r.setWireguardStatus(status(name));
  /** Every node's peers as its routers report them now. */
  const health = () =>
    new Map<string, PeerHealth[]>(
      plan.nodes.map((n) => [
        n.node.name,
        n.interfaces.flatMap((i) =>
          parseWireguardSummary(routers.get(n.node.name)!.show(['interfaces', 'wireguard', i.name, 'summary'])),
        ),
      ]),
    );
  const apply = (intents: Intent[]) => {
    for (const intent of intents) applyIntents(routers.get(intent.router)!, [intent]);
  };
  return { clock, keys, routers, health, apply };
}

describe('tunnel health and failover', () => {
  it('reads handshakes from the emulator as vyos-1x prints them', () => {
    const lab = overlayLab();
    const text = lab.routers.get('A')!.show(['interfaces', 'wireguard', 'wg1', 'summary']);
    expect(text).toMatch(
      /^interface: wg1\n {2}description: pathpilot overlay relay\n {2}address: 10\.96\.1\.2\/32\n {2}public key: \S{44}\n {2}private key: \(hidden\)\n {2}listening port: 51821\n/,
    );
    expect(text).toContain('  peer: D\n');
    expect(text).toMatch(
      / {4}latest handshake: 0:00:00\n {4}status: active\n {4}endpoint: 203\.0\.113\.10:51821\n {4}allowed ips: 10\.96\.0\.1\/32, 10\.96\.2\.0\/24\n {4}persistent keepalive: every 25 seconds/,
    );
    const peers = parseWireguardSummary(text);
    expect(peers.map((p) => [p.peer, p.handshakeAgeS, p.endpoint])).toEqual([
      ['D', 0, '203.0.113.10:51821'],
      ['H', 0, '198.51.100.20:51821'],
    ]);
    expect(parseWireguardSummary('  peer: X\n    public key: k\n    latest handshake: 1 day, 2:03:04\n')[0]!.handshakeAgeS).toBe(
      93784,
    );
  });

  it('kills relay D: its clients fail over to H once its handshakes go stale; D back, the prefixes return only after three healthy checks', async () => {
    const lab = overlayLab();
    const publicKeyOf = (node: string, iface: string) => lab.keys.get(keyId(node, iface))!.publicKey;
    const watch = new TunnelFailover(plan, publicKeyOf, { restoreChecks: 3 });
    const planned = new Map([...lab.routers].map(([n, r]) => [n, JSON.stringify(r.showConfig(['interfaces', 'wireguard']))]));
    expect(watch.observe(lab.health())).toBeUndefined();
    // D dies (its interface goes down): nothing moves while its last handshakes are fresh.
    lab.routers.get('D')!.configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    await lab.clock.advance(60_000);
    expect(watch.observe(lab.health())).toBeUndefined();
    await lab.clock.advance(150_000);
    const failover = watch.observe(lab.health())!;
    expect(failover.kind).toBe('failover');
    expect(failover.down).toEqual(['D']);
    lab.apply(failover.intents);
    const a = lab.routers.get('A')!.showConfig(['interfaces', 'wireguard', 'wg1', 'peer']) as Record<string, ConfigJson>;
    expect(a['H']!['allowed-ips']).toEqual(['10.96.0.2/32', '10.96.2.0/24']);
    // Probes see a dead tunnel within a window: a fresh handshake with a lossy window counts as down too.
    const lossy = new TunnelFailover(plan, publicKeyOf);
    const fresh = lab.health();
    for (const peers of fresh.values())
      for (const p of peers) if (p.peer === 'D') Object.assign(p, { handshakeAgeS: 10, loss: 1 });
    expect(lossy.observe(fresh)?.down).toEqual(['D']);
    // D comes back: two healthy checks move nothing, the third restores the plan.
    lab.routers.get('D')!.configure([{ op: 'delete', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    for (let i = 0; i < 2; i++) {
      await lab.clock.advance(60_000);
      expect(watch.observe(lab.health())).toBeUndefined();
    }
    await lab.clock.advance(60_000);
    const restore = watch.observe(lab.health())!;
    expect([restore.kind, restore.down]).toEqual(['restore', []]);
    lab.apply(restore.intents);
    for (const [n, r] of lab.routers) expect(JSON.stringify(r.showConfig(['interfaces', 'wireguard']))).toBe(planned.get(n));
  });
});
