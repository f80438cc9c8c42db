import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.ts';
import type { ClassConfig, LinkConfig, PathConfig } from '../../core/config/index.ts';
import { ANY_CLASS, toVyosWeights, planIntents, weightsToFractions } from './plan.ts';
import { demandKey, evaluateSplit, planSplit, solveTe, type TeInput } from './solve.ts';
import { Topology } from '../../core/config/index.ts';

const classes: ClassConfig[] = [
  { id: 'realtime', dscp: [46], priority: 1, pin: true, slo: { rtt_p95_ms: 100, loss_pct: 1, jitter_ms: 30 } },
  { id: 'bulk', dscp: [0], priority: 3, pin: false, slo: { rtt_p95_ms: 600, loss_pct: 5, jitter_ms: 200 } },
];
const link = (id: string, a: string, b: string, cap: number, cost: number): LinkConfig => ({
  id,
  kind: 'wireguard',
  a: { site: a, interface: `to-${b}` },
  b: { site: b, interface: `to-${a}` },
  capacity_mbps: cap,
  cost_per_gb: cost,
  monthly_fixed_cost: 0,
});
// Two sites, a cheap slow link and an expensive fast one; plus a third site reached through a transit.
const links = [link('cheap', 'x', 'y', 1000, 0.01), link('fast', 'x', 'y', 1000, 0.1)];
const paths: PathConfig[] = [
  { id: 'x.y.1', from: 'x', to: 'y', links: ['fast'], priority: 1 },
  { id: 'x.y.2', from: 'x', to: 'y', links: ['cheap'], priority: 2 },
];
const policy = {
  max_utilization: 0.8,
  churn_penalty: 0.05,
  score: { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 },
};
const quality = new Map([
  ['x.y.1', { rtt_p95_ms: 40, loss_pct: 0, jitter_ms: 2 }],
  ['x.y.2', { rtt_p95_ms: 150, loss_pct: 0.1, jitter_ms: 5 }],
]);
const base = (over: Partial<TeInput> = {}): TeInput => ({
  topology: { links, paths, classes },
  demands: [
    { from: 'x', to: 'y', class: 'realtime', mbps: 100 },
    { from: 'x', to: 'y', class: 'bulk', mbps: 500 },
  ],
  quality,
  options: { policy, latency_penalty: 0.05 },
  ...over,
});

