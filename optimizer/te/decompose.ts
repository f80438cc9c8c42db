import { availableParallelism } from 'node:os';
import { PathpilotError } from '../../core/errors.ts';
import {
  addSolution,
  assemble,
  buildLp,
  dirCapacities,
  fingerprint,
  dirLoads,
  indexTe,
  objectiveOf,
  PathTable,
  usedDirs,
  type BuiltLp,
  type LpBasis,
  type LpJob,
  type LpOutcome,
  type LpPart,
  type TeIndex,
} from './model.ts';
import { LpPool } from './pool.ts';
import { solveTe, type ExactWarmStart } from './solve.ts';
import { rng } from './synthetic.ts';
import { type TeDecompositionStats, type TeInput, type TeResult, type TeTopology } from './types.ts';

/**
 * TE at scale: POP (Narayanan et al., SOSP '21) for the TE LP. Demands are partitioned into k sub-problems,
 * each given 1/k of every link capacity (and of the budget); each is the same LP over its demands, solved on
 * its own (worker threads), and the union of their allocations is the plan. Large demands are split into
 * equal pieces across sub-problems first (POP's client splitting), so one elephant cannot crowd a
 * sub-problem's share of a link. The union respects every capacity unless a sub-problem needed slack; a
 * repair pass then re-optimises, against the full capacities, the demands crossing an overloaded link.
 *
 * Warm starts (`DecomposeState`): the next run keeps the partition (same demand → same sub-problems), reuses
 * the solution of a sub-problem whose LP is unchanged, and starts the others from their previous simplex
 * basis (HiGHS `setBasis`) when the LP has the same shape (same demands and candidate paths).
 */

export interface DecomposeOptions {
  /** Sub-problems; default chosen from the instance size (see `chooseK`). */
  k?: number;
  /** LP columns per sub-problem aimed at when k is chosen from the size (default 150,000). */
  columns_per_sub?: number;
  /** Fewest demands per sub-problem when k is chosen from the size (default 4,000): keeps pieces granular. */
  min_demands_per_sub?: number;
  /** Most sub-problems when k is chosen from the size (default 64). */
  max_k?: number;
  /**
   * POP client splitting: the largest demands are cut into equal pieces (at most k, each in a different
   * sub-problem) until there are (1 + split) × as many pieces as demands. Default 0.25.
   */
  split?: number;
  /**
   * How pieces are dealt: `balanced` (default) takes them largest first and gives each to the sub-problem
   * holding the least traffic from its source and to its destination (ties broken at random), so every
   * site's access links are shared evenly; `random` is POP's uniform random assignment.
   */
  assign?: 'balanced' | 'random';
  seed?: number;
  /** Worker threads for the sub-problems (0: this thread). Default: min(2, cores). */
  threads?: number;
  /** Re-optimise demands on overloaded link directions after the merge (default true). */
  repair?: boolean;
  /** Warm-start state carried between runs. */
  state?: DecomposeState;
  /** Pool to solve on (else one is made for the call and closed after it). */
  pool?: LpPool;
}

interface SubState {
  structure: string;
  numeric: string;
  basis?: LpBasis;
  colValue?: Float64Array;
}

export interface PartitionState {
  k: number;
  /** Piece size threshold the split used: a new demand above it is split the same way. */
  tau: number;
  /** Demand keys, in input order, and the sub-problems of each one's pieces (one piece each, equal shares). */
  keys: readonly string[];
  subsOf: number[][];
}

/** What a decomposer remembers between runs (see the module comment). */
export class DecomposeState {
  topology?: string;
  table?: PathTable;
  partition?: PartitionState;
  subs: SubState[] = [];
  /** Forget everything (the next run is cold). */
  reset(): void {
    this.topology = undefined;
    this.table = undefined;
    this.partition = undefined;
    this.subs = [];
  }
}

const defaults = { columns_per_sub: 150_000, min_demands_per_sub: 4_000, max_k: 64, split: 0.25 };

/** Sub-problem count from the instance size: enough to keep each near `columns_per_sub`, not so many they get coarse. */
export function chooseK(columns: number, demands: number, opts: DecomposeOptions = {}, threads = 1): number {
  const perSub = opts.columns_per_sub ?? defaults.columns_per_sub;
  const minDemands = opts.min_demands_per_sub ?? defaults.min_demands_per_sub;
  let k = Math.ceil(columns / perSub);
  k = Math.min(k, Math.floor(demands / minDemands), opts.max_k ?? defaults.max_k);
  if (k <= 1) return 1;
  // A multiple of the thread count, so the workers finish together.
  const t = Math.max(1, threads);
  return Math.ceil(k / t) * t;
}

