import { rng } from '../te/synthetic.ts';
import { auc, brier, precisionAtK } from './metrics.ts';
import { seededDense, shuffleRows, tf, tfReady } from './tf.ts';

/** One probe window of a path (1-minute windows in production). */
export interface ProbeWindow {
  t: number;
  rtt_p95_ms: number;
  loss_pct: number;
  jitter_ms: number;
}

export interface Slo {
  rtt_p95_ms: number;
  loss_pct: number;
  jitter_ms: number;
}

export const riskFeatureCount = 12;

export function breaches(w: ProbeWindow, slo: Slo): boolean {
  return w.rtt_p95_ms > slo.rtt_p95_ms || w.loss_pct > slo.loss_pct || w.jitter_ms > slo.jitter_ms || w.loss_pct >= 50;
}

/**
 * Features at window index `t` (windows ≤ t are known), each relative to the SLO: last values, 15-window
 * means and maxima, RTT spread and slope, the share of breaching windows in the last 60, and time of day.
 */
export function riskFeatures(ws: readonly ProbeWindow[], t: number, slo: Slo, out: Float32Array, at: number): void {
  const from15 = Math.max(0, t - 14);
  const from60 = Math.max(0, t - 59);
  let mr = 0;
  let ml = 0;
  let mj = 0;
  let xr = 0;
  let xl = 0;
  let sr2 = 0;
  const n15 = t - from15 + 1;
  for (let i = from15; i <= t; i++) {
    const w = ws[i]!;
    const r = w.rtt_p95_ms / slo.rtt_p95_ms;
    mr += r;
    sr2 += r * r;
    ml += w.loss_pct / Math.max(slo.loss_pct, 0.1);
    mj += w.jitter_ms / slo.jitter_ms;
    xr = Math.max(xr, r);
    xl = Math.max(xl, w.loss_pct / Math.max(slo.loss_pct, 0.1));
  }
  mr /= n15;
  ml /= n15;
  mj /= n15;
  let breach = 0;
  for (let i = from60; i <= t; i++) if (breaches(ws[i]!, slo)) breach++;
  const last = ws[t]!;
  const first = ws[from15]!;
  const hod = (((last.t % 86_400_000) + 86_400_000) % 86_400_000) / 86_400_000;
  out[at] = last.rtt_p95_ms / slo.rtt_p95_ms;
  out[at + 1] = Math.min(last.loss_pct / Math.max(slo.loss_pct, 0.1), 20);
  out[at + 2] = last.jitter_ms / slo.jitter_ms;
  out[at + 3] = mr;
  out[at + 4] = Math.min(ml, 20);
  out[at + 5] = mj;
  out[at + 6] = xr;
  out[at + 7] = Math.min(xl, 20);
  out[at + 8] = Math.sqrt(Math.max(0, sr2 / n15 - mr * mr));
  out[at + 9] = (last.rtt_p95_ms - first.rtt_p95_ms) / slo.rtt_p95_ms;
  out[at + 10] = breach / (t - from60 + 1);
  out[at + 11] = Math.sin(hod * 2 * Math.PI);
}

/** 1 when any window in (t, t + h] breaches the SLO or is an outage. */
export function riskLabel(ws: readonly ProbeWindow[], t: number, h: number, slo: Slo): number {
  for (let i = t + 1; i <= Math.min(ws.length - 1, t + h); i++) if (breaches(ws[i]!, slo)) return 1;
  return 0;
}

export interface RiskSeries {
  path: string;
  windows: readonly ProbeWindow[];
  slo: Slo;
}

export interface RiskScores {
  auc: number;
  brier: number;
  precision_at_k: number;
  k: number;
  positives: number;
  samples: number;
}

export interface RiskBacktest {
  horizon_windows: number;
  models: Record<string, RiskScores>;
}