describe('TE LP', () => {
  it('puts realtime on the path that meets its SLO and bulk on the cheap one', async () => {
    const r = await solveTe(base());
    expect(r.status).toBe('optimal');
    const rt = r.splits.find((s) => s.class === 'realtime')!;
    const bulk = r.splits.find((s) => s.class === 'bulk')!;
    expect(rt.fractions['x.y.1']).toBeCloseTo(1, 6);
    expect(bulk.fractions['x.y.2']).toBeCloseTo(1, 6);
    // Cost: 500 Mbit/s × 10.8 GB/day/Mbit/s × $0.01 + 100 × 10.8 × $0.1.
    expect(r.cost_per_day).toBeCloseTo(500 * 10.8 * 0.01 + 100 * 10.8 * 0.1, 4);
  });

  it('a hard per-demand path constraint (data residency) keeps the demand off the refused path, at any cost', async () => {
    // Realtime may not use the fast path (say it crosses a region the rules exclude): it goes on the cheap one.
    const r = await solveTe(base({ pathAllowed: (d, p) => !(d.class === 'realtime' && p.id === 'x.y.1') }));
    expect(r.splits.find((s) => s.class === 'realtime')!.fractions).toEqual({ 'x.y.2': 1 });
    expect(r.splits.find((s) => s.class === 'realtime')!.fractions['x.y.1']).toBeUndefined();
  });

  it('respects link capacity with headroom by splitting', async () => {
    const r = await solveTe(base({ demands: [{ from: 'x', to: 'y', class: 'bulk', mbps: 1200 }] }));
    expect(r.status).toBe('optimal');
    for (const l of r.link_loads) expect(l.utilization).toBeLessThanOrEqual(0.8 + 1e-6);
    const f = r.splits[0]!.fractions;
    expect(f['x.y.2']! * 1200).toBeCloseTo(800, 3);
    expect(r.tight).toContain('cheap:x>y');
  });

  it('reports binding capacity when demand cannot fit — never a silent fallback', async () => {
    const r = await solveTe(base({ demands: [{ from: 'x', to: 'y', class: 'bulk', mbps: 2000 }] }));
    expect(r.status).toBe('infeasible');
    const over = r.binding.filter((b) => b.kind === 'capacity' || b.kind === 'demand');
    expect(over.length).toBeGreaterThan(0);
    const total = over.reduce((a, b) => a + b.slack, 0);
    expect(total).toBeCloseTo(400, 1);
    expect(over.map((b) => b.message).join(' ')).toMatch(/Mbit\/s/);
  });

  it('treats risky paths as breaking the SLO and reports SLO binding when no path is safe', async () => {
    const risk = new Map([['x.y.1|realtime', 0.9]]);
    const r = await solveTe(base({ risk, demands: [{ from: 'x', to: 'y', class: 'realtime', mbps: 10 }] }));
    // The other path breaks the realtime RTT SLO (150 > 100) too: the plan says so.
    expect(r.status).toBe('infeasible');
    expect(r.binding.some((b) => b.kind === 'slo' && b.id === 'x>y|realtime')).toBe(true);
  });

  it('enforces a daily budget and names it when it binds', async () => {
    const r = await solveTe(
      base({
        demands: [{ from: 'x', to: 'y', class: 'bulk', mbps: 100 }],
        options: { policy, latency_penalty: 0.05, budget_per_day: 5 },
      }),
    );
    // Even the cheap path costs 100 × 10.8 × $0.01 = $10.80/day.
    expect(r.status).toBe('infeasible');
    expect(r.binding.find((b) => b.kind === 'budget')?.slack).toBeCloseTo(5.8, 3);
    // A budget between the two paths' costs moves realtime to the cheap path, and says it breaks the SLO.
    const squeezed = await solveTe(
      base({
        demands: [{ from: 'x', to: 'y', class: 'realtime', mbps: 100 }],
        options: { policy, latency_penalty: 0.05, budget_per_day: 50 },
      }),
    );
    expect(squeezed.binding.map((b) => b.kind)).toEqual(['slo']);
    const ok = await solveTe(base({ options: { policy, latency_penalty: 0.05, budget_per_day: 1000 } }));
    expect(ok.status).toBe('optimal');
  });

  it('keeps the current split when the alternative is only marginally better (churn penalty)', async () => {
    const q = new Map([
      ['x.y.1', { rtt_p95_ms: 40, loss_pct: 0, jitter_ms: 2 }],
      ['x.y.2', { rtt_p95_ms: 40, loss_pct: 0, jitter_ms: 2 }],
    ]);
    const equalCost = [link('cheap', 'x', 'y', 1000, 0.05), link('fast', 'x', 'y', 1000, 0.0501)];
    const current = new Map([[demandKey('x', 'y', 'bulk'), { 'x.y.1': 1 }]]);
    const r = await solveTe({
      topology: { links: equalCost, paths, classes },
      demands: [{ from: 'x', to: 'y', class: 'bulk', mbps: 100 }],
      quality: q,
      current,
      options: { policy, latency_penalty: 0.05 },
    });
    expect(r.splits[0]!.fractions['x.y.1']).toBeCloseTo(1, 6);
    expect(r.churn).toBeCloseTo(0, 6);
    const noChurn = await solveTe({
      topology: { links: equalCost, paths, classes },
      demands: [{ from: 'x', to: 'y', class: 'bulk', mbps: 100 }],
      quality: q,
      current,
      options: { policy: { ...policy, churn_penalty: 0 }, latency_penalty: 0.05 },
    });
    expect(noChurn.splits[0]!.fractions['x.y.2']).toBeCloseTo(1, 6);
  });

  it('rejects a demand for a pair without paths with a clear error', async () => {
    await expect(solveTe(base({ demands: [{ from: 'y', to: 'x', class: 'bulk', mbps: 1 }] }))).rejects.toThrow(
      /no candidate paths/,
    );
  });

  it('evaluates the current and planned split with the same terms', async () => {
    const input = base();
    const r = await solveTe(input);
    const after = evaluateSplit(input, planSplit(r));
    const before = evaluateSplit(input, new Map());
    expect(after.cost_per_day).toBeCloseTo(r.cost_per_day, 6);
    expect(before.cost_per_day).toBeGreaterThan(after.cost_per_day);
    expect(after.rtt_p95_ms.realtime).toBe(40);
  });
});

