import { describe, expect, it } from 'vitest';
import type { ClassConfig, LinkConfig, PathConfig, SiteConfig } from '../core/config/index.ts';
import { decide } from './proposal.ts';
import { evaluateSplit, planSplit, solveTe, type TeInput } from './te/solve.ts';

const site = (id: string, prefix: string) =>
  ({
    id,
    name: id,
    provider: 'onprem',
    region: 'r',
    prefixes: [prefix],
    router: { vyos_version: '1.5', api_key_env: 'K' },
  }) as unknown as SiteConfig;
const link = (id: string, ifA: string, ifB: string, cost = 0.02): LinkConfig =>
  ({
    id,
    kind: 'wireguard',
    a: { site: 'a', interface: ifA },
    b: { site: 'b', interface: ifB },
    capacity_mbps: 1000,
    cost_per_gb: cost,
    monthly_fixed_cost: 0,
  }) as LinkConfig;
const paths: PathConfig[] = [
  { id: 'a.b.1', from: 'a', to: 'b', links: ['x'], priority: 1 },
  { id: 'a.b.2', from: 'a', to: 'b', links: ['y'], priority: 2 },
] as PathConfig[];
const reverse: PathConfig[] = [
  { id: 'b.a.1', from: 'b', to: 'a', links: ['x'], priority: 1 },
  { id: 'b.a.2', from: 'b', to: 'a', links: ['y'], priority: 2 },
] as PathConfig[];
const topo = (ps: PathConfig[]) => ({
  sites: new Map([
    ['a', site('a', '10.1.0.0/16')],
    ['b', site('b', '10.2.0.0/16')],
  ]),
  paths: new Map(ps.map((p) => [p.id, p])),
  classes: new Map([['bulk', bulk]]),
});
const policy = {
  max_utilization: 0.8,
  churn_penalty: 0,
  score: { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 },
};
const bulk = { id: 'bulk', dscp: [0], priority: 3, slo: { rtt_p95_ms: 600, loss_pct: 5, jitter_ms: 200 } } as ClassConfig;

/** Solves `input` and decides on its plan; the part evaluator prices only the keys a proposal carries. */
async function decideOn(input: TeInput, topology: ReturnType<typeof topo>, breakingNow: string[]) {
  const plan = await solveTe(input);
  const before = evaluateSplit(input, input.current!);
  const after = evaluateSplit(input, planSplit(plan));
  const evaluatePart = (keys: ReadonlySet<string>) => {
    const part = new Map(input.current!);
    for (const [k, v] of planSplit(plan)) if (keys.has(k)) part.set(k, v);
    return evaluateSplit(input, part);
  };
  const decision = decide(
    {
      now: 1_000,
      topo: topology,
      plan,
      before,
      after,
      current: input.current!,
      breakingNow: new Set(breakingNow),
      modelVersions: {},
      horizonMin: 60,
      dataFrom: 0,
      dataTo: 1_000,
      evaluatePart,
    },
    { min_improvement: 0.05, min_saving_per_day: 5 },
  );
  return { plan, before, after, decision };
}

