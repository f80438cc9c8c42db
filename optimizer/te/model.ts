import type { Highs } from 'highs';
import type { LinkConfig, PathConfig } from '../../core/config/index.ts';
import { PathpilotError } from '../../core/errors.ts';
import { pathScore, violatesSlo, type PathQuality } from '../score.ts';
import {
  demandKey,
  gbPerMbpsDay,
  type TeBinding,
  type TeInput,
  type TeLinkLoad,
  type TeResult,
  type TeSplit,
  type TeTopology,
} from './types.ts';

/**
 * The TE LP as arrays, shared by the exact solver (one LP over every demand) and the decomposed one
 * (one LP per sub-problem, over pieces of demands, with a share of every capacity): `indexTe` computes each
 * demand's candidate paths and objective terms once, `buildLp` writes the CSC model for any set of demand
 * pieces, `runLp` solves it on HiGHS (in this thread or a worker), `assemble` reads fractions back into a
 * TeResult with the LP's own terms.
 */

export interface Hop {
  link: LinkConfig;
  from: string;
  to: string;
}

/** Directed link rows a path crosses, walking from its source. */
export function walk(path: PathConfig, links: ReadonlyMap<string, LinkConfig>): Hop[] {
  const out: Hop[] = [];
  let at = path.from;
  for (const id of path.links) {
    const l = links.get(id);
    if (!l) throw new PathpilotError('PP_ERR_VALIDATION', `path "${path.id}" uses unknown link "${id}"`);
    const to = l.a.site === at ? l.b.site : l.a.site;
    out.push({ link: l, from: at, to });
    at = to;
  }
  return out;
}

/** Growable Int32 buffer. */
class IntList {
  buf = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Int32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
}

export interface LinkDir extends Hop {
  /** `link:from>to`. */
  key: string;
}

/**
 * Paths of one topology, walked once: the link directions each crosses (indices into `dirs`) and its $/GB.
 * Paths are walked on first use, so a path no demand can take is never checked (as before).
 */
export class PathTable {
  readonly links: Map<string, LinkConfig>;
  /** Topology path indices per `from>to`. */
  readonly byPair = new Map<string, number[]>();
  readonly dirs: LinkDir[] = [];
  private readonly linkIndex = new Map<string, number>();
  /** Direction index per link index × 2 (+1: from b to a); −1 not yet seen. */
  private readonly dirOf: Int32Array;
  /** Directions of malformed walks (a path leaving a site the link does not touch), by key. */
  private readonly oddDirs = new Map<string, number>();
  /** Walked path slot per topology path index (−1: not yet). */
  private readonly slotOf: Int32Array;
  readonly slotPath: number[] = [];
  private readonly hopStart = new IntList();
  private readonly hopList = new IntList();
  readonly costPerGb: number[] = [];

  constructor(readonly topology: TeTopology) {
    this.links = new Map(topology.links.map((l) => [l.id, l]));
    topology.links.forEach((l, i) => this.linkIndex.set(l.id, i));
    this.dirOf = new Int32Array(topology.links.length * 2).fill(-1);
    topology.paths.forEach((p, i) => {
      const k = `${p.from}>${p.to}`;
      const list = this.byPair.get(k);
      if (list) list.push(i);
      else this.byPair.set(k, [i]);
    });
    this.slotOf = new Int32Array(topology.paths.length).fill(-1);
    this.hopStart.push(0);
  }

