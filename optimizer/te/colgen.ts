import { PathpilotError } from '../../core/errors.ts';
import {
  buildLp,
  crashBasis,
  fingerprint,
  Hasher,
  hasChurnRows,
  type LpBasis,
  type LpLayout,
  type LpOutcome,
  type LpPart,
  type TeIndex,
} from './model.ts';
import type { LpPool } from './pool.ts';

/**
 * One TE LP (a POP sub-problem: pieces of demands against given link-direction capacities) solved by column
 * generation over pieces. A piece outside the LP sits on its demand's cheapest candidate, its load subtracted
 * from the capacities (and its cost from the budget); the LP holds the contested pieces with every candidate.
 * After each LP the link-direction prices (row duals) say whether a piece outside would rather move: one with
 * a candidate of negative reduced cost (objective + Mbit/s × Σ prices of its directions + budget price × cost,
 * against its cheapest candidate's) joins the LP. When none would, the LP's solution plus the pieces on their
 * cheapest candidates is an optimum of the whole sub-problem — the same LP optimum as solving every piece at
 * once, from a much smaller LP. Most pieces never contend (they do not cross a binding link), so the LP is
 * small, and where nothing binds there is no LP at all.
 *
 * Each LP after the first starts from the previous one's basis (its pieces and link rows are a prefix of the
 * next: pieces are appended), the first from the previous run's basis when its shape is unchanged, else from a
 * crash basis (pieces on their cheapest candidate): with a basis HiGHS skips presolve, which was most of the
 * time of a full sub-problem solve.
 */

export interface SubproblemState {
  /** Identity of the sub-problem's input (pieces, their terms, capacities, budget): unchanged → reuse. */
  input: string;
  /** Identity of its pieces (demand indices and shares): the LP's pieces below refer to them. */
  pieces: string;
  /** Pieces (indices into the part) in the last LP, in LP order: the next run starts with them. */
  lpPieces: Int32Array;
  /** The last LP's structure fingerprint and final basis. */
  structure?: string;
  basis?: LpBasis;
  /** The last LP's layout and solution (none when no piece needed the LP). */
  solution?: { layout: LpLayout; colValue: Float64Array };
}

export interface SubproblemResult {
  /** Pieces (indices into the part) in the LP whose solution is below; every other piece is on its cheapest candidate. */
  lpPieces: Int32Array;
  solution?: { layout: LpLayout; colValue: Float64Array };
  state: SubproblemState;
  /** LPs solved (0: nothing bound, or the input was unchanged). */
  rounds: number;
  reused: boolean;
  /** The first LP started from the previous run's basis. */
  warm: boolean;
  iterations: number;
  solve_ms: number;
  solve_ms_max: number;
  variables: number;
  constraints: number;
  nonzeros: number;
}

export interface ColumnGeneration {
  ix: TeIndex;
  /** `demandHashes(ix)`. */
  demandHash: Uint32Array;
  pool: LpPool;
  jobOpts: { time_limit_s: number; solver?: string };
  /** Most LPs per sub-problem (default 40); the last LP's plan stands if pieces still wanted in. */
  max_rounds?: number;
}

/**
 * A 64-bit hash (two words) per demand of everything a sub-problem's LP takes from it: Mbit/s, and per candidate its path slot,
 * objective term, cost and current share. One sequential pass, so that a sub-problem's identity (below)
 * reads one number per piece instead of its candidates scattered over the index.
 */
export function demandHashes(ix: TeIndex): Uint32Array {
  const out = new Uint32Array(ix.nd * 2);
  const h = new Hasher();
  for (let d = 0; d < ix.nd; d++) {
    h.reset().num(ix.mbps[d]!);
    for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++)
      h.word(ix.candSlot[c]!).num(ix.candObj[c]!).num(ix.candCost[c]!).num(ix.candCurrent[c]!);
    h.write(out, d * 2);
  }
  return out;
}

/** Identity of a sub-problem's input: its pieces, their demands (`demandHashes`), the capacities and the budget. */
function inputIdentity(cg: ColumnGeneration, part: LpPart, capacity: Float64Array, budget: number | undefined): string {
  const h = new Hasher()
    .array(part.demand)
    .array(part.share)
    .array(capacity)
    .num(budget ?? NaN)
    .num(cg.ix.slackPenalty);
  for (let i = 0; i < part.demand.length; i++) {
    const d = part.demand[i]!;
    h.word(cg.demandHash[d * 2]!).word(cg.demandHash[d * 2 + 1]!);
  }
  return h.digest();
}

