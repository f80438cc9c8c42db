/**
 * Tunnels over the routers' HTTP API (issue 17): the reference overlay (7 nodes, relays D and H) on seven
 * emulated VyOS 1.5 routers, each answering `show interfaces wireguard wgN summary` from the tunnels the
 * lab sees across all of them. Every key of the overlay is rotated with probe windows checked between
 * rotations (no window loses a tunnel); a rotation that a peer refuses rolls back on every router; a
 * rotation towards a dead tunnel is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interfaceKeys, overlayPlan, tunnelsOf } from '../../../actuator/tunnels/overlay-testing.ts';
import { keyId, vyosOps, type InterfaceKeys } from '../../../actuator/tunnels/overlay-render.ts';
import { rotateInterfaceKey, type RotationDeps } from '../../../actuator/tunnels/rotation.ts';
import { applyOverlay } from '../../../actuator/tunnels/apply.ts';
import { VyosClient } from '../../../actuator/vyos/client.ts';
import { SimulatedClock } from '../../../core/clock.ts';
import type { RouterApi } from '../../../actuator/vyos/types.ts';
import { createVyosLab } from '../../../lab/vyos/lab.ts';
import { EmulatedRouter } from '../../../lab/vyos/router.ts';
import type { VyosLab } from '../../../lab/vyos/types.ts';
import { peerStatus } from '../../../lab/vyos/wireguard-tunnels.ts';
import { createActuator } from '../../../actuator/index.ts';
import { testRoot } from '../../../actuator/testing.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { RealClock } from '../../../core/clock.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import type { GuardData } from '../../../actuator/guard/index.ts';
import type { WindowQuality } from '../../../analytics/queries/types.ts';

const plan = overlayPlan();
const names = plan.nodes.map((n) => n.node.name);
let lab: VyosLab;
/** The lab's clock: handshakes age with it (commit-confirm timers are confirmed before they would fire). */
const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
const keys = new Map<string, InterfaceKeys>();
const publicKeys = new Map<string, string>();
const clients = new Map<string, VyosClient>();
const emulated = (name: string) => lab.router(name) as unknown as EmulatedRouter;
const tunnels = () => tunnelsOf(plan, names.map(emulated));

beforeAll(async () => {
  for (const [k, v] of interfaceKeys(plan)) keys.set(k, v);
  for (const [k, v] of keys) publicKeys.set(k, v.publicKey);
  lab = await createVyosLab({ clock, routers: names.map((name) => ({ name, version: '1.5' as const, apiKey: `key-${name}` })) });
  for (const n of plan.nodes) {
    const r = emulated(n.node.name);
    r.configure(vyosOps(n, keys));
    r.setWireguardStatus((iface) => peerStatus(tunnels(), n.node.name, iface));
    clients.set(n.node.name, new VyosClient({ url: lab.urls[n.node.name]!, apiKey: `key-${n.node.name}`, version: '1.5' }));
  }
});
afterAll(async () => {
  await lab?.stop();
});

const deps = (): RotationDeps => ({
  plan,
  routerFor: (node) => clients.get(node)!,
  publicKeyOf: (node, iface) => publicKeys.get(keyId(node, iface))!,
  savePublicKey: (node, iface, key) => void publicKeys.set(keyId(node, iface), key),
  confirmMinutes: 2,
  now: () => clock.now(),
});

