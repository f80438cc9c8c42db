/**
 * Models scored at single points h steps ahead (the origin protocol, origins.ts): the simple baselines every
 * report ranks against — persistence, seasonal naive (day, week), drift, Holt-Winters — and the model that
 * has to beat the best of them: a per-horizon ridge regression over the series' own recent level and its
 * time-of-day profile, fitted across all series at once on their training part.
 *
 * Missing steps are NaN and stay missing: a model reads the finite values it has (persistence: the last one
 * observed; the profile: the median of the days that have the slot) and never sees a zero or a carried
 * value the data did not hold.
 */
import { holtWinters, type QuantileForecast } from './baselines.ts';
import { quantile, seasonalScale } from './metrics.ts';

/** A series as the origin protocol sees it: regular steps from `startMs`, NaN where a step is missing. */
export interface StepSeries {
  key: string;
  values: readonly number[];
  stepMs: number;
  startMs: number;
}

/** What a model is told at an origin: the history before it (index < `origin`) and the horizons in steps. */
export interface OriginContext {
  series: StepSeries;
  /** Index of the origin (the first forecast step) in `series.values`; only earlier values may be read. */
  origin: number;
  /** Steps per day and per week. */
  day: number;
  week: number;
  /** Only p50 is needed (model selection): baselines skip their residual-based p90. */
  pointOnly?: boolean;
}

export interface PointModel {
  name: string;
  /** A baseline: a model users could run without pathpilot; reports rank against the best one. */
  baseline: boolean;
  /** Learns from the training part (values before `trainEnd`, an index per series). */
  fit?(series: readonly StepSeries[], trainEnd: readonly number[], day: number, week: number, horizons: readonly number[]): void;
  /** p50 and p90 for each horizon `h` (the value at index origin + h − 1). */
  forecast(ctx: OriginContext, horizons: readonly number[]): QuantileForecast;
}

/** The last finite value before `end` (and its index), or undefined. */
function lastFinite(values: readonly number[], end: number): { v: number; i: number } | undefined {
  for (let i = end - 1; i >= 0; i--) if (Number.isFinite(values[i])) return { v: values[i]!, i };
  return undefined;
}