/** Column generation on one sub-problem (see the module comment). */
export async function solveByColumnGeneration(
  cg: ColumnGeneration,
  part: LpPart,
  capacity: Float64Array,
  budget: number | undefined,
  prev: SubproblemState | undefined,
): Promise<SubproblemResult> {
  const { ix } = cg;
  const input = inputIdentity(cg, part, capacity, budget);
  const pieces = fingerprint([part.demand, part.share]);
  const result: SubproblemResult = {
    lpPieces: new Int32Array(0),
    state: { input, pieces, lpPieces: new Int32Array(0) },
    rounds: 0,
    reused: false,
    warm: false,
    iterations: 0,
    solve_ms: 0,
    solve_ms_max: 0,
    variables: 0,
    constraints: 0,
    nonzeros: 0,
  };
  if (prev && prev.input === input) {
    Object.assign(result, { lpPieces: prev.lpPieces, solution: prev.solution, state: prev, reused: true });
    return result;
  }
  const sub = new Contest(ix, part, capacity, budget);
  // Pieces with churn rows need the LP from the start; so do last run's contested pieces (a warm start).
  if (prev && prev.pieces === pieces) for (const i of prev.lpPieces) sub.admit(i);
  for (let i = 0; i < part.demand.length; i++) if (hasChurnRows(ix, part.demand[i]!)) sub.admit(i);
  const maxRounds = cg.max_rounds ?? 40;
  let last: { layout: LpLayout; basis?: LpBasis } | undefined;
  for (;;) {
    if (sub.order.length > 0) {
      const lp = buildLp(ix, sub.lpPart(), sub.residualCapacity(), sub.residualBudget(), cg.jobOpts);
      const structure = fingerprint([lp.job.starts, lp.job.indices], [lp.job.numRows, lp.job.numCols]);
      const fromLastRun = !last && prev?.structure === structure && prev.basis !== undefined;
      lp.job.basis = fromLastRun
        ? prev.basis
        : crashBasis(ix, lp, last?.basis ? { lp: last.layout, basis: last.basis } : undefined);
      lp.job.wantBasis = true;
      lp.job.wantDuals = true;
      result.variables = lp.job.numCols;
      result.constraints = lp.job.numRows;
      result.nonzeros = lp.nonzeros;
      const out = await cg.pool.run(lp.job);
      if (out.status !== 7 || !out.colValue || !out.rowDual) throw notOptimal(out);
      if (result.rounds === 0) result.warm = fromLastRun && out.warm;
      result.rounds++;
      result.iterations += out.iterations;
      result.solve_ms += out.solve_ms;
      result.solve_ms_max = Math.max(result.solve_ms_max, out.solve_ms);
      result.lpPieces = Int32Array.from(sub.order);
      result.solution = { layout: lp, colValue: out.colValue };
      result.state = { input, pieces, lpPieces: result.lpPieces, structure, basis: out.basis, solution: result.solution };
      last = { layout: lp, basis: out.basis };
      sub.pricesFromDuals(lp, out.rowDual);
    } else sub.pricesFromOverload();
    if (sub.admitUndercut() === 0 || result.rounds >= maxRounds) break;
  }
  return result;
}

function notOptimal(out: LpOutcome): PathpilotError {
  return new PathpilotError(
    'PP_ERR_INFEASIBLE',
    `a TE sub-problem LP did not solve to optimality (HiGHS model status ${out.status}${out.status === 13 ? ': time limit' : ''})`,
  );
}

/**
 * One sub-problem's pieces split into the contested (in the LP, in `order`) and the rest (on their cheapest
 * candidate, their load in `fixedLoad` and cost in `fixedCost`), with the current prices of link directions
 * and of the budget.
 */
class Contest {
  readonly inLp: Uint8Array;
  readonly order: number[] = [];
  readonly fixedLoad: Float64Array;
  fixedCost = 0;
  readonly price: Float64Array;
  budgetPrice = 0;
  readonly cheapest: Int32Array;
  /** Pieces whose cheapest candidate crosses direction g: onDir[onDirStart[g] … onDirStart[g + 1]). */
  private readonly onDirStart: Int32Array;
  private readonly onDir: Int32Array;
  /** Round in which each piece was last priced (a piece on several priced directions is priced once). */
  private readonly pricedIn: Int32Array;
  private round = 0;

  constructor(
    readonly ix: TeIndex,
    readonly part: LpPart,
    readonly capacity: Float64Array,
    readonly budget: number | undefined,
  ) {
    const np = part.demand.length;
    const nDirs = ix.table.dirs.length;
    this.cheapest = ix.cheapest;
    this.inLp = new Uint8Array(np);
    this.pricedIn = new Int32Array(np).fill(-1);
    this.fixedLoad = new Float64Array(nDirs);
    this.price = new Float64Array(nDirs);
    this.onDirStart = new Int32Array(nDirs + 1);
    this.eachHop((_, g) => this.onDirStart[g + 1]!++);
    for (let g = 0; g < nDirs; g++) this.onDirStart[g + 1]! += this.onDirStart[g]!;
    this.onDir = new Int32Array(this.onDirStart[nDirs]!);
    const at = this.onDirStart.slice(0, nDirs);
    this.eachHop((i, g) => (this.onDir[at[g]!++] = i));
    for (let i = 0; i < np; i++) this.place(i, 1);
  }

