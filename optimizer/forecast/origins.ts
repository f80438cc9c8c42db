/**
 * The origin protocol users and reviewers audit: train on everything before `trainEnd`, then from `trainEnd`
 * every `originEvery` forecast each horizon h and score the single point h ahead (`target_time = origin +
 * h − step`; `origin` is the time of the first forecast step). MASE divides each series' absolute error by
 * its in-sample daily seasonal-naive error (the training part), so 1 means "as good as yesterday's value".
 * A forecast reads only values before its origin; missing steps (NaN) stay missing and a missing target is
 * not scored. Every horizon is ranked against the best baseline there, never only the weakest.
 */
import { mstlModel } from './mstl.ts';
import { baselinePointModels, pathpilotSelection, ridgeModel, type PointModel, type StepSeries } from './point-models.ts';
import { horizonLabel, seasonalScale } from './metrics.ts';

export interface OriginOptions {
  trainEndMs: number;
  originEveryMs: number;
  horizonsMs: readonly number[];
  models?: readonly PointModel[];
}

export interface ForecastRow {
  origin: number;
  series: string;
  horizon: string;
  target_time: number;
  p50: number;
  p90: number;
  actual: number;
}

export interface ModelScore {
  /** Mean over series of each series' MASE (mean |error| / its daily seasonal-naive scale). */
  mase: number;
  /** Share of scored targets at or under p90 (calibrated: 0.85–0.95). */
  p90_coverage: number;
  scored: number;
}

export interface OriginReport {
  horizons: { label: string; steps: number }[];
  models: { name: string; baseline: boolean }[];
  /** model → horizon label → score. */
  scores: Record<string, Record<string, ModelScore>>;
  /** Per horizon: the best baseline and each model's MASE ratio to it (< 1 beats it). */
  best_baseline: Record<string, { model: string; mase: number }>;
  origins: number;
  series: number;
  /** Series left out: no daily seasonal-naive scale in their training part (constant, or under two days). */
  excluded: string[];
  missing: { steps: number; targets_unscored: number };
  /** Per horizon, the model pathpilot's validated selection chose (when it ran). */
  chosen: Record<string, string>;
  rows: Record<string, ForecastRow[]>;
}

/**
 * The baselines (MSTL among them), the ridge model alone, and pathpilot's validated per-horizon choice
 * among the ridge and the cheap baselines (MSTL decomposes the history at every origin: too slow to
 * validate over every training origin of a thousand series, so it is ranked against, not chosen from).
 */
export function defaultPointModels(): PointModel[] {
  return [...baselinePointModels, mstlModel, ridgeModel(), pathpilotSelection()];
}

export function originBacktest(all: readonly StepSeries[], options: OriginOptions): OriginReport {
  if (all.length === 0) throw new Error('no series');
  const stepMs = all[0]!.stepMs;
  if (all.some((s) => s.stepMs !== stepMs)) throw new Error('every series must have the same step');
  const day = Math.round(86_400_000 / stepMs);
  const week = day * 7;
  const horizons = options.horizonsMs.map((ms) => {
    if (ms % stepMs !== 0 || ms <= 0)
      throw new Error(`horizon ${horizonLabel(ms)} is not a whole number of ${stepMs / 60_000}-minute steps`);
    return { label: horizonLabel(ms), steps: ms / stepMs };
  });
  const hSteps = horizons.map((h) => h.steps);
  const models = [...(options.models ?? defaultPointModels())];
  const excluded: string[] = [];
  const series: StepSeries[] = [];
  const trainEnd: number[] = [];
  const scale: number[] = [];
  let missingSteps = 0;
  for (const s of all) {
    const end = Math.ceil((options.trainEndMs - s.startMs) / stepMs);
    const sc = seasonalScale(s.values, Math.min(end, s.values.length), day);
    if (!(sc > 0) || end <= day) {
      excluded.push(s.key);
      continue;
    }
    series.push(s);
    trainEnd.push(end);
    scale.push(sc);
    for (const v of s.values) if (!Number.isFinite(v)) missingSteps++;
  }
  if (series.length === 0) throw new Error('no series has a daily seasonal-naive scale in its training part');
  for (const m of models) m.fit?.(series, trainEnd, day, week, hSteps);

  const every = Math.max(1, Math.round(options.originEveryMs / stepMs));
  const rows: Record<string, ForecastRow[]> = Object.fromEntries(models.map((m) => [m.name, []]));
  // Per model, horizon and series: sum of |error| / scale and count; p90 hits.
  const acc = models.map(() => horizons.map(() => series.map(() => ({ err: 0, n: 0, hit: 0 }))));
  let unscored = 0;
  const origins = new Set<number>();
  series.forEach((s, si) => {
    const first = trainEnd[si]!;
    for (let o = first; o + Math.min(...hSteps) - 1 < s.values.length; o += every) {
      origins.add(s.startMs + o * stepMs);
      models.forEach((m, mi) => {
        const f = m.forecast({ series: s, origin: o, day, week }, hSteps);
        horizons.forEach((h, hi) => {
          const t = o + h.steps - 1;
          if (t >= s.values.length) return;
          const actual = s.values[t]!;
          const p50 = f.p50[hi]!;
          const p90 = Math.max(p50, f.p90[hi]!);
          rows[m.name]!.push({
            origin: s.startMs + o * stepMs,
            series: s.key,
            horizon: h.label,
            target_time: s.startMs + t * stepMs,
            p50,
            p90,
            actual,
          });
          if (!Number.isFinite(actual)) {
            if (mi === 0) unscored++;
            return;
          }
          const a = acc[mi]![hi]![si]!;
          a.err += Math.abs(actual - p50) / scale[si]!;
          a.n++;
          if (actual <= p90) a.hit++;
        });
      });
    }
  });
  const scores: OriginReport['scores'] = {};
  models.forEach((m, mi) => {
    scores[m.name] = {};
    horizons.forEach((h, hi) => {
      const per = acc[mi]![hi]!.filter((a) => a.n > 0);
      const n = per.reduce((x, a) => x + a.n, 0);
      scores[m.name]![h.label] = {
        mase: per.length ? per.reduce((x, a) => x + a.err / a.n, 0) / per.length : NaN,
        p90_coverage: n > 0 ? per.reduce((x, a) => x + a.hit, 0) / n : NaN,
        scored: n,
      };
    });
  });
  const best_baseline: OriginReport['best_baseline'] = {};
  for (const h of horizons) {
    const ranked = models
      .filter((m) => m.baseline && Number.isFinite(scores[m.name]![h.label]!.mase))
      .sort((a, b) => scores[a.name]![h.label]!.mase - scores[b.name]![h.label]!.mase);
    if (ranked[0]) best_baseline[h.label] = { model: ranked[0].name, mase: scores[ranked[0].name]![h.label]!.mase };
  }
  const selection = models.find((m): m is PointModel & { chosen: ReadonlyMap<number, string> } => 'chosen' in m);
  const chosen: Record<string, string> = {};
  for (const h of horizons) {
    const name = selection?.chosen.get(h.steps);
    if (name) chosen[h.label] = name;
  }
  return {
    horizons,
    models: models.map((m) => ({ name: m.name, baseline: m.baseline })),
    chosen,
    scores,
    best_baseline,
    origins: origins.size,
    series: series.length,
    excluded,
    missing: { steps: missingSteps, targets_unscored: unscored },
    rows,
  };
}