/** Distinct sites at the ends of the topology's links. */
export function countSites(topology: TeTopology): number {
  const s = new Set<string>();
  for (const l of topology.links) {
    s.add(l.a.site);
    s.add(l.b.site);
  }
  return s.size;
}

/** Identity of a topology's links and paths (ids, ends, capacities, prices, link lists). */
export function topologyFingerprint(t: TeTopology): string {
  let h = 0x811c9dc5;
  const str = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x1f, 0x01000193);
  };
  const num = (n: number) => {
    h = Math.imul(h ^ (n * 1e6), 0x01000193);
    h = Math.imul(h ^ ((n * 1e6) / 4294967296), 0x01000193);
  };
  for (const l of t.links) {
    str(l.id);
    str(l.a.site);
    str(l.b.site);
    num(l.capacity_mbps);
    num(l.cost_per_gb);
  }
  for (const p of t.paths) {
    str(p.id);
    str(p.from);
    str(p.to);
    for (const l of p.links) str(l);
  }
  return `${t.links.length}:${t.paths.length}:${(h >>> 0).toString(16)}`;
}

/**
 * Deals the demands' pieces to k sub-problems. With a previous partition of the same k that knows at least
 * half of the demands, known demands keep their sub-problems and only new ones are dealt.
 */
export function partitionDemands(
  ix: TeIndex,
  k: number,
  opts: DecomposeOptions,
  prev: PartitionState | undefined,
): { subsOf: number[][]; state: PartitionState; reused: boolean } {
  const demands = ix.input.demands;
  const nd = ix.nd;
  const keys = ix.keys;
  const rand = rng(opts.seed ?? 1);
  const mbps = Float64Array.from(demands, (d) => d.mbps);
  const countFor = (v: number, tau: number) => Math.min(k, Math.max(1, Math.ceil(v / tau)));

  if (prev && prev.k === k) {
    // Same demands in the same order (the usual re-run): the same assignment, as is.
    let same = prev.keys.length === nd;
    for (let d = 0; same && d < nd; d++) same = prev.keys[d] === keys[d];
    if (same) return { subsOf: prev.subsOf, state: { ...prev, keys }, reused: true };
    const known = new Map<string, number[]>();
    prev.keys.forEach((key, d) => known.set(key, prev.subsOf[d]!));
    let kept = 0;
    for (let d = 0; d < nd; d++) if (known.has(keys[d]!)) kept++;
    if (kept >= nd / 2) {
      const deal = dealer(ix, k, opts, rand);
      const subsOf: number[][] = new Array(nd);
      const fresh: number[] = [];
      for (let d = 0; d < nd; d++) {
        const s = known.get(keys[d]!);
        if (s) deal.give(d, (subsOf[d] = s));
        else fresh.push(d);
      }
      fresh.sort((a, b) => mbps[b]! - mbps[a]!);
      for (const d of fresh) deal.give(d, (subsOf[d] = deal.pick(d, countFor(mbps[d]!, prev.tau))));
      return { subsOf, state: { k, tau: prev.tau, keys, subsOf }, reused: true };
    }
  }

  // Piece count: min(k, ⌈mbps/τ⌉), τ the smallest threshold giving at most (1 + split) × nd pieces.
  const split = k > 1 ? (opts.split ?? defaults.split) : 0;
  let tau = Infinity;
  if (split > 0 && nd > 0) {
    const piecesAt = (t: number) => {
      let n = 0;
      for (let d = 0; d < nd; d++) n += Math.min(k, Math.max(1, Math.ceil(mbps[d]! / t)));
      return n;
    };
    const target = Math.floor((1 + split) * nd);
    let lo = 0;
    let hi = mbps.reduce((m, v) => Math.max(m, v), 1e-9);
    for (let it = 0; it < 60; it++) {
      const mid = (lo + hi) / 2;
      if (mid <= 0 || piecesAt(mid) > target) lo = mid;
      else hi = mid;
    }
    tau = hi;
  }
  // Largest first; equal sizes in random order.
  const tie = Float64Array.from({ length: nd }, () => rand());
  const order = Int32Array.from({ length: nd }, (_, d) => d).sort((a, b) => mbps[b]! - mbps[a]! || tie[a]! - tie[b]!);
  const deal = dealer(ix, k, opts, rand);
  const subsOf: number[][] = new Array(nd);
  for (const d of order) deal.give(d, (subsOf[d] = deal.pick(d, countFor(mbps[d]!, tau))));
  return { subsOf, state: { k, tau, keys, subsOf }, reused: false };
}

