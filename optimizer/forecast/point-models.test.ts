import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/twin/rng.ts';
import { originBacktest } from './origins.ts';
import {
  baselinePointModels,
  medianCombination,
  pathpilotSelection,
  persistence,
  ridgeModel,
  seasonalNaiveDay,
  validatedSelection,
  type PointModel,
  type StepSeries,
} from './point-models.ts';

const step = 900_000;
const day = 96;
// Monday 2026-01-05: ten training days end on Thursday the 15th, the test crosses a weekend.
const start = Date.UTC(2026, 0, 5);

/** Office-hours traffic: a daily wave, weekends at 55 % of weekdays, a wandering level and noise. */
function officeTraffic(key: string, seed: number): StepSeries {
  const rng = new Rng(seed, key);
  let level = 100;
  const values: number[] = [];
  for (let i = 0; i < 14 * day; i++) {
    level = Math.max(40, level + 0.2 * rng.normal());
    const weekday = (Math.floor(i / day) + 1) % 7; // 0 = Sunday
    const weekend = weekday === 0 || weekday === 6 ? 0.55 : 1;
    values.push(level * weekend * (1 + 0.4 * Math.sin((2 * Math.PI * (i - 24)) / day)) + 2 * rng.normal());
  }
  return { key, values, stepMs: step, startMs: start };
}

describe('ridge-profile', () => {
  it('learns the weekday levels from training: a day ahead across a weekend it beats persistence and seasonal naive', () => {
    const data = ['a>b', 'b>c', 'c>a', 'a>c'].map((k, i) => officeTraffic(k, i + 1));
    const r = originBacktest(data, {
      trainEndMs: start + 10 * 86_400_000,
      originEveryMs: 3_600_000,
      horizonsMs: [3_600_000, 86_400_000],
      models: [persistence, seasonalNaiveDay, ridgeModel()],
    });
    const ridge = r.scores['ridge-profile']!['1d']!.mase;
    expect(ridge).toBeLessThan(0.7 * r.scores['persistence']!['1d']!.mase);
    expect(ridge).toBeLessThan(0.7 * r.scores['seasonal-naive-day']!['1d']!.mase);
    expect(r.scores['ridge-profile']!['1h']!.mase).toBeLessThan(r.best_baseline['1h']!.mase);
  });

  it('the validated selection falls back to persistence for a horizon its training part cannot validate', () => {
    const data = ['a>b', 'b>c', 'c>a'].map((k, i) => officeTraffic(k, i + 1));
    const selection = validatedSelection([ridgeModel(), ...baselinePointModels]);
    // Three days of training: a day ahead cannot be scored on the last third, an hour ahead can.
    selection.fit!(
      data,
      data.map(() => 3 * day),
      day,
      7 * day,
      [4, day],
    );
    expect(selection.chosen.get(day)).toBe('persistence');
    expect(selection.chosen.get(4)).not.toBeUndefined();
  });

  it('the median combination takes the middle forecast and the middle p90 spread of its members', () => {
    const fixed = (name: string, p50: number, spread: number): PointModel => ({
      name,
      baseline: true,
      forecast: (_ctx, horizons) => ({ p50: horizons.map(() => p50), p90: horizons.map(() => p50 + spread) }),
    });
    const m = medianCombination('c', [fixed('a', 10, 1), fixed('b', 30, 9), fixed('c', 12, 4)]);
    const f = m.forecast({ series: officeTraffic('a>b', 1), origin: 5 * day, day, week: 7 * day }, [1, day]);
    expect(f.p50).toEqual([12, 12]);
    expect(f.p90).toEqual([16, 16]);
  });

  it("pathpilot's selection defaults to the combination where a horizon cannot be told apart, keeps the ridge where it validates", () => {
    const data = ['a>b', 'b>c', 'c>a'].map((k, i) => officeTraffic(k, i + 1));
    const short = pathpilotSelection();
    short.fit!(
      data,
      data.map(() => 3 * day),
      day,
      7 * day,
      [4, day],
    );
    expect(short.chosen.get(day)).toBe('combination');
    const long = pathpilotSelection();
    long.fit!(
      data,
      data.map(() => 10 * day),
      day,
      7 * day,
      [1, 4, day],
    );
    expect(long.chosen.get(1)).toBe('ridge-profile');
    // A clean weekly rhythm: last week's value is shown better than the combination across series.
    expect(long.chosen.get(day)).toBe('seasonal-naive-week');
  });
});
