/**
 * Cost forecasting scored on billing history: for every month the data covers from its first to its last
 * day, the month-end spend projected once 10 and 20 of its days are known (and nothing later) against what the
 * month really cost, per series (all spend, each provider, each service with spend on at least 10 days).
 * Absolute percentage error, averaged over series, beside the run-rate baseline (month-to-date ÷ days
 * elapsed × days in the month). `projectSpend` (report.ts: last 7 days' mean for the days left) is scored
 * as the product had it; pathpilot's projection weighs the days left by weekday.
 */
import type { DailyCost } from './data.ts';
import { projectSpend } from './report.ts';

const dayMs = 86_400_000;

/** A day's cost of one provider and service (`service` empty when the line names none). */
export interface ServiceDailyCost extends DailyCost {
  service: string;
}

export interface ProjectionModel {
  name: string;
  baseline: boolean;
  /**
   * Month-end spend from `daily`: every day's spend from the start of the data up to and excluding the
   * cut (index 0 = the first day; zero where nothing was billed), the month starting at index `monthStart`.
   */
  project(daily: readonly number[], monthStart: number, daysInMonth: number, firstDay: number): number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export const runRate: ProjectionModel = {
  name: 'run-rate',
  baseline: true,
  project(daily, monthStart, daysInMonth) {
    const mtd = daily.slice(monthStart);
    return mtd.length ? (sum(mtd) / mtd.length) * daysInMonth : 0;
  },
};

/** The product's projection until now, scored as it runs (report.ts `projectSpend`: the last 7 days' mean for the days left). */
export const lastWeek: ProjectionModel = {
  name: 'last-7-days',
  baseline: true,
  project(daily, _monthStart, _daysInMonth, firstDay) {
    const costs = daily.map((cost, i) => ({ day: firstDay + i * dayMs, provider: 'series', cost }));
    return projectSpend(costs, firstDay + daily.length * dayMs).get('series')?.projected ?? 0;
  },
};

/**
 * pathpilot: each day left gets the mean spend of its weekday over the last four weeks (days before the
 * cut) when three of them are known, else the month's run rate — weekday-shaped spend (weekend dips,
 * Monday batch jobs) is projected as it comes rather than at the average.
 */
export const weekdayProfile: ProjectionModel = {
  name: 'pathpilot-weekday',
  baseline: false,
  project(daily, monthStart, daysInMonth, firstDay) {
    const n = daily.length;
    const mtd = sum(daily.slice(monthStart));
    // Without three weeks of a weekday, the run rate: it uses every day of the month so far.
    const fallback = n > monthStart ? mtd / (n - monthStart) : 0;
    const byWeekday = new Map<number, number[]>();
    for (let i = Math.max(0, n - 28); i < n; i++) {
      const wd = new Date(firstDay + i * dayMs).getUTCDay();
      byWeekday.set(wd, [...(byWeekday.get(wd) ?? []), daily[i]!]);
    }
    let rest = 0;
    for (let i = n; i < monthStart + daysInMonth; i++) {
      const xs = byWeekday.get(new Date(firstDay + i * dayMs).getUTCDay());
      rest += xs && xs.length >= 3 ? sum(xs) / xs.length : fallback;
    }
    return mtd + rest;
  },
};

export const costModels: readonly ProjectionModel[] = [runRate, lastWeek, weekdayProfile];

export interface CostBacktest {
  months: string[];
  series: number;
  cuts: number[];
  /** model → cut day → mean absolute percentage error (0.1 = 10 %) over series and months. */
  mape: Record<string, Record<number, number>>;
  /** Per series and month: actual and each model's projection at each cut. */
  detail: { series: string; month: string; actual: number; projected: Record<string, Record<number, number>> }[];
}

export function costBacktest(
  rows: readonly ServiceDailyCost[],
  options: { cuts?: readonly number[]; minDays?: number; models?: readonly ProjectionModel[] } = {},
): CostBacktest {
  const cuts = [...(options.cuts ?? [10, 20])];
  const models = options.models ?? costModels;
  const minDays = options.minDays ?? 10;
  if (rows.length === 0) throw new Error('no billing rows');
  const first = Math.min(...rows.map((r) => r.day));
  const last = Math.max(...rows.map((r) => r.day));
  const days = Math.round((last - first) / dayMs) + 1;
  const series = new Map<string, number[]>();
  const add = (key: string, r: ServiceDailyCost) => {
    let xs = series.get(key);
    if (!xs) series.set(key, (xs = new Array<number>(days).fill(0)));
    const i = Math.round((r.day - first) / dayMs);
    xs[i] = xs[i]! + r.cost;
  };
  for (const r of rows) {
    add('all', r);
    add(`provider:${r.provider}`, r);
    if (r.service) add(`service:${r.service}`, r);
  }
  // Whole months inside the data.
  const months: { start: number; length: number; label: string }[] = [];
  for (let d = new Date(first); d.getTime() <= last;) {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    if (start >= first && end - dayMs <= last)
      months.push({ start, length: Math.round((end - start) / dayMs), label: new Date(start).toISOString().slice(0, 7) });
    d = new Date(end);
  }
  const detail: CostBacktest['detail'] = [];
  const errs = new Map<string, Map<number, number[]>>(models.map((m) => [m.name, new Map(cuts.map((c) => [c, []]))]));
  for (const [key, daily] of series) {
    for (const m of months) {
      const s = Math.round((m.start - first) / dayMs);
      const month = daily.slice(s, s + m.length);
      if (month.filter((v) => v !== 0).length < minDays && key !== 'all') continue;
      const actual = sum(month);
      if (!(actual > 0)) continue;
      const projected: Record<string, Record<number, number>> = {};
      for (const model of models) {
        projected[model.name] = {};
        for (const c of cuts) {
          const p = model.project(daily.slice(0, s + c), s, m.length, first);
          projected[model.name]![c] = p;
          errs
            .get(model.name)!
            .get(c)!
            .push(Math.abs(p - actual) / actual);
        }
      }
      detail.push({ series: key, month: m.label, actual, projected });
    }
  }
  const mape: CostBacktest['mape'] = {};
  for (const [name, byCut] of errs) {
    mape[name] = {};
    for (const [c, xs] of byCut) mape[name]![c] = xs.length ? sum(xs) / xs.length : NaN;
  }
  return { months: months.map((m) => m.label), series: new Set(detail.map((d) => d.series)).size, cuts, mape, detail };
}
