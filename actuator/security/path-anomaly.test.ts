import { describe, expect, it } from 'vitest';
import type { PathMinuteQuality } from '../../analytics/queries/types.ts';
import { pathShifts } from './path-anomaly.ts';

const now = Date.UTC(2026, 11, 6, 12);
const minutes = (path: string, baseline: number, recent: number, baseMinutes = 120): PathMinuteQuality[] =>
  Array.from({ length: baseMinutes + 10 }, (_, i) => {
    const t = now - (baseMinutes + 10 - i) * 60_000;
    return {
      t,
      path_id: path,
      class: 'bulk',
      rtt_p95_max_ms: t >= now - 15 * 60_000 ? recent : baseline,
      loss_ratio: 0,
      jitter_ms: 1,
      windows: 6,
      sent: 60,
    };
  });

describe('path RTT shifts', () => {
  it('flags a path whose recent RTT jumped well above its day, and nothing else', () => {
    const got = pathShifts(
      [...minutes('a', 20, 80), ...minutes('b', 20, 26), ...minutes('c', 4, 9), ...minutes('d', 40, 20)],
      now,
    );
    // b: +30 % only; c: ×2.25 but +5 ms (small paths jitter); d: faster.
    expect(got).toEqual([{ path: 'a', baseline_ms: 20, recent_ms: 80 }]);
  });

  it('does not judge without an hour of baseline or any recent minute', () => {
    expect(pathShifts(minutes('a', 20, 80, 30), now)).toEqual([]);
    expect(
      pathShifts(
        minutes('a', 20, 80).filter((m) => m.t < now - 15 * 60_000),
        now,
      ),
    ).toEqual([]);
  });
});