/** The value `m` steps (or a multiple of `m`) before target index `t`, among indices < `end`. */
function seasonalValue(values: readonly number[], t: number, m: number, end: number): number | undefined {
  for (let j = t - m; j >= 0; j -= m) if (j < end && Number.isFinite(values[j])) return values[j]!;
  return undefined;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Profiles per series array (values are never changed in place): index t → profile of t, NaN when none. */
const profiles = new WeakMap<readonly number[], { day: number; p: Float64Array }>();

/**
 * Median of the finite values at `t − k·day` (k = 1…7) before `end`: the slot's typical value. Those
 * values all lie before `end` whenever `t − day < end` (every horizon up to a day), so the profile of every
 * t is computed once per series and read from there.
 */
function profileAt(values: readonly number[], t: number, day: number, end: number): number | undefined {
  if (t - day < end && t < values.length + day) {
    let cached = profiles.get(values);
    if (!cached || cached.day !== day) {
      const p = new Float64Array(values.length + day);
      for (let i = 0; i < p.length; i++) p[i] = slowProfile(values, i, day, i) ?? NaN;
      profiles.set(values, (cached = { day, p }));
    }
    const v = cached.p[t]!;
    return Number.isNaN(v) ? undefined : v;
  }
  return slowProfile(values, t, day, end);
}

function slowProfile(values: readonly number[], t: number, day: number, end: number, days = 7): number | undefined {
  const xs: number[] = [];
  for (let j = t - day, k = 0; j >= 0 && k < days; j -= day) {
    if (j >= end) continue;
    k++;
    if (Number.isFinite(values[j])) xs.push(values[j]!);
  }
  if (xs.length === 0) return undefined;
  xs.sort((a, b) => a - b);
  return quantile(xs, 0.5);
}

/** p90 as p50 plus a per-horizon residual quantile (scaled by the series level when `scale` is given). */
function withUpper(p50: number[], q90: readonly number[], scale = 1): QuantileForecast {
  return { p50, p90: p50.map((v, i) => v + Math.max(0, q90[i] ?? 0) * scale) };
}

/**
 * Residual quantiles of a baseline on the series' own history before the origin (the last `lookback`
 * origins' errors at each horizon): its p90 is what it missed by before, not a guess.
 */
function empiricalUpper(
  ctx: OriginContext,
  horizons: readonly number[],
  p50: number[],
  point: (end: number, h: number) => number | undefined,
  lookback = 96,
): QuantileForecast {
  const { values } = ctx.series;
  const q90 = horizons.map((h) => {
    const errs: number[] = [];
    for (let end = ctx.origin - h; end > ctx.origin - h - lookback && end > 0; end--) {
      const actual = values[end + h - 1];
      const f = point(end, h);
      if (actual !== undefined && Number.isFinite(actual) && f !== undefined) errs.push(actual - f);
    }
    errs.sort((a, b) => a - b);
    return errs.length >= 10 ? quantile(errs, 0.9) : 0;
  });
  return withUpper(p50, q90);
}

function baselineModel(
  name: string,
  point: (values: readonly number[], end: number, h: number, ctx: OriginContext) => number | undefined,
): PointModel {
  return {
    name,
    baseline: true,
    forecast(ctx, horizons) {
      const values = ctx.series.values;
      const at = (end: number, h: number) => point(values, end, h, ctx);
      const fallback = lastFinite(values, ctx.origin)?.v ?? 0;
      const p50 = horizons.map((h) => at(ctx.origin, h) ?? fallback);
      return ctx.pointOnly ? { p50, p90: p50 } : empiricalUpper(ctx, horizons, p50, at);
    },
  };
}

/** Persistence: the last value observed before the origin, for every horizon. */
export const persistence = baselineModel('persistence', (values, end) => lastFinite(values, end)?.v);

/** Seasonal naive (day): the value one day (or whole days) before the target. */
export const seasonalNaiveDay = baselineModel('seasonal-naive-day', (values, end, h, ctx) =>
  seasonalValue(values, end + h - 1, ctx.day, end),
);

/** Seasonal naive (week): the value one week before the target; a day before while there is no week yet. */
export const seasonalNaiveWeek = baselineModel(
  'seasonal-naive-week',
  (values, end, h, ctx) => seasonalValue(values, end + h - 1, ctx.week, end) ?? seasonalValue(values, end + h - 1, ctx.day, end),
);

/** Drift: the last value plus the mean change per step over the history (a straight line from first to last). */
export const drift = baselineModel('drift', (values, end, h) => {
  const last = lastFinite(values, end);
  let first: { v: number; i: number } | undefined;
  for (let i = 0; i < end; i++)
    if (Number.isFinite(values[i])) {
      first = { v: values[i]!, i };
      break;
    }
  if (!last || !first) return undefined;
  const slope = last.i > first.i ? (last.v - first.v) / (last.i - first.i) : 0;
  return last.v + slope * (h + (end - 1 - last.i));
});

/** Holt-Winters (double seasonal, baselines.ts) on the history with missing steps bridged by the day before. */
export const holtWintersModel: PointModel = {
  name: 'holt-winters',
  baseline: true,
  forecast(ctx, horizons) {
    const { values, stepMs, startMs } = ctx.series;
    const hist: number[] = [];
    for (let i = 0; i < ctx.origin; i++) {
      const v = values[i]!;
      hist.push(Number.isFinite(v) ? v : (seasonalValue(values, i, ctx.day, i) ?? hist[i - 1] ?? 0));
    }
    const hMax = Math.max(...horizons);
    const f = holtWinters(hist, hMax, { stepMs, startMs });
    return { p50: horizons.map((h) => f.p50[h - 1]!), p90: horizons.map((h) => f.p90[h - 1]!) };
  },
};

/** Prefix sums of the finite values and of their count, per series array: a window mean in O(1). */
const prefixes = new WeakMap<readonly number[], { sum: Float64Array; count: Float64Array }>();

/** Steps either side of a slot averaged into its smoothed value (±30 minutes at 15-minute steps). */
const SMOOTH = 2;

/** Mean of the finite values in [t − SMOOTH, t + SMOOTH] that lie before `end`, or NaN. */
function smoothedAt(values: readonly number[], t: number, end: number): number {
  let p = prefixes.get(values);
  if (!p) {
    const sum = new Float64Array(values.length + 1);
    const count = new Float64Array(values.length + 1);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ok = Number.isFinite(v);
      sum[i + 1] = sum[i]! + (ok ? v : 0);
      count[i + 1] = count[i]! + (ok ? 1 : 0);
    }
    prefixes.set(values, (p = { sum, count }));
  }
  const a = Math.max(0, t - SMOOTH);
  const b = Math.min(end, t + SMOOTH + 1, values.length);
  if (b <= a) return NaN;
  const n = p.count[b]! - p.count[a]!;
  return n > 0 ? (p.sum[b]! - p.sum[a]!) / n : NaN;
}