describe('VyOS weights and intents', () => {
  it('maps fractions to integers 1–255 with the largest at 255 and drops shares under 1%', () => {
    expect(toVyosWeights({ a: 0.75, b: 0.25 })).toEqual({ a: 255, b: 85 });
    expect(toVyosWeights({ a: 0.995, b: 0.005 })).toEqual({ a: 255 });
    expect(toVyosWeights({ a: 0.98, b: 0.02 }).b).toBe(5);
    const f = weightsToFractions(toVyosWeights({ a: 0.6, b: 0.3, c: 0.1 }));
    expect(f.a).toBeCloseTo(0.6, 2);
    expect(f.c).toBeCloseTo(0.1, 2);
  });

  it('pins every class of a pair with a latency-critical class, and balances the other pairs', async () => {
    const { root } = loadConfig();
    const topo = new Topology(root);
    const r = await solveTe({
      topology: root,
      demands: [
        { from: 'onprem-nyc', to: 'aws-euc1', class: 'bulk', mbps: 3000 },
        { from: 'onprem-nyc', to: 'aws-euc1', class: 'interactive', mbps: 400 },
        { from: 'onprem-nyc', to: 'aws-euc1', class: 'realtime', mbps: 50 },
        { from: 'onprem-nyc', to: 'aws-use1', class: 'bulk', mbps: 2000 },
        { from: 'onprem-nyc', to: 'aws-use1', class: 'interactive', mbps: 300 },
      ],
      quality: new Map(),
      options: { policy: root.policy, latency_penalty: 0.05 },
    });
    const intents = planIntents(r, topo);
    // A WAN rule cannot match DSCP and a pin on balanced traffic may lose the packet mark (vyos-facts
    // §5.4): NYC → AWS eu-central-1 carries realtime, so each of its classes is pinned and none balanced.
    const toEuc1 = intents.pins.filter((p) => p.pair.join('>') === 'onprem-nyc>aws-euc1');
    expect(toEuc1.map((p) => p.class).sort()).toEqual(['bulk', 'interactive', 'realtime']);
    expect(toEuc1.find((p) => p.class === 'realtime')!.dscp).toEqual([46, 34, 36]);
    for (const p of toEuc1) {
      expect(['nyc-use1-dx', 'nyc-use1-vpn', 'nyc-fra-inet']).toContain(p.link);
      expect(p.dst_prefixes).toEqual(['10.11.0.0/16']);
    }
    expect(intents.weights.some((w) => w.pair.join('>') === 'onprem-nyc>aws-euc1')).toBe(false);
    // NYC → AWS us-east-1 has no latency-critical traffic: its classes share one weight rule.
    const toUse1 = intents.weights.filter((w) => w.pair.join('>') === 'onprem-nyc>aws-use1');
    expect(toUse1).toHaveLength(1);
    const w = toUse1[0]!;
    expect(w.class).toBe(ANY_CLASS);
    expect(w.router).toBe('onprem-nyc');
    for (const v of Object.values(w.weights)) expect(Number.isInteger(v) && v >= 1 && v <= 255).toBe(true);
    expect(intents.pins.some((p) => p.pair.join('>') === 'onprem-nyc>aws-use1')).toBe(false);
    expect(intents.bandwidth.length).toBe(r.link_loads.length);
    for (const q of intents.qos) expect(q.classes.reduce((a, c) => a + c.bandwidth_pct, 0)).toBeLessThanOrEqual(100);
  });
});
