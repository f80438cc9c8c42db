/**
 * Sudden shifts in a path's metrics (route security): the median per-minute p95 RTT of the last
 * `recentMin` minutes against the median of the day before. A path a proposal would move traffic onto
 * whose RTT jumped (a re-route upstream, a hijack, a failing underlay) is flagged, and the proposal is held
 * for a human, however it would otherwise be approved.
 */
import type { PathMinuteQuality } from '../../analytics/queries/types.ts';

export interface PathShift {
  path: string;
  baseline_ms: number;
  recent_ms: number;
}

export interface ShiftOptions {
  /** The recent window, minutes (default 15). */
  recentMin?: number;
  /** Recent over baseline at least this (default 1.5)… */
  factor?: number;
  /** …and at least this many ms more (default 10): small paths' jitter is no shift. */
  minDeltaMs?: number;
  /** Minutes of baseline needed to judge (default 60). */
  minBaseline?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function pathShifts(minutes: readonly PathMinuteQuality[], now: number, o: ShiftOptions = {}): PathShift[] {
  const recentFrom = now - (o.recentMin ?? 15) * 60_000;
  const byPath = new Map<string, { base: number[]; recent: number[] }>();
  for (const m of minutes) {
    if (!(m.windows > 0) || !Number.isFinite(m.rtt_p95_max_ms)) continue;
    const e = byPath.get(m.path_id) ?? { base: [], recent: [] };
    (m.t >= recentFrom ? e.recent : e.base).push(m.rtt_p95_max_ms);
    byPath.set(m.path_id, e);
  }
  const out: PathShift[] = [];
  for (const [path, e] of byPath) {
    if (e.base.length < (o.minBaseline ?? 60) || e.recent.length === 0) continue;
    const baseline = median(e.base);
    const recent = median(e.recent);
    if (recent >= baseline * (o.factor ?? 1.5) && recent - baseline >= (o.minDeltaMs ?? 10))
      out.push({ path, baseline_ms: Math.round(baseline * 10) / 10, recent_ms: Math.round(recent * 10) / 10 });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