/**
 * The diurnal swing ahead as the past days saw it: for each of the last 7 days, the smoothed value at the
 * target's slot minus the smoothed value at the last observed step's slot, that day. The median of those
 * changes is what the next h steps usually add to the last value (traffic ramps up every morning); the
 * smoothing and the median keep one noisy step or one odd day out of it. Reads only values before `end`.
 */
function seasonalSwing(
  values: readonly number[],
  end: number,
  t: number,
  lastIndex: number,
  day: number,
): { median: number; yesterday: number; profile: number } | undefined {
  const changes: number[] = [];
  const slots: number[] = [];
  for (let d = 1; d <= 7 && lastIndex - d * day - SMOOTH >= 0; d++) {
    const a = smoothedAt(values, t - d * day, end);
    const c = a - smoothedAt(values, lastIndex - d * day, end);
    if (Number.isFinite(c)) changes.push(c);
    if (Number.isFinite(a)) slots.push(a);
  }
  if (changes.length === 0 || slots.length === 0) return undefined;
  const yesterday = changes[0]!;
  changes.sort((a, b) => a - b);
  slots.sort((a, b) => a - b);
  return { median: quantile(changes, 0.5), yesterday, profile: quantile(slots, 0.5) };
}

/** Median over the last 7 days of the smoothed value at slot `t` (values before `end` only), or NaN. */
function smoothedProfile(values: readonly number[], t: number, end: number, day: number): number {
  const xs: number[] = [];
  for (let d = 1; d <= 7 && t - d * day + SMOOTH >= 0; d++) {
    const v = smoothedAt(values, t - d * day, end);
    if (Number.isFinite(v)) xs.push(v);
  }
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  return quantile(xs, 0.5);
}

/** Steps over which the offset from the smoothed profile is averaged (six hours at 15-minute steps). */
const OFFSET_STEPS = 24;

/** Smoothed profiles of past steps per series array: index i → its profile, NaN where none. */
const pastProfiles = new WeakMap<readonly number[], { day: number; p: Float64Array }>();

/**
 * The smoothed profile at a step i before the origin. It reads values up to i − day + SMOOTH only, all
 * before i, so it does not depend on the origin and is computed once per series.
 */
function pastProfile(values: readonly number[], i: number, day: number): number {
  let cached = pastProfiles.get(values);
  if (!cached || cached.day !== day) {
    const p = new Float64Array(values.length);
    for (let j = 0; j < p.length; j++) p[j] = smoothedProfile(values, j, j, day);
    pastProfiles.set(values, (cached = { day, p }));
  }
  return cached.p[i]!;
}

/**
 * The smoothed profile at the target plus the mean offset of the last OFFSET_STEPS observed values from
 * it: the deseasonalised level MSTL or Holt-Winters would carry forward, with the noise of single steps
 * averaged out — what wins over persistence where a series is noisy around a steady daily shape.
 */
function profileLevel(values: readonly number[], end: number, t: number, day: number): number {
  const target = smoothedProfile(values, t, end, day);
  if (!Number.isFinite(target)) return NaN;
  let sum = 0;
  let n = 0;
  for (let i = Math.max(0, end - OFFSET_STEPS); i < end; i++) {
    const y = values[i]!;
    if (!Number.isFinite(y)) continue;
    const p = pastProfile(values, i, day);
    if (!Number.isFinite(p)) continue;
    sum += y - p;
    n++;
  }
  return n > 0 ? target + sum / n : NaN;
}

