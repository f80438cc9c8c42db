import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/config/index.ts';
import { parseSndlib, sndlibTopology } from './sndlib.ts';

const fixture = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'whatif', 'tiny.xml');
const xml = readFileSync(fixture, 'utf8');

describe('SNDlib topology', () => {
  it('reads nodes, links, capacities and demands', () => {
    const net = parseSndlib(xml, fixture);
    expect(net.coordinates).toBe('geographical');
    expect(net.nodes.map((n) => n.id)).toEqual(['Berlin', 'Hamburg', 'Frankfurt', 'Munich', 'Vienna']);
    expect(net.links).toHaveLength(6);
    expect(net.links.find((l) => l.id === 'Frankfurt_Munich')!.modules).toEqual([
      { capacity: 40000, cost: 900 },
      { capacity: 2500, cost: 300 },
    ]);
    expect(net.demands).toEqual([
      { source: 'Hamburg', target: 'Munich', mbps: 300 },
      { source: 'Frankfurt', target: 'Vienna', mbps: 200 },
    ]);
  });

  it('builds a valid pathpilot topology: sites, links, priced and sized, paths with distinct first hops', () => {
    const { root, siteOf, linkRttMs } = sndlibTopology(parseSndlib(xml, fixture), { pricePerGb: 0.02 });
    expect(root.sites).toHaveLength(5);
    expect(siteOf.get('Berlin')).toBe('berlin');
    expect(root.sites[0]).toMatchObject({ id: 'berlin', name: 'Berlin', provider: 'onprem', region: 'eu-central' });
    const cap = Object.fromEntries(root.links.map((l) => [l.id, l.capacity_mbps]));
    // Pre-installed module, else the smallest additional one, else the default.
    expect(cap).toMatchObject({ berlin_hamburg: 1000, frankfurt_munich: 2500, munich_vienna: 10000 });
    const price = Object.fromEntries(root.links.map((l) => [l.id, l.cost_per_gb]));
    expect(price['frankfurt_munich']! / price['berlin_hamburg']!).toBeCloseTo(8, 3);
    const mean = root.links.reduce((s, l) => s + l.cost_per_gb, 0) / root.links.length;
    expect(mean).toBeCloseTo(0.02, 4);
    // Berlin–Hamburg is ~255 km: ~2.5 ms of fibre plus 0.5 ms.
    expect(linkRttMs['berlin_hamburg']).toBeGreaterThan(2.8);
    expect(linkRttMs['berlin_hamburg']).toBeLessThan(3.3);
    // Every site has its own interfaces eth1, eth2, …
    const berlinIfaces = root.links
      .flatMap((l) => [l.a, l.b])
      .filter((e) => e.site === 'berlin')
      .map((e) => e.interface);
    expect(berlinIfaces.sort()).toEqual(['eth1', 'eth2', 'eth3']);

    const topo = new Topology(root);
    expect(topo.pairs()).toHaveLength(20);
    for (const [from, to] of topo.pairs()) {
      const paths = topo.pathsFor(from, to);
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.length).toBeLessThanOrEqual(3);
      expect(paths.map((p) => p.priority)).toEqual(paths.map((_, i) => i + 1));
      const firstHops = paths.map((p) => p.links[0]);
      expect(new Set(firstHops).size).toBe(firstHops.length);
    }
    // Primary by distance: Frankfurt → Munich takes the direct (expensive) chord.
    expect(topo.pathsFor('frankfurt', 'munich')[0]!.links).toEqual(['frankfurt_munich']);
    expect(sndlibTopology(parseSndlib(xml, fixture), { pathsBy: 'hops' }).root.paths.length).toBe(root.paths.length);
  });

  it('names the file and the problem for a bad file', () => {
    expect(() => parseSndlib('<network><oops', 'bad.xml')).toThrow(/bad\.xml: not an SNDlib network: malformed XML/);
    expect(() => parseSndlib('<graph/>', 'bad.xml')).toThrow(/bad\.xml: .*no <network> root element/);
    const unknownEnd = xml.replace('<target>Hamburg</target>', '<target>Hambourg</target>');
    expect(() => parseSndlib(unknownEnd, 'bad.xml')).toThrow(/link "Berlin_Hamburg": <target> "Hambourg" is not a node/);
    const badCapacity = xml.replace('<capacity>2500.0</capacity>', '<capacity>lots</capacity>');
    expect(() => parseSndlib(badCapacity, 'bad.xml')).toThrow(
      /link "Frankfurt_Munich" addModule #2 <capacity>: expected a number, got "lots"/,
    );
  });
});
