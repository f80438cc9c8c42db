import { availableParallelism } from 'node:os';
import { PathpilotError } from '../../core/errors.ts';
import {
  demandHashes,
  solveByColumnGeneration,
  type ColumnGeneration,
  type SubproblemResult,
  type SubproblemState,
} from './colgen.ts';
import {
  addSolution,
  arena,
  assemble,
  buildLp,
  dirCapacities,
  dirLoads,
  hasChurnRows,
  indexTe,
  objectiveOf,
  PathTable,
  usedDirs,
  type LpOutcome,
  type LpPart,
  type TeIndex,
} from './model.ts';
import { LpPool } from './pool.ts';
import { solveTe, type ExactWarmStart } from './solve.ts';
import { rng } from './synthetic.ts';
import { type TeDecompositionStats, type TeInput, type TeResult, type TeTopology } from './types.ts';

/**
 * TE at scale. First, every demand on its cheapest candidate: if that fits every capacity and the budget,
 * nothing binds and it is the LP's optimum (no LP at all). Otherwise POP (Narayanan et al., SOSP '21):
 * demands are partitioned into k sub-problems, each given 1/k of every link capacity (and of the budget);
 * each is the same LP over its demands, solved on its own by column generation (colgen.ts: only contested
 * pieces enter its LPs, solved on worker threads), and the union of their allocations is the plan. Large
 * demands are split into equal pieces across sub-problems first (POP's client splitting), so one elephant
 * cannot crowd a sub-problem's share of a link. The union respects every capacity unless a sub-problem needed
 * slack; a repair pass then re-optimises, against the full capacities, the demands crossing an overloaded link.
 *
 * Warm starts (`DecomposeState`): the next run keeps the partition (same demand → same sub-problems), reuses
 * the plan of a sub-problem whose input is unchanged, and starts the others with last run's contested pieces
 * in the LP, from their previous simplex basis (HiGHS `setBasis`) when the LP has the same shape.
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

/**
 * Which sub-problems each demand's pieces went to (one piece per sub-problem, equal shares): demand d's are
 * pieceSub[pieceStart[d] … pieceStart[d + 1]). Typed arrays: at millions of demands, an array per demand is
 * seconds of garbage collection.
 */
export interface Assignment {
  pieceStart: Int32Array;
  pieceSub: Int32Array;
}

export interface PartitionState extends Assignment {
  k: number;
  /** Piece size threshold the split used: a new demand above it is split the same way. */
  tau: number;
  /** Numeric identity of each demand (`demandIds`), in input order. */
  ids: Float64Array;
}

