/**
 * MSTL-style baseline (Bandara, Hyndman & Bergmeir 2021, as statsforecast's `MSTL` runs it): the history is
 * split into a daily and, with two weeks of it, a weekly seasonal component plus a seasonally adjusted rest;
 * the rest is forecast by simple exponential smoothing with its smoothing constant tuned on the history, and
 * each seasonal component repeats its last cycle. The strongest simple statistical model for traffic with a
 * daily and a weekly rhythm, and the one users would reach for first (docs/internals.md says why it is
 * written here rather than taken from a library).
 *
 * Simplifications against STL, chosen for speed at one decomposition per series and origin: the trend inside
 * each pass is a centred moving average over one period (not loess), and each cycle-subseries is smoothed by
 * a moving average over 7 cycles (STL's default seasonal window). Missing steps are bridged by linear
 * interpolation for the decomposition only; nothing is carried into the data.
 */
import type { PointModel } from './point-models.ts';

/** Steps of history read at most (four weeks at 15-minute steps): older cycles change nothing visible. */
const MAX_HISTORY = 4 * 672;
/** Cycles either side of a cycle averaged into its seasonal value (a window of 7, as STL's default). */
const CYCLE_HALF_WINDOW = 3;
/** Decomposition passes (MSTL's default is two). */
const PASSES = 2;
const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1];
/** z of the 90th percentile of a normal distribution. */
const Z90 = 1.2816;

/** The finite history before `end` (at most MAX_HISTORY steps) with its gaps bridged linearly. */
function bridged(values: readonly number[], end: number): Float64Array | undefined {
  const from = Math.max(0, end - MAX_HISTORY);
  const x = new Float64Array(end - from);
  let prev = -1;
  for (let i = 0; i < x.length; i++) {
    const v = values[from + i]!;
    if (!Number.isFinite(v)) continue;
    x[i] = v;
    if (prev < 0) for (let j = 0; j < i; j++) x[j] = v;
    else for (let j = prev + 1; j < i; j++) x[j] = x[prev]! + ((v - x[prev]!) * (j - prev)) / (i - prev);
    prev = i;
  }
  if (prev < 0) return undefined;
  for (let j = prev + 1; j < x.length; j++) x[j] = x[prev]!;
  return x;
}

/**
 * Centred moving average over `p` steps. With `whole`, NaN where the window does not fit (the ends), so
 * the seasonal estimate never reads a trend that only sees one side of the day; else partial windows.
 */
function movingAverage(y: Float64Array, p: number, whole: boolean): Float64Array {
  const n = y.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + y[i]!;
  const half = Math.floor(p / 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = i - half;
    const b = i - half + p;
    if (whole && (a < 0 || b > n)) out[i] = NaN;
    else out[i] = (prefix[Math.min(n, b)]! - prefix[Math.max(0, a)]!) / (Math.min(n, b) - Math.max(0, a));
  }
  return out;
}

/**
 * The seasonal component of period `p` in `y`: each cycle-subseries of the detrended values (where the
 * centred trend is whole) averaged over 7 cycles around each cycle — the last cycles, whose trend is not
 * whole yet, take the latest 7 whole ones — then centred so a cycle sums to zero.
 */
function seasonal(y: Float64Array, p: number): Float64Array {
  const n = y.length;
  const trend = movingAverage(y, p, true);
  const out = new Float64Array(n);
  for (let slot = 0; slot < p && slot < n; slot++) {
    const cycles = Math.ceil((n - slot) / p);
    const known: number[] = [];
    for (let k = 0; k < cycles; k++) known.push(y[slot + k * p]! - trend[slot + k * p]!);
    let lastKnown = -1;
    for (let k = 0; k < cycles; k++) if (Number.isFinite(known[k])) lastKnown = k;
    for (let k = 0; k < cycles; k++) {
      const centre = Math.min(k, Math.max(0, lastKnown - CYCLE_HALF_WINDOW));
      let s = 0;
      let c = 0;
      for (let j = Math.max(0, centre - CYCLE_HALF_WINDOW); j <= Math.min(cycles - 1, centre + CYCLE_HALF_WINDOW); j++) {
        if (!Number.isFinite(known[j])) continue;
        s += known[j]!;
        c++;
      }
      out[slot + k * p] = c > 0 ? s / c : 0;
    }
  }
  // Centred by the whole-window level, held flat at the ends: the last cycle and the one the forecast
  // repeats lose the same constant, so the step from one to the other is the pattern's own.
  const level = movingAverage(out, p, true);
  const first = level.findIndex(Number.isFinite);
  if (first < 0) return out;
  let held = level[first]!;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(level[i])) held = level[i]!;
    out[i] = out[i]! - held;
  }
  return out;
}

/** Simple exponential smoothing with the constant of least one-step squared error; its last level and σ. */
function smoothed(a: Float64Array): { level: number; alpha: number; sigma: number } {
  let best = { level: a[0]!, alpha: 1, sigma: Infinity };
  for (const alpha of ALPHAS) {
    let level = a[0]!;
    let sse = 0;
    for (let i = 1; i < a.length; i++) {
      const e = a[i]! - level;
      sse += e * e;
      level += alpha * e;
    }
    const sigma = Math.sqrt(sse / Math.max(1, a.length - 1));
    if (sigma < best.sigma) best = { level, alpha, sigma };
  }
  return best;
}

export const mstlModel: PointModel = {
  name: 'mstl',
  baseline: true,
  forecast(ctx, horizons) {
    const { series, origin, day, week } = ctx;
    const x = bridged(series.values, origin);
    if (!x || x.length < 2 * day) {
      const last = x ? x[x.length - 1]! : 0;
      return { p50: horizons.map(() => last), p90: horizons.map(() => last) };
    }
    const periods = x.length >= 2 * week ? [day, week] : [day];
    const components: Float64Array[] = periods.map(() => new Float64Array(x.length));
    for (let pass = 0; pass < PASSES; pass++) {
      periods.forEach((p, pi) => {
        const others = x.map((v, i) => v - components.reduce((s, c, ci) => (ci === pi ? s : s + c[i]!), 0));
        components[pi] = seasonal(others, p);
      });
    }
    const adjusted = x.map((v, i) => v - components.reduce((s, c) => s + c[i]!, 0));
    const { level, alpha, sigma } = smoothed(adjusted);
    const n = x.length;
    const p50 = horizons.map((h) => {
      const t = n + h - 1;
      // Each component repeats its last observed cycle: the latest index before n in the target's phase.
      const season = components.reduce((s, c, pi) => {
        const p = periods[pi]!;
        return s + c[t - p * Math.ceil((t - (n - 1)) / p)]!;
      }, 0);
      return Math.max(0, level + season);
    });
    const p90 = horizons.map((h, i) => p50[i]! + Z90 * sigma * Math.sqrt(1 + (h - 1) * alpha * alpha));
    return { p50, p90 };
  },
};
