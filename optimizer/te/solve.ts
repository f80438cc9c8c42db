import type { ClassConfig, LinkConfig, PathConfig, PolicyConfig } from '../../core/config/index.ts';
import { PathpilotError } from '../../core/errors.ts';
import { pathScore, violatesSlo, type PathQuality } from '../score.ts';
import { highs } from './highs.ts';

/** One unit of demand: traffic from `from` to `to` in `class`, Mbit/s. */
export interface TeDemand {
  from: string;
  to: string;
  class: string;
  /** Demand the plan must carry (the p90 forecast), Mbit/s: used for capacity. */
  mbps: number;
  /** Expected demand (p50), Mbit/s: used for cost. Defaults to `mbps`. */
  mean_mbps?: number;
}

export interface TeTopology {
  links: readonly LinkConfig[];
  paths: readonly PathConfig[];
  classes: readonly ClassConfig[];
}

export interface TeOptions {
  policy: Pick<PolicyConfig, 'max_utilization' | 'churn_penalty' | 'score'>;
  /** $/day per Mbit/s per unit of path score, scaled by class importance (2^(lowest priority − priority)). */
  latency_penalty: number;
  /** Optional cap on the plan's transfer cost per day. */
  budget_per_day?: number;
  /** Penalty per Mbit/s of slack (capacity overflow, budget), $/day: large, so slack is a last resort. */
  slack_penalty?: number;
  /** Penalty per Mbit/s carried on a path predicted to break the class SLO, $/day. */
  slo_penalty?: number;
  time_limit_s?: number;
  /** HiGHS LP algorithm (`simplex`, `ipm`, `pdlp`…); default: HiGHS chooses. */
  solver?: string;
  /** A path whose failure risk reaches this is treated as breaking its SLO (default 0.5). */
  risk_threshold?: number;
}

export interface TeInput {
  topology: TeTopology;
  demands: readonly TeDemand[];
  /** Predicted quality per path id; a path without a prediction is treated as meeting its SLO with score 0. */
  quality: ReadonlyMap<string, PathQuality>;
  /** Failure risk per `pathId|classId` (probability of breaching that class's SLO within the horizon). */
  risk?: ReadonlyMap<string, number>;
  /** Current split per demand key (`from>to|class`) → path id → fraction. */
  current?: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** Hard constraint per demand (data residency): a path it refuses is no candidate for that demand. */
  pathAllowed?: (demand: TeDemand, path: PathConfig) => boolean;
  options: TeOptions;
}

export interface TeSplit {
  from: string;
  to: string;
  class: string;
  mbps: number;
  /** Fraction of the demand per path id (sums to 1 when fully served). */
  fractions: Record<string, number>;
  /** Fraction not served (only when the plan is infeasible). */
  unserved: number;
  /** Fraction carried on paths predicted to break the class SLO. */
  slo_violating: number;
}

export interface TeLinkLoad {
  link: string;
  /** Site the traffic leaves from (the direction). */
  from_site: string;
  to_site: string;
  mbps: number;
  capacity_mbps: number;
  utilization: number;
  by_class: Record<string, number>;
}

export interface TeBinding {
  kind: 'capacity' | 'demand' | 'slo' | 'budget' | 'residency';
  /** Link direction `link:from>to`, demand key `from>to|class`, or `budget`. */
  id: string;
  /** Amount of slack the constraint needed, Mbit/s or $/day. */
  slack: number;
  message: string;
}

export interface TeResult {
  status: 'optimal' | 'infeasible';
  objective: number;
  /** Transfer cost of the plan, $/day (mean demand × $/GB over every link crossed). */
  cost_per_day: number;
  /** Same for the current split, when known. */
  cost_per_day_current?: number;
  max_utilization: number;
  /** Fraction of total demand moved away from the current split. */
  churn: number;
  splits: TeSplit[];
  link_loads: TeLinkLoad[];
  /** Constraints that needed slack: non-empty exactly when status is `infeasible`. */
  binding: TeBinding[];
  /** Link directions at the utilization cap (feasible, but binding). */
  tight: string[];
  stats: { variables: number; constraints: number; nonzeros: number; build_ms: number; solve_ms: number };
}

