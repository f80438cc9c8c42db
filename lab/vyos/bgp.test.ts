import { describe, expect, it } from 'vitest';
import { renderRouter } from '../../actuator/targets/index.ts';
import { diffOps } from '../../actuator/vyos/diff.ts';
import { SimulatedClock } from '../../core/clock.ts';
import { loadConfig } from '../../core/config/index.ts';
import { bgpLabRoot } from './testing.ts';
import { Topology } from '../../core/config/topology.ts';
import { bgpLookup, bgpRibs, compareRoutes, showIpBgp, type BgpRoute } from './bgp.ts';
import { EmulatedRouter } from './router.ts';
import { initialRouterConfig } from './seed.ts';
import type { ConfigJson } from './types.ts';

const topology = new Topology(bgpLabRoot(loadConfig(undefined, {}).root));
const routers = new Map(
  [...topology.sites.keys()].map((id) => {
    const r = new EmulatedRouter(
      { name: id, version: topology.site(id).router.vyos_version, apiKey: 'k', seed: initialRouterConfig(topology, id) },
      new SimulatedClock(),
    );
    return [id, r] as const;
  }),
);
const configs = () => new Map([...routers].map(([id, r]) => [id, r.showConfig([]) as ConfigJson]));
const EUC1 = topology.site('aws-euc1').prefixes[0]!;