/**
 * What the ridge model reads at an origin for horizon h: changes from the last value observed, divided by
 * the series' scale (its training mean) — the mean of the last 4 and a smoothed level (noise on the last
 * step), the time-of-day profile's change from the last step to the target (the diurnal swing ahead), the
 * profile at the target plus the recent offset from it, the same interval's change a day and a week ago,
 * the pull back to the profile — and a constant. The model predicts the change, so with every weight at
 * zero it is persistence, and a level shift (a weekend, a new customer) moves it with the data.
 */
function features(
  values: readonly number[],
  end: number,
  h: number,
  day: number,
  week: number,
  scale: number,
  weekdayRatio: (t: number, from: number) => number = () => 1,
): { x: number[]; last: number } | undefined {
  const last = lastFinite(values, end);
  if (!last) return undefined;
  const recent: number[] = [];
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) if (Number.isFinite(values[i])) recent.push(values[i]!);
  const t = end + h - 1;
  const pTarget = profileAt(values, t, day, end) ?? last.v;
  const pLast = profileAt(values, last.i, day, end) ?? last.v;
  const change = (m: number) => {
    const a = seasonalValue(values, t, m, end);
    const b = seasonalValue(values, last.i, m, end);
    return a !== undefined && b !== undefined ? a - b : undefined;
  };
  const dayChange = change(day) ?? pTarget - pLast;
  const swing = seasonalSwing(values, end, t, last.i, day);
  const level6h = profileLevel(values, end, t, day);
  // The same swing a week ago, smoothed: tomorrow's Saturday dip seen on last Friday→Saturday.
  const weekSwing =
    last.i - week - SMOOTH >= 0 ? smoothedAt(values, t - week, end) - smoothedAt(values, last.i - week, end) : NaN;
  const weekChange = change(week) ?? dayChange;
  // Smoothed level and smoothed offset from the profile over the last 12 steps (what Holt-Winters tracks).
  let level: number | undefined;
  let offset: number | undefined;
  for (let i = Math.max(0, end - 12); i < end; i++) {
    const y = values[i]!;
    if (!Number.isFinite(y)) continue;
    level = level === undefined ? y : 0.7 * level + 0.3 * y;
    const p = profileAt(values, i, day, end);
    if (p !== undefined) offset = offset === undefined ? y - p : 0.7 * offset + 0.3 * (y - p);
  }
  const x = [
    mean(recent) - last.v,
    (level ?? last.v) - last.v,
    pTarget - pLast,
    pTarget + (offset ?? 0) - last.v,
    dayChange,
    weekChange,
    pTarget - last.v,
    swing?.median ?? pTarget - pLast,
    swing?.yesterday ?? pTarget - pLast,
    (swing?.profile ?? pTarget) - last.v,
    Number.isFinite(weekSwing) ? weekSwing : (swing?.yesterday ?? pTarget - pLast),
    (Number.isFinite(level6h) ? level6h : pTarget + (offset ?? 0)) - last.v,
    (weekdayRatio(t, last.i) - 1) * last.v,
  ].map((v) => v / scale);
  x.push(1);
  return { x, last: last.v };
}

/** Features per sample, the constant included. */
const FEATURES = 14;
/** Training samples per horizon at most (1,000 series × 10 days is 960,000 origins). */
const MAX_SAMPLES = 250_000;
/**
 * Origins fitted from this many days in (or as early as leaves two days of them): the seasonal features read
 * up to 7 days back, and samples from the first days, where they rest on one or two days, teach weights that
 * no longer hold once a week is there.
 */
const FIT_FROM_DAYS = 3;

/** Training samples of one horizon: features (FEATURES per sample, flat) and scaled targets. */
class Samples {
  x: number[] = [];
  y: number[] = [];
  get length(): number {
    return this.y.length;
  }
  add(x: readonly number[], target: number): void {
    this.x.push(...x);
    this.y.push(target);
  }
}

