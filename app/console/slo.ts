/**
 * How the console judges path quality against the class SLOs: the status of one path × class
 * measurement, and the (pair, class) SLOs that no path of the pair meets. Those are not breaches a
 * routing change can fix: the console lists each once ("SLO infeasible on every path", with the best
 * path) and does not count its paths as breaches.
 */
import type { PathQuality } from '../../analytics/queries/index.ts';
import type { ClassConfig } from '../../core/config/schema.ts';
import type { Topology } from '../../core/config/topology.ts';

export type Health = 'ok' | 'warn' | 'breach' | 'infeasible' | 'unknown';
/**
 * Worst first: a breach some path could avoid, then a path near its SLO, then an SLO no path meets
 * (listed once, nothing to act on per path), then healthy.
 */
export const healthRank: Record<Health, number> = { unknown: 0, ok: 1, infeasible: 2, warn: 3, breach: 4 };

type Measured = Pick<PathQuality, 'rtt_p95_max_ms' | 'loss_ratio' | 'jitter_ms' | 'windows'>;

/**
 * How far a measurement is from a class SLO: its worst figure as a multiple of the bound (> 1 breaks
 * it). The SLO's p95 holds for every 1-minute window, so the worst window's p95 is what is compared.
 */
export function sloRatio(q: Measured, cls: Pick<ClassConfig, 'slo'>): number {
  return Math.max(
    q.rtt_p95_max_ms / cls.slo.rtt_p95_ms,
    (q.loss_ratio * 100) / Math.max(cls.slo.loss_pct, 1e-9),
    q.jitter_ms / cls.slo.jitter_ms,
  );
}

/** SLO status of one path × class measurement: breach over the SLO, warn above 80 % of it. */
export function sloStatus(q: Measured, cls: ClassConfig | undefined): Health {
  if (!cls || q.windows === 0) return 'unknown';
  const worst = sloRatio(q, cls);
  return worst > 1 ? 'breach' : worst > 0.8 ? 'warn' : 'ok';
}

/** A (pair, class) whose every candidate path broke the class SLO over the window. */
export interface InfeasibleSlo {
  pair: [string, string];
  class: string;
  slo: ClassConfig['slo'];
  /** The path closest to the SLO and its figures over the window. */
  best: { path_id: string; rtt_p95_max_ms: number; loss_ratio: number; jitter_ms: number };
  /** Every candidate path of the pair (all in breach). */
  paths: string[];
}

type Judged = Measured & Pick<PathQuality, 'path_id' | 'class' | 'src_site' | 'dst_site'> & { status: Health };

/**
 * The (pair, class) groups in which every candidate path of the pair (topology.pathsFor) was measured
 * and is in breach, in pair and class order. A pair with a path unmeasured is not judged infeasible:
 * that path may meet the SLO.
 */
export function infeasibleSlos(rows: readonly Judged[], topology: Topology): InfeasibleSlo[] {
  const groups = new Map<string, Judged[]>();
  for (const r of rows) {
    const key = `${r.src_site}>${r.dst_site}|${r.class}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: InfeasibleSlo[] = [];
  for (const [, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const first = group[0]!;
    const cls = topology.classes.get(first.class);
    const candidates = topology.pathsFor(first.src_site, first.dst_site).map((p) => p.id);
    if (!cls || candidates.length === 0) continue;
    const byPath = new Map(group.map((r) => [r.path_id, r]));
    if (!candidates.every((id) => byPath.get(id)?.status === 'breach')) continue;
    const best = candidates.map((id) => byPath.get(id)!).reduce((a, b) => (sloRatio(b, cls) < sloRatio(a, cls) ? b : a));
    out.push({
      pair: [first.src_site, first.dst_site],
      class: first.class,
      slo: cls.slo,
      best: {
        path_id: best.path_id,
        rtt_p95_max_ms: best.rtt_p95_max_ms,
        loss_ratio: best.loss_ratio,
        jitter_ms: best.jitter_ms,
      },
      paths: candidates,
    });
  }
  return out;
}
