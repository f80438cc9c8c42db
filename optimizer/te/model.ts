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
  type TeOptions,
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

const noPaths: readonly number[] = [];

type ArrayKind = 'f64' | 'i32' | 'u8';
type ArrayOf<K extends ArrayKind> = K extends 'f64' ? Float64Array : K extends 'i32' ? Int32Array : Uint8Array;
const arrayTypes = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;

/**
 * Typed arrays carved from one ArrayBuffer. V8 counts every new ArrayBuffer as external memory and, every
 * ~64 MB of it, collects the whole heap (seconds when the input is millions of objects): at millions of
 * elements, one buffer instead of ten saves several full collections.
 */
export function arena<S extends Record<string, readonly [ArrayKind, number]>>(spec: S): { [K in keyof S]: ArrayOf<S[K][0]> } {
  const at: number[] = [];
  let bytes = 0;
  for (const [kind, length] of Object.values(spec)) {
    at.push(bytes);
    bytes += Math.ceil((length * arrayTypes[kind].BYTES_PER_ELEMENT) / 8) * 8; // 8-byte aligned views
  }
  const buffer = new ArrayBuffer(bytes);
  const out: Record<string, ArrayBufferView> = {};
  Object.entries(spec).forEach(([name, [kind, length]], i) => (out[name] = new arrayTypes[kind](buffer, at[i], length)));
  return out as { [K in keyof S]: ArrayOf<S[K][0]> };
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
  /** Topology path indices per source site, then destination site (no `from>to` string per lookup). */
  private readonly byPair = new Map<string, Map<string, number[]>>();
  readonly dirs: LinkDir[] = [];
  private readonly linkIndex = new Map<string, number>();
  /** Direction index per link index × 2 (+1: from b to a); −1 not yet seen. */
  private readonly dirOf: Int32Array;
  /** Directions of malformed walks (a path leaving a site the link does not touch), by key. */
  private readonly oddDirs = new Map<string, number>();
  /** Walked path slot per topology path index (−1: not yet). */
  private readonly slotOf: Int32Array;
  /** Topology path index and $/GB per walked slot (sized for every path: no growth, no garbage). */
  readonly slotPath: Int32Array;
  readonly costPerGb: Float64Array;
  private slots = 0;
  /** Link directions of walked slot s: hops[hopStart[s] … hopStart[s + 1]) (sized for every path's links). */
  readonly hops: Int32Array;
  readonly hopStart: Int32Array;
  /**
   * Index per site id and per class id, in order of first sight. Carried over from the table of an earlier
   * topology (`carry`), so a demand keeps its numeric identity (`demandIds`) across topology changes.
   */
  readonly siteIndex: Map<string, number>;
  readonly classIndex: Map<string, number>;

  constructor(
    readonly topology: TeTopology,
    carry?: PathTable,
  ) {
    this.siteIndex = new Map(carry?.siteIndex);
    this.classIndex = new Map(carry?.classIndex);
    this.links = new Map(topology.links.map((l) => [l.id, l]));
    topology.links.forEach((l, i) => this.linkIndex.set(l.id, i));
    let hops = 0;
    topology.paths.forEach((p, i) => {
      let to = this.byPair.get(p.from);
      if (!to) this.byPair.set(p.from, (to = new Map()));
      const list = to.get(p.to);
      if (list) list.push(i);
      else to.set(p.to, [i]);
      hops += p.links.length;
    });
    const np = topology.paths.length;
    const a = arena({
      dirOf: ['i32', topology.links.length * 2],
      slotOf: ['i32', np],
      slotPath: ['i32', np],
      costPerGb: ['f64', np],
      hops: ['i32', hops],
      hopStart: ['i32', np + 1],
    });
    this.dirOf = a.dirOf.fill(-1);
    this.slotOf = a.slotOf.fill(-1);
    this.slotPath = a.slotPath;
    this.costPerGb = a.costPerGb;
    this.hops = a.hops;
    this.hopStart = a.hopStart;
  }

  /** Index of a site (or class) id, assigned on first sight. */
  static indexOf(index: Map<string, number>, id: string): number {
    let i = index.get(id);
    if (i === undefined) index.set(id, (i = index.size));
    return i;
  }

  /** Topology path indices from `from` to `to` (empty: none). */
  pathsOf(from: string, to: string): readonly number[] {
    return this.byPair.get(from)?.get(to) ?? noPaths;
  }

  /** Slot of topology path `pi`, walking it (as `walk` does) on first use. */
  slot(pi: number): number {
    const s = this.slotOf[pi]!;
    if (s >= 0) return s;
    const p = this.topology.paths[pi]!;
    let cost = 0;
    let at = p.from;
    // The slot is taken only once the walk succeeds (an unknown link throws, leaving the table as it was).
    const slot = this.slots;
    let h = this.hopStart[slot]!;
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
      this.hops[h++] = d;
      cost += l.cost_per_gb;
      at = to;
    }
    this.slotPath[slot] = pi;
    this.costPerGb[slot] = cost;
    this.hopStart[slot + 1] = h;
    this.slotOf[pi] = slot;
    this.slots = slot + 1;
    return slot;
  }
}

