import { afterAll, describe, expect, it } from 'vitest';
import type { ClassConfig, LinkConfig, PathConfig } from '../../core/config/index.ts';
import { optimizerConfigSchema } from '../config.ts';
import {
  chooseK,
  DecomposeState,
  partitionDemands,
  solveTeDecomposed,
  sortDescending,
  TeSolver,
  type Assignment,
} from './decompose.ts';
import { fractionsToX, indexTe, objectiveOf } from './model.ts';
import { demandKey, planSplit, solveTe, type TeInput, type TeResult } from './solve.ts';
import { syntheticTe } from './synthetic.ts';

const score = { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 };
const policy = { max_utilization: 0.8, churn_penalty: 0.05, score };

/** A congested synthetic WAN (capacity binds) with everything currently on the primary path. */
function instance(sites: number, load = 3, over: Partial<TeInput['options']> = {}): TeInput {
  const syn = syntheticTe(sites, { pathsPerPair: 3, utilization: 0.6, load });
  const current = new Map<string, Record<string, number>>();
  for (const d of syn.demands) current.set(demandKey(d.from, d.to, d.class), { [`${d.from}.${d.to}.1`]: 1 });
  return { ...syn, current, options: { policy, latency_penalty: 0.05, ...over } };
}

function expectFeasible(input: TeInput, r: TeResult) {
  expect(r.status).toBe('optimal');
  expect(r.binding.filter((b) => b.kind === 'capacity')).toEqual([]);
  for (const l of r.link_loads) expect(l.mbps).toBeLessThanOrEqual(l.capacity_mbps * input.options.policy.max_utilization + 1e-3);
  expect(r.splits).toHaveLength(input.demands.length);
  for (const s of r.splits) {
    expect(Object.values(s.fractions).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(s.unserved).toBeLessThan(1e-6);
  }
}

/** The sub-problems of each demand's pieces, as lists. */
function listsOf(a: Assignment): number[][] {
  return Array.from({ length: a.pieceStart.length - 1 }, (_, d) => [
    ...a.pieceSub.subarray(a.pieceStart[d], a.pieceStart[d + 1]),
  ]);
}

const solver = new TeSolver({ exact_max_sites: 10, threads: 0 });
afterAll(() => solver.close());

describe('TE decomposition (POP)', () => {
  const input = instance(40);

  it('merges sub-problems into a feasible plan that serves every demand, close to the exact optimum', async () => {
    const exact = await solveTe(input);
    expect(exact.tight.length).toBeGreaterThan(0); // capacity binds: the decomposition has something to lose
    const r = await solveTeDecomposed(input, { k: 4, threads: 0, seed: 3 });
    expectFeasible(input, r);
    expect(r.decomposition).toMatchObject({ k: 4, demands: input.demands.length, threads: 0 });
    expect(r.decomposition!.pieces).toBeGreaterThan(input.demands.length); // the largest demands were split
    const gap = (r.objective - exact.objective) / exact.objective;
    expect(gap).toBeGreaterThanOrEqual(-1e-9);
    expect(gap).toBeLessThan(0.015);
    // The objective is the full LP's, evaluated at the merged plan.
    const ix = indexTe(input);
    expect(objectiveOf(ix, fractionsToX(ix, planSplit(r)))).toBeCloseTo(r.objective, 3);
  });

  it("reports the exact LP's own objective for its solution (one model, two read-backs)", async () => {
    const exact = await solveTe(input);
    const ix = indexTe(input);
    expect(objectiveOf(ix, fractionsToX(ix, planSplit(exact))) / exact.objective).toBeCloseTo(1, 6);
  });

  it('is deterministic for a seed, and the seed changes the partition', async () => {
    const a = await solveTeDecomposed(input, { k: 4, threads: 0, seed: 5 });
    const b = await solveTeDecomposed(input, { k: 4, threads: 0, seed: 5 });
    expect(b.splits).toEqual(a.splits);
    expect(b.objective).toBe(a.objective);
    const ix = indexTe(input);
    const p5 = listsOf(partitionDemands(ix, 4, { seed: 5 }, undefined).state);
    const p6 = listsOf(partitionDemands(ix, 4, { seed: 6 }, undefined).state);
    expect(p6).not.toEqual(p5);
  });

  it('splits large demands into pieces in distinct sub-problems and balances the traffic dealt', () => {
    const ix = indexTe(input);
    const subsOf = listsOf(partitionDemands(ix, 4, { seed: 1, split: 0.25 }, undefined).state);
    const vol = [0, 0, 0, 0];
    let pieces = 0;
    subsOf.forEach((subs, d) => {
      expect(new Set(subs).size).toBe(subs.length);
      for (const j of subs) vol[j]! += input.demands[d]!.mbps / subs.length;
      pieces += subs.length;
    });
    expect(pieces).toBeLessThanOrEqual(Math.floor(1.25 * input.demands.length));
    expect(pieces).toBeGreaterThan(input.demands.length);
    // The split demands are the largest ones.
    const split = subsOf.map((s, d) => ({ n: s.length, mbps: input.demands[d]!.mbps }));
    const smallestSplit = Math.min(...split.filter((s) => s.n > 1).map((s) => s.mbps));
    const largestWhole = Math.max(...split.filter((s) => s.n === 1).map((s) => s.mbps));
    expect(smallestSplit).toBeGreaterThanOrEqual(largestWhole * 0.999);
    const mean = vol.reduce((a, b) => a + b, 0) / 4;
    for (const v of vol) expect(Math.abs(v - mean) / mean).toBeLessThan(0.01);
  });

  it('sorts indices by value, largest first, keeping the given order among equal values', () => {
    const values = Float64Array.from([3, 0.5, 3, 1e9, 0, 2.25, 0.5, 7e-12, 3, -0]);
    const order = Int32Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const expected = [...order].sort((a, b) => values[b]! - values[a]!); // Array sort is stable
    expect([...sortDescending(order, values)]).toEqual(expected);
    expect([...sortDescending(order, values)]).toEqual([3, 8, 2, 0, 5, 6, 1, 7, 9, 4]);
  });

  it('warm start: keeps the partition, restarts each sub-problem from its basis, skips unchanged ones', async () => {
    const state = new DecomposeState();
    const first = await solveTeDecomposed(input, { k: 4, threads: 0, state });
    expect(first.decomposition).toMatchObject({ partition_reused: false, warm: 0, reused: 0 });
    const assignment = listsOf(state.partition!);
    // Same demands a few percent off: same partition, every sub-problem from its previous basis.
    let i = 0;
    const perturbed: TeInput = {
      ...input,
      demands: input.demands.map((d) => {
        const f = 1 + ((i++ % 7) - 3) / 100;
        return { ...d, mbps: d.mbps * f, mean_mbps: d.mean_mbps! * f };
      }),
    };
    const again = await solveTeDecomposed(perturbed, { k: 4, threads: 0, state });
    expect(again.decomposition).toMatchObject({ partition_reused: true, warm: 4, reused: 0 });
    expect(listsOf(state.partition!)).toEqual(assignment);
    expect(again.decomposition!.iterations).toBeLessThan(first.decomposition!.iterations);
    // Warm or cold, the same sub-problems have the same optimum.
    const coldState = new DecomposeState();
    coldState.partition = state.partition;
    const cold = await solveTeDecomposed(perturbed, { k: 4, threads: 0, state: coldState });
    expect(cold.decomposition).toMatchObject({ partition_reused: true, warm: 0 });
    expect(again.objective).toBeCloseTo(cold.objective, 4);
    expectFeasible(perturbed, again);
    // Unchanged input: nothing to solve.
    const same = await solveTeDecomposed(perturbed, { k: 4, threads: 0, state });
    expect(same.decomposition).toMatchObject({ reused: 4, iterations: 0 });
    expect(same.splits).toEqual(again.splits);
    // A new demand joins the partition without reshuffling the others.
    const extra = { ...perturbed, demands: [...perturbed.demands.slice(0, -1)] };
    const grown = await solveTeDecomposed(extra, { k: 4, threads: 0, state });
    expect(grown.decomposition!.partition_reused).toBe(true);
    expect(listsOf(state.partition!)).toEqual(assignment.slice(0, -1));
  });

  it('repairs a merged plan that overshoots a link (a sub-problem needed slack)', async () => {
    const bulk: ClassConfig = {
      id: 'bulk',
      dscp: [0],
      priority: 1,
      pin: false,
      slo: { rtt_p95_ms: 600, loss_pct: 5, jitter_ms: 200 },
    };
    const link = (id: string, cost: number): LinkConfig => ({
      id,
      kind: 'wireguard',
      a: { site: 'x', interface: `wg-${id}` },
      b: { site: 'y', interface: `wg-${id}` },
      capacity_mbps: 1000,
      cost_per_gb: cost,
      monthly_fixed_cost: 0,
    });
    const paths: PathConfig[] = [
      { id: 'x.y.1', from: 'x', to: 'y', links: ['cheap'], priority: 1 },
      { id: 'x.y.2', from: 'x', to: 'y', links: ['dear'], priority: 2 },
    ];
    // Two demands, one per sub-problem (k = 2, no splitting). 900 Mbit/s cannot fit in half of 2 × 800:
    // its sub-problem overflows the cheap link, the other fills it too; the union need not overflow.
    const small: TeInput = {
      topology: { links: [link('cheap', 0.01), link('dear', 0.05)], paths, classes: [bulk, { ...bulk, id: 'backup' }] },
      demands: [
        { from: 'x', to: 'y', class: 'bulk', mbps: 900 },
        { from: 'x', to: 'y', class: 'backup', mbps: 500 },
      ],
      quality: new Map(),
      options: { policy, latency_penalty: 0 },
    };
    const exact = await solveTe(small);
    expect(exact.status).toBe('optimal');
    const r = await solveTeDecomposed(small, { k: 2, split: 0, threads: 0, seed: 1 });
    const d = r.decomposition!;
    expect(d.overflow_before_repair).toBeGreaterThan(1);
    expect(d.overflow_after_repair).toBeLessThan(1e-4);
    expect(d.repaired_demands).toBeGreaterThan(0);
    expectFeasible(small, r);
    expect(r.objective).toBeCloseTo(exact.objective, 4);
    // Without the repair the overflow is reported, never hidden.
    const raw = await solveTeDecomposed(small, { k: 2, split: 0, threads: 0, seed: 1, repair: false });
    expect(raw.status).toBe('infeasible');
    expect(raw.binding.some((b) => b.kind === 'capacity')).toBe(true);
  });

  it('solves on worker threads with the same result as in this thread', async () => {
    const inThread = await solveTeDecomposed(input, { k: 4, threads: 0, seed: 2 });
    const workers = await solveTeDecomposed(input, { k: 4, threads: 2, seed: 2 });
    expect(workers.decomposition!.threads).toBe(2);
    expect(workers.splits).toEqual(inThread.splits);
  }, 60_000);

  it('keeps a budget: each sub-problem gets its share, the merged plan stays within it', async () => {
    const exact = await solveTe(input);
    const budget = exact.cost_per_day * 1.02;
    const b = { ...input, options: { ...input.options, budget_per_day: budget } };
    const r = await solveTeDecomposed(b, { k: 4, threads: 0 });
    expect(r.cost_per_day).toBeLessThanOrEqual(budget + 1e-6);
    expect(r.binding.filter((x) => x.kind === 'budget')).toEqual([]);
  });
});

describe('exact or decomposed', () => {
  it('picks the exact LP up to the site threshold and the decomposition above it', async () => {
    const small = instance(8, 1);
    const large = instance(16, 1);
    expect(solver.decomposes(small.topology)).toBe(false);
    expect(solver.decomposes(large.topology)).toBe(true);
    expect((await solver.solve(small)).decomposition).toBeUndefined();
    const r = await solver.solve(large);
    expect(r.decomposition).toBeDefined();
    expectFeasible(large, r);
    // The solver keeps its warm-start state between runs.
    expect((await solver.solve(large)).decomposition!.reused).toBe(r.decomposition!.k);
  });

  it('warm-starts the exact LP from its previous basis when the model keeps its shape', async () => {
    const exactSolver = new TeSolver({ exact_max_sites: 400, threads: 0 });
    const input = instance(20);
    await exactSolver.solve(input);
    expect(exactSolver.exact).toMatchObject({ warm: false });
    const perturbed = { ...input, demands: input.demands.map((d, i) => ({ ...d, mbps: d.mbps * (1 + ((i % 5) - 2) / 100) })) };
    const warm = await exactSolver.solve(perturbed);
    expect(exactSolver.exact.warm).toBe(true);
    expect(warm.objective).toBeCloseTo((await solveTe(perturbed)).objective, 4);
    // One demand fewer: a different model, solved cold.
    await exactSolver.solve({ ...perturbed, demands: perturbed.demands.slice(1) });
    expect(exactSolver.exact.warm).toBe(false);
  });

  it('chooses k from the size: one sub-problem for small instances, a multiple of the threads for large ones', () => {
    expect(chooseK(100_000, 30_000)).toBe(1);
    expect(chooseK(1_200_000, 300_000, {}, 2)).toBe(8);
    expect(chooseK(1_200_000, 300_000, {}, 2) % 2).toBe(0);
    expect(chooseK(12_000_000, 3_000_000)).toBe(64);
    expect(chooseK(1_200_000, 10_000)).toBe(2); // too few demands for more
  });

  it('te_exact_max_sites is a validated optimizer key (default 400)', () => {
    expect(optimizerConfigSchema.parse({}).te_exact_max_sites).toBe(400);
    expect(optimizerConfigSchema.parse({ te_exact_max_sites: 250 }).te_exact_max_sites).toBe(250);
    expect(() => optimizerConfigSchema.parse({ te_exact_max_sites: 1 })).toThrow();
    expect(() => optimizerConfigSchema.parse({ te_exact_max_sites: 300.5 })).toThrow();
  });
});
