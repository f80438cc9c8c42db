import { quantile } from './metrics.ts';

/** A point + p90 forecast for the next `h` steps after the end of `history`. */
export interface QuantileForecast {
  p50: number[];
  p90: number[];
}

export interface SeriesContext {
  /** Step of the series, ms. */
  stepMs: number;
  /** Epoch ms of history[0]. */
  startMs: number;
}

export const dayMs = 86_400_000;
export const weekMs = 7 * dayMs;

export function periods(ctx: SeriesContext): { day: number; week: number } {
  return { day: Math.round(dayMs / ctx.stepMs), week: Math.round(weekMs / ctx.stepMs) };
}

/**
 * p90 from the empirical 90th percentile of the model's one-step residuals, widened with the horizon as the
 * error of a smoothed level accumulates (variance grows by α² per step for additive Holt-Winters).
 */
function upper(p50: number[], residuals: number[], alpha = 0): number[] {
  const sorted = residuals.filter(Number.isFinite).sort((a, b) => a - b);
  const q = sorted.length > 10 ? Math.max(0, quantile(sorted, 0.9)) : 0;
  return p50.map((v, i) => v + q * Math.sqrt(1 + i * alpha * alpha));
}

/** Seasonal naive: the value one season (default a day) before each target time. */
export function seasonalNaive(history: readonly number[], h: number, m: number): QuantileForecast {
  const n = history.length;
  const p50: number[] = [];
  for (let i = 0; i < h; i++) {
    let j = n - m + (i % m);
    while (j >= n) j -= m;
    p50.push(j >= 0 ? history[j]! : (history[n - 1] ?? 0));
  }
  const res: number[] = [];
  for (let t = Math.max(m, n - 4 * m); t < n; t++) res.push(history[t]! - history[t - m]!);
  return { p50, p90: upper(p50, res) };
}

export interface HoltWintersParams {
  alpha: number;
  beta: number;
  /** Daily seasonal smoothing. */
  gamma: number;
  /** Weekly seasonal smoothing (only with two weeks of history). */
  delta: number;
}

export const defaultHw: HoltWintersParams = { alpha: 0.2, beta: 0.005, gamma: 0.15, delta: 0.15 };

/**
 * Additive Holt-Winters with daily and weekly seasonality (Taylor's double-seasonal form): level, damped
 * trend, a daily and a weekly seasonal index. Falls back to one (daily) season with less than two weeks.
 */
export function holtWinters(
  history: readonly number[],
  h: number,
  ctx: SeriesContext,
  params: HoltWintersParams = defaultHw,
): QuantileForecast {
  const { day, week } = periods(ctx);
  const n = history.length;
  if (n < 2 * day) return seasonalNaive(history, h, Math.min(day, Math.max(1, n)));
  const useWeek = n >= 2 * week;
  const mean = (a: number, b: number) => {
    let s = 0;
    for (let i = a; i < b; i++) s += history[i]!;
    return s / Math.max(1, b - a);
  };
  // Initial indices: weekly profile from the first week over its mean; daily profile of the remainder.
  const sDay = new Float64Array(day);
  const sWeek = new Float64Array(useWeek ? week : 1);
  const initLen = useWeek ? week : day;
  const base = mean(0, initLen);
  if (useWeek) {
    for (let i = 0; i < week; i++) sWeek[i] = history[i]! - base;
  } else {
    for (let i = 0; i < day; i++) sDay[i] = history[i]! - base;
  }
  let level = base;
  let trend = 0;
  const phi = 0.98;
  const { alpha, beta, gamma, delta } = params;
  const residuals: number[] = [];
  for (let t = 0; t < n; t++) {
    const di = t % day;
    const wi = useWeek ? t % week : 0;
    const fitted = level + phi * trend + sDay[di]! + sWeek[wi]!;
    const y = history[t]!;
    if (t >= initLen) residuals.push(y - fitted);
    const prevLevel = level;
    level = alpha * (y - sDay[di]! - sWeek[wi]!) + (1 - alpha) * (level + phi * trend);
    trend = beta * (level - prevLevel) + (1 - beta) * phi * trend;
    sDay[di] = gamma * (y - level - sWeek[wi]!) + (1 - gamma) * sDay[di]!;
    if (useWeek) sWeek[wi] = delta * (y - level - sDay[di]!) + (1 - delta) * sWeek[wi]!;
  }
  const p50: number[] = [];
  let damp = 0;
  for (let i = 1; i <= h; i++) {
    damp += phi ** i;
    const t = n + i - 1;
    p50.push(Math.max(0, level + damp * trend + sDay[t % day]! + (useWeek ? sWeek[t % week]! : 0)));
  }
  return { p50, p90: upper(p50, residuals.slice(-4 * day), alpha) };
}
