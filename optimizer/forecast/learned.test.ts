import { describe, expect, it } from 'vitest';
import { QuantileMlp } from './learned.ts';
import { syntheticTraffic } from './synthetic.ts';
import { backtest } from './backtest.ts';

describe('quantile MLP (tfjs)', () => {
  it('trains, predicts p90 ≥ p50, and reloads to identical predictions', async () => {
    const series = syntheticTraffic(3, { days: 8, seed: 9 }).map((s) => ({
      values: s.values,
      ctx: { stepMs: s.stepMs, startMs: s.startMs },
    }));
    const mlp = await QuantileMlp.train(series, { maxHorizon: 24, epochs: 3, samplesPerSeries: 300 });
    const f = mlp.predict(series[0]!.values, 24, series[0]!.ctx);
    expect(f.p50).toHaveLength(24);
    for (let i = 0; i < 24; i++) expect(f.p90[i]).toBeGreaterThanOrEqual(f.p50[i]!);
    const saved = await mlp.save();
    const again = await QuantileMlp.load(JSON.parse(JSON.stringify(saved)));
    const g = again.predict(series[0]!.values, 24, series[0]!.ctx);
    for (let i = 0; i < 24; i++) expect(g.p50[i]).toBeCloseTo(f.p50[i]!, 4);
    mlp.dispose();
    again.dispose();
  }, 60_000);

  it('backtest scores every model on rolling origins and refuses series that are too short', async () => {
    const series = syntheticTraffic(4, { days: 6, seed: 4 }).map((s) => ({
      key: s.key,
      values: s.values,
      ctx: { stepMs: s.stepMs, startMs: s.startMs },
    }));
    const r = await backtest(series, { origins: 4, originEveryMs: 6 * 3_600_000, epochs: 3 });
    expect(r.models).toEqual(['persistence', 'seasonal-naive', 'holt-winters', 'mlp-quantile']);
    for (const s of r.series) {
      expect(r.models).toContain(s.selected);
      for (const m of r.models) for (const h of ['1h', '1d']) expect(Number.isFinite(s.test[m]![h]!.mase)).toBe(true);
    }
    // Ranked against the best baseline per horizon: the baseline with the lowest mean test MASE.
    for (const h of ['1h', '1d']) {
      const v = r.vsBestBaseline[h]!;
      const means = ['persistence', 'seasonal-naive', 'holt-winters'].map(
        (m) => r.series.reduce((a, s) => a + s.test[m]![h]!.mase, 0) / r.series.length,
      );
      expect(v.best).toBeCloseTo(Math.min(...means), 9);
      expect(v.selected).toBeCloseTo(r.series.reduce((a, s) => a + s.test[s.selected]![h]!.mase, 0) / r.series.length, 9);
    }
    const short = [{ key: 'short', values: series[0]!.values.slice(0, 600), ctx: series[0]!.ctx }];
    await expect(backtest(short, { learned: false })).rejects.toThrow(/too few/);
  }, 90_000);
});
