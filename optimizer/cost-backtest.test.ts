import { describe, expect, it } from 'vitest';
import { costBacktest, type ServiceDailyCost } from './cost-backtest.ts';

const dayMs = 86_400_000;

/** Weekday-shaped spend (100 on weekdays, 20 at weekends) from 2026-01-01 to 2026-03-31. */
function history(bump?: { from: number; factor: number }): ServiceDailyCost[] {
  const rows: ServiceDailyCost[] = [];
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2026, 3, 1); t += dayMs) {
    const weekend = [0, 6].includes(new Date(t).getUTCDay());
    const cost = (weekend ? 20 : 100) * (bump && t >= bump.from ? bump.factor : 1);
    rows.push({ day: t, cost, provider: 'aws', service: 'AmazonEC2' });
  }
  return rows;
}

describe('cost forecasting backtest', () => {
  it('scores month-end projections on day 10 and 20 against the run rate, over whole months only', () => {
    const r = costBacktest(history());
    expect(r.months).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(r.series).toBe(3); // all, provider:aws, service:AmazonEC2
    const feb = r.detail.find((d) => d.series === 'all' && d.month === '2026-02')!;
    expect(feb.actual).toBe(20 * 100 + 8 * 20);
    // With four weeks behind it, the weekday projection is exact; the run rate is off by the weekday mix.
    expect(feb.projected['pathpilot-weekday']![10]).toBeCloseTo(feb.actual, 6);
    expect(Math.abs(feb.projected['run-rate']![10]! - feb.actual)).toBeGreaterThan(10);
    for (const c of [10, 20]) expect(r.mape['pathpilot-weekday']![c]!).toBeLessThan(r.mape['run-rate']![c]!);
  });

  it('projects from the days before the cut only', () => {
    const cut = Date.UTC(2026, 2, 21);
    const a = costBacktest(history());
    const b = costBacktest(history({ from: cut, factor: 3 }));
    const march = (x: typeof a) => x.detail.find((d) => d.series === 'all' && d.month === '2026-03')!;
    // The day-10 and day-20 projections know March 1–10 and 1–20: the tripled spend from the 21st changes neither.
    expect(march(b).projected['pathpilot-weekday']![10]).toBe(march(a).projected['pathpilot-weekday']![10]);
    expect(march(b).projected['run-rate']![20]).toBe(march(a).projected['run-rate']![20]);
    expect(march(b).actual).toBeGreaterThan(march(a).actual);
  });
});