/** What a decomposer remembers between runs (see the module comment). */
export class DecomposeState {
  topology?: string;
  table?: PathTable;
  partition?: PartitionState;
  subs: SubproblemState[] = [];
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
 * A number per demand that names it across runs: its source, destination and class by the path table's
 * indices (which carry over between topologies). NaN (never equal) if the indices outgrow the packing.
 */
export function demandIds(ix: TeIndex): Float64Array {
  const fits = ix.table.siteIndex.size <= 1 << 20 && ix.table.classIndex.size <= 1 << 12;
  return Float64Array.from(ix.src, (s, d) => (fits ? (s * 2 ** 20 + ix.dst[d]!) * 2 ** 12 + ix.cls[d]! : NaN));
}

/**
 * `order` sorted by `values[order[i]]`, largest first, stably (equal values keep their order in `order`):
 * an LSD radix sort, 16 bits at a time, on the high 32 bits of each value (sign, exponent and 20 bits of
 * mantissa: for values ≥ 0 they sort as the numbers do, to a relative 1e-6; closer values count as equal).
 * A comparator sort of millions of indices takes seconds.
 */
export function sortDescending(order: Int32Array, values: Float64Array): Int32Array {
  const n = order.length;
  const word = new Float64Array(1);
  const words = new Uint32Array(word.buffer);
  let { idx, key, idx2, key2 } = arena({ idx: ['i32', n], key: ['i32', n], idx2: ['i32', n], key2: ['i32', n] });
  idx.set(order);
  for (let i = 0; i < n; i++) {
    word[0] = values[idx[i]!]! + 0; // −0 → 0
    key[i] = words[1]!;
  }
  const count = new Int32Array(65537);
  for (const shift of [0, 16]) {
    count.fill(0);
    // Digits complemented: descending order.
    for (let i = 0; i < n; i++) count[0xffff - ((key[i]! >>> shift) & 0xffff) + 1]!++;
    for (let b = 1; b <= 65536; b++) count[b]! += count[b - 1]!;
    for (let i = 0; i < n; i++) {
      const at = count[0xffff - ((key[i]! >>> shift) & 0xffff)]!++;
      idx2[at] = idx[i]!;
      key2[at] = key[i]!;
    }
    [idx, idx2, key, key2] = [idx2, idx, key2, key];
  }
  return idx;
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
): { state: PartitionState; reused: boolean } {
  const nd = ix.nd;
  const ids = demandIds(ix);
  const rand = rng(opts.seed ?? 1);
  const mbps = ix.mbps;
  const countFor = (v: number, tau: number) => Math.min(k, Math.max(1, Math.ceil(v / tau)));

  if (prev && prev.k === k) {
    // Same demands in the same order (the usual re-run): the same assignment, as is.
    let same = prev.ids.length === nd;
    for (let d = 0; same && d < nd; d++) same = prev.ids[d] === ids[d];
    if (same) return { state: { ...prev, ids }, reused: true };
    // NaN ids (identity out of range) name nothing: a Map would take every NaN for the same key.
    const known = new Map<number, number>();
    prev.ids.forEach((id, d) => {
      if (!Number.isNaN(id)) known.set(id, d);
    });
    const was = Int32Array.from(ids, (id) => known.get(id) ?? -1);
    if (was.reduce((n, p) => n + (p >= 0 ? 1 : 0), 0) >= nd / 2) {
      const counts = Int32Array.from(was, (p, d) =>
        p >= 0 ? prev.pieceStart[p + 1]! - prev.pieceStart[p]! : countFor(mbps[d]!, prev.tau),
      );
      const assignment = emptyAssignment(counts);
      const deal = dealer(ix, k, opts, rand);
      const fresh: number[] = [];
      for (let d = 0; d < nd; d++) {
        const p = was[d]!;
        if (p < 0) fresh.push(d);
        else {
          assignment.pieceSub.set(
            prev.pieceSub.subarray(prev.pieceStart[p]!, prev.pieceStart[p + 1]!),
            assignment.pieceStart[d]!,
          );
          deal.give(d, assignment);
        }
      }
      for (const d of sortDescending(Int32Array.from(fresh), mbps)) deal.pick(d, assignment);
      return { state: { k, tau: prev.tau, ids, ...assignment }, reused: true };
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
    for (let it = 0; it < 45; it++) {
      const mid = (lo + hi) / 2;
      if (mid <= 0 || piecesAt(mid) > target) lo = mid;
      else hi = mid;
    }
    tau = hi;
  }
  // Largest first; equal sizes in random order (a seeded shuffle, then a stable sort).
  const shuffled = Int32Array.from({ length: nd }, (_, d) => d);
  for (let i = nd - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const assignment = emptyAssignment(Int32Array.from(mbps, (v) => countFor(v, tau)));
  const deal = dealer(ix, k, opts, rand);
  for (const d of sortDescending(shuffled, mbps)) deal.pick(d, assignment);
  return { state: { k, tau, ids, ...assignment }, reused: false };
}

/** An assignment with room for `counts[d]` pieces of each demand (sub-problems not yet chosen). */
function emptyAssignment(counts: Int32Array): Assignment {
  const pieceStart = new Int32Array(counts.length + 1);
  for (let d = 0; d < counts.length; d++) pieceStart[d + 1] = pieceStart[d]! + counts[d]!;
  return { pieceStart, pieceSub: new Int32Array(pieceStart[counts.length]!) };
}

/** Traffic dealt so far per sub-problem (total, per source site, per destination site) and the choice of sub-problems for a demand. */
function dealer(ix: TeIndex, k: number, opts: DecomposeOptions, rand: () => number) {
  const { src, dst } = ix;
  const ns = ix.table.siteIndex.size;
  const volSrc = new Float64Array(ns * k);
  const volDst = new Float64Array(ns * k);
  const vol = new Float64Array(k);
  const score = new Float64Array(k);
  const all = new Int32Array(k);
  /** Counts demand d's pieces, as `a` assigns them, in the traffic dealt. */
  const give = (d: number, a: Assignment): void => {
    const p0 = a.pieceStart[d]!;
    const p1 = a.pieceStart[d + 1]!;
    const piece = ix.mbps[d]! / (p1 - p0);
    for (let p = p0; p < p1; p++) {
      const j = a.pieceSub[p]!;
      volSrc[src[d]! * k + j]! += piece;
      volDst[dst[d]! * k + j]! += piece;
      vol[j]! += piece;
    }
  };
  return {
    give,
    /** Chooses the sub-problems of demand d's pieces (as many as `a` has room for), writes them into `a`, and gives them. */
    pick(d: number, a: Assignment): void {
      const p0 = a.pieceStart[d]!;
      const m = a.pieceStart[d + 1]! - p0;
      if (opts.assign === 'random') {
        for (let j = 0; j < k; j++) all[j] = j;
        for (let i = 0; i < m; i++) {
          const j = i + Math.floor(rand() * (k - i));
          [all[i], all[j]] = [all[j]!, all[i]!];
          a.pieceSub[p0 + i] = all[i]!;
        }
        give(d, a);
        return;
      }
      // The m sub-problems with the least traffic from this source and to this destination (global volume
      // breaks near-ties; scanning from a random start breaks exact ones).
      const s = src[d]! * k;
      const t = dst[d]! * k;
      for (let j = 0; j < k; j++) score[j] = volSrc[s + j]! + volDst[t + j]! + vol[j]! * 1e-6;
      const start = Math.floor(rand() * k);
      for (let i = 0; i < m; i++) {
        let best = -1;
        for (let j = start; j < k; j++) if (best < 0 || score[j]! < score[best]!) best = j;
        for (let j = 0; j < start; j++) if (score[j]! < score[best]!) best = j;
        a.pieceSub[p0 + i] = best;
        score[best] = Infinity;
      }
      give(d, a);
    },
  };
}

/** The pieces of sub-problem j, in demand order (a stable LP shape from run to run). */
export function partsOf(a: Assignment, k: number): LpPart[] {
  const count = new Int32Array(k);
  for (const j of a.pieceSub) count[j]!++;
  const parts = Array.from(count, (n) => ({ demand: new Int32Array(n), share: new Float64Array(n) }));
  const at = new Int32Array(k);
  const nd = a.pieceStart.length - 1;
  for (let d = 0; d < nd; d++) {
    const p0 = a.pieceStart[d]!;
    const p1 = a.pieceStart[d + 1]!;
    for (let p = p0; p < p1; p++) {
      const j = a.pieceSub[p]!;
      const i = at[j]!++;
      parts[j]!.demand[i] = d;
      parts[j]!.share[i] = 1 / (p1 - p0);
    }
  }
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
 * Every demand on its cheapest candidate, if that fits every link direction and the budget and no demand has
 * churn rows: then no constraint binds, the LP separates by demand, and this is its optimum.
 */
function cheapestPlan(ix: TeIndex): Float64Array | undefined {
  const { cheapest } = ix;
  for (let d = 0; d < ix.nd; d++) if (hasChurnRows(ix, d)) return undefined;
  const x = ix.plan.fill(0);
  for (let d = 0; d < ix.nd; d++) x[cheapest[d]!] = 1;
  const loads = dirLoads(ix, x);
  const cap = dirCapacities(ix, 1);
  for (let g = 0; g < cap.length; g++) if (loads[g]! > cap[g]! + 1e-9 * Math.max(1, cap[g]!)) return undefined;
  const budget = ix.input.options.budget_per_day;
  if (budget !== undefined) {
    let cost = 0;
    for (let d = 0; d < ix.nd; d++) cost += ix.candCost[cheapest[d]!]!;
    if (cost > budget + 1e-9 * Math.max(1, budget)) return undefined;
  }
  return x;
}

/** Runs `task(j)` for j = 0 … n − 1, at most `limit` at a time; rejects with the first failure once all settled. */
async function runLimited(n: number, limit: number, task: (j: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < n && failure === undefined) {
      const j = next++;
      await task(j).catch((err: unknown) => {
        failure ??= err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, n)) }, lane));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
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
  const phases = { index: 0, cheapest: 0, partition: 0, subproblems: 0, merge: 0, repair: 0, assemble: 0 };
  let mark = t0;
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  try {
    const topo = topologyFingerprint(input.topology);
    // A new topology needs a new path table; the partition (by demand) stays, and a sub-problem's basis or
    // solution is only reused when its input matches (fingerprints), whatever changed.
    if (state.topology !== topo || !state.table) {
      state.topology = topo;
      state.table = new PathTable(input.topology, state.table);
    }
    const ix = indexTe(input, state.table);
    lap('index');
    const uncontested = cheapestPlan(ix);
    lap('cheapest');
    const stats = {
      k: 0,
      pieces: 0,
      lpPieces: 0,
      reused: 0,
      warm: 0,
      rounds: 0,
      iterations: 0,
      max: 0,
      sum: 0,
      variables: 0,
      constraints: 0,
      nonzeros: 0,
      partitionReused: false,
    };
    const budget = input.options.budget_per_day;
    const jobOpts = { time_limit_s: input.options.time_limit_s ?? 60, solver: input.options.solver };
    let x = uncontested;
    if (!x) {
      const k = opts.k ?? chooseK(ix.candSlot.length, ix.nd, opts, threads);
      const { state: partition, reused } = partitionDemands(ix, k, opts, state.partition);
      state.partition = partition;
      const parts = partsOf(partition, k);
      Object.assign(stats, { k, pieces: parts.reduce((a, p) => a + p.demand.length, 0), partitionReused: reused });
      lap('partition');
      if (state.subs.length !== k) state.subs = [];
      const capacity = dirCapacities(ix, 1 / k);
      const cg: ColumnGeneration = { ix, demandHash: demandHashes(ix), pool, jobOpts };
      const results: SubproblemResult[] = new Array(k);
      try {
        await runLimited(k, Math.max(1, threads) * 2, async (j) => {
          const r = await solveByColumnGeneration(
            cg,
            parts[j]!,
            capacity,
            budget === undefined ? undefined : budget / k,
            state.subs[j],
          );
          results[j] = r;
          state.subs[j] = r.state;
        });
      } catch (err) {
        state.subs = [];
        throw err;
      }
      for (const r of results) {
        stats.lpPieces += r.lpPieces.length;
        stats.reused += r.reused ? 1 : 0;
        stats.warm += r.warm ? 1 : 0;
        stats.rounds += r.rounds;
        stats.iterations += r.iterations;
        stats.max = Math.max(stats.max, r.solve_ms_max);
        stats.sum += r.solve_ms;
        stats.variables += r.variables;
        stats.constraints += r.constraints;
        stats.nonzeros += r.nonzeros;
      }
      lap('subproblems');
      x = mergeSubproblems(ix, parts, results);
    }
    const overflowBefore = overflowOf(ix, x);
    lap('merge');
    let repaired = 0;
    if (overflowBefore > 1e-4 && opts.repair !== false) repaired = await repairPlan(ix, x, pool, budget, jobOpts);
    const overflowAfter = repaired > 0 ? overflowOf(ix, x) : overflowBefore;
    lap('repair');
    const objective = objectiveOf(ix, x);
    const decomposition: TeDecompositionStats = {
      k: stats.k,
      demands: ix.nd,
      pieces: stats.pieces,
      cheapest_fits: uncontested !== undefined,
      lp_pieces: stats.lpPieces,
      threads: pool.size,
      reused: stats.reused,
      warm: stats.warm,
      partition_reused: stats.partitionReused,
      lps: stats.rounds,
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
    // build_ms: this thread's model work outside the sub-problems; solve_ms: the rest of the wall time.
    const wall = performance.now() - t0;
    const buildMs = phases.index + phases.cheapest + phases.partition + phases.merge + phases.assemble;
    result.stats.build_ms = buildMs;
    result.stats.solve_ms = wall - buildMs;
    decomposition.wall_ms = wall;
    return result;
  } finally {
    if (!opts.pool) await pool.close();
  }
}

/** The plan of the sub-problems, merged in sub-problem order (deterministic sums whatever order they finished in). */
function mergeSubproblems(ix: TeIndex, parts: LpPart[], results: SubproblemResult[]): Float64Array {
  const { cheapest } = ix;
  const x = ix.plan.fill(0);
  results.forEach((r, j) => {
    const part = parts[j]!;
    const inLp = new Uint8Array(part.demand.length);
    for (const i of r.lpPieces) inLp[i] = 1;
    for (let i = 0; i < part.demand.length; i++) if (!inLp[i]) x[cheapest[part.demand[i]!]!]! += part.share[i]!;
    if (r.solution) addSolution(ix, r.solution.layout, r.solution.colValue, x);
  });
  return x;
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
