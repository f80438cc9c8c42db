/**
 * Which class SLOs the lab network cannot meet at all: a (pair, class) whose every candidate path,
 * quiet (no traffic, no incidents), breaks the class SLO on the twin's model (region RTT tables, link
 * kinds, per-hop overhead). No routing can fix those; `pathpilot config --check` reports them once
 * instead of letting a run count them as SLO-violation minutes for its whole length.
 */
import type { RootConfig } from '../../core/config/index.ts';
import { PathpilotError } from '../../core/errors.ts';
import { meetsSlo, type PathQuality, type TwinClass } from './links.ts';
import { quietPathQuality } from './model.ts';
import type { Scenario } from './scenario.ts';

export interface InfeasibleSlo {
  from: string;
  to: string;
  cls: string;
  slo: TwinClass['slo'];
  /** The path closest to the SLO (smallest worst ratio of figure to bound) and its quiet quality. */
  best: { path: string; quality: PathQuality };
}

/** How far a quality is from an SLO: its worst figure as a multiple of the bound (> 1 breaks it). */
function sloRatio(q: PathQuality, slo: TwinClass['slo']): number {
  return Math.max(q.rttP95Ms / slo.rtt, q.loss / Math.max(slo.loss, 1e-9), q.jitterMs / slo.jitter);
}

/**
 * The (pair, class) SLOs no path can meet on the lab model of `root` under `scenario` (its site
 * placements and link RTTs), in path order; undefined when the twin cannot model the network (a site
 * with no measured region, a pair without an RTT row): without lab data there is nothing to judge.
 */
export function infeasibleSlos(root: RootConfig, scenario: Scenario): InfeasibleSlo[] | undefined {
  let quiet: ReturnType<typeof quietPathQuality>;
  try {
    quiet = quietPathQuality(root, scenario);
  } catch (err) {
    if (err instanceof PathpilotError) return undefined;
    throw err;
  }
  const { paths, classes, quality } = quiet;
  const byPair = new Map<string, number[]>();
  paths.forEach((p, i) => {
    const key = `${p.from}>${p.to}`;
    byPair.set(key, [...(byPair.get(key) ?? []), i]);
  });
  const out: InfeasibleSlo[] = [];
  for (const candidates of byPair.values()) {
    for (const cls of classes) {
      if (candidates.some((p) => meetsSlo(quality[p]!, cls.slo))) continue;
      const best = candidates.reduce((a, b) => (sloRatio(quality[b]!, cls.slo) < sloRatio(quality[a]!, cls.slo) ? b : a));
      const P = paths[best]!;
      out.push({ from: P.from, to: P.to, cls: cls.id, slo: cls.slo, best: { path: P.id, quality: quality[best]! } });
    }
  }
  return out;
}

/**
 * One line per infeasible SLO, naming the best path and each figure of it that breaks the SLO:
 * "SLO infeasible: aws-use1→ali-hk realtime: best path aws-use1.ali-hk.2 p95 ~219 ms vs SLO 200 ms".
 */
export function describeInfeasible(x: InfeasibleSlo): string {
  const q = x.best.quality;
  const figures: string[] = [];
  if (q.rttP95Ms > x.slo.rtt) figures.push(`p95 ~${ms(q.rttP95Ms)} ms vs SLO ${x.slo.rtt} ms`);
  if (q.loss > x.slo.loss) figures.push(`loss ~${pct(q.loss)} vs SLO ${pct(x.slo.loss)}`);
  if (q.jitterMs > x.slo.jitter) figures.push(`jitter ~${ms(q.jitterMs)} ms vs SLO ${x.slo.jitter} ms`);
  return `SLO infeasible: ${x.from}→${x.to} ${x.cls}: best path ${x.best.path} ${figures.join(', ')}`;
}

const pct = (ratio: number) => `${Number((ratio * 100).toFixed(2))}%`;
/** Whole milliseconds, one decimal below 10 ms (a jitter bound of 0.5 ms against ~0.3 ms). */
const ms = (x: number) => (x >= 10 ? String(Math.round(x)) : x.toFixed(1));
