import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { wireguardKeyPair } from '../../core/wireguard-keys.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import type { ConfigJson } from '../../lab/vyos/types.ts';
import { parseEndpoint, type OverlayPlan } from './overlay-plan.ts';
import {
  applyIntents,
  interfaceKeys,
  overlayPlan,
  referenceNodesText,
  referenceTopologyText,
  tunnelsOf,
} from './overlay-testing.ts';
import { keyId, overlaySvg, vyosOps, wgQuick, type InterfaceKeys } from './overlay-render.ts';
import { failedOverOnRouters, tunnelFailoverIntents } from './failover.ts';
import { rotateInterfaceKey } from './rotation.ts';
import { effectOf } from '../targets/index.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { Intent } from '../../core/proposal.ts';

const nodesText = referenceNodesText;
const topologyText = referenceTopologyText;
const plan = (nodes = nodesText, topology = topologyText, disableMultipath = false): OverlayPlan =>
  overlayPlan(nodes, topology, { disableMultipath });
const keysFor = interfaceKeys;

/** Commits every node's ops on its own emulated router; returns the routers' WireGuard tunnels. */
function bringUp(p: OverlayPlan, keys: Map<string, InterfaceKeys>, version: '1.4' | '1.5' = '1.4') {
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  const routers = p.nodes.map((n) => {
    const r = new EmulatedRouter({ name: n.node.name, version, apiKey: 'k' }, clock);
    r.configure(vyosOps(n, keys));
    return r;
  });
  return { routers, tunnels: () => tunnelsOf(p, routers) };
}

