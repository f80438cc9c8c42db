import { describe, expect, it } from 'vitest';
import { solveTeDecomposed } from './decompose.ts';
import { arena, indexTe } from './model.ts';
import { demandKey, solveTe, type TeInput } from './solve.ts';
import { syntheticTe } from './synthetic.ts';

const score = { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 };
const policy = { max_utilization: 0.8, churn_penalty: 0.05, score };

/** A synthetic WAN (load × 3: capacity binds) with everything currently on the primary path. */
function instance(sites: number, load: number, over: Partial<TeInput['options']> = {}): TeInput {
  const syn = syntheticTe(sites, { pathsPerPair: 3, utilization: 0.6, load });
  const current = new Map<string, Record<string, number>>();
  for (const d of syn.demands) current.set(demandKey(d.from, d.to, d.class), { [`${d.from}.${d.to}.1`]: 1 });
  return { ...syn, current, options: { policy, latency_penalty: 0.05, ...over } };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('column generation (one sub-problem: the whole LP)', () => {
  it("reaches the exact LP's optimum on a congested instance, with most pieces never in an LP", async () => {
    const input = instance(40, 3);
    const exact = await solveTe(input);
    expect(exact.tight.length).toBeGreaterThan(0);
    const r = await solveTeDecomposed(input, { k: 1, threads: 0 });
    const d = r.decomposition!;
    expect(d).toMatchObject({ k: 1, cheapest_fits: false, pieces: input.demands.length });
    expect(d.lps).toBeGreaterThan(1); // priced, re-solved
    expect(d.lp_pieces).toBeGreaterThan(0);
    expect(d.lp_pieces).toBeLessThan(input.demands.length / 2);
    expect(r.status).toBe('optimal');
    expect(relative(r.objective, exact.objective)).toBeLessThan(1e-7);
  });

  it('prices a binding budget', async () => {
    const input = instance(30, 3);
    const free = await solveTe(input);
    const budget = free.cost_per_day * 0.995;
    const capped = { ...input, options: { ...input.options, budget_per_day: budget } };
    const exact = await solveTe(capped);
    expect(exact.objective).toBeGreaterThan(free.objective); // the budget binds
    const r = await solveTeDecomposed(capped, { k: 1, threads: 0 });
    expect(r.cost_per_day).toBeLessThanOrEqual(budget + 1e-6);
    expect(relative(r.objective, exact.objective)).toBeLessThan(1e-7);
  });

  it('keeps demands with churn rows (a current split over two paths) in the LP', async () => {
    const input = instance(30, 3);
    const current = new Map(input.current);
    let split = 0;
    for (const dem of input.demands)
      if (split++ % 5 === 0)
        current.set(demandKey(dem.from, dem.to, dem.class), {
          [`${dem.from}.${dem.to}.1`]: 0.5,
          [`${dem.from}.${dem.to}.2`]: 0.5,
        });
    const churned = { ...input, current };
    const exact = await solveTe(churned);
    const r = await solveTeDecomposed(churned, { k: 1, threads: 0 });
    expect(r.decomposition!.lp_pieces).toBeGreaterThanOrEqual(Math.ceil(input.demands.length / 5));
    expect(relative(r.objective, exact.objective)).toBeLessThan(1e-7);
  });
});

describe('every demand on its cheapest path', () => {
  it('is the optimum when it fits: no sub-problem, no LP', async () => {
    const input = instance(40, 1);
    const exact = await solveTe(input);
    const r = await solveTeDecomposed(input, { threads: 0 });
    expect(r.decomposition).toMatchObject({ cheapest_fits: true, k: 0, lps: 0, lp_pieces: 0 });
    expect(r.status).toBe('optimal');
    expect(relative(r.objective, exact.objective)).toBeLessThan(1e-9);
  });
});

describe('index', () => {
  it('is the same whatever order the quality and current-split maps come in', () => {
    const input = instance(12, 1);
    const reversed: TeInput = {
      ...input,
      quality: new Map([...input.quality].reverse()),
      current: new Map([...input.current!].reverse()),
    };
    const a = indexTe(input);
    const b = indexTe(reversed);
    expect(b.candObj).toEqual(a.candObj);
    expect(b.candCurrent).toEqual(a.candCurrent);
    expect(b.hasCurrent).toEqual(a.hasCurrent);
    expect(a.hasCurrent.every((v) => v === 1)).toBe(true);
  });

  it('carves aligned, disjoint typed arrays from one buffer', () => {
    const a = arena({ bytes: ['u8', 3], doubles: ['f64', 2], ints: ['i32', 5] });
    expect(a.doubles.byteOffset % 8).toBe(0);
    expect(a.ints.byteOffset % 8).toBe(0);
    expect(a.doubles.buffer).toBe(a.bytes.buffer);
    a.bytes.fill(255);
    a.doubles.fill(1.5);
    a.ints.fill(-7);
    expect([...a.bytes]).toEqual([255, 255, 255]);
    expect([...a.doubles]).toEqual([1.5, 1.5]);
    expect([...a.ints]).toEqual([-7, -7, -7, -7, -7]);
  });
});
