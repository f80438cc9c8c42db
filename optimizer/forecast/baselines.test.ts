import { describe, expect, it } from 'vitest';
import { holtWinters, seasonalNaive } from './baselines.ts';
import { mase } from './metrics.ts';
import { syntheticTraffic } from './synthetic.ts';

describe('baselines', () => {
  it('seasonal naive repeats the last season', () => {
    const f = seasonalNaive([1, 2, 3, 4, 5, 6], 4, 3);
    expect(f.p50).toEqual([4, 5, 6, 4]);
    for (let i = 0; i < 4; i++) expect(f.p90[i]).toBeGreaterThanOrEqual(f.p50[i]!);
  });
  it('Holt-Winters with daily and weekly seasonality beats daily seasonal naive a day ahead on weekly traffic', () => {
    const [s] = syntheticTraffic(1, { days: 22, seed: 3 });
    const ctx = { stepMs: s!.stepMs, startMs: s!.startMs };
    const day = 288;
    let better = 0;
    // Origins at the start of four different days, including a weekday after a weekend.
    for (let d = 17; d <= 20; d++) {
      const hist = s!.values.slice(0, d * day);
      const actual = s!.values.slice(d * day, (d + 1) * day);
      const hw = holtWinters(hist, day, ctx);
      const sn = seasonalNaive(hist, day, day);
      if (mase(actual, hw.p50, hist, day) < mase(actual, sn.p50, hist, day)) better++;
      const covered = actual.filter((v, i) => v <= hw.p90[i]!).length / actual.length;
      expect(covered).toBeGreaterThan(0.6);
    }
    expect(better).toBeGreaterThanOrEqual(3);
  });
});
