import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/twin/rng.ts';
import { originBacktest } from './origins.ts';
import {
  baselinePointModels,
  persistence,
  ridgeModel,
  seasonalNaiveDay,
  validatedSelection,
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
});
