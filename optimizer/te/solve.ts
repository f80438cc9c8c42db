import type { PathConfig } from '../../core/config/index.ts';
import { PathpilotError } from '../../core/errors.ts';
import { pathScore, violatesSlo } from '../score.ts';
import { highs } from './highs.ts';
import {
  addSolution,
  assemble,
  buildLp,
  dirCapacities,
  fingerprint,
  indexTe,
  runLp,
  walk,
  wholePart,
  type LpBasis,
} from './model.ts';
import { demandKey, gbPerMbpsDay, type TeInput, type TeResult } from './types.ts';

export type {
  TeBinding,
  TeDecompositionStats,
  TeDemand,
  TeInput,
  TeLinkLoad,
  TeOptions,
  TeResult,
  TeSplit,
  TeTopology,
} from './types.ts';
export { demandKey, gbPerMbpsDay } from './types.ts';

/** The exact LP's last basis, for the next run's warm start (see TeSolver). */
export interface ExactWarmStart {
  structure?: string;
  basis?: LpBasis;
  /** The last solve started from the previous basis. */
  warm?: boolean;
}

/**
 * The traffic-engineering LP (HiGHS), over every demand at once. Variables x[d,p] ∈ [0,1] split each demand d
 * across its candidate paths. Rows: Σp x[d,p] = 1; per directed link Σ mbps·x − s ≤ cap·max_util (s: overflow,
 * penalised); optional budget Σ cost·x − b ≤ budget; churn m[d,p] ≤ x[d,p], m ≤ current (model.ts builds it).
 * Objective: $/day transfer cost + class-weighted path score + SLO-violation penalty − churn reward + slack.
 * Any slack in the optimum makes the plan `infeasible` and names the binding constraints: never a silent fallback.
 * Large instances go through `solveTeAuto` (optimizer/te/decompose.ts), which decomposes them.
 */
export async function solveTe(input: TeInput, warm?: ExactWarmStart): Promise<TeResult> {
  const t0 = performance.now();
  const ix = indexTe(input);
  const lp = buildLp(ix, wholePart(ix.nd), dirCapacities(ix, 1), input.options.budget_per_day, {
    time_limit_s: input.options.time_limit_s ?? 60,
    solver: input.options.solver,
  });
  let structure: string | undefined;
  if (warm) {
    // Same demands, paths and churn rows as last time: start from the last optimal basis.
    structure = fingerprint([lp.job.starts, lp.job.indices], [lp.job.numRows, lp.job.numCols]);
    if (warm.structure === structure && warm.basis) lp.job.basis = warm.basis;
    lp.job.wantBasis = true;
  }
  const buildMs = performance.now() - t0;
  const out = runLp(await highs(), lp.job);
  if (warm) {
    warm.structure = out.basis ? structure : undefined;
    warm.basis = out.basis;
    warm.warm = out.warm;
  }
  if (out.status !== 7 || !out.colValue) {
    throw new PathpilotError(
      'PP_ERR_INFEASIBLE',
      `the TE model did not solve to optimality (HiGHS model status ${out.status}${out.status === 13 ? ': time limit' : ''})`,
    );
  }
  const x = ix.plan;
  addSolution(ix, lp, out.colValue, x);
  return assemble(ix, x, {
    objective: out.objective,
    stats: {
      variables: lp.job.numCols,
      constraints: lp.job.numRows,
      nonzeros: lp.nonzeros,
      build_ms: buildMs,
      solve_ms: out.solve_ms,
    },
  });
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
