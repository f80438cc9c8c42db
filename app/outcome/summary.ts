/**
 * The outcome table every comparison prints (the demo, `whatif`, `bench:outcome`): egress cost, egress
 * volume, SLO-violation and SLO-infeasible pair-class minutes of pathpilot's run beside static routing
 * and the hindsight oracle, from the twin's ground truth.
 */
import type { TwinState } from '../../lab/twin/index.ts';

/** One figure for each of the three runs. */
export interface Compared {
  pathpilot: number;
  static: number;
  oracle: number;
}

export interface OutcomeTable {
  /** Transfer cost over the run, in the policy's currency (USD in every bundled config). */
  egress_cost_usd: Compared;
  egress_gb: Compared;
  /**
   * Minutes a (pair, class) demand broke its class SLO while some path of the pair could have met it,
   * summed over pairs and classes: two classes of one pair in breach for the same minute count two.
   */
  slo_violation_pair_class_minutes: Compared;
  /**
   * Minutes a (pair, class) demand had no path that could meet its class SLO (not even unloaded), summed
   * the same way: what no routing could have avoided, kept apart from the violations above.
   */
  slo_infeasible_pair_class_minutes: Compared;
}

/** Sum of a per-pair, per-class table of minutes. */
function pairClassTotal(byPair: Record<string, Record<string, number>>): number {
  let total = 0;
  for (const byClass of Object.values(byPair)) for (const m of Object.values(byClass)) total += m;
  return total;
}

/** SLO-violation minutes of a run, summed over every pair and class. */
export function sloPairClassMinutes(state: Pick<TwinState, 'slo_violation_minutes'>): number {
  return pairClassTotal(state.slo_violation_minutes);
}

/** SLO-infeasible minutes of a run (no path could meet the SLO), summed over every pair and class. */
export function sloInfeasiblePairClassMinutes(state: Pick<TwinState, 'slo_infeasible_minutes'>): number {
  return pairClassTotal(state.slo_infeasible_minutes);
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The table for three runs of the same scenario, seed and duration. */
export function outcomeTable(runs: { pathpilot: TwinState; static: TwinState; oracle: TwinState }): OutcomeTable {
  const three = (f: (s: TwinState) => number): Compared => ({
    pathpilot: f(runs.pathpilot),
    static: f(runs.static),
    oracle: f(runs.oracle),
  });
  return {
    egress_cost_usd: three((s) => round(s.egress.cost_total, 2)),
    egress_gb: three((s) => round(s.egress.gb_total, 1)),
    slo_violation_pair_class_minutes: three((s) => round(sloPairClassMinutes(s), 1)),
    slo_infeasible_pair_class_minutes: three((s) => round(sloInfeasiblePairClassMinutes(s), 1)),
  };
}

/**
 * Share of the oracle's saving over static routing that a run captured (1 = all of it); undefined when
 * the oracle saves nothing.
 */
export function capturedSaving(cost: Compared): number | undefined {
  const available = cost.static - cost.oracle;
  return available > 0 ? (cost.static - cost.pathpilot) / available : undefined;
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Change of `x` against `base` as a signed percentage ("-32.1%"), or "n/a" against zero. */
function change(x: number, base: number): string {
  return base === 0 ? 'n/a' : `${x <= base ? '-' : '+'}${fmt((Math.abs(x - base) / base) * 100, 1)}%`;
}

/**
 * The table as text: one column per run, pathpilot first, then its change against static routing and the
 * share of the oracle's saving it captured.
 */
export function renderOutcomeTable(t: OutcomeTable): string[] {
  const label = (text: string) => text.padEnd(34);
  const row = (name: string, v: Compared, digits: number) =>
    `${label(name)}${fmt(v.pathpilot, digits).padStart(14)}${fmt(v.static, digits).padStart(14)}${fmt(v.oracle, digits).padStart(14)}  ${change(v.pathpilot, v.static)}`;
  const captured = capturedSaving(t.egress_cost_usd);
  return [
    `${label('')}${'pathpilot'.padStart(14)}${'static'.padStart(14)}${'oracle'.padStart(14)}  vs static`,
    row('egress cost (USD)', t.egress_cost_usd, 2),
    row('egress (GB)', t.egress_gb, 0),
    row('SLO-violation pair-class minutes', t.slo_violation_pair_class_minutes, 0),
    row('SLO-infeasible pair-class minutes', t.slo_infeasible_pair_class_minutes, 0),
    `${label('share of the oracle saving')}${captured === undefined ? 'n/a (the oracle saves nothing)' : `${fmt(captured * 100, 0)}%`.padStart(14)}`,
  ];
}