export const gbPerMbpsDay = 86_400 / 8 / 1000;

export function demandKey(from: string, to: string, cls: string): string {
  return `${from}>${to}|${cls}`;
}

interface Hop {
  row: number;
}

/** Directed link rows a path crosses, walking from its source. */
function walk(path: PathConfig, links: Map<string, LinkConfig>): { link: LinkConfig; from: string; to: string }[] {
  const out: { link: LinkConfig; from: string; to: string }[] = [];
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

/**
 * The traffic-engineering LP (HiGHS). Variables x[d,p] ∈ [0,1] split each demand d across its candidate
 * paths. Rows: Σp x[d,p] = 1; per directed link Σ mbps·x − s ≤ cap·max_util (s: overflow, penalised); optional budget Σ cost·x − b ≤ budget; churn m[d,p] ≤ x[d,p], m ≤ current.
 * Objective: $/day transfer cost + class-weighted path score + SLO-violation penalty − churn reward + slack.
 * Any slack in the optimum makes the plan `infeasible` and names the binding constraints: never a silent fallback.
 */
export async function solveTe(input: TeInput): Promise<TeResult> {
  const t0 = performance.now();
  const { topology, demands, quality, options } = input;
  const policy = options.policy;
  const slackPenalty = options.slack_penalty ?? 1e4;
  const sloPenalty = options.slo_penalty ?? 500;
  const links = new Map(topology.links.map((l) => [l.id, l]));
  const classes = new Map(topology.classes.map((c) => [c.id, c]));
  const lowest = Math.max(...topology.classes.map((c) => c.priority));
  const pathsByPair = new Map<string, PathConfig[]>();
  for (const p of topology.paths) {
    const k = `${p.from}>${p.to}`;
    const list = pathsByPair.get(k);
    if (list) list.push(p);
    else pathsByPair.set(k, [p]);
  }

  // Rows: demands first, then directed links (created on first use), then budget and churn rows.
  const nd = demands.length;
  const linkRow = new Map<string, number>();
  const linkRowInfo: { link: LinkConfig; from: string; to: string }[] = [];
  const pathHops = new Map<string, Hop[]>();
  const pathCostPerGb = new Map<string, number>();
  const hopsOf = (p: PathConfig): Hop[] => {
    let hops = pathHops.get(p.id);
    if (hops) return hops;
    let cost = 0;
    hops = walk(p, links).map((h) => {
      const key = `${h.link.id}:${h.from}>${h.to}`;
      let row = linkRow.get(key);
      if (row === undefined) {
        row = linkRowInfo.length;
        linkRow.set(key, row);
        linkRowInfo.push(h);
      }
      cost += h.link.cost_per_gb;
      return { row };
    });
    pathHops.set(p.id, hops);
    pathCostPerGb.set(p.id, cost);
    return hops;
  };

  // Columns, built in CSC order. Link rows are offset by nd once their count is known, so collect first.
  const colCost: number[] = [];
  const colUpper: number[] = [];
  const colLower: number[] = [];
  const starts: number[] = [0];
  const indices: number[] = [];
  const values: number[] = [];
  /** Row index space: [0, nd) demand rows; link rows are encoded as -(1 + linkRowIndex) until fixed up. */
  const xIndex: { d: number; path: PathConfig; col: number; violates: boolean }[] = [];
  const hasBudget = options.budget_per_day !== undefined;
  const churnOn = input.current !== undefined && policy.churn_penalty > 0;
  /**
   * Row indices not known while columns are built are encoded as negatives (kept small-integer so the
   * arrays stay packed): link row l as −(1 + l), churn row k as churnTag − k.
   */
  const churnTag = -(1 << 29);
  const churnRows: { x0: number; mbps: number }[] = [];
  const dPaths: number[][] = [];

  for (let d = 0; d < nd; d++) {
    const dem = demands[d]!;
    const cls = classes.get(dem.class);
    if (!cls) throw new PathpilotError('PP_ERR_VALIDATION', `demand ${demandKey(dem.from, dem.to, dem.class)}: unknown class`);
    if (!(dem.mbps >= 0))
      throw new PathpilotError('PP_ERR_VALIDATION', `demand ${demandKey(dem.from, dem.to, dem.class)}: mbps must be ≥ 0`);
    const paths = (pathsByPair.get(`${dem.from}>${dem.to}`) ?? []).filter((p) => !input.pathAllowed || input.pathAllowed(dem, p));
    if (paths.length === 0)
      throw new PathpilotError('PP_ERR_VALIDATION', `demand ${demandKey(dem.from, dem.to, dem.class)}: no candidate paths`);
    const mean = dem.mean_mbps ?? dem.mbps;
    const cur = churnOn ? input.current!.get(demandKey(dem.from, dem.to, dem.class)) : undefined;
    const classWeight = 2 ** (lowest - cls.priority);
    const cols: number[] = [];
    for (const p of paths) {
      const hops = hopsOf(p);
      const q = quality.get(p.id);
      const score = q ? pathScore(q, policy.score) : 0;
      const usable = Number.isFinite(score);
      const risky = (input.risk?.get(`${p.id}|${cls.id}`) ?? 0) >= (options.risk_threshold ?? 0.5);
      const violates = risky || (q ? !usable || violatesSlo(q, cls) : false);
      const cost = mean * gbPerMbpsDay * pathCostPerGb.get(p.id)!;
      const penalty = dem.mbps * options.latency_penalty * classWeight * (usable ? score : 100);
      const col = colCost.length;
      colCost.push(cost + penalty + (violates ? sloPenalty * dem.mbps : 0));
      colLower.push(0);
      colUpper.push(1);
      indices.push(d);
      values.push(1);
      if (hasBudget) {
        indices.push(nd);
        values.push(cost);
      }
      for (const h of hops) {
        indices.push(-(1 + h.row));
        values.push(dem.mbps);
      }
      // Churn: reward min(x, x0) for paths carrying traffic now. When the path carries all of it (x0 = 1,
      // the usual case) min(x, 1) = x, so the reward goes straight on x; otherwise a row m − x ≤ 0 (encoded,
      // fixed up once link rows are counted) and a column m ≤ x0.
      const x0 = churnOn && cur ? (cur[p.id] ?? 0) : 0;
      if (x0 >= 1 - 1e-9) colCost[col] = colCost[col]! - policy.churn_penalty * dem.mbps;
      else if (x0 > 0) {
        indices.push(churnTag - churnRows.length);
        values.push(-1);
        churnRows.push({ x0: Math.min(1, x0), mbps: dem.mbps });
      }
      starts.push(indices.length);
      xIndex.push({ d, path: p, col, violates });
      cols.push(xIndex.length - 1);
    }
    dPaths.push(cols);
  }
  const nl = linkRowInfo.length;
  // Row layout: [0, nd) demands, then the budget row (if any), then directed links, then churn rows.
  const budgetRow = hasBudget ? nd : -1;
  const linkBase = nd + (hasBudget ? 1 : 0);
  const churnBase = linkBase + nl;
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k]!;
    if (r <= churnTag) indices[k] = churnBase + (churnTag - r);
    else if (r < 0) indices[k] = linkBase + (-r - 1);
  }
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  const inf = (await highs()).infinity;
  for (let d = 0; d < nd; d++) {
    rowLower.push(1);
    rowUpper.push(1);
  }
  if (hasBudget) {
    rowLower.push(-inf);
    rowUpper.push(options.budget_per_day!);
  }
  for (const h of linkRowInfo) {
    rowLower.push(-inf);
    rowUpper.push(h.link.capacity_mbps * policy.max_utilization);
  }
  const addCol = (cost: number, lo: number, hi: number, entries: [number, number][]) => {
    colCost.push(cost);
    colLower.push(lo);
    colUpper.push(hi);
    for (const [r, v] of entries) {
      indices.push(r);
      values.push(v);
    }
    starts.push(indices.length);
    return colCost.length - 1;
  };
  // No "unserved demand" column: the capacity slack alone keeps every model feasible (Σx = 1 always fits).
  // Capacity overflow s[l] (Mbit/s).
  const sCols: number[] = [];
  for (let l = 0; l < nl; l++) sCols.push(addCol(slackPenalty, 0, inf, [[linkBase + l, -1]]));
  const bCol = budgetRow >= 0 ? addCol(slackPenalty, 0, inf, [[budgetRow, -1]]) : -1;
  // Churn reward: m ≤ x (row m − x ≤ 0), 0 ≤ m ≤ current fraction; rows after the link rows.
  for (let k = 0; k < churnRows.length; k++) {
    rowLower.push(-inf);
    rowUpper.push(0);
    addCol(-policy.churn_penalty * churnRows[k]!.mbps, 0, churnRows[k]!.x0, [[churnBase + k, 1]]);
  }
  const numCols = colCost.length;
  const numRows = rowLower.length;
  const buildMs = performance.now() - t0;

  const h = await highs();
  const t1 = performance.now();
  const { status, colValue, objective } = h.withModel(
    {
      numCols,
      numRows,
      colCost: new Float64Array(colCost),
      colLower: new Float64Array(colLower),
      colUpper: new Float64Array(colUpper),
      rowLower: new Float64Array(rowLower),
      rowUpper: new Float64Array(rowUpper),
      matrix: {
        format: 'csc',
        numRows,
        numCols,
        starts: new Int32Array(starts),
        indices: new Int32Array(indices),
        values: new Float64Array(values),
      },
    },
    (model) => {
      model.options.set({
        output_flag: false,
        time_limit: options.time_limit_s ?? 60,
        ...(options.solver ? { solver: options.solver } : {}),
      });
      const run = model.run();
      const sol = run.modelStatus === 7 ? model.getSolution() : undefined;
      return { status: run.modelStatus, colValue: sol?.colValue, objective: sol ? model.getObjectiveValue() : NaN };
    },
  );
  const solveMs = performance.now() - t1;
  if (status !== 7 || !colValue) {
    throw new PathpilotError(
      'PP_ERR_INFEASIBLE',
      `the TE model did not solve to optimality (HiGHS model status ${status}${status === 13 ? ': time limit' : ''})`,
    );
  }

  // Read the plan back.
  const tol = 1e-6;
  const splits: TeSplit[] = [];
  const loads = new Float64Array(nl);
  const loadsByClass: Record<string, number>[] = linkRowInfo.map(() => ({}));
  let costPlan = 0;
  let costCurrent = 0;
  let currentKnown = input.current !== undefined;
  let moved = 0;
  let totalMbps = 0;
  const binding: TeBinding[] = [];
  for (let d = 0; d < nd; d++) {
    const dem = demands[d]!;
    const fractions: Record<string, number> = {};
    let violating = 0;
    const cur = input.current?.get(demandKey(dem.from, dem.to, dem.class));
    if (input.current && !cur) currentKnown = false;
    let same = 0;
    for (const xi of dPaths[d]!) {
      const { path, col, violates } = xIndex[xi]!;
      const v = Math.max(0, Math.min(1, colValue[col]!));
      const mean = dem.mean_mbps ?? dem.mbps;
      costCurrent += (cur?.[path.id] ?? 0) * mean * gbPerMbpsDay * pathCostPerGb.get(path.id)!;
      same += Math.min(v, cur?.[path.id] ?? 0);
      if (v <= tol) continue;
      fractions[path.id] = v;
      costPlan += v * mean * gbPerMbpsDay * pathCostPerGb.get(path.id)!;
      if (violates) violating += v;
      for (const hop of pathHops.get(path.id)!) {
        loads[hop.row]! += v * dem.mbps;
        const byClass = loadsByClass[hop.row]!;
        byClass[dem.class] = (byClass[dem.class] ?? 0) + v * dem.mbps;
      }
    }
    if (cur) moved += (1 - same) * dem.mbps;
    totalMbps += dem.mbps;
    const unserved = Math.max(0, 1 - Object.values(fractions).reduce((a, b) => a + b, 0));
    const key = demandKey(dem.from, dem.to, dem.class);
    if (violating > 1e-5 && dem.mbps > 0)
      binding.push({
        kind: 'slo',
        id: key,
        slack: violating * dem.mbps,
        message: `${key}: ${(violating * dem.mbps).toFixed(1)} Mbit/s must ride paths predicted to break the ${dem.class} SLO`,
      });
    splits.push({ from: dem.from, to: dem.to, class: dem.class, mbps: dem.mbps, fractions, unserved, slo_violating: violating });
  }
  const tight: string[] = [];
  const linkLoads: TeLinkLoad[] = linkRowInfo.map((hop, l) => {
    const key = `${hop.link.id}:${hop.from}>${hop.to}`;
    const over = colValue[sCols[l]!]!;
    if (over > 1e-4)
      binding.push({
        kind: 'capacity',
        id: key,
        slack: over,
        message: `${key}: demand exceeds ${Math.round(policy.max_utilization * 100)}% of ${hop.link.capacity_mbps} Mbit/s by ${over.toFixed(1)} Mbit/s`,
      });
    else if (loads[l]! >= hop.link.capacity_mbps * policy.max_utilization * 0.999) tight.push(key);
    return {
      link: hop.link.id,
      from_site: hop.from,
      to_site: hop.to,
      mbps: loads[l]!,
      capacity_mbps: hop.link.capacity_mbps,
      utilization: loads[l]! / hop.link.capacity_mbps,
      by_class: loadsByClass[l]!,
    };
  });
  if (bCol >= 0 && colValue[bCol]! > 1e-4)
    binding.push({
      kind: 'budget',
      id: 'budget',
      slack: colValue[bCol]!,
      message: `the plan needs $${colValue[bCol]!.toFixed(2)}/day over the daily budget of $${options.budget_per_day!.toFixed(2)}`,
    });
  const infeasible = binding.length > 0;
  return {
    status: infeasible ? 'infeasible' : 'optimal',
    objective,
    cost_per_day: costPlan,
    cost_per_day_current: currentKnown ? costCurrent : undefined,
    max_utilization: linkLoads.reduce((m, l) => Math.max(m, l.utilization), 0),
    churn: totalMbps > 0 && input.current ? moved / totalMbps : 0,
    splits,
    link_loads: linkLoads,
    binding,
    tight,
    stats: { variables: numCols, constraints: numRows, nonzeros: indices.length, build_ms: buildMs, solve_ms: solveMs },
  };
}