/**
 * Least absolute deviations by iteratively reweighted least squares: the fit the MASE scores (mean
 * |error|), so the occasional burst or outage step in the training part pulls the weights far less than
 * under squares. Each pass solves the weighted ridge normal equations with weights 1 / |residual|.
 */
function fitLad(samples: Samples, lambda: number, iterations = 12): number[] {
  const k = FEATURES;
  const n = samples.length;
  const weight = new Float64Array(n).fill(1);
  let w = new Array<number>(k).fill(0);
  for (let it = 0; it < iterations; it++) {
    const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const xty = new Array<number>(k).fill(0);
    for (let s = 0; s < n; s++) {
      const o = s * k;
      const ws = weight[s]!;
      const ys = samples.y[s]!;
      for (let i = 0; i < k; i++) {
        const xi = samples.x[o + i]! * ws;
        xty[i] = xty[i]! + xi * ys;
        const row = xtx[i]!;
        for (let j = 0; j <= i; j++) row[j] = row[j]! + xi * samples.x[o + j]!;
      }
    }
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) xtx[i]![j] = xtx[j]![i]!;
    w = solveRidge(xtx, xty, lambda);
    for (let s = 0; s < n; s++) weight[s] = 1 / Math.max(LAD_FLOOR, Math.abs(samples.y[s]! - predict(samples.x, s * k, w)));
  }
  return w;
}

/** Residuals below this (in units of the series mean) weigh as much as this in the LAD passes. */
const LAD_FLOOR = 1e-3;

function predict(x: readonly number[], at: number, w: readonly number[]): number {
  let v = 0;
  for (let i = 0; i < w.length; i++) v += x[at + i]! * w[i]!;
  return v;
}