/** Every demand's candidate paths and their objective terms, for one run. */
export interface TeIndex {
  readonly input: TeInput;
  readonly table: PathTable;
  /** The table's hop arrays once every candidate is walked: directions of slot s are hops[hopStart[s] … hopStart[s + 1]). */
  readonly hops: Int32Array;
  readonly hopStart: Int32Array;
  /** `demandKey` of demand d (built on demand: a string per demand is memory and time at millions of demands). */
  key(d: number): string;
  readonly nd: number;
  /** Mbit/s of each demand (its `mbps`), in a typed array: hot loops then never touch the demand objects. */
  readonly mbps: Float64Array;
  /** Source and destination site and class of each demand, as the table's indices (`PathTable.siteIndex`). */
  readonly src: Int32Array;
  readonly dst: Int32Array;
  readonly cls: Int32Array;
  /**
   * Each demand's cheapest candidate (lowest objective term, the first of equals). Where no capacity or budget
   * binds, the LP separates by demand and this is its optimum; column generation starts every piece there.
   */
  readonly cheapest: Int32Array;
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
  /** Per-candidate fractions for the solver to write its plan into: zeros, in the same buffer as the rest. */
  readonly plan: Float64Array;
  /** Demand has an entry in `input.current`. */
  readonly hasCurrent: Uint8Array;
  readonly churnOn: boolean;
  readonly hasBudget: boolean;
  readonly slackPenalty: number;
}

/**
 * Values of a Map looked up by keys that usually come in the Map's own insertion order (the demands and the
 * current split, the paths and their quality, are typically built in one order): walks the Map's entries
 * alongside the lookups and falls back to `get` where the next entry is not the one asked for. At millions of
 * entries this saves a hash-table probe (several cache misses) per lookup.
 */
export class MapWalker<V> {
  private readonly entries: Iterator<[string, V]>;
  private next: IteratorResult<[string, V]>;

  constructor(private readonly map: ReadonlyMap<string, V>) {
    this.entries = map.entries();
    this.next = this.entries.next();
  }

  /** The value of the next entry if `isNext(its key)`, else the Map's value for `key()`. */
  get(isNext: (key: string) => boolean, key: () => string): V | undefined {
    if (!this.next.done && isNext(this.next.value[0])) {
      const value = this.next.value[1];
      this.next = this.entries.next();
      return value;
    }
    return this.map.get(key());
  }
}

/** `key` is `demandKey(from, to, cls)`, compared without building it. */
function isDemandKey(key: string, from: string, to: string, cls: string): boolean {
  const toAt = from.length + 1;
  const clsAt = toAt + to.length + 1;
  return (
    key.length === clsAt + cls.length &&
    key.startsWith(from) &&
    key.charCodeAt(from.length) === 62 && // '>'
    key.startsWith(to, toAt) &&
    key.charCodeAt(clsAt - 1) === 124 && // '|'
    key.endsWith(cls)
  );
}