/** Traffic dealt so far per sub-problem (total, per source site, per destination site) and the choice of sub-problems for a demand. */
function dealer(ix: TeIndex, k: number, opts: DecomposeOptions, rand: () => number) {
  const demands = ix.input.demands;
  const siteIdx = new Map<string, number>();
  const site = (s: string) => {
    let i = siteIdx.get(s);
    if (i === undefined) siteIdx.set(s, (i = siteIdx.size));
    return i;
  };
  const src = Int32Array.from(demands, (d) => site(d.from));
  const dst = Int32Array.from(demands, (d) => site(d.to));
  const ns = siteIdx.size;
  const volSrc = new Float64Array(ns * k);
  const volDst = new Float64Array(ns * k);
  const vol = new Float64Array(k);
  const score = new Float64Array(k);
  return {
    give(d: number, subs: number[]): void {
      const piece = demands[d]!.mbps / subs.length;
      for (const j of subs) {
        volSrc[src[d]! * k + j]! += piece;
        volDst[dst[d]! * k + j]! += piece;
        vol[j]! += piece;
      }
    },
    pick(d: number, m: number): number[] {
      if (opts.assign === 'random') {
        const all = Array.from({ length: k }, (_, j) => j);
        for (let i = 0; i < m; i++) {
          const j = i + Math.floor(rand() * (k - i));
          [all[i], all[j]] = [all[j]!, all[i]!];
        }
        return all.slice(0, m);
      }
      // The m sub-problems with the least traffic from this source and to this destination (global volume
      // breaks near-ties; a random start breaks exact ones).
      const s = src[d]! * k;
      const t = dst[d]! * k;
      for (let j = 0; j < k; j++) score[j] = volSrc[s + j]! + volDst[t + j]! + vol[j]! * 1e-6;
      const start = Math.floor(rand() * k);
      const out: number[] = [];
      for (let i = 0; i < m; i++) {
        let best = -1;
        for (let o = 0; o < k; o++) {
          const j = (start + o) % k;
          if (score[j]! !== Infinity && (best < 0 || score[j]! < score[best]!)) best = j;
        }
        out.push(best);
        score[best] = Infinity;
      }
      return out;
    },
  };
}

/** The pieces of sub-problem j, in demand order (a stable LP shape from run to run). */
export function partsOf(subsOf: number[][], k: number): LpPart[] {
  const count = new Int32Array(k);
  for (const s of subsOf) for (const j of s) count[j]!++;
  const parts = Array.from(count, (n) => ({ demand: new Int32Array(n), share: new Float64Array(n) }));
  const at = new Int32Array(k);
  subsOf.forEach((s, d) => {
    for (const j of s) {
      const i = at[j]!++;
      parts[j]!.demand[i] = d;
      parts[j]!.share[i] = 1 / s.length;
    }
  });
  return parts;
}

function infeasible(what: string, out: LpOutcome): PathpilotError {
  return new PathpilotError(
    'PP_ERR_INFEASIBLE',
    `the TE ${what} did not solve to optimality (HiGHS model status ${out.status}${out.status === 13 ? ': time limit' : ''})`,
  );
}

/**
 * Re-optimises, against the full capacities, the demands carrying traffic over a link direction the merged
 * plan overloads (then, if that is not enough, every demand with a candidate path across one), the others
 * fixed. Mutates `x`; returns how many demands it re-optimised.
 */