/** Solves (XᵀX + λI) w = Xᵀy by Gaussian elimination with partial pivoting (a handful of features). */
function solveRidge(xtx: number[][], xty: number[], lambda: number): number[] {
  const n = xty.length;
  const a = xtx.map((row, i) => [...row.map((v, j) => v + (i === j && i < n - 1 ? lambda : 0)), xty[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const d = a[c]![c]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / d;
      if (f !== 0) for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[n]! / row[i]!));
}

/** UTC weekday (0 = Sunday) of step i of a series. */
const weekdayOf = (s: StepSeries, i: number) => Math.floor((s.startMs + i * s.stepMs) / 86_400_000 + 4) % 7;

/**
 * Per UTC weekday, the mean level of that day over the series' training mean, averaged over the series
 * (NaN for a weekday the training part never saw a half day of). Weekends and quiet weekdays are what a
 * day-ahead forecast misses most; the levels come from the training data, so a network whose quiet days
 * are not Saturday and Sunday (another timezone, another calendar) teaches its own.
 */
function weekdayLevels(series: readonly StepSeries[], trainEnd: readonly number[], day: number): number[] {
  const sum = new Array<number>(7).fill(0);
  const count = new Array<number>(7).fill(0);
  series.forEach((s, si) => {
    const daySum = new Array<number>(7).fill(0);
    const dayN = new Array<number>(7).fill(0);
    let total = 0;
    let n = 0;
    for (let i = 0; i < trainEnd[si]!; i++) {
      const v = s.values[i]!;
      if (!Number.isFinite(v)) continue;
      const wd = weekdayOf(s, i);
      daySum[wd] = daySum[wd]! + v;
      dayN[wd] = dayN[wd]! + 1;
      total += v;
      n++;
    }
    if (!(n > 0 && total > 0)) return;
    for (let wd = 0; wd < 7; wd++) {
      if (dayN[wd]! < day / 2) continue;
      sum[wd] = sum[wd]! + daySum[wd]! / dayN[wd]! / (total / n);
      count[wd] = count[wd]! + 1;
    }
  });
  return sum.map((v, wd) => (count[wd]! > 0 ? v / count[wd]! : NaN));
}

/**
 * Ridge regression per horizon over `features`, fitted on every series' training part at once (one model
 * for all series: the level and profile terms carry what is particular to each). The p90 adds the
 * horizon's 90th-percentile scaled residual on the later third of training, fitted on the earlier part.
 */
export function ridgeModel(lambda = 1): PointModel {
  const weights = new Map<number, number[]>();
  const upper = new Map<number, number>();
  const scales = new Map<string, number>();
  const scaleOf = (s: StepSeries, end: number) => {
    let v = scales.get(s.key);
    if (v === undefined) {
      const xs = s.values.slice(0, end).filter(Number.isFinite);
      v = Math.max(1e-9, Math.abs(mean(xs)) || 1);
      scales.set(s.key, v);
    }
    return v;
  };
  let levels: number[] = [];
  /** The target weekday's level over the last step's (1 where either is unknown). */
  const ratioFor = (s: StepSeries) => (t: number, from: number) => {
    const r = levels[weekdayOf(s, t)]! / levels[weekdayOf(s, from)]!;
    return Number.isFinite(r) && r > 0 ? r : 1;
  };
  return {
    name: 'ridge-profile',
    baseline: false,
    fit(series, trainEnd, day, week, horizons) {
      scales.clear();
      levels = weekdayLevels(series, trainEnd, day);
      // Many long series: every stride-th origin, so the fit stays within its time budget.
      const total = series.reduce((a, s, si) => a + Math.max(0, trainEnd[si]! - day), 0);
      const stride = Math.max(1, Math.ceil(total / MAX_SAMPLES));
      for (const h of horizons) {
        // Origins from a day in (the profile needs a day), targets inside the training part. Those whose
        // target lies in the first two thirds fit the early weights, those from an origin in the last
        // third calibrate the p90 out of sample against them; all of them fit the weights used.
        const full = new Samples();
        const early = new Samples();
        const late = new Samples();
        series.forEach((s, si) => {
          const end = trainEnd[si]!;
          const scale = scaleOf(s, end);
          const cut = Math.floor((end * 2) / 3);
          const from = Math.max(day, Math.min(FIT_FROM_DAYS * day, end - h + 1 - 2 * day));
          for (let o = from + (si % stride); o < end - h + 1; o += stride) {
            const y = s.values[o + h - 1]!;
            if (!Number.isFinite(y)) continue;
            const f = features(s.values, o, h, day, week, scale, ratioFor(s));
            if (!f) continue;
            const target = (y - f.last) / scale;
            full.add(f.x, target);
            if (o < cut - h + 1) early.add(f.x, target);
            if (o >= cut) late.add(f.x, target);
          }
        });
        const w = fitLad(early, lambda);
        const res = late.y.map((target, i) => target - predict(late.x, i * FEATURES, w));
        res.sort((a, b) => a - b);
        upper.set(h, res.length >= 10 ? quantile(res, 0.9) : 0);
        weights.set(h, fitLad(full, lambda));
      }
    },
    forecast(ctx, horizons) {
      const { series, origin, day, week } = ctx;
      const scale = scaleOf(series, origin);
      const fallback = lastFinite(series.values, origin)?.v ?? 0;
      const p50 = horizons.map((h) => {
        const w = weights.get(h);
        const f = features(series.values, origin, h, day, week, scale, ratioFor(series));
        if (!w || !f) return fallback;
        return Math.max(0, f.last + predict(f.x, 0, w) * scale);
      });
      return withUpper(
        p50,
        horizons.map((h) => upper.get(h) ?? 0),
        scale,
      );
    },
  };
}

export const baselinePointModels: readonly PointModel[] = [
  persistence,
  seasonalNaiveDay,
  seasonalNaiveWeek,
  drift,
  holtWintersModel,
];

/** Median of a few numbers (sorts them in place). */
function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

/**
 * Equal-weight median of the members' forecasts, per horizon (p90: the combined p50 plus the median of the
 * members' p90 − p50 spreads). Forecast combination is the most reliable gain in forecasting practice (the M
 * competitions): the median of a learned model, Holt-Winters and persistence is never far from the best of
 * them and drops the one that is off. `fit` fits the members unless they are fitted elsewhere (`fitted`).
 */
export function medianCombination(name: string, members: readonly PointModel[], fitted = false): PointModel {
  return {
    name,
    baseline: false,
    fit(series, trainEnd, day, week, horizons) {
      if (!fitted) for (const m of members) m.fit?.(series, trainEnd, day, week, horizons);
    },
    forecast(ctx, horizons) {
      const fs = members.map((m) => m.forecast(ctx, horizons));
      const p50 = horizons.map((_, i) => median(fs.map((f) => f.p50[i]!)));
      if (ctx.pointOnly) return { p50, p90: p50 };
      const spread = horizons.map((_, i) => median(fs.map((f) => Math.max(0, f.p90[i]! - f.p50[i]!))));
      return { p50, p90: p50.map((v, i) => v + spread[i]!) };
    },
  };
}

/**
 * A single candidate replaces the combination only when its per-series validated MASE is lower than the
 * combination's by this many standard errors of the mean difference (a paired test across series).
 */
const SIGNIFICANT = 2;
/** Independent validation errors per series under which a horizon's plain ranking is not trusted. */
const MIN_INDEPENDENT = 10;

/**
 * pathpilot's forecast: per horizon, the candidate with the lowest MASE out of sample — fitted on the first
 * two thirds of each series' training part and scored on the last third (an origin every `validateEvery`
 * steps) — then refitted on all of it. With `combine` (a subset of the candidates), their median
 * (`medianCombination`) is a candidate too and the default: a single model replaces it only where the
 * validation shows it better across series (paired, SIGNIFICANT standard errors), since a few validation
 * days a day ahead cannot tell close models apart, and where a horizon cannot be validated at all. Without
 * `combine`, persistence is that default. Where the ridge model cannot beat the best baseline (little
 * history, no daily pattern), the baseline is what users get, not a worse learned guess.
 */
export function validatedSelection(
  candidates: readonly PointModel[],
  validateEvery = 4,
  combine: readonly PointModel[] = [],
): PointModel & { chosen: ReadonlyMap<number, string> } {
  const chosen = new Map<number, PointModel>();
  const all = combine.length ? [...candidates, medianCombination('combination', combine, true)] : [...candidates];
  const fallback = combine.length ? all[all.length - 1] : candidates.find((m) => m === persistence);
  const members = combine.map((m) => candidates.indexOf(m));
  if (members.some((i) => i < 0)) throw new Error('every combined model must be a candidate');
  return {
    name: 'pathpilot',
    baseline: false,
    /** The model chosen per horizon (steps), by name. */
    get chosen(): ReadonlyMap<number, string> {
      return new Map([...chosen].map(([h, m]) => [h, m.name]));
    },
    fit(series, trainEnd, day, week, horizons) {
      const cut = trainEnd.map((e) => Math.floor((e * 2) / 3));
      for (const m of candidates) m.fit?.(series, cut, day, week, horizons);
      // Per candidate and horizon, each series' validated MASE (NaN where the series has none).
      const err = all.map(() => horizons.map(() => series.map(() => NaN)));
      series.forEach((s, si) => {
        const scale = seasonalScale(s.values, cut[si]!, day);
        if (!(scale > 0)) return;
        const per = all.map(() => horizons.map(() => ({ sum: 0, n: 0 })));
        for (let o = Math.max(cut[si]!, day); o < trainEnd[si]!; o += validateEvery) {
          const ctx = { series: s, origin: o, day, week, pointOnly: true };
          const fs = candidates.map((m) => m.forecast(ctx, horizons).p50);
          // The combination from its members' forecasts already made (each member is a candidate).
          if (combine.length) fs.push(horizons.map((_, hi) => median(members.map((ci) => fs[ci]![hi]!))));
          fs.forEach((p50, mi) => {
            horizons.forEach((h, hi) => {
              const t = o + h - 1;
              const y = s.values[t];
              if (t >= trainEnd[si]! || y === undefined || !Number.isFinite(y)) return;
              per[mi]![hi]!.sum += Math.abs(y - p50[hi]!) / scale;
              per[mi]![hi]!.n++;
            });
          });
        }
        per.forEach((byH, mi) =>
          byH.forEach((e, hi) => {
            if (e.n > 0) err[mi]![hi]![si] = e.sum / e.n;
          }),
        );
      });
      horizons.forEach((h, hi) => {
        const finite = (mi: number) => err[mi]![hi]!.filter(Number.isFinite);
        const score = (mi: number) => {
          const xs = finite(mi);
          return xs.length ? mean(xs) : Infinity;
        };
        let best = 0;
        for (let mi = 1; mi < all.length; mi++) if (score(mi) < score(best)) best = mi;
        // Too short a training part to validate this horizon on half the series (a day ahead on two days
        // of data): nothing is shown better than the default, so the default it is.
        const validated = Math.min(...all.map((_, mi) => finite(mi).length));
        let pick = validated < Math.max(1, series.length / 2) && fallback ? fallback : all[best]!;
        // Errors h steps ahead from origins less than h apart overlap: the validation window holds about
        // (window − h + 1) / h independent ones per series. With few of them (a day ahead on three days) a
        // single model must beat the combination clearly across series to replace it.
        const windows = series.map((_, si) => (trainEnd[si]! - Math.max(cut[si]!, day) - h + 1) / h);
        const independent = mean(windows);
        if (
          combine.length &&
          pick !== fallback &&
          independent < MIN_INDEPENDENT &&
          !significantlyBetter(err[best]![hi]!, err[all.length - 1]![hi]!)
        )
          pick = fallback!;
        chosen.set(h, pick);
      });
      for (const m of candidates) m.fit?.(series, trainEnd, day, week, horizons);
    },
    forecast(ctx, horizons) {
      const p50: number[] = [];
      const p90: number[] = [];
      horizons.forEach((h, i) => {
        let m = chosen.get(h) ?? candidates[0]!;
        if (m !== persistence && recentError(persistence, ctx, h) < SWITCH_MARGIN * recentError(m, ctx, h)) m = persistence;
        const f = m.forecast(ctx, [h]);
        p50[i] = f.p50[0]!;
        p90[i] = f.p90[0]!;
      });
      return { p50, p90 };
    },
  };
}

/** Whether per-series errors `a` are below `b` by SIGNIFICANT standard errors of their paired difference. */
function significantlyBetter(a: readonly number[], b: readonly number[]): boolean {
  const d: number[] = [];
  a.forEach((x, i) => {
    if (Number.isFinite(x) && Number.isFinite(b[i])) d.push(b[i]! - x);
  });
  if (d.length < 2) return false;
  const m = mean(d);
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1));
  return m > 0 && (sd === 0 || m / (sd / Math.sqrt(d.length)) >= SIGNIFICANT);
}