export interface SplitEvaluation {
  cost_per_day: number;
  /** Latency/loss penalty (same units as the LP objective). */
  penalty: number;
  max_utilization: number;
  /** Mbit/s over the utilization cap, summed over link directions. */
  overload_mbps: number;
  /** Mbit/s on paths predicted to break their class SLO. */
  slo_violating_mbps: number;
  /** Traffic-weighted 95th percentile of predicted path RTT per class. */
  rtt_p95_ms: Record<string, number>;
  /** Traffic-weighted mean failure risk of the paths used. */
  slo_risk: number;
}

/**
 * Scores any split (the current one, or a plan) with the LP's terms, so "is the new plan worth it" compares
 * like with like. Demands without an entry in `split` run on their primary path.
 */
export function evaluateSplit(input: TeInput, split: ReadonlyMap<string, Readonly<Record<string, number>>>): SplitEvaluation {
  const { topology, demands, quality, options } = input;
  const links = new Map(topology.links.map((l) => [l.id, l]));
  const classes = new Map(topology.classes.map((c) => [c.id, c]));
  const lowest = Math.max(...topology.classes.map((c) => c.priority));
  const byPair = new Map<string, PathConfig[]>();
  for (const p of topology.paths) {
    const k = `${p.from}>${p.to}`;
    byPair.set(
      k,
      [...(byPair.get(k) ?? []), p].sort((a, b) => a.priority - b.priority),
    );
  }
  const load = new Map<string, { mbps: number; cap: number }>();
  const rtts = new Map<string, { rtt: number; w: number }[]>();
  let cost = 0;
  let penalty = 0;
  let violating = 0;
  let riskSum = 0;
  let riskW = 0;
  for (const d of demands) {
    const cls = classes.get(d.class);
    const paths = byPair.get(`${d.from}>${d.to}`) ?? [];
    if (!cls || paths.length === 0) continue;
    const fr = split.get(demandKey(d.from, d.to, d.class)) ?? { [paths[0]!.id]: 1 };
    for (const p of paths) {
      const f = fr[p.id] ?? 0;
      if (f <= 0) continue;
      const hops = walk(p, links);
      const q = quality.get(p.id);
      const score = q ? pathScore(q, options.policy.score) : 0;
      const risk = input.risk?.get(`${p.id}|${cls.id}`) ?? 0;
      cost += f * (d.mean_mbps ?? d.mbps) * gbPerMbpsDay * hops.reduce((a, h) => a + h.link.cost_per_gb, 0);
      penalty += f * d.mbps * options.latency_penalty * 2 ** (lowest - cls.priority) * (Number.isFinite(score) ? score : 100);
      if (risk >= (options.risk_threshold ?? 0.5) || (q && (!Number.isFinite(score) || violatesSlo(q, cls))))
        violating += f * d.mbps;
      riskSum += risk * f * d.mbps;
      riskW += f * d.mbps;
      if (q) rtts.set(d.class, [...(rtts.get(d.class) ?? []), { rtt: q.rtt_p95_ms, w: f * d.mbps }]);
      for (const h of hops) {
        const key = `${h.link.id}:${h.from}>${h.to}`;
        const cur = load.get(key) ?? { mbps: 0, cap: h.link.capacity_mbps };
        cur.mbps += f * d.mbps;
        load.set(key, cur);
      }
    }
  }
  let maxU = 0;
  let over = 0;
  for (const l of load.values()) {
    maxU = Math.max(maxU, l.mbps / l.cap);
    over += Math.max(0, l.mbps - l.cap * options.policy.max_utilization);
  }
  const rtt_p95_ms: Record<string, number> = {};
  for (const [c, list] of rtts) {
    list.sort((a, b) => a.rtt - b.rtt);
    const total = list.reduce((a, b) => a + b.w, 0);
    let acc = 0;
    for (const e of list) {
      acc += e.w;
      if (acc >= total * 0.95) {
        rtt_p95_ms[c] = e.rtt;
        break;
      }
    }
  }
  return {
    cost_per_day: cost,
    penalty,
    max_utilization: maxU,
    overload_mbps: over,
    slo_violating_mbps: violating,
    rtt_p95_ms,
    slo_risk: riskW > 0 ? Math.min(1, riskSum / riskW) : 0,
  };
}

/** Fractions per demand key from a plan, for evaluateSplit. */
export function planSplit(result: TeResult): Map<string, Record<string, number>> {
  return new Map(result.splits.map((s) => [demandKey(s.from, s.to, s.class), s.fractions]));
}
