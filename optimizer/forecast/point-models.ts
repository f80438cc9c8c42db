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
  ].map((v) => v / scale);
  x.push(1);
  return { x, last: last.v };
}

/** Features per sample, the constant included. */
const FEATURES = 8;

/** XᵀX and Xᵀy accumulated sample by sample, solved as a ridge regression. */
function normalEquations(k = FEATURES) {
  const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xty = new Array<number>(k).fill(0);
  return {
    add(x: readonly number[], target: number): void {
      for (let i = 0; i < k; i++) {
        xty[i] = xty[i]! + x[i]! * target;
        const row = xtx[i]!;
        for (let j = 0; j < k; j++) row[j] = row[j]! + x[i]! * x[j]!;
      }
    },
    solve: (lambda: number) => solveRidge(xtx, xty, lambda),
  };
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
  return {
    name: 'ridge-profile',
    baseline: false,
    fit(series, trainEnd, day, week, horizons) {
      scales.clear();
      for (const h of horizons) {
        // One pass over the samples (origins from a day in: the profile needs a day; targets inside the
        // training part): every sample goes into the full fit, those whose target lies in the first two
        // thirds into the early fit, and those from an origin in the last third are kept to calibrate the
        // p90 out of sample against the early fit.
        const full = normalEquations();
        const early = normalEquations();
        const late: { x: number[]; target: number }[] = [];
        series.forEach((s, si) => {
          const end = trainEnd[si]!;
          const scale = scaleOf(s, end);
          const cut = Math.floor((end * 2) / 3);
          for (let o = day; o < end - h + 1; o++) {
            const y = s.values[o + h - 1]!;
            if (!Number.isFinite(y)) continue;
            const f = features(s.values, o, h, day, week, scale);
            if (!f) continue;
            const target = (y - f.last) / scale;
            full.add(f.x, target);
            if (o < cut - h + 1) early.add(f.x, target);
            if (o >= cut) late.push({ x: f.x, target });
          }
        });
        const w = early.solve(lambda);
        const res = late.map(({ x, target }) => target - x.reduce((a, v, i) => a + v * w[i]!, 0));
        res.sort((a, b) => a - b);
        upper.set(h, res.length >= 10 ? quantile(res, 0.9) : 0);
        weights.set(h, full.solve(lambda));
      }
    },
    forecast(ctx, horizons) {
      const { series, origin, day, week } = ctx;
      const scale = scaleOf(series, origin);
      const fallback = lastFinite(series.values, origin)?.v ?? 0;
      const p50 = horizons.map((h) => {
        const w = weights.get(h);
        const f = features(series.values, origin, h, day, week, scale);
        if (!w || !f) return fallback;
        return Math.max(0, f.last + f.x.reduce((a, v, i) => a + v * w[i]!, 0) * scale);
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

/**
 * pathpilot's forecast: per horizon, the candidate with the lowest MASE out of sample — fitted on the first
 * two thirds of each series' training part and scored on the last third (an origin every `validateEvery`
 * steps) — then refitted on all of it. Where the ridge model cannot beat the best baseline (little
 * history, no daily pattern), the baseline is what users get, not a worse learned guess.
 */
export function validatedSelection(
  candidates: readonly PointModel[],
  validateEvery = 4,
): PointModel & { chosen: ReadonlyMap<number, string> } {
  const chosen = new Map<number, PointModel>();
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
      const err = candidates.map(() => horizons.map(() => ({ sum: 0, n: 0 })));
      series.forEach((s, si) => {
        const scale = seasonalScale(s.values, cut[si]!, day);
        if (!(scale > 0)) return;
        const per = candidates.map(() => horizons.map(() => ({ sum: 0, n: 0 })));
        for (let o = Math.max(cut[si]!, day); o < trainEnd[si]!; o += validateEvery) {
          candidates.forEach((m, mi) => {
            const f = m.forecast({ series: s, origin: o, day, week, pointOnly: true }, horizons);
            horizons.forEach((h, hi) => {
              const t = o + h - 1;
              const y = s.values[t];
              if (t >= trainEnd[si]! || y === undefined || !Number.isFinite(y)) return;
              per[mi]![hi]!.sum += Math.abs(y - f.p50[hi]!) / scale;
              per[mi]![hi]!.n++;
            });
          });
        }
        per.forEach((byH, mi) =>
          byH.forEach((e, hi) => {
            if (e.n === 0) return;
            err[mi]![hi]!.sum += e.sum / e.n;
            err[mi]![hi]!.n++;
          }),
        );
      });
      horizons.forEach((h, hi) => {
        let best = 0;
        const score = (mi: number) => (err[mi]![hi]!.n > 0 ? err[mi]![hi]!.sum / err[mi]![hi]!.n : Infinity);
        for (let mi = 1; mi < candidates.length; mi++) if (score(mi) < score(best)) best = mi;
        chosen.set(h, candidates[best]!);
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