/** A router API whose `configure` fails: a peer that answers reads but refuses its part of the change. */
function refusing(api: RouterApi): RouterApi {
  return new Proxy(api, {
    get(target, prop) {
      if (prop === 'configure') return async () => Promise.reject(new Error('Commit failed'));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** One probe window: every tunnel of the overlay carries probes (up), as the lab sees it. */
const probeWindow = () => tunnels().filter((t) => !t.up);

describe('tunnel key rotation over the API', () => {
  it('rotates every key of the 7-node overlay, make-before-break: every probe window keeps every tunnel; keys generated on the routers', async () => {
    expect(probeWindow()).toEqual([]);
    let rotated = 0;
    for (const n of plan.nodes)
      for (const i of n.interfaces) {
        const before = publicKeys.get(keyId(n.node.name, i.name));
        const r = await rotateInterfaceKey(deps(), n.node.name, i.name);
        expect(r).toMatchObject({ outcome: 'rotated' });
        expect(publicKeys.get(keyId(n.node.name, i.name))).not.toBe(before);
        // The private key on the router is the one it generated, and pathpilot never saw it stored.
        const priv = emulated(n.node.name).returnValue(['interfaces', 'wireguard', i.name, 'private-key'])!;
        expect(priv).not.toBe(keys.get(keyId(n.node.name, i.name))!.privateKey);
        expect(probeWindow()).toEqual([]);
        // Nothing pending: every commit-confirm was confirmed.
        for (const name of names) expect(emulated(name).pendingConfirm()).toBeUndefined();
        rotated++;
      }
    expect(rotated).toBe(12);
  });

  it('rolls back on every router when a peer refuses its part; refuses while a peer is unreachable or its tunnel is down', async () => {
    const configs = () => names.map((n) => JSON.stringify(emulated(n).showConfig(['interfaces', 'wireguard'])));
    const before = configs();
    const known = publicKeys.get('A/wg1');
    // H's API fails: refused before anything changes.
    emulated('H').faults.set({ fail5xx: 10 });
    const r = await rotateInterfaceKey(deps(), 'A', 'wg1');
    emulated('H').faults.reset();
    expect(r).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/peer H is not reachable/) });
    expect(configs()).toEqual(before);
    // H answers reads but refuses its commit: A and D had changed; every router is restored.
    const r2 = await rotateInterfaceKey(
      { ...deps(), routerFor: (node) => (node === 'H' ? refusing(clients.get('H')!) : clients.get(node)!) },
      'A',
      'wg1',
    );
    expect(r2).toMatchObject({ outcome: 'rolled-back', reason: expect.stringMatching(/change set failed/) });
    expect(r2.outcome === 'rolled-back' && r2.reason).not.toMatch(/[A-Za-z0-9+/]{43}=/);
    expect(configs()).toEqual(before);
    expect(publicKeys.get('A/wg1')).toBe(known);
    expect(probeWindow()).toEqual([]);
    // Relay D dies and its handshakes age out: rotating E's relay key is refused (it could not be verified
    // through D and would leave D's entry stale).
    emulated('D').configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    for (const n of names) emulated(n).show(['interfaces', 'wireguard', 'wg0', 'summary']);
    await clock.advance(200_000);
    const stale = await rotateInterfaceKey(deps(), 'E', 'wg1');
    expect(stale).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/tunnel D ↔ E is down/) });
    emulated('D').configure([{ op: 'delete', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
  });
});

describe('tunnel watch: failover through the actuator and back', () => {
  let actuator: Actuator;
  let queue: MemoryQueue;
  const windowMs = 30_000;
  const saved: { id: string; at: number }[] = [];
  /** The lab's probes across a tunnel: all lost while it is down, none while it is up. */
  const tunnelLoss = async (node: string, peer: string) => {
    const t = tunnels().find((x) => (x.a.node === node && x.b?.node === peer) || (x.b?.node === node && x.a.node === peer));
    return t ? (t.up ? 0 : 1) : undefined;
  };
  beforeAll(async () => {
    queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      {
        root: testRoot(),
        queue,
        clock: new RealClock(),
        routerFor: (node) => clients.get(node)!,
        env: {},
        overlay: {
          plan,
          publicKeyOf: (node, iface) => publicKeys.get(keyId(node, iface))!,
          // A/wg1's key is 73 h old: the first calm check rotates it (the rest count from now).
          keyTimes: new Map([['A/wg1', Date.now() - 73 * 3_600_000]]),
          saveKey: async (node, iface, key, at) => {
            publicKeys.set(keyId(node, iface), key);
            saved.push({ id: keyId(node, iface), at });
          },
        },
        tunnelLoss,
      },
      // The test drives the probe windows itself (the lab's clock is simulated).
      { gitops_dir: '', tunnels: { interval_s: 0 } },
    );
    await actuator.start();
  });
  afterAll(async () => {
    await actuator?.stop();
    await queue?.stop();
  });

  it('rotates a key past 72 h on a calm overlay, make-before-break, and keeps the new public key', async () => {
    const before = publicKeys.get('A/wg1');
    expect(await window()).toBeUndefined();
    expect(saved).toEqual([{ id: 'A/wg1', at: expect.any(Number) }]);
    expect(publicKeys.get('A/wg1')).not.toBe(before);
    expect(tunnels().filter((t) => !t.up)).toEqual([]);
    // Nothing else is due: the next check rotates nothing.
    expect(await window()).toBeUndefined();
    expect(saved).toHaveLength(1);
  });

  /** One probe window passes on the lab, then the watch checks. */
  const window = async () => {
    await clock.advance(windowMs);
    return actuator.service.checkTunnels(windowMs);
  };
  /** Which peer each failover prefix is routed to on each node that has backups for D (router → prefix → peer). */
  const holders = () => {
    const out: Record<string, Record<string, string>> = {};
    for (const n of plan.nodes)
      for (const i of n.interfaces) {
        const backups = i.peers.filter((p) => p.failoverIps.length > 0);
        if (!backups.length || !i.peers.some((p) => p.path === 'primary' && p.node === 'D')) continue;
        const peers = emulated(n.node.name).showConfig(['interfaces', 'wireguard', i.name, 'peer']) as Record<
          string,
          { 'allowed-ips'?: string | string[] }
        >;
        for (const ip of backups.flatMap((b) => b.failoverIps))
          for (const [peer, c] of Object.entries(peers))
            if ([c['allowed-ips'] ?? []].flat().includes(ip)) (out[n.node.name] ??= {})[ip] = peer;
      }
    return out;
  };
  const onlyVia = (h: Record<string, Record<string, string>>, peer: string) =>
    Object.values(h).every((byIp) => Object.values(byIp).every((p) => p === peer));

  it("kills relay D: its clients' prefixes move to H in the first probe window (emergency, unattended); back after 3 healthy windows", async () => {
    expect(await window()).toBeUndefined();
    expect(Object.keys(holders()).length).toBeGreaterThan(0);
    expect(onlyVia(holders(), 'D')).toBe(true);

    emulated('D').configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    const failover = await window();
    expect(failover?.proposal).toMatchObject({ emergency: true, kind: 'failover' });
    await actuator.service.idle();
    expect((await actuator.get(failover!.proposal.id))?.proposal.status).toBe('confirmed');
    expect(onlyVia(holders(), 'H')).toBe(true);
    // Every failover prefix is now routed to a peer whose tunnel is up: nothing behind it is lost.
    const up = tunnels().filter((t) => t.up);
    for (const [node, byIp] of Object.entries(holders()))
      for (const peer of Object.values(byIp))
        expect(up.some((t) => (t.a.node === node && t.b?.node === peer) || (t.b?.node === node && t.a.node === peer))).toBe(true);

    // D comes back: two healthy windows change nothing (hysteresis), the third proposes the restore.
    emulated('D').configure([{ op: 'delete', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    expect(await window()).toBeUndefined();
    expect(await window()).toBeUndefined();
    const undecided = await window();
    expect(undecided?.proposal).toMatchObject({ emergency: false });
    expect(onlyVia(holders(), 'H')).toBe(true);
    // D dies again before anyone approves the restore: the restore is withdrawn (the routers are failed
    // over already, so nothing new is proposed), and never applied.
    emulated('D').configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    expect(await window()).toBeUndefined();
    expect((await actuator.get(undecided!.proposal.id))?.proposal).toMatchObject({ status: 'rejected' });
    expect(onlyVia(holders(), 'H')).toBe(true);
    emulated('D').configure([{ op: 'delete', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
    expect(await window()).toBeUndefined();
    expect(await window()).toBeUndefined();
    const restore = await window();
    expect(restore?.proposal).toMatchObject({ emergency: false });
    await actuator.approve(restore!.proposal.id, 'api:alice');
    await actuator.service.idle();
    expect((await actuator.get(restore!.proposal.id))?.proposal.status).toBe('confirmed');
    expect(onlyVia(holders(), 'D')).toBe(true);
    expect(await window()).toBeUndefined();
  });
});

describe('tunnel watch: probe loss from the store, mapped by tunnels.probe_paths', () => {
  it('fails over in the first window from probes of the mapped paths alone (no loss hook), and back', async () => {
    const queue = new MemoryQueue();
    await queue.start();
    // The store's probe quality per path, as the analytics queries return it: all lost while the lab's
    // tunnel under the path is down. Paths are named after the peering they cross.
    const up = (a: string, b: string) =>
      tunnels().some((t) => t.up && ((t.a.node === a && t.b?.node === b) || (t.a.node === b && t.b?.node === a)));
    const mapped: Record<string, string> = {};
    for (const n of plan.nodes)
      for (const i of n.interfaces) for (const p of i.peers) mapped[`${n.node.name}>${p.node}`] = `ovl-${n.node.name}-${p.node}`;
    const quality = (loss: number): WindowQuality => ({
      rtt_p50_ms: 20,
      rtt_p95_ms: 25,
      loss_ratio: loss,
      jitter_ms: 1,
      windows: 1,
      sent: 60,
    });
    const guardData: GuardData = {
      compare: () => Promise.reject(new Error('not used')),
      qualityByPath: async () =>
        new Map(
          Object.entries(mapped).map(([k, path]) => [`${path}|*`, quality(up(...(k.split('>') as [string, string])) ? 0 : 1)]),
        ),
    };
    const a = createActuator(
      {
        root: testRoot(),
        queue,
        clock: new RealClock(),
        routerFor: (node) => clients.get(node)!,
        env: {},
        guardData,
        overlay: { plan, publicKeyOf: (node, iface) => publicKeys.get(keyId(node, iface))! },
      },
      {
        gitops_dir: '',
        self_heal_interval_s: 0,
        realized_interval_s: 0,
        tunnels: { interval_s: 0, probe_paths: mapped, rotate_every_h: 0 },
      },
    );
    await a.start();
    try {
      const check = async () => {
        await clock.advance(30_000);
        return a.service.checkTunnels(30_000);
      };
      expect(await check()).toBeUndefined();
      emulated('D').configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
      const failover = await check();
      expect(failover?.proposal).toMatchObject({ emergency: true });
      await a.service.idle();
      expect((await a.get(failover!.proposal.id))?.proposal.status).toBe('confirmed');
      emulated('D').configure([{ op: 'delete', path: ['interfaces', 'wireguard', 'wg0', 'disable'] }]);
      expect(await check()).toBeUndefined();
      expect(await check()).toBeUndefined();
      const restore = await check();
      await a.approve(restore!.proposal.id, 'api:alice');
      await a.service.idle();
      expect((await a.get(restore!.proposal.id))?.proposal.status).toBe('confirmed');
      expect(tunnels().filter((t) => !t.up)).toEqual([]);
    } finally {
      await a.stop();
      await queue.stop();
    }
  });
});

describe('overlay apply over the API', () => {
  let empty: VyosLab;
  afterAll(async () => {
    await empty?.stop();
  });

  it('puts the overlay on seven empty routers with every key generated on its router; all 15 tunnels come up; a rerun keeps the keys', async () => {
    empty = await createVyosLab({ routers: names.map((name) => ({ name, version: '1.5' as const, apiKey: `k-${name}` })) });
    const api = new Map(names.map((n) => [n, new VyosClient({ url: empty.urls[n]!, apiKey: `k-${n}`, version: '1.5' })]));
    const r = await applyOverlay(plan, (n) => api.get(n)!, { confirmMinutes: 2 });
    expect(r.generated).toHaveLength(12);
    expect(r.applied).toEqual(names);
    const router = (n: string) => empty.router(n) as unknown as EmulatedRouter;
    const up = tunnelsOf(plan, names.map(router));
    expect(up).toHaveLength(15);
    expect(up.filter((t) => !t.up)).toEqual([]);
    for (const n of names) expect(router(n).pendingConfirm()).toBeUndefined();
    // pathpilot kept public keys only; each matches the private key its router holds.
    const before = names.map((n) => JSON.stringify(router(n).showConfig(['interfaces', 'wireguard'])));
    const again = await applyOverlay(plan, (n) => api.get(n)!);
    expect(again.generated).toEqual([]);
    expect([...again.publicKeys]).toEqual([...r.publicKeys]);
    expect(names.map((n) => JSON.stringify(router(n).showConfig(['interfaces', 'wireguard'])))).toEqual(before);
  });
});