describe('BGP across the lab routers', () => {
  it('brings sessions up where both ends agree and selects the shortest AS path', () => {
    const ribs = bgpRibs(configs());
    expect([...ribs.keys()].sort()).toEqual(['aws-euc1', 'aws-use1', 'azure-weu', 'onprem-fra', 'onprem-nyc']);
    const fra = ribs.get('onprem-fra')!;
    expect(fra.sessions.map((s) => [s.neighbor, s.peer, s.up])).toEqual([
      ['169.254.20.2', 'aws-euc1', true],
      ['169.254.30.2', 'azure-weu', true],
    ]);
    // aws-euc1's prefix: directly from aws-euc1 (AS path 65012) and through Azure (65013 65012).
    const paths = fra.routes.get(EUC1)!;
    expect(paths.map((r) => [r.nextHop, r.asPath])).toEqual([
      ['169.254.20.2', [65012]],
      ['169.254.30.2', [65013, 65012]],
    ]);
    expect(bgpLookup(fra, `${EUC1.split('/')[0]}/32`)?.nextHop).toBe('169.254.20.2');
    const table = showIpBgp(fra, '169.254.20.1', 65010);
    expect(table).toMatch(/^\*> 10\.11\.0\.0\/16 +169\.254\.20\.2 +0 +100 +0 65012 i$/m);
    expect(table).toMatch(/^\* {19}169\.254\.30\.2 +0 +100 +0 65013 65012 i$/m);
    expect(table).toMatch(/^\*> 10\.50\.0\.0\/16 +0\.0\.0\.0 +0 +100 +32768 i$/m);
  });

  it('a local-preference route-map from the bgp-policy target moves egress to the other interconnect; a session down withdraws it', () => {
    const fra = routers.get('onprem-fra')!;
    const read = (path: string[]) => {
      try {
        return fra.showConfig(path) as ConfigJson;
      } catch {
        return null;
      }
    };
    const pre = {
      bgp: read(['protocols', 'bgp']),
      routeMaps: read(['policy', 'route-map']),
      prefixLists: read(['policy', 'prefix-list']),
    };
    const touched = renderRouter(
      [
        {
          kind: 'bgp-policy',
          router: 'onprem-fra',
          neighbor: '169.254.30.2',
          direction: 'import',
          rules: [{ prefixes: [EUC1], local_pref: 200 }],
        },
      ],
      1,
      pre,
      { topology, router: 'onprem-fra', lanInterface: 'eth0' },
    );
    expect(touched.map((t) => t.path.join(' '))).toEqual([
      'policy prefix-list PP-BGP-IN-169-254-30-2-1',
      'policy route-map PP-BGP-IN-169-254-30-2',
      'protocols bgp neighbor 169.254.30.2 address-family ipv4-unicast',
    ]);
    const ops = touched.flatMap((t) => diffOps(t.path, read(t.path), t.desired));
    fra.configure(ops.map((o) => ({ ...o, op: o.op as 'set' | 'delete' })));
    const rib = bgpRibs(configs()).get('onprem-fra')!;
    expect(rib.routes.get(EUC1)![0]).toMatchObject({ nextHop: '169.254.30.2', localPref: 200 });
    // Other prefixes from Azure keep their attributes (the last rule permits them unchanged).
    const weu = topology.site('azure-weu').prefixes[0]!;
    expect(rib.routes.get(weu)![0]).toMatchObject({ nextHop: '169.254.30.2', localPref: 100 });
    // The ExpressRoute down: its session and routes go, egress falls back to Direct Connect.
    const down = bgpRibs(
      configs(),
      (router, neighbor) =>
        !(router === 'onprem-fra' && neighbor === '169.254.30.2') && !(router === 'azure-weu' && neighbor === '169.254.30.1'),
    );
    expect(down.get('onprem-fra')!.sessions.find((s) => s.neighbor === '169.254.30.2')).toMatchObject({
      up: false,
      reason: 'link down',
    });
    expect(down.get('onprem-fra')!.routes.get(EUC1)![0]!.nextHop).toBe('169.254.20.2');
    // Removing the rules unbinds and deletes the route-map again.
    const after = {
      bgp: read(['protocols', 'bgp']),
      routeMaps: read(['policy', 'route-map']),
      prefixLists: read(['policy', 'prefix-list']),
    };
    const undo = renderRouter(
      [{ kind: 'bgp-policy', router: 'onprem-fra', neighbor: '169.254.30.2', direction: 'import', rules: [] }],
      1,
      after,
      {
        topology,
        router: 'onprem-fra',
        lanInterface: 'eth0',
      },
    );
    fra.configure(
      undo.flatMap((t) => diffOps(t.path, read(t.path), t.desired)).map((o) => ({ ...o, op: o.op as 'set' | 'delete' })),
    );
    expect(read(['policy', 'route-map'])).toBeNull();
    expect(read(['policy', 'prefix-list'])).toBeNull();
    expect(bgpRibs(configs()).get('onprem-fra')!.routes.get(EUC1)![0]!.nextHop).toBe('169.254.20.2');
  });

  it('orders candidates as FRR does: weight, local-pref, AS path, origin, MED within one AS, eBGP, router-id', () => {
    const base: BgpRoute = {
      prefix: '10.0.0.0/8',
      nextHop: '10.0.0.1',
      peer: 'p',
      asPath: [1, 2],
      origin: 'igp',
      localPref: 100,
      med: 0,
      weight: 0,
      ebgp: true,
      communities: [],
      peerRouterId: '10.0.0.1',
    };
    const better = (a: Partial<BgpRoute>, b: Partial<BgpRoute>) => compareRoutes({ ...base, ...a }, { ...base, ...b }) < 0;
    expect(better({ weight: 10, localPref: 50 }, {})).toBe(true);
    expect(better({ localPref: 200, asPath: [1, 2, 3, 4] }, {})).toBe(true);
    expect(better({ asPath: [1] }, { origin: 'igp' })).toBe(true);
    expect(better({ origin: 'igp' }, { origin: 'incomplete' })).toBe(true);
    expect(better({ med: 10 }, { med: 20 })).toBe(true);
    // MED compares only routes from the same neighbouring AS.
    expect(better({ med: 10, asPath: [9, 2] }, { med: 20, peerRouterId: '9.0.0.1' })).toBe(false);
    expect(better({ ebgp: true }, { ebgp: false })).toBe(true);
    expect(better({ peerRouterId: '10.0.0.1' }, { peerRouterId: '10.0.0.2' })).toBe(true);
  });
});
