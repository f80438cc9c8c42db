import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/twin/rng.ts';
import { mstlModel } from './mstl.ts';
import type { StepSeries } from './point-models.ts';

const day = 96;
const week = 7 * day;

/** Weekday traffic with a daily wave, weekends at 60 %, noise (seeded). */
function weekly(days: number, seed = 3): StepSeries {
  const rng = new Rng(seed, 'mstl');
  const values: number[] = [];
  for (let i = 0; i < days * day; i++) {
    const weekend = Math.floor(i / day) % 7 >= 5 ? 0.6 : 1;
    values.push(weekend * (100 + 50 * Math.sin((2 * Math.PI * i) / day)) + 3 * rng.normal());
  }
  return { key: 'a>b', values, stepMs: 900_000, startMs: Date.UTC(2026, 0, 5) };
}

const forecastAt = (s: StepSeries, origin: number, horizons: number[]) =>
  mstlModel.forecast({ series: s, origin, day, week }, horizons);

describe('MSTL baseline', () => {
  it('carries the daily and the weekly cycle: a day ahead into a weekend it forecasts the weekend', () => {
    const s = weekly(21);
    // Origin Friday 00:00 of week 3, target Saturday 00:00 + 6 h (one day and six hours ahead).
    const origin = 14 * day + 4 * day;
    const h = day + 24;
    const f = forecastAt(s, origin, [1, 4, h]);
    const actual = (i: number) => s.values[i]!;
    expect(Math.abs(f.p50[2]! - actual(origin + h - 1))).toBeLessThan(10);
    // Seasonal naive of a day would have said Friday's level, 40 % higher.
    expect(Math.abs(actual(origin + h - 1 - day) - actual(origin + h - 1))).toBeGreaterThan(30);
    expect(Math.abs(f.p50[0]! - actual(origin))).toBeLessThan(10);
    // p90 above p50, wider further ahead.
    expect(f.p90[0]! - f.p50[0]!).toBeGreaterThan(0);
    expect(f.p90[2]! - f.p50[2]!).toBeGreaterThan(f.p90[0]! - f.p50[0]!);
  });

  it('reads only the history before the origin, bridges missing steps, and falls back on too little history', () => {
    const s = weekly(15);
    const origin = 10 * day;
    const before = forecastAt(s, origin, [4, day]);
    const changed = { ...s, values: s.values.map((v, i) => (i >= origin ? v * 5 : v)) };
    expect(forecastAt(changed, origin, [4, day])).toEqual(before);
    const holes = { ...s, values: s.values.map((v, i) => (i % 37 === 0 ? NaN : v)) };
    const f = forecastAt(holes, origin, [4, day]);
    for (const v of [...f.p50, ...f.p90]) expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(f.p50[0]! - before.p50[0]!)).toBeLessThan(5);
    // Under two days: the last value.
    expect(forecastAt(s, day, [4]).p50[0]).toBe(s.values[day - 1]);
  });
});