describe('overlay gen', () => {
  it('plans the reference overlay: meshes, relays, NAT, and primary/backup without overlapping allowed-ips', () => {
    const p = plan();
    expect(p.groups).toEqual([
      ['A', 'B', 'C'],
      ['E', 'F'],
    ]);
    expect(p.tunnels).toHaveLength(15);
    const a = p.nodes.find((n) => n.node.name === 'A')!;
    const relay = a.interfaces.find((i) => i.endpointName === 'relay')!;
    expect(relay.listen.port).toBe(51821);
    const [d, h] = relay.peers;
    expect([d!.node, d!.path, d!.keepaliveS, d!.allowedIps]).toEqual(['D', 'primary', 25, ['10.96.0.1/32', '10.96.2.0/24']]);
    expect([h!.node, h!.path, h!.keepaliveS, h!.allowedIps, h!.failoverIps]).toEqual([
      'H',
      'backup',
      50,
      ['10.96.0.2/32'],
      ['10.96.2.0/24'],
    ]);
    expect(d!.endpoint).toEqual({ host: '203.0.113.10', port: 51821 });
    // Relays never dial clients behind NAT; they dial each other.
    const dNode = p.nodes.find((n) => n.node.name === 'D')!;
    for (const peer of dNode.interfaces[0]!.peers) expect(peer.endpoint === undefined).toBe(peer.node !== 'H');
    // No two peers of one interface share a prefix.
    for (const n of p.nodes)
      for (const i of n.interfaces) {
        const all = i.peers.flatMap((x) => x.allowedIps);
        expect(new Set(all).size).toBe(all.length);
      }
  });

  it('writes configs the emulator commits (1.4 and 1.5) and whose 15 tunnels all come up; a botched key takes its tunnels down', () => {
    const p = plan();
    const keys = keysFor(p);
    for (const version of ['1.4', '1.5'] as const) {
      const { tunnels } = bringUp(p, keys, version);
      const t = tunnels();
      expect(t).toHaveLength(15);
      expect(t.filter((x) => !x.up)).toEqual([]);
    }
    // A re-keys wg1 without telling D and H: both of A's relay tunnels are down, the rest stay up.
    const { routers, tunnels } = bringUp(p, keys);
    routers
      .find((r) => r.name === 'A')!
      .configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg1', 'private-key', wireguardKeyPair().privateKey] }]);
    const after = tunnels();
    expect(after.filter((x) => x.up)).toHaveLength(13);
    // Seen from each side: A's peers D and H no longer list A's key; D's and H's peer A points at no router.
    for (const x of after.filter((t) => !t.up)) expect([x.a.node, x.b?.node].includes('A') || x.a.peer === 'A').toBe(true);
    // A wrong port on a client's side: the relay cannot dial a NAT'd client, so the tunnel is down too.
    const again = bringUp(p, keys);
    again.routers
      .find((r) => r.name === 'E')!
      .configure([{ op: 'set', path: ['interfaces', 'wireguard', 'wg1', 'peer', 'D', 'port', '51999'] }]);
    expect(
      again
        .tunnels()
        .filter((x) => !x.up)
        .map((x) => x.reason),
    ).toEqual(['neither end can dial the other (endpoint address/port wrong, missing or behind NAT)']);
  });

  it('renders wg-quick files and an SVG of every node and tunnel', () => {
    const p = plan();
    const keys = keysFor(p);
    const a = p.nodes.find((n) => n.node.name === 'A')!;
    const conf = wgQuick(a, 'wg1', keys);
    expect(conf).toContain(`PrivateKey = ${keys.get('A/wg1')!.privateKey}`);
    expect(conf).toContain(`PublicKey = ${keys.get('D/wg0')!.publicKey}`);
    expect(conf).toMatch(
      /AllowedIPs = 10\.96\.0\.1\/32, 10\.96\.2\.0\/24\nEndpoint = 203\.0\.113\.10:51821\nPersistentKeepalive = 25/,
    );
    const svg = overlaySvg(p);
    expect(svg.match(/<line /g)).toHaveLength(15);
    expect(svg.match(/<circle /g)).toHaveLength(7);
  });

  it('--disable-multipath leaves out the backup peerings in both directions', () => {
    const p = plan(nodesText, topologyText, true);
    expect(p.tunnels).toHaveLength(10);
    expect(p.tunnels.every((t) => t.path === 'primary')).toBe(true);
    const { tunnels } = bringUp(p, keysFor(p));
    expect(tunnels().every((t) => t.up)).toBe(true);
  });

  it('rejects bad files with the file, line, column and field of each problem', () => {
    expect(() => plan(nodesText.replace('"role": "client"', '"role": "client",,'))).toThrow(/^nodes\.json:5:24: not valid JSON/);
    expect(() => plan(nodesText.replace('"role": "relay"', '"role": "hub"'))).toThrow(/nodes\.json:\d+:\d+: nodes\[5\]\.role: /);
    const unknown = nodesText.replace('"B",\n            "C"', '"B",\n            "Z"');
    expect(() => plan(unknown)).toThrow(/nodes\.json:12:13: nodes\[0\]\.endpoints\[0\]\.allowed_peers\[1\]: unknown peer "Z"/);
    const dupIp = nodesText.replace('"wireguard_ip": "10.96.1.3"', '"wireguard_ip": "10.96.1.2"');
    expect(() => plan(dupIp)).toThrow(/nodes\[1\]\.wireguard_ip: 10\.96\.1\.2 is already node A's overlay address/);
    const privateRelay = nodesText.replace('203.0.113.10:51821', '10.0.0.5:51821');
    expect(() => plan(nodesText, topologyText) && plan(privateRelay)).toThrow(
      /nodes\[5\]\.endpoints\[0\]\.endpoint: relay D needs a public endpoint/,
    );
    const topo = JSON.parse(topologyText) as { peers: { from: string; to: string; priority: number }[] };
    const oneWay = JSON.stringify({ peers: topo.peers.filter((x) => !(x.from === 'B' && x.to === 'A')) }, null, 2);
    expect(() => plan(nodesText, oneWay)).toThrow(/topology\.json:\d+:\d+: peers\[\d+\]: asymmetric: A→B has no B→A/);
    const samePriority = JSON.stringify(
      { peers: topo.peers.map((x) => (x.from === 'A' && x.to === 'H' ? { ...x, priority: 1 } : x)) },
      null,
      2,
    );
    expect(() => plan(nodesText, samePriority)).toThrow(
      /10\.96\.2\.0\/24 overlaps 10\.96\.2\.0\/24 of peer D on A's interface "relay" at the same priority 1/,
    );
    // Every problem is listed, not only the first.
    const both = dupIp.replace('203.0.113.10:51821', '10.0.0.5:51821');
    expect(() => plan(both)).toThrow(/already node A's overlay address[\s\S]*needs a public endpoint/);
  });

  it('parses endpoints as WireGuard writes them', () => {
    expect(parseEndpoint('[2001:db8::1]:51820')).toEqual({ host: '2001:db8::1', port: 51820 });
    expect(parseEndpoint('relay.example.net:443')).toEqual({ host: 'relay.example.net', port: 443 });
    expect(parseEndpoint('10.0.0.1:70000')).toBeUndefined();
    expect(parseEndpoint('10.0.0.1')).toBeUndefined();
  });

  it('fails a relay over: the backups take the failover prefixes through wireguard-peers intents, and the restore gives back the plan', async () => {
    const p = plan();
    const keys = keysFor(p);
    const { routers, tunnels } = bringUp(p, keys);
    const byName = new Map(routers.map((r) => [r.name, r]));
    const planned = new Map(routers.map((r) => [r.name, JSON.stringify(r.showConfig(['interfaces', 'wireguard']))]));
    const publicKeyOf = (node: string, iface: string) => keys.get(keyId(node, iface))!.publicKey;
    const apply = (intents: Intent[]) => {
      for (const intent of intents) {
        const r = byName.get(intent.router)!;
        applyIntents(r, [intent]);
        const opts = { topology: {} as Topology, router: r.name, lanInterface: 'eth0' };
        const config = r.showConfig([]) as ConfigJson;
        expect(effectOf(intent, { router: r.name, version: '1.4', config, effective: {} as never }, opts).problems).toEqual([]);
      }
    };
    const failover = tunnelFailoverIntents(p, new Set(['D']), publicKeyOf);
    expect(failover.map((i) => `${i.router}/${i.interface}`)).toEqual(['A/wg1', 'B/wg1', 'C/wg1', 'E/wg1', 'F/wg1']);
    apply(failover);
    const a = byName.get('A')!.showConfig(['interfaces', 'wireguard', 'wg1', 'peer']) as Record<string, ConfigJson>;
    expect(a['H']!['allowed-ips']).toEqual(['10.96.0.2/32', '10.96.2.0/24']);
    expect(a['D']!['allowed-ips']).toBe('10.96.0.1/32');
    expect(tunnels().every((t) => t.up)).toBe(true);
    // What a restarted watch reads back from the routers: D is failed over.
    const peersOn = async (node: string, iface: string) =>
      byName.get(node)!.showConfig(['interfaces', 'wireguard', iface, 'peer']) as Record<string, { 'allowed-ips'?: string[] }>;
    expect(await failedOverOnRouters(p, peersOn)).toEqual(new Set(['D']));
    // Copying instead of moving is refused: a prefix on two peers of one interface.
    const copy = {
      ...failover[0]!,
      peers: failover[0]!.peers.map((x) => (x.name === 'D' ? { ...x, allowed_ips: ['10.96.0.1/32', '10.96.2.0/24'] } : x)),
    };
    expect(() => apply([copy])).toThrow(/10\.96\.2\.0\/24 on both/);
    apply(tunnelFailoverIntents(p, new Set(), publicKeyOf));
    for (const r of routers) expect(JSON.stringify(r.showConfig(['interfaces', 'wireguard']))).toBe(planned.get(r.name));
    expect(await failedOverOnRouters(p, peersOn)).toEqual(new Set());
  });

  it('leaves Linux nodes out of failover intents and refuses a rotation a Linux end could not follow', async () => {
    // E runs wg-quick: its file comes from overlay gen, not from the API.
    const nodes = JSON.parse(referenceNodesText) as { nodes: { name: string; platform?: string }[] };
    nodes.nodes.find((n) => n.name === 'E')!.platform = 'linux';
    const p = overlayPlan(JSON.stringify(nodes), referenceTopologyText);
    const failover = tunnelFailoverIntents(p, new Set(['D']), () => wireguardKeyPair().publicKey);
    expect(failover.map((i) => `${i.router}/${i.interface}`)).toEqual(['A/wg1', 'B/wg1', 'C/wg1', 'F/wg1']);
    const noRouter = () => {
      throw new Error('no router may be reached');
    };
    const r = await rotateInterfaceKey(
      { plan: p, routerFor: noRouter, publicKeyOf: () => 'k', savePublicKey: noRouter, now: () => 0 },
      'D',
      'wg0',
    );
    expect(r).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^E runs wg-quick, not VyOS/) });
  });
});