async function repairPlan(
  ix: TeIndex,
  x: Float64Array,
  pool: LpPool,
  budget: number | undefined,
  jobOpts: { time_limit_s: number; solver?: string },
): Promise<number> {
  const cap = dirCapacities(ix, 1);
  const dirs = usedDirs(ix);
  const hops = ix.hops;
  let repaired = 0;
  for (let round = 0; round < 2; round++) {
    const loads = dirLoads(ix, x);
    const over = new Uint8Array(ix.table.dirs.length);
    let any = false;
    for (const g of dirs)
      if (loads[g]! - cap[g]! > 1e-4) {
        over[g] = 1;
        any = true;
      }
    if (!any) break;
    const free = new Uint8Array(ix.nd);
    const members: number[] = [];
    for (let d = 0; d < ix.nd; d++) {
      let hit = false;
      for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]! && !hit; c++) {
        if (round === 0 && x[c]! <= 1e-9) continue;
        const sl = ix.candSlot[c]!;
        const h0 = ix.hopStart[sl]!;
        const h1 = ix.hopStart[sl + 1]!;
        for (let h = h0; h < h1; h++)
          if (over[hops[h]!]) {
            hit = true;
            break;
          }
      }
      if (hit) {
        free[d] = 1;
        members.push(d);
      }
    }
    const fixed = dirLoads(ix, x, (d) => !free[d]);
    let fixedCost = 0;
    for (let d = 0; d < ix.nd; d++)
      if (!free[d]) for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) fixedCost += x[c]! * ix.candCost[c]!;
    const part: LpPart = { demand: Int32Array.from(members), share: new Float64Array(members.length).fill(1) };
    const lp = buildLp(ix, part, dirCapacities(ix, 1, fixed), budget === undefined ? undefined : budget - fixedCost, jobOpts);
    const out = await pool.run(lp.job);
    if (out.status !== 7 || !out.colValue) throw infeasible('repair LP', out);
    for (const d of members) for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) x[c] = 0;
    addSolution(ix, lp, out.colValue, x);
    repaired = Math.max(repaired, members.length);
  }
  return repaired;
}

/** Link-direction overflow of fractions `x` over the full capacities, Mbit/s summed. */
function overflowOf(ix: TeIndex, x: Float64Array): number {
  const cap = dirCapacities(ix, 1);
  const loads = dirLoads(ix, x);
  let over = 0;
  for (const g of usedDirs(ix)) over += Math.max(0, loads[g]! - cap[g]!);
  return over;
}

/**
 * The TE plan by decomposition (same input and result as `solveTe`). The result's `objective` is the full
 * LP's objective evaluated at the merged plan, so it compares directly with the exact optimum.
 */
