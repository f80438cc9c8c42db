/**
 * BGP as a traffic-engineering lever (issue 19): the example network with BGP on Frankfurt's interconnects
 * (lab/vyos/testing.ts `bgpLabRoot`), every router emulated over HTTP, and the twin routing by what the
 * routers' configs really select (lab/vyos/bgp.ts: sessions, route-maps, FRR's best path). Frankfurt's egress
 * to aws-euc1 takes Direct Connect (the shorter AS path); a `bgp-policy` proposal raising the local-pref of
 * aws-euc1's prefixes from Azure moves it onto ExpressRoute. With a failing guard the same change is rolled
 * back and the routers and the twin are exactly as before; approved with a passing guard, the egress moves,
 * and the router's `show ip bgp` says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createActuator, type Actuator } from '../../../actuator/index.ts';
import { VyosClient } from '../../../actuator/vyos/index.ts';
import { RealClock } from '../../../core/clock.ts';
import { Topology } from '../../../core/config/topology.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { TwinEngine } from '../../../lab/twin/model.ts';
import { readRouterRouting } from '../../../lab/twin/routing.ts';
import { parseScenario } from '../../../lab/twin/scenario.ts';
import { createVyosLabForTopology, type VyosLab } from '../../../lab/vyos/index.ts';
import { bgpLabRoot } from '../../../lab/vyos/testing.ts';
import { running, SwitchableGuardData, testRoot } from './support.ts';

const KEY = 'bgp-functional-key-0123456789';
const root = bgpLabRoot(testRoot());
const topology = new Topology(root);
const EUC1 = topology.site('aws-euc1').prefixes;
let lab: VyosLab;
let actuator: Actuator;
let queue: MemoryQueue;
const clients = new Map<string, VyosClient>();
const guard = new SwitchableGuardData();

beforeAll(async () => {
  lab = await createVyosLabForTopology(topology, { apiKey: KEY });
  for (const site of topology.sites.keys())
    clients.set(site, new VyosClient({ url: lab.urls[site]!, apiKey: KEY, version: topology.site(site).router.vyos_version }));
  queue = new MemoryQueue();
  await queue.start();
  actuator = createActuator(
    { root, queue, clock: new RealClock(), routerFor: (s) => clients.get(s)!, guardData: guard, env: {} },
    { gitops_dir: '', compliance: { interval_s: 0 } },
  );
  await actuator.start();
});
afterAll(async () => {
  await actuator?.stop();
  await queue?.stop();
  for (const c of clients.values()) await c.close();
  await lab?.stop();
});

/** Where the twin sends Frankfurt's traffic to aws-euc1 with the routers' configs as they run now. */
function fraToEuc1(): Record<string, number> {
  const engine = new TwinEngine({
    root,
    scenario: parseScenario(stringify({ name: 'bgp', demand: { noise: 0 } })),
    startMs: Date.UTC(2030, 0, 7, 14),
    tickMs: 60_000,
  });
  for (const site of topology.sites.keys())
    engine.setRouting(
      site,
      readRouterRouting(
        (p) => lab.router(site).showConfig(p),
        () => 1e9,
        topology.site(site).router.vyos_version,
        lab.router(site).image,
      ),
    );
  engine.step();
  const i = engine.demands.findIndex((d) => d.from === 'onprem-fra' && d.to === 'aws-euc1');
  const d = engine.demands[i]!;
  const out: Record<string, number> = {};
  d.paths.forEach((pi, k) => {
    const share = engine.split[i]![k]!;
    if (share > 0) out[engine.paths[pi]!.id] = share;
  });
  return out;
}

let seq = 0;
function localPrefProposal(): ProposalInput {
  return {
    id: `bgp-${Date.now()}-${seq++}`,
    created_at: Date.now(),
    kind: 'bgp',
    reason: 'Frankfurt → aws-euc1 egress onto ExpressRoute while Direct Connect is congested: local-pref 200 from Azure',
    inputs: {},
    intents: [
      {
        kind: 'bgp-policy',
        router: 'onprem-fra',
        neighbor: '169.254.30.2',
        direction: 'import',
        rules: [{ prefixes: EUC1, local_pref: 200 }],
      },
    ],
    predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0.05 },
    risk: 'low',
    // Every class follows the main table's BGP route: each is guarded on the path it moves to.
    scope: [...topology.classes.keys()].map((c) => ({
      pair: ['onprem-fra', 'aws-euc1'] as [string, string],
      class: c,
      paths: ['onprem-fra.aws-euc1.2'],
      paths_before: ['onprem-fra.aws-euc1.1'],
    })),
  };
}

describe('BGP local-preference through the actuator, judged by the twin', () => {
  it('takes Direct Connect by AS-path length before any policy', async () => {
    expect(fraToEuc1()).toEqual({ 'onprem-fra.aws-euc1.1': 1 });
    const table = await clients.get('onprem-fra')!.show(['ip', 'bgp']);
    expect(table).toMatch(/^\*> 10\.11\.0\.0\/16 +169\.254\.20\.2 .* 65012 i$/m);
    const summary = await clients.get('onprem-fra')!.show(['ip', 'bgp', 'summary']);
    expect(summary).toMatch(/^169\.254\.30\.2 +4 +65013 /m);
  });

  it('rolls a local-pref change back exactly when its guard fails: routers and egress as before', async () => {
    const before = running(lab);
    const p = localPrefProposal();
    await actuator.submit(p);
    guard.bad = true;
    await actuator.approve(p.id, 'api:alice');
    await actuator.service.idle();
    guard.bad = false;
    expect((await actuator.get(p.id))?.proposal.status).toBe('rolled-back');
    expect(running(lab)).toEqual(before);
    expect(fraToEuc1()).toEqual({ 'onprem-fra.aws-euc1.1': 1 });
  }, 60_000);

  it('applied, moves the egress to the intended interconnect, as the router selects it', async () => {
    const p = localPrefProposal();
    await actuator.submit(p);
    await actuator.approve(p.id, 'api:alice');
    await actuator.service.idle();
    expect((await actuator.get(p.id))?.proposal.status).toBe('confirmed');
    expect(fraToEuc1()).toEqual({ 'onprem-fra.aws-euc1.2': 1 });
    const table = await clients.get('onprem-fra')!.show(['ip', 'bgp']);
    expect(table).toMatch(/^\*> 10\.11\.0\.0\/16 +169\.254\.30\.2 +0 +200 +0 65013 65012 i$/m);
    // Only the neighbor's binding, the route-map and its prefix-list were sent.
    const applied = actuator.changes(p.id).find((e) => e.event === 'step-applied' && e.router === 'onprem-fra');
    const ops = (JSON.parse(applied!.detail!) as { ops: { path: string[] }[] }).ops.map((o) => o.path.slice(0, 3).join(' '));
    expect([...new Set(ops)].sort()).toEqual([
      'policy prefix-list PP-BGP-IN-169-254-30-2-1',
      'policy route-map PP-BGP-IN-169-254-30-2',
      'protocols bgp neighbor',
    ]);
  }, 60_000);
});
