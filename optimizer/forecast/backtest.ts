import { holtWinters, periods, seasonalNaive, type QuantileForecast, type SeriesContext } from './baselines.ts';
import { QuantileMlp } from './learned.ts';
import { horizonLabel, mase, pinball, quantile, smape } from './metrics.ts';

export interface BacktestSeries {
  key: string;
  values: readonly number[];
  ctx: SeriesContext;
}

export interface HorizonScores {
  mase: number;
  smape: number;
  pinball50: number;
  pinball90: number;
}

export interface SeriesBacktest {
  key: string;
  /** model → horizon label → scores on the validation origins (used to select). */
  validation: Record<string, Record<string, HorizonScores>>;
  /** model → horizon label → scores on the later test origins (reported). */
  test: Record<string, Record<string, HorizonScores>>;
  selected: string;
}

export interface BacktestResult {
  horizons: { label: string; steps: number }[];
  models: string[];
  series: SeriesBacktest[];
  /**
   * Per horizon, on the test origins: the per-series selection's mean MASE beside the best baseline's (the
   * baseline with the lowest mean MASE over all series, never only seasonal naive).
   */
  vsBestBaseline: Record<string, { selected: number; baseline: string; best: number }>;
  trainMs: number;
  evalMs: number;
  /** The learned model trained for the backtest (only with `keepModel`). */
  model?: QuantileMlp;
  /** Series left out because they are constant in their training part (nothing to forecast, MASE undefined). */
  excluded: string[];
}

export interface BacktestOptions {
  /** Horizons in ms; default 1 hour and 1 day. */
  horizonsMs?: number[];
  /** Rolling origins (half validation, half test), spaced `originEveryMs` at the end of each series. */
  origins?: number;
  originEveryMs?: number;
  learned?: boolean;
  epochs?: number;
  /** Seeds the learned model's initialisation and sample draws (same data and seed, same model). */
  seed?: number;
  /** Hand the trained MLP to the caller (who disposes it) instead of disposing it. */
  keepModel?: boolean;
  onProgress?: (fraction: number) => void;
}

export const baselineModels = ['persistence', 'seasonal-naive', 'holt-winters'] as const;

/**
 * Persistence: the last value for every step ahead. Its p90 adds the 90th percentile of the history's
 * one-step changes, widened with the square root of the steps ahead (a random walk's spread).
 */
export function persistenceForecast(history: readonly number[], h: number): QuantileForecast {
  const last = history[history.length - 1] ?? 0;
  const changes: number[] = [];
  for (let t = Math.max(1, history.length - 4 * 288); t < history.length; t++) changes.push(history[t]! - history[t - 1]!);
  changes.sort((a, b) => a - b);
  const q = changes.length > 10 ? Math.max(0, quantile(changes, 0.9)) : 0;
  return { p50: new Array<number>(h).fill(last), p90: Array.from({ length: h }, (_, i) => last + q * Math.sqrt(i + 1)) };
}