  /** Slot of topology path `pi`, walking it (as `walk` does) on first use. */
  slot(pi: number): number {
    const s = this.slotOf[pi]!;
    if (s >= 0) return s;
    const p = this.topology.paths[pi]!;
    let cost = 0;
    let at = p.from;
    for (const id of p.links) {
      const li = this.linkIndex.get(id);
      if (li === undefined) throw new PathpilotError('PP_ERR_VALIDATION', `path "${p.id}" uses unknown link "${id}"`);
      const l = this.topology.links[li]!;
      const to = l.a.site === at ? l.b.site : l.a.site;
      const code = l.a.site === at ? li * 2 : l.b.site === at ? li * 2 + 1 : -1;
      let d = code >= 0 ? this.dirOf[code]! : (this.oddDirs.get(`${l.id}:${at}>${to}`) ?? -1);
      if (d < 0) {
        d = this.dirs.length;
        const key = `${l.id}:${at}>${to}`;
        if (code >= 0) this.dirOf[code] = d;
        else this.oddDirs.set(key, d);
        this.dirs.push({ link: l, from: at, to, key });
      }
      this.hopList.push(d);
      cost += l.cost_per_gb;
      at = to;
    }
    const slot = this.slotPath.length;
    this.slotPath.push(pi);
    this.costPerGb.push(cost);
    this.hopStart.push(this.hopList.length);
    this.slotOf[pi] = slot;
    return slot;
  }

  /** Link directions of walked slot s: hops[hopStarts[s] … hopStarts[s + 1]). Valid until the next walk. */
  get hops(): Int32Array {
    return this.hopList.buf;
  }
  get hopStarts(): Int32Array {
    return this.hopStart.buf;
  }
}

/** Every demand's candidate paths and their objective terms, for one run. */
export interface TeIndex {
  readonly input: TeInput;
  readonly table: PathTable;
  /** The table's hop arrays once every candidate is walked: directions of slot s are hops[hopStart[s] … hopStart[s + 1]). */
  readonly hops: Int32Array;
  readonly hopStart: Int32Array;
  /** `demandKey` of each demand. */
  readonly keys: string[];
  readonly nd: number;
  /** Candidates of demand d are [candStart[d], candStart[d + 1]). */
  readonly candStart: Int32Array;
  /** PathTable slot per candidate. */
  readonly candSlot: Int32Array;
  /** Objective of the whole demand on this path: transfer cost + latency penalty + SLO penalty − churn reward (current share 1). */
  readonly candObj: Float64Array;
  /** $/day transfer cost of the whole demand on this path (mean Mbit/s). */
  readonly candCost: Float64Array;
  readonly candViolates: Uint8Array;
  /** Current share of the demand on this path (0 without a current split). */
  readonly candCurrent: Float64Array;
  /** Demand has an entry in `input.current`. */
  readonly hasCurrent: Uint8Array;
  readonly churnOn: boolean;
  readonly hasBudget: boolean;
  readonly slackPenalty: number;
}

