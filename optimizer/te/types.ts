import type { ClassConfig, LinkConfig, PathConfig, PolicyConfig } from '../../core/config/index.ts';
import type { PathQuality } from '../score.ts';

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
  /** Set when the plan came from the decomposed solver (optimizer/te/decompose.ts). */
  decomposition?: TeDecompositionStats;
}

/** How a decomposed plan was made: sub-problems, pieces, column generation, warm starts, repair. */
export interface TeDecompositionStats {
  /** Sub-problems, each with 1/k of every capacity (and of the budget); 0 when `cheapest_fits`. */
  k: number;
  /** Demands and the pieces they became (a large demand is split across several sub-problems). */
  demands: number;
  pieces: number;
  /**
   * Every demand on its cheapest path fitted every capacity and the budget: no constraint binds, so that is
   * the LP's optimum, and no sub-problem was made.
   */
  cheapest_fits: boolean;
  /** Pieces in the sub-problems' LPs (column generation: the others stayed on their cheapest path). */
  lp_pieces: number;
  /** Worker threads the sub-problems ran on (0: in this thread). */
  threads: number;
  /** Sub-problems whose input was unchanged since the last run (previous solution reused, not solved). */
  reused: number;
  /** Sub-problems whose first LP started from the previous run's simplex basis. */
  warm: number;
  /** The partition (which sub-problem each demand's pieces are in) came from the previous run. */
  partition_reused: boolean;
  /** LPs solved over all sub-problems (column generation rounds). */
  lps: number;
  /** Slowest LP solve, ms; and the sum over all LPs (CPU, roughly). */
  sub_solve_ms_max: number;
  sub_solve_ms_sum: number;
  /** Simplex iterations summed over sub-problems. */
  iterations: number;
  /** Link-direction overflow (Mbit/s, summed) of the merged plan before the repair pass, and after it. */
  overflow_before_repair: number;
  overflow_after_repair: number;
  /** Demands the repair pass re-optimised (0 when the merged plan fitted). */
  repaired_demands: number;
  repair_ms: number;
  wall_ms: number;
  /**
   * Wall time per phase, ms: index (candidates and objective terms), cheapest (does every demand's cheapest
   * path fit?), partition, subproblems (column generation: this thread's LP building and pricing, and the
   * waits for the workers' solves), merge, repair, assemble.
   */
  phases_ms: {
    index: number;
    cheapest: number;
    partition: number;
    subproblems: number;
    merge: number;
    repair: number;
    assemble: number;
  };
}

export const gbPerMbpsDay = 86_400 / 8 / 1000;

export function demandKey(from: string, to: string, cls: string): string {
  return `${from}>${to}|${cls}`;
}
