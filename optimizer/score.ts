import type { ClassConfig, PolicyConfig } from '../core/config/index.ts';

/** Predicted or measured quality of one path (p95 RTT, loss percent, jitter). */
export interface PathQuality {
  rtt_p95_ms: number;
  loss_pct: number;
  jitter_ms: number;
  /** Free bandwidth in Mbit/s, for the optional bandwidth term. */
  available_mbps?: number;
}

export type ScoreWeights = PolicyConfig['score'];

/** Loss at or above this percentage makes a path unusable whatever its other figures. */
export const unusableLossPct = 50;

/**
 * score = α·min(RTT/100 ms, 10) + β·loss + γ·min(jitter/10 ms, 5) (+ δ·100/available Mbit/s), lower is
 * better; loss is a fraction (0–1) so β = 100 makes 1% loss weigh like 100 ms. Unusable paths score Infinity.
 */
export function pathScore(q: PathQuality, w: ScoreWeights): number {
  if (!Number.isFinite(q.rtt_p95_ms) || q.loss_pct >= unusableLossPct) return Number.POSITIVE_INFINITY;
  let s = w.rtt * Math.min(q.rtt_p95_ms / 100, 10) + w.loss * (q.loss_pct / 100) + w.jitter * Math.min(q.jitter_ms / 10, 5);
  if (w.bandwidth > 0 && q.available_mbps !== undefined) s += w.bandwidth * Math.min(100 / Math.max(q.available_mbps, 1), 10);
  return s;
}

export function violatesSlo(q: PathQuality, cls: ClassConfig): boolean {
  return q.rtt_p95_ms > cls.slo.rtt_p95_ms || q.loss_pct > cls.slo.loss_pct || q.jitter_ms > cls.slo.jitter_ms;
}

export interface ChallengerVerdict {
  switch: boolean;
  reason: string;
}

/**
 * Hysteresis for path changes: a challenger must beat the current path's score by `challenger_factor`
 * unless the current path violates the class SLO (then any usable, better path wins).
 */
export function challengerWins(
  current: PathQuality,
  challenger: PathQuality,
  cls: ClassConfig,
  w: ScoreWeights,
): ChallengerVerdict {
  const sc = pathScore(current, w);
  const sn = pathScore(challenger, w);
  if (!Number.isFinite(sn)) return { switch: false, reason: 'challenger is unusable' };
  if (violatesSlo(current, cls) || !Number.isFinite(sc)) {
    return sn < sc || !Number.isFinite(sc)
      ? { switch: true, reason: `current path breaks the ${cls.id} SLO` }
      : { switch: false, reason: 'current path breaks its SLO but the challenger is no better' };
  }
  if (sn * w.challenger_factor <= sc) return { switch: true, reason: `challenger scores ${sn.toFixed(2)} vs ${sc.toFixed(2)}` };
  return { switch: false, reason: `challenger does not beat the current path by ${w.challenger_factor}×` };
}