/** Computes candidates and objective terms; throws (as solveTe always has) on an unknown class, a negative demand or a demand without paths. */
export function indexTe(input: TeInput, table = new PathTable(input.topology)): TeIndex {
  const { topology, demands, quality, options } = input;
  const policy = options.policy;
  const sloPenalty = options.slo_penalty ?? 500;
  const riskThreshold = options.risk_threshold ?? 0.5;
  const classes = new Map(topology.classes.map((c) => [c.id, c]));
  const lowest = Math.max(...topology.classes.map((c) => c.priority));
  const churnOn = input.current !== undefined && policy.churn_penalty > 0;
  const nd = demands.length;
  const candStart = new Int32Array(nd + 1);
  const keys: string[] = new Array(nd);
  // Two passes: count candidates, then fill. Demands usually come grouped by pair: reuse the pair's list.
  const listOf: number[][] = new Array(nd);
  let lastFrom = '';
  let lastTo = '';
  let lastList: number[] = [];
  let nc = 0;
  for (let d = 0; d < nd; d++) {
    const dem = demands[d]!;
    const key = (keys[d] = demandKey(dem.from, dem.to, dem.class));
    if (!classes.has(dem.class)) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${key}: unknown class`);
    if (!(dem.mbps >= 0)) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${key}: mbps must be ≥ 0`);
    if (dem.from !== lastFrom || dem.to !== lastTo) {
      lastFrom = dem.from;
      lastTo = dem.to;
      lastList = table.byPair.get(`${dem.from}>${dem.to}`) ?? [];
    }
    let list = lastList;
    if (input.pathAllowed) list = list.filter((pi) => input.pathAllowed!(dem, topology.paths[pi]!));
    if (list.length === 0) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${key}: no candidate paths`);
    listOf[d] = list;
    candStart[d] = nc;
    nc += list.length;
  }
  candStart[nd] = nc;
  const candSlot = new Int32Array(nc);
  const candObj = new Float64Array(nc);
  const candCost = new Float64Array(nc);
  const candViolates = new Uint8Array(nc);
  const candCurrent = new Float64Array(nc);
  const hasCurrent = new Uint8Array(nd);
  // Quality and score per path slot, looked up once per run.
  const slotQ: (PathQuality | null | undefined)[] = [];
  const slotScore: number[] = [];
  for (let d = 0; d < nd; d++) {
    const dem = demands[d]!;
    const cls = classes.get(dem.class)!;
    const list = listOf[d]!;
    const c0 = candStart[d]!;
    const mean = dem.mean_mbps ?? dem.mbps;
    const classWeight = 2 ** (lowest - cls.priority);
    const latency = dem.mbps * options.latency_penalty * classWeight;
    for (let j = 0; j < list.length; j++) {
      const c = c0 + j;
      const pi = list[j]!;
      const slot = table.slot(pi);
      candSlot[c] = slot;
      let q = slotQ[slot];
      if (q === undefined) {
        q = slotQ[slot] = quality.get(topology.paths[pi]!.id) ?? null;
        slotScore[slot] = q ? pathScore(q, policy.score) : 0;
      }
      const score = slotScore[slot]!;
      const usable = Number.isFinite(score);
      const risky = (input.risk ? (input.risk.get(`${topology.paths[pi]!.id}|${cls.id}`) ?? 0) : 0) >= riskThreshold;
      const violates = risky || (q ? !usable || violatesSlo(q, cls) : false);
      const cost = mean * gbPerMbpsDay * table.costPerGb[slot]!;
      candCost[c] = cost;
      candViolates[c] = violates ? 1 : 0;
      candObj[c] = cost + latency * (usable ? score : 100) + (violates ? sloPenalty * dem.mbps : 0);
    }
    // Current shares (usually one path): matched to the candidates by path id.
    const cur = input.current?.get(keys[d]!);
    if (!cur) continue;
    hasCurrent[d] = 1;
    for (const pid in cur) {
      const x0 = cur[pid]!;
      for (let j = 0; j < list.length; j++)
        if (topology.paths[list[j]!]!.id === pid) {
          candCurrent[c0 + j] = x0;
          // Churn: reward min(x, x0) for paths carrying traffic now. When the path carries all of it (x0 = 1,
          // the usual case) min(x, 1) = x, so the reward goes straight on x; otherwise (buildLp) a row
          // m − x ≤ 0 and a column m ≤ x0.
          if (churnOn && x0 >= 1 - 1e-9) candObj[c0 + j] = candObj[c0 + j]! - policy.churn_penalty * dem.mbps;
          break;
        }
    }
  }
  return {
    input,
    table,
    hops: table.hops,
    hopStart: table.hopStarts,
    keys,
    nd,
    candStart,
    candSlot,
    candObj,
    candCost,
    candViolates,
    candCurrent,
    hasCurrent,
    churnOn,
    hasBudget: options.budget_per_day !== undefined,
    slackPenalty: options.slack_penalty ?? 1e4,
  };
}

/** A current share strictly between 0 and 1 gets a churn row (m ≤ x, m ≤ x0). */
function partialChurn(ix: TeIndex, c: number): boolean {
  const x0 = ix.candCurrent[c]!;
  return ix.churnOn && x0 > 0 && x0 < 1 - 1e-9;
}

/** The demand pieces one LP optimises: piece i is `share[i]` of demand `demand[i]`. */
export interface LpPart {
  demand: Int32Array;
  share: Float64Array;
}

/** Pieces = every demand whole: the exact LP. */
export function wholePart(nd: number): LpPart {
  return { demand: Int32Array.from({ length: nd }, (_, i) => i), share: new Float64Array(nd).fill(1) };
}

export interface LpBasis {
  colStatus: Int32Array;
  rowStatus: Int32Array;
}

/** A model for `runLp`: plain typed arrays, so it can be posted to a worker thread. */
export interface LpJob {
  numCols: number;
  numRows: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  starts: Int32Array;
  indices: Int32Array;
  values: Float64Array;
  time_limit_s: number;
  solver?: string;
  /** Start from this simplex basis (same dimensions: a previous solve of the same structure). */
  basis?: LpBasis;
  /** Return the final basis, for a later warm start. */
  wantBasis?: boolean;
}

export interface LpOutcome {
  /** HiGHS model status (7 = optimal). */
  status: number;
  colValue?: Float64Array;
  objective: number;
  basis?: LpBasis;
  solve_ms: number;
  iterations: number;
  /** The basis given was accepted and the solve started from it. */
  warm: boolean;
}

export interface BuiltLp {
  job: LpJob;
  part: LpPart;
  /** x columns of piece i: [xStart[i], xStart[i + 1]), in the order of its demand's candidates. */
  xStart: Int32Array;
  /** Global link direction per local link row. */
  dirs: Int32Array;
  nonzeros: number;
}

/**
 * Writes the LP over `part` in CSC form. Variables x[i,p] ∈ [0,1] split piece i across its demand's
 * candidate paths. Rows: Σp x = 1 per piece; optional budget row Σ cost·x − b ≤ `budget`; per directed link
 * Σ mbps·x − s ≤ `capacity[dir]` (s: overflow, penalised; it alone keeps every model feasible); churn rows
 * m − x ≤ 0 with 0 ≤ m ≤ current share where the current split uses several paths.
 * Every coefficient of a piece is its demand's scaled by the share (objective terms are linear in Mbit/s).
 */
export function buildLp(
  ix: TeIndex,
  part: LpPart,
  capacity: Float64Array,
  budget: number | undefined,
  opts: { time_limit_s: number; solver?: string },
): BuiltLp {
  const { candStart, table } = ix;
  const hops = ix.hops;
  const hopStart = ix.hopStart;
  const demands = ix.input.demands;
  const churn = ix.input.options.policy.churn_penalty;
  const np = part.demand.length;
  const hasBudget = budget !== undefined;
  // Pass 1: sizes, local link rows in order of first use, churn rows.
  const dirLocal = new Int32Array(table.dirs.length).fill(-1);
  const dirs: number[] = [];
  const xStart = new Int32Array(np + 1);
  let nx = 0;
  let nnz = 0;
  let nChurn = 0;
  for (let i = 0; i < np; i++) {
    const d = part.demand[i]!;
    xStart[i] = nx;
    for (let c = candStart[d]!; c < candStart[d + 1]!; c++) {
      const sl = ix.candSlot[c]!;
      const h0 = hopStart[sl]!;
      const h1 = hopStart[sl + 1]!;
      for (let h = h0; h < h1; h++) {
        const g = hops[h]!;
        if (dirLocal[g] === -1) {
          dirLocal[g] = dirs.length;
          dirs.push(g);
        }
      }
      nnz += 1 + (hasBudget ? 1 : 0) + (h1 - h0);
      if (partialChurn(ix, c)) {
        nnz += 1;
        nChurn++;
      }
      nx++;
    }
  }
  xStart[np] = nx;
  const nl = dirs.length;
  const budgetRow = hasBudget ? np : -1;
  const linkBase = np + (hasBudget ? 1 : 0);
  const churnBase = linkBase + nl;
  const numRows = churnBase + nChurn;
  const numCols = nx + nl + (hasBudget ? 1 : 0) + nChurn;
  nnz += nl + (hasBudget ? 1 : 0) + nChurn;
  const colCost = new Float64Array(numCols);
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  const starts = new Int32Array(numCols + 1);
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const rowLower = new Float64Array(numRows).fill(-Infinity);
  const rowUpper = new Float64Array(numRows);
  const churnM: { x0: number; cost: number }[] = [];
  // Pass 2: x columns.
  let col = 0;
  let k = 0;
  for (let i = 0; i < np; i++) {
    const d = part.demand[i]!;
    const s = part.share[i]!;
    const mbps = demands[d]!.mbps * s;
    rowLower[i] = 1;
    rowUpper[i] = 1;
    for (let c = candStart[d]!; c < candStart[d + 1]!; c++) {
      colCost[col] = ix.candObj[c]! * s;
      colUpper[col] = 1;
      indices[k] = i;
      values[k++] = 1;
      if (hasBudget) {
        indices[k] = budgetRow;
        values[k++] = ix.candCost[c]! * s;
      }
      const sl = ix.candSlot[c]!;
      const h0 = hopStart[sl]!;
      const h1 = hopStart[sl + 1]!;
      for (let h = h0; h < h1; h++) {
        indices[k] = linkBase + dirLocal[hops[h]!]!;
        values[k++] = mbps;
      }
      if (partialChurn(ix, c)) {
        indices[k] = churnBase + churnM.length;
        values[k++] = -1;
        churnM.push({ x0: Math.min(1, ix.candCurrent[c]!), cost: -churn * mbps });
      }
      starts[++col] = k;
    }
  }
  if (hasBudget) rowUpper[budgetRow] = budget;
  for (let l = 0; l < nl; l++) rowUpper[linkBase + l] = capacity[dirs[l]!]!;
  // Capacity overflow s[l] (Mbit/s): no "unserved demand" column, the slack alone keeps every model feasible.
  for (let l = 0; l < nl; l++) {
    colCost[col] = ix.slackPenalty;
    colUpper[col] = Infinity;
    indices[k] = linkBase + l;
    values[k++] = -1;
    starts[++col] = k;
  }
  if (hasBudget) {
    colCost[col] = ix.slackPenalty;
    colUpper[col] = Infinity;
    indices[k] = budgetRow;
    values[k++] = -1;
    starts[++col] = k;
  }
  // Churn reward: m ≤ x (row m − x ≤ 0), 0 ≤ m ≤ current share.
  for (let r = 0; r < churnM.length; r++) {
    colCost[col] = churnM[r]!.cost;
    colUpper[col] = churnM[r]!.x0;
    indices[k] = churnBase + r;
    values[k++] = 1;
    starts[++col] = k;
  }
  return {
    job: {
      numCols,
      numRows,
      colCost,
      colLower,
      colUpper,
      rowLower,
      rowUpper,
      starts,
      indices,
      values,
      time_limit_s: opts.time_limit_s,
      ...(opts.solver ? { solver: opts.solver } : {}),
    },
    part,
    xStart,
    dirs: Int32Array.from(dirs),
    nonzeros: nnz,
  };
}

/** Link-direction capacities for an LP: capacity × max_utilization × `scale`, minus `fixed` load. */
export function dirCapacities(ix: TeIndex, scale: number, fixed?: Float64Array): Float64Array {
  const u = ix.input.options.policy.max_utilization;
  const out = new Float64Array(ix.table.dirs.length);
  ix.table.dirs.forEach((h, g) => {
    out[g] = h.link.capacity_mbps * u * scale - (fixed?.[g] ?? 0);
  });
  return out;
}

/** Solves one LP job on a HiGHS runtime (this thread or a worker). */
export function runLp(h: Highs, job: LpJob): LpOutcome {
  const t0 = performance.now();
  return h.withModel(
    {
      numCols: job.numCols,
      numRows: job.numRows,
      colCost: job.colCost,
      colLower: job.colLower,
      colUpper: job.colUpper,
      rowLower: job.rowLower,
      rowUpper: job.rowUpper,
      matrix: {
        format: 'csc',
        numRows: job.numRows,
        numCols: job.numCols,
        starts: job.starts,
        indices: job.indices,
        values: job.values,
      },
    },
    (model) => {
      model.options.set({ output_flag: false, time_limit: job.time_limit_s, ...(job.solver ? { solver: job.solver } : {}) });
      let warm = false;
      if (job.basis && job.basis.colStatus.length === job.numCols && job.basis.rowStatus.length === job.numRows) {
        try {
          model.setBasis(job.basis);
          warm = true;
        } catch {
          warm = false;
        }
      }
      let run = model.run();
      if (warm && run.modelStatus !== 7) {
        // A basis that no longer suits the model: solve from scratch rather than fail.
        model.clearSolver();
        warm = false;
        run = model.run();
      }
      const ok = run.modelStatus === 7;
      const sol = ok ? model.getSolution() : undefined;
      let basis: LpBasis | undefined;
      if (ok && job.wantBasis && Number(model.info.get('basis_validity')) === 1) {
        const b = model.getBasis();
        basis = { colStatus: b.colStatus, rowStatus: b.rowStatus };
      }
      return {
        status: run.modelStatus,
        colValue: sol?.colValue,
        objective: sol ? model.getObjectiveValue() : NaN,
        basis,
        solve_ms: performance.now() - t0,
        iterations: Number(model.info.get('simplex_iteration_count') ?? 0),
        warm,
      };
    },
  );
}

/** FNV-1a over the 32-bit words of typed arrays, two independent seeds: a cheap identity for an LP's arrays. */
export function fingerprint(arrays: ArrayBufferView[], extra: number[] = []): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x5bd1e995;
  for (const w of [...extra, ...arrays.map((a) => a.byteLength)]) {
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ w, 0x5bd1e995) ^ (h2 >>> 15);
  }
  for (const a of arrays) {
    const words = new Uint32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      h1 = Math.imul(h1 ^ w, 0x01000193);
      h2 = Math.imul(h2 ^ w, 0x5bd1e995) ^ (h2 >>> 15);
    }
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

/** Adds an LP's solution into per-candidate fractions `x` (each piece weighted by its share). */
export function addSolution(ix: TeIndex, lp: BuiltLp, colValue: Float64Array, x: Float64Array): void {
  const { demand, share } = lp.part;
  for (let i = 0; i < demand.length; i++) {
    const c0 = ix.candStart[demand[i]!]!;
    const s = share[i]!;
    for (let col = lp.xStart[i]!, c = c0; col < lp.xStart[i + 1]!; col++, c++)
      x[c]! += s * Math.max(0, Math.min(1, colValue[col]!));
  }
}

/** Load per link direction (Mbit/s) of fractions `x`, over the demands `only` (default: all). */
export function dirLoads(ix: TeIndex, x: Float64Array, only?: (d: number) => boolean): Float64Array {
  const loads = new Float64Array(ix.table.dirs.length);
  const hops = ix.hops;
  const hopStart = ix.hopStart;
  const demands = ix.input.demands;
  for (let d = 0; d < ix.nd; d++) {
    if (only && !only(d)) continue;
    const mbps = demands[d]!.mbps;
    for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) {
      const v = x[c]!;
      if (v <= 0) continue;
      const sl = ix.candSlot[c]!;
      const h0 = hopStart[sl]!;
      const h1 = hopStart[sl + 1]!;
      for (let h = h0; h < h1; h++) loads[hops[h]!]! += v * mbps;
    }
  }
  return loads;
}

/** Link directions some candidate crosses (the LP's link rows), in first-use order. */
export function usedDirs(ix: TeIndex): number[] {
  const seen = new Uint8Array(ix.table.dirs.length);
  const out: number[] = [];
  const hops = ix.hops;
  const hopStart = ix.hopStart;
  for (let c = 0; c < ix.candSlot.length; c++) {
    const sl = ix.candSlot[c]!;
    const h0 = hopStart[sl]!;
    const h1 = hopStart[sl + 1]!;
    for (let h = h0; h < h1; h++)
      if (!seen[hops[h]!]) {
        seen[hops[h]!] = 1;
        out.push(hops[h]!);
      }
  }
  return out.sort((a, b) => a - b);
}

/** Per-candidate fraction of demand → `{ pathId: fraction }` is what TeSplit carries; this is the reverse. */
export function fractionsToX(ix: TeIndex, fractions: ReadonlyMap<string, Readonly<Record<string, number>>>): Float64Array {
  const x = new Float64Array(ix.candSlot.length);
  const paths = ix.input.topology.paths;
  ix.input.demands.forEach((dem, d) => {
    const fr = fractions.get(demandKey(dem.from, dem.to, dem.class));
    if (!fr) return;
    for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) x[c] = fr[paths[ix.table.slotPath[ix.candSlot[c]!]!]!.id] ?? 0;
  });
  return x;
}

/**
 * The LP objective of fractions `x`, term by term as the LP writes it: Σ x·objective − churn reward on
 * partial current shares + slack penalty × (capacity overflow + budget overrun).
 */
export function objectiveOf(ix: TeIndex, x: Float64Array, loads = dirLoads(ix, x)): number {
  const { options } = ix.input;
  const churn = options.policy.churn_penalty;
  let obj = 0;
  let cost = 0;
  for (let d = 0; d < ix.nd; d++) {
    const mbps = ix.input.demands[d]!.mbps;
    for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) {
      const v = x[c]!;
      obj += v * ix.candObj[c]!;
      cost += v * ix.candCost[c]!;
      if (partialChurn(ix, c)) obj -= churn * mbps * Math.min(v, ix.candCurrent[c]!);
    }
  }
  const cap = dirCapacities(ix, 1);
  for (const g of usedDirs(ix)) obj += ix.slackPenalty * Math.max(0, loads[g]! - cap[g]!);
  if (ix.hasBudget) obj += ix.slackPenalty * Math.max(0, cost - options.budget_per_day!);
  return obj;
}

/**
 * Reads per-candidate fractions back into a TeResult: splits, link loads by class, cost, churn, and the
 * constraints that needed slack (capacity overflow, SLO, budget) — any of them makes the plan `infeasible`.
 */
export function assemble(
  ix: TeIndex,
  x: Float64Array,
  extra: { objective?: number; stats: TeResult['stats']; decomposition?: TeResult['decomposition'] },
): TeResult {
  const { input } = ix;
  const { demands, options } = input;
  const policy = options.policy;
  const paths = input.topology.paths;
  const hops = ix.hops;
  const hopStart = ix.hopStart;
  const tol = 1e-6;
  const dirs = ix.table.dirs;
  const loads = new Float64Array(dirs.length);
  const classIds = input.topology.classes.map((c) => c.id);
  const classOf = new Map(classIds.map((id, i) => [id, i]));
  const nk = classIds.length;
  /** Load per direction × class, Mbit/s (a class never seen is left out of by_class, as before). */
  const byClass = new Float64Array(dirs.length * nk);
  const classSeen = new Uint8Array(dirs.length * nk);
  const splits: TeSplit[] = [];
  const binding: TeBinding[] = [];
  let costPlan = 0;
  let costCurrent = 0;
  let currentKnown = input.current !== undefined;
  let moved = 0;
  let totalMbps = 0;
  for (let d = 0; d < ix.nd; d++) {
    const dem = demands[d]!;
    const fractions: Record<string, number> = {};
    const ci = classOf.get(dem.class)!;
    let violating = 0;
    let same = 0;
    let served = 0;
    if (input.current && !ix.hasCurrent[d]) currentKnown = false;
    for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) {
      const v = Math.max(0, Math.min(1, x[c]!));
      const x0 = ix.candCurrent[c]!;
      costCurrent += x0 * ix.candCost[c]!;
      same += Math.min(v, x0);
      if (v <= tol) continue;
      fractions[paths[ix.table.slotPath[ix.candSlot[c]!]!]!.id] = v;
      served += v;
      costPlan += v * ix.candCost[c]!;
      if (ix.candViolates[c]) violating += v;
      const sl = ix.candSlot[c]!;
      const h0 = hopStart[sl]!;
      const h1 = hopStart[sl + 1]!;
      for (let h = h0; h < h1; h++) {
        const g = hops[h]!;
        loads[g]! += v * dem.mbps;
        byClass[g * nk + ci]! += v * dem.mbps;
        classSeen[g * nk + ci] = 1;
      }
    }
    if (ix.hasCurrent[d]) moved += (1 - same) * dem.mbps;
    totalMbps += dem.mbps;
    const key = ix.keys[d]!;
    if (violating > 1e-5 && dem.mbps > 0)
      binding.push({
        kind: 'slo',
        id: key,
        slack: violating * dem.mbps,
        message: `${key}: ${(violating * dem.mbps).toFixed(1)} Mbit/s must ride paths predicted to break the ${dem.class} SLO`,
      });
    splits.push({
      from: dem.from,
      to: dem.to,
      class: dem.class,
      mbps: dem.mbps,
      fractions,
      unserved: Math.max(0, 1 - served),
      slo_violating: violating,
    });
  }
  const classLoads = (g: number) => {
    const out: Record<string, number> = {};
    for (let i = 0; i < nk; i++) if (classSeen[g * nk + i]) out[classIds[i]!] = byClass[g * nk + i]!;
    return out;
  };
  const tight: string[] = [];
  const linkLoads: TeLinkLoad[] = [];
  for (const g of usedDirs(ix)) {
    const hop = dirs[g]!;
    const cap = hop.link.capacity_mbps * policy.max_utilization;
    const over = loads[g]! - cap;
    if (over > 1e-4)
      binding.push({
        kind: 'capacity',
        id: hop.key,
        slack: over,
        message: `${hop.key}: demand exceeds ${Math.round(policy.max_utilization * 100)}% of ${hop.link.capacity_mbps} Mbit/s by ${over.toFixed(1)} Mbit/s`,
      });
    else if (loads[g]! >= cap * 0.999) tight.push(hop.key);
    linkLoads.push({
      link: hop.link.id,
      from_site: hop.from,
      to_site: hop.to,
      mbps: loads[g]!,
      capacity_mbps: hop.link.capacity_mbps,
      utilization: loads[g]! / hop.link.capacity_mbps,
      by_class: classLoads(g),
    });
  }
  if (ix.hasBudget && costPlan - options.budget_per_day! > 1e-4)
    binding.push({
      kind: 'budget',
      id: 'budget',
      slack: costPlan - options.budget_per_day!,
      message: `the plan needs $${(costPlan - options.budget_per_day!).toFixed(2)}/day over the daily budget of $${options.budget_per_day!.toFixed(2)}`,
    });
  return {
    status: binding.length > 0 ? 'infeasible' : 'optimal',
    objective: extra.objective ?? objectiveOf(ix, x, loads),
    cost_per_day: costPlan,
    cost_per_day_current: currentKnown ? costCurrent : undefined,
    max_utilization: linkLoads.reduce((m, l) => Math.max(m, l.utilization), 0),
    churn: totalMbps > 0 && input.current ? moved / totalMbps : 0,
    splits,
    link_loads: linkLoads,
    binding,
    tight,
    stats: extra.stats,
    ...(extra.decomposition ? { decomposition: extra.decomposition } : {}),
  };
}