export async function solveTeDecomposed(input: TeInput, opts: DecomposeOptions = {}): Promise<TeResult> {
  const t0 = performance.now();
  const state = opts.state ?? new DecomposeState();
  const threads = opts.threads ?? Math.min(2, availableParallelism());
  const pool = opts.pool ?? new LpPool(threads);
  const phases = { index: 0, partition: 0, build: 0, solve: 0, merge: 0, repair: 0, assemble: 0 };
  let mark = t0;
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  try {
    const topo = topologyFingerprint(input.topology);
    // A new topology needs a new path table; the partition (by demand) stays, and a sub-problem's basis or
    // solution is only reused when its LP arrays match (fingerprints), whatever changed.
    if (state.topology !== topo || !state.table) {
      state.topology = topo;
      state.table = new PathTable(input.topology);
    }
    const ix = indexTe(input, state.table);
    lap('index');
    const k = opts.k ?? chooseK(ix.candSlot.length, ix.nd, opts, threads);
    const { subsOf, state: partition, reused } = partitionDemands(ix, k, opts, state.partition);
    state.partition = partition;
    const parts = partsOf(subsOf, k);
    lap('partition');
    if (state.subs.length !== k) state.subs = [];
    const capacity = dirCapacities(ix, 1 / k);
    const budget = input.options.budget_per_day;
    const jobOpts = { time_limit_s: input.options.time_limit_s ?? 60, solver: input.options.solver };

    const results: { lp: BuiltLp; colValue: Float64Array }[] = new Array(k);
    const stats = { reused: 0, warm: 0, iterations: 0, max: 0, sum: 0, variables: 0, constraints: 0, nonzeros: 0 };
    const inflight = new Set<Promise<void>>();
    let failure: Error | undefined;
    for (let j = 0; j < k && !failure; j++) {
      while (inflight.size >= Math.max(1, threads) + 1) await Promise.race(inflight);
      lap('solve');
      const lp = buildLp(ix, parts[j]!, capacity, budget === undefined ? undefined : budget / k, jobOpts);
      const job: LpJob = lp.job;
      const structure = fingerprint([job.starts, job.indices], [job.numRows, job.numCols]);
      const numeric = fingerprint([job.colCost, job.colUpper, job.rowLower, job.rowUpper, job.values]);
      lap('build');
      stats.variables += job.numCols;
      stats.constraints += job.numRows;
      stats.nonzeros += lp.nonzeros;
      const prev = state.subs[j];
      if (prev && prev.structure === structure && prev.numeric === numeric && prev.colValue) {
        results[j] = { lp, colValue: prev.colValue };
        stats.reused++;
        continue;
      }
      if (prev && prev.structure === structure && prev.basis) job.basis = prev.basis;
      job.wantBasis = true;
      const p: Promise<void> = pool
        .run(job)
        .then((out) => {
          if (out.status !== 7 || !out.colValue) throw infeasible(`sub-problem ${j + 1}/${k}`, out);
          results[j] = { lp, colValue: out.colValue };
          state.subs[j] = { structure, numeric, basis: out.basis, colValue: out.colValue };
          if (out.warm) stats.warm++;
          stats.iterations += out.iterations;
          stats.max = Math.max(stats.max, out.solve_ms);
          stats.sum += out.solve_ms;
        })
        .catch((err: unknown) => {
          failure ??= err instanceof Error ? err : new Error(String(err));
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    lap('solve');
    if (failure) {
      state.subs = [];
      throw failure;
    }
    // Merge in sub-problem order (deterministic sums whatever order the workers finished in).
    const x = new Float64Array(ix.candSlot.length);
    for (const r of results) addSolution(ix, r.lp, r.colValue, x);
    const overflowBefore = overflowOf(ix, x);
    lap('merge');
    let repaired = 0;
    if (overflowBefore > 1e-4 && opts.repair !== false) repaired = await repairPlan(ix, x, pool, budget, jobOpts);
    const overflowAfter = repaired > 0 ? overflowOf(ix, x) : overflowBefore;
    lap('repair');
    const objective = objectiveOf(ix, x);
    const decomposition: TeDecompositionStats = {
      k,
      demands: ix.nd,
      pieces: parts.reduce((a, p) => a + p.demand.length, 0),
      threads: pool.size,
      reused: stats.reused,
      warm: stats.warm,
      partition_reused: reused,
      sub_solve_ms_max: stats.max,
      sub_solve_ms_sum: stats.sum,
      iterations: stats.iterations,
      overflow_before_repair: overflowBefore,
      overflow_after_repair: overflowAfter,
      repaired_demands: repaired,
      repair_ms: phases.repair,
      wall_ms: 0,
      phases_ms: phases,
    };
    const result = assemble(ix, x, {
      objective,
      stats: { variables: stats.variables, constraints: stats.constraints, nonzeros: stats.nonzeros, build_ms: 0, solve_ms: 0 },
      decomposition,
    });
    lap('assemble');
    // build_ms: this thread's model work (index, partition, LP arrays, read-back); solve_ms: the rest of the wall time.
    const wall = performance.now() - t0;
    const buildMs = phases.index + phases.partition + phases.build + phases.assemble;
    result.stats.build_ms = buildMs;
    result.stats.solve_ms = wall - buildMs;
    decomposition.wall_ms = wall;
    return result;
  } finally {
    if (!opts.pool) await pool.close();
  }
}

export interface TeSolverOptions extends Omit<DecomposeOptions, 'state' | 'pool'> {
  /** Instances with at most this many sites get the exact LP; larger ones are decomposed. */
  exact_max_sites: number;
}

/**
 * Exact or decomposed by instance size, with the decomposition's warm-start state and worker pool kept
 * between runs (one per optimizer engine).
 */
export class TeSolver {
  readonly state = new DecomposeState();
  /** The exact LP's last basis (instances up to the threshold). */
  readonly exact: ExactWarmStart = {};
  private pool?: LpPool;

  constructor(readonly options: TeSolverOptions) {}

  /** Whether an instance of this topology would be decomposed. */
  decomposes(topology: TeTopology): boolean {
    return countSites(topology) > this.options.exact_max_sites;
  }

  solve(input: TeInput): Promise<TeResult> {
    if (!this.decomposes(input.topology)) return solveTe(input, this.exact);
    const { exact_max_sites: _, ...decompose } = this.options;
    this.pool ??= new LpPool(decompose.threads ?? Math.min(2, availableParallelism()));
    return solveTeDecomposed(input, { ...decompose, state: this.state, pool: this.pool });
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}