function dataset(series: readonly RiskSeries[], h: number, part: (t: number, n: number) => boolean, stride = 1) {
  const rows: number[] = [];
  for (const s of series) for (let t = 15; t + h < s.windows.length; t += stride) if (part(t, s.windows.length)) rows.push(t);
  const xs = new Float32Array(Math.max(1, rows.length) * riskFeatureCount);
  const ys: number[] = [];
  const persist: number[] = [];
  let r = 0;
  for (const s of series)
    for (let t = 15; t + h < s.windows.length; t += stride) {
      if (!part(t, s.windows.length)) continue;
      riskFeatures(s.windows, t, s.slo, xs, r * riskFeatureCount);
      persist.push(xs[r * riskFeatureCount + 10]!);
      ys.push(riskLabel(s.windows, t, h, s.slo));
      r++;
    }
  return { xs, ys, n: r, persist };
}

/**
 * Failure risk: probability of an SLO breach or outage on a path within the horizon. A small MLP on
 * probe features (TensorFlow.js), then Platt scaling fitted on a held-out calibration slice so the output
 * is a calibrated probability.
 */
export class RiskClassifier {
  readonly name = 'risk-mlp';
  private constructor(
    private readonly model: tf.LayersModel,
    readonly platt: { a: number; b: number },
    readonly horizonWindows: number,
  ) {}

  /** Trains on the first 60% of each series, calibrates on the next 20% (the last 20% is left for testing). */
  static async train(
    series: readonly RiskSeries[],
    horizonWindows: number,
    options: { epochs?: number; seed?: number } = {},
  ): Promise<RiskClassifier> {
    await tfReady();
    const seed = options.seed ?? 7;
    const train = dataset(series, horizonWindows, (t, n) => t < n * 0.6, 5);
    const cal = dataset(series, horizonWindows, (t, n) => t >= n * 0.6 && t < n * 0.8, 2);
    // Rows come path by path: mixed (seeded) so every batch sees many paths.
    const trainYs = Float32Array.from(train.ys);
    shuffleRows(train.xs, trainYs, train.n, { x: riskFeatureCount, y: 1 }, rng(seed));
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, activation: 'relu', inputShape: [riskFeatureCount], ...seededDense(seed) }),
        tf.layers.dense({ units: 1, ...seededDense(seed + 1) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: tf.losses.sigmoidCrossEntropy });
    const x = tf.tensor2d(train.xs.subarray(0, train.n * riskFeatureCount), [train.n, riskFeatureCount]);
    const y = tf.tensor2d(trainYs, [train.n, 1]);
    await model.fit(x, y, { epochs: options.epochs ?? 8, batchSize: 512, shuffle: false, verbose: 0 });
    x.dispose();
    y.dispose();
    const logits = RiskClassifier.logits(model, cal.xs, cal.n);
    return new RiskClassifier(model, fitPlatt(logits, cal.ys), horizonWindows);
  }

  private static logits(model: tf.LayersModel, xs: Float32Array, n: number): number[] {
    if (n === 0) return [];
    return Array.from(
      tf.tidy(() =>
        (model.predict(tf.tensor2d(xs.subarray(0, n * riskFeatureCount), [n, riskFeatureCount])) as tf.Tensor).dataSync(),
      ),
    );
  }

  probabilities(xs: Float32Array, n: number): number[] {
    return RiskClassifier.logits(this.model, xs, n).map((z) => 1 / (1 + Math.exp(-(this.platt.a * z + this.platt.b))));
  }

  /** Risk for the latest window of each path. */
  predict(series: readonly RiskSeries[]): Map<string, number> {
    const xs = new Float32Array(Math.max(1, series.length) * riskFeatureCount);
    const ok: RiskSeries[] = [];
    for (const s of series) {
      if (s.windows.length === 0) continue;
      riskFeatures(s.windows, s.windows.length - 1, s.slo, xs, ok.length * riskFeatureCount);
      ok.push(s);
    }
    const p = this.probabilities(xs, ok.length);
    return new Map(ok.map((s, i) => [s.path, p[i]!]));
  }

  /** Scores on the last 20% of each series, beside the persistence baseline (share of breaching windows in the last hour). */
  evaluate(series: readonly RiskSeries[], k = 50): RiskBacktest {
    const test = dataset(series, this.horizonWindows, (t, n) => t >= n * 0.8);
    const p = this.probabilities(test.xs, test.n);
    const score = (probs: number[]): RiskScores => ({
      auc: auc(test.ys, probs),
      brier: brier(test.ys, probs),
      precision_at_k: precisionAtK(test.ys, probs, k),
      k,
      positives: test.ys.filter((y) => y > 0).length,
      samples: test.n,
    });
    return { horizon_windows: this.horizonWindows, models: { [this.name]: score(p), persistence: score(test.persist) } };
  }

  async save(): Promise<{ weights: number[][]; shapes: number[][]; platt: { a: number; b: number }; horizon: number }> {
    const ws = this.model.getWeights();
    return {
      weights: ws.map((w) => Array.from(w.dataSync())),
      shapes: ws.map((w) => w.shape),
      platt: this.platt,
      horizon: this.horizonWindows,
    };
  }

  static async load(saved: {
    weights: number[][];
    shapes: number[][];
    platt: { a: number; b: number };
    horizon: number;
  }): Promise<RiskClassifier> {
    await tfReady();
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 16, activation: 'relu', inputShape: [riskFeatureCount] }), tf.layers.dense({ units: 1 })],
    });
    model.setWeights(saved.weights.map((w, i) => tf.tensor(w, saved.shapes[i]!)));
    return new RiskClassifier(model, saved.platt, saved.horizon);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Platt scaling: p = σ(a·z + b) fitted by Newton steps on the calibration slice (with Platt's target smoothing). */
export function fitPlatt(z: readonly number[], y: readonly number[]): { a: number; b: number } {
  const pos = y.filter((v) => v > 0.5).length;
  const neg = y.length - pos;
  if (pos === 0 || neg === 0) return { a: 1, b: 0 };
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (neg + 2);
  const t = y.map((v) => (v > 0.5 ? hi : lo));
  let a = 1;
  let b = 0;
  for (let it = 0; it < 50; it++) {
    let g1 = 0;
    let g2 = 0;
    let h11 = 1e-9;
    let h22 = 1e-9;
    let h12 = 0;
    for (let i = 0; i < z.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * z[i]! + b)));
      const d = p - t[i]!;
      const w = p * (1 - p);
      g1 += d * z[i]!;
      g2 += d;
      h11 += w * z[i]! * z[i]!;
      h22 += w;
      h12 += w * z[i]!;
    }
    const det = h11 * h22 - h12 * h12;
    if (Math.abs(det) < 1e-12) break;
    const da = (h22 * g1 - h12 * g2) / det;
    const db = (h11 * g2 - h12 * g1) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-7) break;
  }
  return { a, b };
}

