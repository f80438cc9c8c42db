/** Forecast and classifier scores used by backtests (lower is better except AUC and precision). */

/**
 * The MASE scale: mean |y_t − y_{t−m}| over indices before `end`, over the pairs where both values are
 * known (missing steps are NaN and skipped); NaN when there is none.
 */
export function seasonalScale(values: readonly number[], end: number, m: number): number {
  let s = 0;
  let n = 0;
  for (let i = m; i < end; i++) {
    const a = values[i]!;
    const b = values[i - m]!;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      s += Math.abs(a - b);
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}

/** A horizon or spacing as users write it: `15m`, `1h`, `1d`. */
export function horizonLabel(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

/** Mean absolute scaled error: MAE of the forecast over the in-sample MAE of a seasonal naive of period `m`. */
export function mase(actual: readonly number[], forecast: readonly number[], train: readonly number[], m: number): number {
  const scale = seasonalScale(train, train.length, m);
  // A series flat in its training part has no scale: MASE is undefined there (NaN), not huge.
  return scale > 0 ? mae(actual, forecast) / scale : NaN;
}

export function mae(actual: readonly number[], forecast: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i]! - forecast[i]!);
  return actual.length > 0 ? s / actual.length : NaN;
}

/** Symmetric MAPE in percent (0–200); terms where both values are 0 count as 0. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]!) + Math.abs(forecast[i]!);
    s += d > 0 ? (2 * Math.abs(actual[i]! - forecast[i]!)) / d : 0;
  }
  return actual.length > 0 ? (100 * s) / actual.length : NaN;
}

/** Mean pinball (quantile) loss at quantile q. */
export function pinball(actual: readonly number[], forecast: readonly number[], q: number): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = actual[i]! - forecast[i]!;
    s += e >= 0 ? q * e : (q - 1) * e;
  }
  return actual.length > 0 ? s / actual.length : NaN;
}

/** Area under the ROC curve (rank statistic, ties averaged); NaN when only one class is present. */
export function auc(labels: readonly number[], scores: readonly number[]): number {
  const idx = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]![1]] = r;
    i = j + 1;
  }
  let pos = 0;
  let sumPos = 0;
  labels.forEach((l, i) => {
    if (l > 0.5) {
      pos++;
      sumPos += ranks[i]!;
    }
  });
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (sumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function brier(labels: readonly number[], probs: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += (probs[i]! - labels[i]!) ** 2;
  return labels.length > 0 ? s / labels.length : NaN;
}

/** Share of true positives among the k highest scores. */
export function precisionAtK(labels: readonly number[], scores: readonly number[], k: number): number {
  const top = scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, Math.max(1, Math.min(k, scores.length)));
  return top.length > 0 ? top.filter(([, i]) => labels[i]! > 0.5).length / top.length : NaN;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