/** Per path slot, looked up once per run: quality (null: no prediction) and score. */
class SlotQuality {
  private readonly quality: (PathQuality | null | undefined)[];
  readonly score: Float64Array;
  private readonly walker: MapWalker<PathQuality>;

  constructor(
    map: ReadonlyMap<string, PathQuality>,
    private readonly weights: TeOptions['policy']['score'],
    /** One entry per topology path (a slot is a path index's walk). */
    score: Float64Array,
  ) {
    this.walker = new MapWalker(map);
    this.quality = new Array<PathQuality | null | undefined>(score.length);
    this.score = score;
  }

  of(slot: number, id: string): PathQuality | null {
    let q = this.quality[slot];
    if (q === undefined) {
      q = this.quality[slot] =
        this.walker.get(
          (k) => k === id,
          () => id,
        ) ?? null;
      this.score[slot] = q ? pathScore(q, this.weights) : 0;
    }
    return q;
  }
}

/** Computes candidates and objective terms; throws (as solveTe always has) on an unknown class, a negative demand or a demand without paths. */
export function indexTe(input: TeInput, table = new PathTable(input.topology)): TeIndex {
  const { topology, demands, options } = input;
  const policy = options.policy;
  const sloPenalty = options.slo_penalty ?? 500;
  const riskThreshold = options.risk_threshold ?? 0.5;
  const classes = new Map(topology.classes.map((c) => [c.id, c]));
  const lowest = Math.max(...topology.classes.map((c) => c.priority));
  const churnOn = input.current !== undefined && policy.churn_penalty > 0;
  const nd = demands.length;
  const key = (d: number) => demandKey(demands[d]!.from, demands[d]!.to, demands[d]!.class);
  const { candStart, mbps, src, dst, cls, hasCurrent, cheapest, slotScore } = arena({
    candStart: ['i32', nd + 1],
    mbps: ['f64', nd],
    src: ['i32', nd],
    dst: ['i32', nd],
    cls: ['i32', nd],
    hasCurrent: ['u8', nd],
    cheapest: ['i32', nd],
    slotScore: ['f64', topology.paths.length],
  });
  // Two passes: count candidates, then fill. Demands usually come grouped by pair: reuse the pair's list.
  const listOf: (readonly number[])[] = new Array(nd);
  let lastFrom = '';
  let lastTo = '';
  let lastList: readonly number[] = [];
  let lastSrc = 0;
  let lastDst = 0;
  let nc = 0;
  for (let d = 0; d < nd; d++) {
    const dem = demands[d]!;
    if (!classes.has(dem.class)) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${key(d)}: unknown class`);
    if (!(dem.mbps >= 0)) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${key(d)}: mbps must be ≥ 0`);
    mbps[d] = dem.mbps;
    if (dem.from !== lastFrom || dem.to !== lastTo) {
      lastFrom = dem.from;
      lastTo = dem.to;
      lastList = table.pathsOf(dem.from, dem.to);
      lastSrc = PathTable.indexOf(table.siteIndex, dem.from);
      lastDst = PathTable.indexOf(table.siteIndex, dem.to);
    }
    src[d] = lastSrc;
    dst[d] = lastDst;
    cls[d] = PathTable.indexOf(table.classIndex, dem.class);
    let list = lastList;
    if (input.pathAllowed) list = list.filter((pi) => input.pathAllowed!(dem, topology.paths[pi]!));
    if (list.length === 0) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${key(d)}: no candidate paths`);
    listOf[d] = list;
    candStart[d] = nc;
    nc += list.length;
  }
  candStart[nd] = nc;
  const { candSlot, candObj, candCost, candViolates, candCurrent, plan } = arena({
    candSlot: ['i32', nc],
    candObj: ['f64', nc],
    candCost: ['f64', nc],
    candViolates: ['u8', nc],
    candCurrent: ['f64', nc],
    plan: ['f64', nc],
  });
  const slots = new SlotQuality(input.quality, policy.score, slotScore);
  const current = input.current ? new MapWalker(input.current) : undefined;
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
      const q = slots.of(slot, topology.paths[pi]!.id);
      const score = slots.score[slot]!;
      const usable = Number.isFinite(score);
      const risky = (input.risk ? (input.risk.get(`${topology.paths[pi]!.id}|${cls.id}`) ?? 0) : 0) >= riskThreshold;
      const violates = risky || (q ? !usable || violatesSlo(q, cls) : false);
      const cost = mean * gbPerMbpsDay * table.costPerGb[slot]!;
      candCost[c] = cost;
      candViolates[c] = violates ? 1 : 0;
      candObj[c] = cost + latency * (usable ? score : 100) + (violates ? sloPenalty * dem.mbps : 0);
    }
    // Current shares (usually one path): matched to the candidates by path id.
    const cur = current?.get(
      (k) => isDemandKey(k, dem.from, dem.to, dem.class),
      () => key(d),
    );
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
  for (let d = 0; d < nd; d++) cheapest[d] = cheapestOf(candObj, candStart[d]!, candStart[d + 1]!);
  return {
    input,
    table,
    hops: table.hops,
    hopStart: table.hopStart,
    key,
    nd,
    mbps,
    src,
    dst,
    cls,
    cheapest,
    candStart,
    candSlot,
    candObj,
    candCost,
    candViolates,
    candCurrent,
    plan,
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
  /** Return the row duals (column generation prices the pieces left out of the LP with them). */
  wantDuals?: boolean;
}

export interface LpOutcome {
  /** HiGHS model status (7 = optimal). */
  status: number;
  colValue?: Float64Array;
  objective: number;
  basis?: LpBasis;
  /** Row duals (with `wantDuals`): ∂objective/∂row bound, ≤ 0 on a binding ≤ row of a minimisation. */
  rowDual?: Float64Array;
  solve_ms: number;
  iterations: number;
  /** The basis given was accepted and the solve started from it. */
  warm: boolean;
}

export interface BuiltLp extends LpLayout {
  job: LpJob;
  /** x columns of piece i: [xStart[i], xStart[i + 1]), in the order of its demand's candidates. */
  xStart: Int32Array;
  /** Global link direction per local link row. */
  dirs: Int32Array;
  /** The budget row (−1: none); rows are [pieces, budget, link directions, churn rows]. */
  budgetRow: number;
  churnRows: number;
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
  const { colCost, colLower, colUpper, starts, indices, values, rowLower, rowUpper } = arena({
    colCost: ['f64', numCols],
    colLower: ['f64', numCols],
    colUpper: ['f64', numCols],
    starts: ['i32', numCols + 1],
    indices: ['i32', nnz],
    values: ['f64', nnz],
    rowLower: ['f64', numRows],
    rowUpper: ['f64', numRows],
  });
  rowLower.fill(-Infinity);
  const churnM: { x0: number; cost: number }[] = [];
  // Pass 2: x columns.
  let col = 0;
  let k = 0;
  for (let i = 0; i < np; i++) {
    const d = part.demand[i]!;
    const s = part.share[i]!;
    const mbps = ix.mbps[d]! * s;
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
    budgetRow,
    churnRows: nChurn,
    nonzeros: nnz,
  };
}

/** The candidate in [c0, c1) with the lowest objective term (the first of equals). */
function cheapestOf(candObj: Float64Array, c0: number, c1: number): number {
  let best = c0;
  for (let c = c0 + 1; c < c1; c++) if (candObj[c]! < candObj[best]!) best = c;
  return best;
}

/** The demand has churn rows (a current split over several paths): its objective is not one candidate's term. */
export function hasChurnRows(ix: TeIndex, d: number): boolean {
  for (let c = ix.candStart[d]!; c < ix.candStart[d + 1]!; c++) if (partialChurn(ix, c)) return true;
  return false;
}

const basisLower = 0;
const basisBasic = 1;
const basisUpper = 2;

/**
 * A starting basis for `lp` with every piece on its `cheapest` candidate: that column basic, the others at 0;
 * a link or budget row basic when that load fits its bound, else its slack basic (the row at its bound); churn
 * rows basic. It is primal feasible, so HiGHS starts from it instead of presolving (presolve was most of a
 * sub-problem's solve time). `from` carries the statuses of an earlier LP whose pieces, link rows and churn
 * rows are a prefix of this one's, in the same order (column generation appends pieces): they are kept.
 * Must run before the job is posted (its arrays are transferred to the worker).
 */
export function crashBasis(ix: TeIndex, lp: BuiltLp, from?: { lp: LpLayout; basis: LpBasis }): LpBasis {
  const { cheapest } = ix;
  const { job, part, xStart } = lp;
  const { colStatus, rowStatus, activity } = arena({
    colStatus: ['i32', job.numCols],
    rowStatus: ['i32', job.numRows],
    activity: ['f64', job.numRows],
  });
  colStatus.fill(basisLower);
  rowStatus.fill(basisBasic);
  const np = part.demand.length;
  const nx = xStart[np]!;
  const nl = lp.dirs.length;
  const hasBudget = lp.budgetRow >= 0;
  const linkBase = np + (hasBudget ? 1 : 0);
  // Row activity at the cheapest candidates, from the LP's own columns.
  for (let i = 0; i < np; i++) {
    const col = xStart[i]! + cheapest[part.demand[i]!]! - ix.candStart[part.demand[i]!]!;
    colStatus[col] = basisBasic;
    rowStatus[i] = basisLower;
    for (let k = job.starts[col]!; k < job.starts[col + 1]!; k++) activity[job.indices[k]!]! += job.values[k]!;
  }
  const boundRow = (row: number, slackCol: number) => {
    if (activity[row]! <= job.rowUpper[row]!) return;
    rowStatus[row] = basisUpper;
    colStatus[slackCol] = basisBasic;
  };
  for (let l = 0; l < nl; l++) boundRow(linkBase + l, nx + l);
  if (hasBudget) boundRow(lp.budgetRow, nx + nl);
  if (from && isPrefix(from.lp, lp)) keepStatuses(from.lp, from.basis, lp, colStatus, rowStatus);
  return { colStatus, rowStatus };
}

/** The shape of a built LP that a later basis needs (kept after the job's arrays went to a worker). */
export interface LpLayout {
  part: LpPart;
  xStart: Int32Array;
  dirs: Int32Array;
  budgetRow: number;
  churnRows: number;
}

/** `a`'s pieces (same demand, same share) and link rows are the first of `b`'s, in the same order. */
function isPrefix(a: LpLayout, b: LpLayout): boolean {
  const na = a.part.demand.length;
  if (na > b.part.demand.length || a.dirs.length > b.dirs.length || a.churnRows > b.churnRows) return false;
  if (a.budgetRow >= 0 !== b.budgetRow >= 0) return false;
  for (let i = 0; i < na; i++) if (a.part.demand[i] !== b.part.demand[i] || a.part.share[i] !== b.part.share[i]) return false;
  for (let l = 0; l < a.dirs.length; l++) if (a.dirs[l] !== b.dirs[l]) return false;
  return true;
}

/** Copies `a`'s basis statuses into `b`'s arrays, row block by row block and column block by column block. */
function keepStatuses(a: LpLayout, basis: LpBasis, b: LpLayout, colStatus: Int32Array, rowStatus: Int32Array): void {
  const blocks = (l: LpLayout) => {
    const np = l.part.demand.length;
    const nx = l.xStart[np]!;
    const nl = l.dirs.length;
    const nb = l.budgetRow >= 0 ? 1 : 0;
    return { np, nx, nl, nb, linkBase: np + nb, slackBase: nx, churnColBase: nx + nl + nb, churnRowBase: np + nb + nl };
  };
  const A = blocks(a);
  const B = blocks(b);
  rowStatus.set(basis.rowStatus.subarray(0, A.np), 0);
  colStatus.set(basis.colStatus.subarray(0, A.nx), 0);
  rowStatus.set(basis.rowStatus.subarray(A.linkBase, A.linkBase + A.nl), B.linkBase);
  colStatus.set(basis.colStatus.subarray(A.slackBase, A.slackBase + A.nl), B.slackBase);
  if (A.nb) {
    rowStatus[B.np] = basis.rowStatus[A.np]!;
    colStatus[B.nx + B.nl] = basis.colStatus[A.nx + A.nl]!;
  }
  rowStatus.set(basis.rowStatus.subarray(A.churnRowBase, A.churnRowBase + a.churnRows), B.churnRowBase);
  colStatus.set(basis.colStatus.subarray(A.churnColBase, A.churnColBase + a.churnRows), B.churnColBase);
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
        ...(job.wantDuals && sol ? { rowDual: sol.rowDual } : {}),
        solve_ms: performance.now() - t0,
        iterations: Number(model.info.get('simplex_iteration_count') ?? 0),
        warm,
      };
    },
  );
}

/** FNV-1a-style hash over 32-bit words, two independent seeds: a cheap identity for arrays and numbers. */
export class Hasher {
  private h1 = 0x811c9dc5;
  private h2 = 0x5bd1e995;
  private readonly f64 = new Float64Array(1);
  private readonly f64Words = new Uint32Array(this.f64.buffer);

  word(w: number): this {
    this.h1 = Math.imul(this.h1 ^ w, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ w, 0x5bd1e995) ^ (this.h2 >>> 15);
    return this;
  }

  /** A double, bit for bit. */
  num(v: number): this {
    this.f64[0] = v;
    return this.word(this.f64Words[0]!).word(this.f64Words[1]!);
  }

  array(a: ArrayBufferView): this {
    const words = new Uint32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) this.word(words[i]!);
    return this;
  }

  digest(): string {
    return `${(this.h1 >>> 0).toString(16)}${(this.h2 >>> 0).toString(16)}`;
  }

  /** The state's two words into out[at], out[at + 1]: a digest without a string, for hashes kept by the million. */
  write(out: Uint32Array, at: number): void {
    out[at] = this.h1;
    out[at + 1] = this.h2;
  }

  reset(): this {
    this.h1 = 0x811c9dc5;
    this.h2 = 0x5bd1e995;
    return this;
  }
}

/** Hash of typed arrays (and their lengths and `extra` numbers): a cheap identity for an LP's arrays. */
export function fingerprint(arrays: ArrayBufferView[], extra: number[] = []): string {
  const h = new Hasher();
  for (const w of [...extra, ...arrays.map((a) => a.byteLength)]) h.word(w);
  for (const a of arrays) h.array(a);
  return h.digest();
}

/** Adds an LP's solution into per-candidate fractions `x` (each piece weighted by its share). */
export function addSolution(ix: TeIndex, lp: Pick<BuiltLp, 'part' | 'xStart'>, colValue: Float64Array, x: Float64Array): void {
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
  for (let d = 0; d < ix.nd; d++) {
    if (only && !only(d)) continue;
    const mbps = ix.mbps[d]!;
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
    const mbps = ix.mbps[d]!;
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
    // Keyed by path id, unique to its pair: V8 cannot share a hidden class between such objects, and a
    // prototype-less dictionary is ~30 % quicker to fill than `{}` at millions of splits (a plain record still:
    // keys, entries, JSON).
    const fractions: Record<string, number> = Object.create(null) as Record<string, number>;
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
    if (violating > 1e-5 && dem.mbps > 0) {
      const key = ix.key(d);
      binding.push({
        kind: 'slo',
        id: key,
        slack: violating * dem.mbps,
        message: `${key}: ${(violating * dem.mbps).toFixed(1)} Mbit/s must ride paths predicted to break the ${dem.class} SLO`,
      });
    }
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