/**
 * Synthetic probe windows with degradation episodes that build up (RTT and jitter creep, then loss), so
 * precursors exist as on real congested or failing paths. Deterministic per seed.
 */
export function syntheticProbes(paths: number, windows: number, options: { seed?: number; startMs?: number } = {}): RiskSeries[] {
  const rand = rng(options.seed ?? 5);
  const start = options.startMs ?? Date.UTC(2026, 9, 5);
  const out: RiskSeries[] = [];
  for (let p = 0; p < paths; p++) {
    const base = 20 + rand() * 150;
    const slo: Slo = { rtt_p95_ms: base * 1.6 + 20, loss_pct: 1, jitter_ms: 30 };
    const ws: ProbeWindow[] = [];
    let episode = 0;
    let severity = 0;
    for (let i = 0; i < windows; i++) {
      if (episode <= 0 && rand() < 0.004) {
        episode = 20 + Math.floor(rand() * 60);
        severity = 0;
      }
      if (episode > 0) {
        episode--;
        severity = Math.min(1.5, severity + 0.05 + rand() * 0.05);
      } else severity = Math.max(0, severity - 0.2);
      const rtt = base * (1 + 0.05 * rand() + severity * 0.6) + (rand() < 0.01 ? base * 0.8 * rand() : 0);
      ws.push({
        t: start + i * 60_000,
        rtt_p95_ms: rtt,
        loss_pct: severity > 0.8 ? (severity - 0.8) * 4 * rand() : rand() < 0.005 ? rand() * 2 : 0,
        jitter_ms: 2 + rand() * 5 + severity * 25 * rand(),
      });
    }
    out.push({ path: `path-${p}`, windows: ws, slo });
  }
  return out;
}