/** pathpilot's forecast as the origin protocol and the engine run it: the ridge and the baselines, validated
 * per horizon, with the median of the ridge, Holt-Winters and persistence as the default where validation
 * cannot tell them apart. */
export function pathpilotSelection(): PointModel & { chosen: ReadonlyMap<number, string> } {
  const ridge = ridgeModel();
  return validatedSelection([ridge, ...baselinePointModels], 4, [ridge, holtWintersModel, persistence]);
}

/** Targets (steps before the origin) over which the selection checks the chosen model against persistence. */
const RECENT_TARGETS = 48;
/** Persistence takes over only when its recent error is this much below the chosen model's. */
const SWITCH_MARGIN = 0.8;

/**
 * Mean |error| of `m` at horizon h over the last `RECENT_TARGETS` targets before the origin (each forecast
 * from its own origin, reading only what came before it). A level shift the training never saw (traffic
 * moved away, a customer gone) makes a model that pulls back to the usual profile wrong for as long as the
 * shift lasts: the selection then falls back to persistence until the model is right again.
 */
function recentError(m: PointModel, ctx: OriginContext, h: number): number {
  let sum = 0;
  let n = 0;
  const values = ctx.series.values;
  for (let t = ctx.origin - RECENT_TARGETS; t < ctx.origin; t++) {
    const o = t - h + 1;
    const y = values[t];
    if (o < ctx.day || y === undefined || !Number.isFinite(y)) continue;
    sum += Math.abs(y - m.forecast({ ...ctx, origin: o, pointOnly: true }, [h]).p50[0]!);
    n++;
  }
  return n > 0 ? sum / n : Infinity;
}