function mean(xs: number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length > 0 ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

/**
 * Rolling-origin backtest of every model on every series. The last `origins` origins are split: the earlier
 * half selects each series' best model (mean MASE over horizons), the later half reports it, so the selected
 * model's test score is honest. The learned model trains only on data before the first origin.
 */
export async function backtest(series: readonly BacktestSeries[], options: BacktestOptions = {}): Promise<BacktestResult> {
  const horizonsMs = options.horizonsMs ?? [3_600_000, 86_400_000];
  const nOrigins = Math.max(2, options.origins ?? 8);
  const every = options.originEveryMs ?? 6 * 3_600_000;
  const excluded: string[] = [];
  const varying = series.filter((s) => {
    const v = s.values;
    for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return true;
    excluded.push(s.key);
    return false;
  });
  const plans = varying.map((s) => {
    const maxH = Math.max(...horizonsMs.map((h) => Math.round(h / s.ctx.stepMs)));
    const gap = Math.max(1, Math.round(every / s.ctx.stepMs));
    const last = s.values.length - maxH;
    const origins: number[] = [];
    for (let i = nOrigins - 1; i >= 0; i--) origins.push(last - i * gap);
    const { day } = periods(s.ctx);
    if (origins[0]! < 2 * day) {
      throw new Error(
        `series "${s.key}": ${s.values.length} points are too few for ${nOrigins} origins every ${horizonLabel(every)} and a ${horizonLabel(Math.max(...horizonsMs))} horizon (need two days before the first origin)`,
      );
    }
    return { s, maxH, origins };
  });
  const models: string[] = [...baselineModels];
  const t0 = performance.now();
  let mlp: QuantileMlp | undefined;
  if (options.learned !== false) {
    mlp = await QuantileMlp.train(
      plans.map((p) => ({ values: p.s.values, ctx: p.s.ctx, trainEnd: p.origins[0]! })),
      {
        maxHorizon: Math.max(...plans.map((p) => p.maxH)),
        epochs: options.epochs ?? 12,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        onProgress: (f) => options.onProgress?.(f * 0.7),
      },
    );
    models.push(mlp.name);
  }
  const trainMs = performance.now() - t0;
  const t1 = performance.now();
  const out: SeriesBacktest[] = [];
  for (const [si, { s, maxH, origins }] of plans.entries()) {
    const { day } = periods(s.ctx);
    const fc: Record<string, QuantileForecast[]> = { persistence: [], 'seasonal-naive': [], 'holt-winters': [] };
    for (const o of origins) {
      const hist = s.values.slice(0, o);
      fc['persistence']!.push(persistenceForecast(hist, maxH));
      fc['seasonal-naive']!.push(seasonalNaive(hist, maxH, day));
      fc['holt-winters']!.push(holtWinters(hist, maxH, s.ctx));
    }
    if (mlp) fc[mlp.name] = mlp.predictMany(origins.map((o) => ({ values: s.values, origin: o, h: maxH, ctx: s.ctx })));
    const half = Math.floor(origins.length / 2);
    const score = (from: number, to: number) => {
      const r: Record<string, Record<string, HorizonScores>> = {};
      for (const m of models) {
        r[m] = {};
        for (const hMs of horizonsMs) {
          const h = Math.round(hMs / s.ctx.stepMs);
          const acc = { mase: [] as number[], smape: [] as number[], p50: [] as number[], p90: [] as number[] };
          for (let oi = from; oi < to; oi++) {
            const o = origins[oi]!;
            const actual = s.values.slice(o, o + h) as number[];
            const f = fc[m]![oi]!;
            const p50 = f.p50.slice(0, h);
            acc.mase.push(mase(actual, p50, s.values.slice(0, o), day));
            acc.smape.push(smape(actual, p50));
            acc.p50.push(pinball(actual, p50, 0.5));
            acc.p90.push(pinball(actual, f.p90.slice(0, h), 0.9));
          }
          r[m]![horizonLabel(hMs)] = {
            mase: mean(acc.mase),
            smape: mean(acc.smape),
            pinball50: mean(acc.p50),
            pinball90: mean(acc.p90),
          };
        }
      }
      return r;
    };
    const validation = score(0, half);
    const test = score(half, origins.length);
    const selected = models
      .map((m) => {
        const v = Object.values(validation[m]!);
        const byMase = mean(v.map((x) => x.mase));
        return [m, Number.isFinite(byMase) ? byMase : mean(v.map((x) => x.smape))] as const;
      })
      .sort((a, b) => a[1] - b[1])[0]![0];
    out.push({ key: s.key, validation, test, selected });
    options.onProgress?.(0.7 + (0.3 * (si + 1)) / plans.length);
  }
  const vsBestBaseline: BacktestResult['vsBestBaseline'] = {};
  for (const hMs of horizonsMs) {
    const l = horizonLabel(hMs);
    const meanOf = (pick: (r: SeriesBacktest) => string) => mean(out.map((r) => r.test[pick(r)]![l]!.mase));
    const [baseline, best] = baselineModels
      .map((m) => [m, meanOf(() => m)] as const)
      .sort((a, b) => (Number.isFinite(a[1]) ? a[1] : Infinity) - (Number.isFinite(b[1]) ? b[1] : Infinity))[0]!;
    vsBestBaseline[l] = { selected: meanOf((r) => r.selected), baseline, best };
  }
  if (!options.keepModel) mlp?.dispose();
  return {
    model: options.keepModel ? mlp : undefined,
    horizons: horizonsMs.map((h) => ({ label: horizonLabel(h), steps: h })),
    models,
    series: out,
    vsBestBaseline,
    trainMs,
    evalMs: performance.now() - t1,
    excluded,
  };
}