describe('decide', () => {
  it('proposes the least overloaded split even when no split fits under max_utilization', async () => {
    const input: TeInput = {
      topology: { links: [link('x', 'eth1', 'eth1'), link('y', 'eth2', 'eth2')], paths, classes: [bulk] },
      // 2 Gbit/s over two 1 Gbit/s links capped at 80 %: 400 Mbit/s more than any split can carry.
      demands: [{ from: 'a', to: 'b', class: 'bulk', mbps: 2000 }],
      quality: new Map(),
      current: new Map([['a>b|bulk', { 'a.b.1': 1 }]]),
      options: {
        policy: {
          max_utilization: 0.8,
          churn_penalty: 0,
          score: { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 },
        },
        latency_penalty: 0.05,
      },
    };
    const plan = await solveTe(input);
    expect(plan.binding.some((b) => b.kind === 'capacity')).toBe(true);
    const before = evaluateSplit(input, input.current!);
    const after = evaluateSplit(input, planSplit(plan));
    expect(after.overload_mbps).toBeLessThan(before.overload_mbps);
    const ctx = {
      now: 1_000,
      topo: topo(paths),
      plan,
      before,
      after,
      current: input.current!,
      breakingNow: new Set<string>(),
      modelVersions: {},
      horizonMin: 60,
      dataFrom: 0,
      dataTo: 1_000,
    };
    const decision = decide(ctx, { min_improvement: 0.05, min_saving_per_day: 5 });
    expect(decision.publish).toBe(true);
    expect(decision.proposal?.intents.length).toBeGreaterThan(0);

    // The same overload with the plan no better than today: nothing to propose.
    const same = decide({ ...ctx, before: after }, { min_improvement: 0.05, min_saving_per_day: 5 });
    expect(same.publish).toBe(false);
    expect(same.why).toMatch(/no feasible plan/);
  });

  it('sends a failover out alone, priced on its own, and leaves the routine moves for the next run', async () => {
    const all = [...paths, ...reverse];
    const input: TeInput = {
      // y is cheaper: the plan moves both directions onto it; a>b also breaks its SLO on x right now.
      topology: { links: [link('x', 'eth1', 'eth1'), link('y', 'eth2', 'eth2', 0.01)], paths: all, classes: [bulk] },
      demands: [
        { from: 'a', to: 'b', class: 'bulk', mbps: 500 },
        { from: 'b', to: 'a', class: 'bulk', mbps: 500 },
      ],
      quality: new Map([['a.b.1', { rtt_p95_ms: 900, loss_pct: 0, jitter_ms: 1 }]]),
      current: new Map<string, Record<string, number>>([
        ['a>b|bulk', { 'a.b.1': 1 }],
        ['b>a|bulk', { 'b.a.1': 1 }],
      ]),
      options: { policy, latency_penalty: 0.05 },
    };
    const { before, after, decision } = await decideOn(input, topo(all), ['a>b|bulk']);
    const p = decision.proposal!;
    expect(p.emergency).toBe(true);
    expect(p.intents.map((i) => i.router)).toEqual(['a']);
    expect(p.scope.map((s) => s.pair.join('>'))).toEqual(['a>b']);
    // Priced as the failover alone: half the plan's saving, not all of it.
    expect(p.predicted.cost_per_day).toBeGreaterThan(after.cost_per_day + 1);
    expect(p.predicted.cost_per_day).toBeLessThan(before.cost_per_day);
  });

  it('pins every class of a pair it starts pinning: the failover class moves, the others are held where they are', async () => {
    const realtime = {
      id: 'realtime',
      dscp: [46],
      priority: 1,
      pin: true,
      slo: { rtt_p95_ms: 260, loss_pct: 1, jitter_ms: 30 },
    } as ClassConfig;
    const input: TeInput = {
      // y is cheaper (the plan would move bulk too) and x breaks the realtime SLO now; both classes ride x
      // through the pair's WAN rule today.
      topology: { links: [link('x', 'eth1', 'eth1'), link('y', 'eth2', 'eth2', 0.01)], paths, classes: [realtime, bulk] },
      demands: [
        { from: 'a', to: 'b', class: 'realtime', mbps: 50 },
        { from: 'a', to: 'b', class: 'bulk', mbps: 400 },
      ],
      quality: new Map([['a.b.1', { rtt_p95_ms: 300, loss_pct: 0, jitter_ms: 1 }]]),
      current: new Map<string, Record<string, number>>([
        ['a>b|realtime', { 'a.b.1': 1 }],
        ['a>b|bulk', { 'a.b.1': 1 }],
      ]),
      options: { policy, latency_penalty: 0.05 },
    };
    const { plan, after, decision } = await decideOn(
      input,
      {
        ...topo(paths),
        classes: new Map([
          ['realtime', realtime],
          ['bulk', bulk],
        ]),
      },
      ['a>b|realtime'],
    );
    expect(planSplit(plan).get('a>b|bulk')?.['a.b.2']).toBeGreaterThan(0.5);
    const p = decision.proposal!;
    expect(p.emergency).toBe(true);
    const pins = Object.fromEntries(
      p.intents.map((i) => [i.kind === 'class-pin' ? i.class : i.kind, i.kind === 'class-pin' ? i.link : '']),
    );
    // Without the bulk pin, the realtime pin would exclude the prefix from balancing and send bulk to the
    // main table; with it, bulk stays on x (its move to the cheaper y is the next run's to propose).
    expect(pins).toEqual({ realtime: 'y', bulk: 'x' });
    const bulkScope = p.scope.find((s) => s.class === 'bulk')!;
    expect(bulkScope.paths).toEqual(['a.b.1']);
    expect(bulkScope.paths_before).toEqual(['a.b.1']);
    // Priced with bulk where it is: no saving from the cheaper link yet.
    expect(p.predicted.cost_per_day).toBeGreaterThan(after.cost_per_day + 1);
  });

  it('steers a pair that runs over BGP sessions by local-preference, and says why', async () => {
    const bgpLink = (id: string, ifA: string, ifB: string, n: number, cost: number): LinkConfig => ({
      ...link(id, ifA, ifB, cost),
      kind: 'interconnect',
      bgp: true,
      a: { site: 'a', interface: ifA, address: `169.254.${n}.1` },
      b: { site: 'b', interface: ifB, address: `169.254.${n}.2` },
    });
    const links = [bgpLink('x', 'eth1', 'eth1', 1, 0.09), bgpLink('y', 'eth2', 'eth2', 2, 0.01)];
    const t = topo(paths);
    const withAsn = (s: SiteConfig, asn: number) => ({ ...s, router: { ...s.router, asn } }) as SiteConfig;
    const topology = {
      ...t,
      sites: new Map([
        ['a', withAsn(t.sites.get('a')!, 65001)],
        ['b', withAsn(t.sites.get('b')!, 65002)],
      ]),
      links: new Map(links.map((l) => [l.id, l])),
    };
    const input: TeInput = {
      topology: { links, paths, classes: [bulk] },
      demands: [{ from: 'a', to: 'b', class: 'bulk', mbps: 300 }],
      quality: new Map(),
      current: new Map([['a>b|bulk', { 'a.b.1': 1 }]]),
      options: { policy, latency_penalty: 0.05 },
    };
    const { decision } = await decideOn(input, topology, []);
    expect(decision.publish).toBe(true);
    const p = decision.proposal!;
    // No WAN weights for the pair: one route-map per BGP neighbor, the cheap one preferred.
    expect(p.intents.filter((i) => i.kind === 'path-weights')).toEqual([]);
    expect(p.intents.filter((i) => i.kind === 'bgp-policy')).toEqual([
      { kind: 'bgp-policy', router: 'a', neighbor: '169.254.1.2', direction: 'import', rules: [] },
      {
        kind: 'bgp-policy',
        router: 'a',
        neighbor: '169.254.2.2',
        direction: 'import',
        rules: [{ prefixes: ['10.2.0.0/16'], local_pref: 200 }],
      },
    ]);
    expect(p.reason).toMatch(
      /a→b is learned over BGP sessions \(x, y\), which WAN weights cannot steer: local-preference 200 on 169\.254\.2\.2 moves it to y/,
    );
  });
});
