import type { RootConfig } from '../core/config/index.ts';
import { PathpilotError } from '../core/errors.ts';
import { describeInfeasible, infeasibleSlos } from '../lab/twin/feasibility.ts';
import { loadScenario } from '../lab/twin/scenario.ts';
import { twinConfigSchema } from '../lab/twin/config.ts';

/**
 * `config --check`'s structural SLO check: one line per (pair, class) whose class SLO no candidate path
 * can meet on the lab twin's model of this network (the twin knows RTTs from its region tables). Such
 * an SLO breaks under any routing, so it is reported here once rather than counted as violations for
 * a whole run. Says nothing when the twin cannot model the network (a site it cannot place, a scenario
 * it cannot read or that brings its own topology): without lab data there is no figure to quote.
 */
export function sloFeasibilityWarnings(root: RootConfig): string[] {
  // The lab section's own errors are reported by the component check; the twin's default otherwise.
  const twin = twinConfigSchema.safeParse((root.lab as { twin?: unknown } | undefined)?.twin ?? {});
  if (!twin.success) return [];
  let scenario;
  try {
    scenario = loadScenario(twin.data.scenario).scenario;
  } catch (err) {
    if (err instanceof PathpilotError) return [];
    throw err;
  }
  if (scenario.topology) return [];
  return (infeasibleSlos(root, scenario) ?? []).map(describeInfeasible);
}