  /** Calls `f(piece, direction)` for every direction of every piece's cheapest candidate. */
  private eachHop(f: (i: number, g: number) => void): void {
    const { ix } = this;
    for (let i = 0; i < this.part.demand.length; i++) {
      const sl = ix.candSlot[this.cheapest[this.part.demand[i]!]!]!;
      for (let h = ix.hopStart[sl]!; h < ix.hopStart[sl + 1]!; h++) f(i, ix.hops[h]!);
    }
  }

  /** Adds (sign 1) or removes (−1) piece i's load and cost on its cheapest candidate. */
  private place(i: number, sign: number): void {
    const { ix } = this;
    const d = this.part.demand[i]!;
    const c = this.cheapest[d]!;
    const share = this.part.share[i]! * sign;
    const load = ix.mbps[d]! * share;
    const sl = ix.candSlot[c]!;
    for (let h = ix.hopStart[sl]!; h < ix.hopStart[sl + 1]!; h++) this.fixedLoad[ix.hops[h]!]! += load;
    this.fixedCost += ix.candCost[c]! * share;
  }

  admit(i: number): void {
    if (this.inLp[i]) return;
    this.inLp[i] = 1;
    this.order.push(i);
    this.place(i, -1);
  }

  lpPart(): LpPart {
    const demand = Int32Array.from(this.order, (i) => this.part.demand[i]!);
    const share = Float64Array.from(this.order, (i) => this.part.share[i]!);
    return { demand, share };
  }

  residualCapacity(): Float64Array {
    const out = new Float64Array(this.capacity.length);
    for (let g = 0; g < out.length; g++) out[g] = this.capacity[g]! - this.fixedLoad[g]!;
    return out;
  }

  residualBudget(): number | undefined {
    return this.budget === undefined ? undefined : this.budget - this.fixedCost;
  }

  /** Prices with no LP: the slack penalty where the fixed load alone overflows (what the LP would say). */
  pricesFromOverload(): void {
    const penalty = this.ix.slackPenalty;
    for (let g = 0; g < this.price.length; g++) this.price[g] = this.fixedLoad[g]! > this.capacity[g]! ? penalty : 0;
    this.budgetPrice = this.budget !== undefined && this.fixedCost > this.budget ? penalty : 0;
  }

  /**
   * Prices from the LP's row duals (a binding ≤ row has dual ≤ 0: its price is −dual); a direction the LP
   * does not cross gets the slack penalty if the fixed load alone overflows it, else 0.
   */
  pricesFromDuals(lp: LpLayout, rowDual: Float64Array): void {
    this.pricesFromOverload();
    const np = lp.part.demand.length;
    const linkBase = np + (lp.budgetRow >= 0 ? 1 : 0);
    for (let l = 0; l < lp.dirs.length; l++) this.price[lp.dirs[l]!] = Math.max(0, -rowDual[linkBase + l]!);
    if (lp.budgetRow >= 0) this.budgetPrice = Math.max(0, -rowDual[lp.budgetRow]!);
  }

  /**
   * Admits every piece outside the LP with a candidate cheaper, at the current prices, than its cheapest one.
   * A candidate's reduced cost against the cheapest is Δobjective (≥ 0) + Mbit/s × (its path price (≥ 0) −
   * the cheapest's) + budget price × Δcost: without a budget price, only a piece whose cheapest candidate
   * crosses a priced direction can have a negative one, so only those are priced.
   */
  admitUndercut(): number {
    const round = this.round++;
    let admitted = 0;
    const consider = (i: number) => {
      if (this.inLp[i] || this.pricedIn[i] === round) return;
      this.pricedIn[i] = round;
      if (this.undercut(i)) {
        this.admit(i);
        admitted++;
      }
    };
    if (this.budgetPrice > 0) for (let i = 0; i < this.part.demand.length; i++) consider(i);
    else
      for (let g = 0; g < this.price.length; g++)
        if (this.price[g]! > 0) for (let k = this.onDirStart[g]!; k < this.onDirStart[g + 1]!; k++) consider(this.onDir[k]!);
    return admitted;
  }

  /** Piece i has a candidate cheaper than its cheapest one at the current prices. */
  private undercut(i: number): boolean {
    const { ix } = this;
    const d = this.part.demand[i]!;
    const mbps = ix.mbps[d]!;
    const f = this.cheapest[d]!;
    const at = this.priced(f, mbps);
    const tolerance = 1e-7 * (1 + Math.abs(at));
    for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++)
      if (c !== f && this.priced(c, mbps) < at - tolerance) return true;
    return false;
  }

  /** Candidate c's objective term plus Mbit/s × the prices of its directions plus the budget price × its cost. */
  private priced(c: number, mbps: number): number {
    const { ix, price } = this;
    let p = 0;
    const sl = ix.candSlot[c]!;
    for (let h = ix.hopStart[sl]!; h < ix.hopStart[sl + 1]!; h++) p += price[ix.hops[h]!]!;
    return ix.candObj[c]! + mbps * p + this.budgetPrice * ix.candCost[c]!;
  }
}
