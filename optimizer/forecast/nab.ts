/**
 * Failure/risk detection scored the way the Numenta Anomaly Benchmark scores it (NAB v1.1, standard
 * profile): per labelled window only the earliest detection counts, weighted by a scaled sigmoid of its
 * place in the window (early is worth ~+1, late ~0); every detection outside a window costs 0.11 × a
 * sigmoid of how far past the last window it is (−0.11 before any); a missed window costs 1. Detections in
 * the probationary period (the first 15 % of a file, at most 750 points) are not scored. One threshold per
 * detector for the whole corpus (the best, as NAB's optimiser picks it), normalised to 0 (detect nothing)
 * … 100 (every window at its start). Lead time: how long before the labelled anomaly the counted detection
 * came.
 *
 * Detectors read only the points before and at t. The baselines are a rolling z-score and a seasonal
 * residual; pathpilot's adds a refractory period (one alarm per incident).
 */
import { quantile } from './metrics.ts';

export interface NabFile {
  name: string;
  times: readonly number[];
  values: readonly number[];
  /** Labelled windows [start, end] (epoch ms). */
  windows: readonly (readonly [number, number])[];
  /** The labelled anomaly instants (epoch ms), one per window where known. */
  labels: readonly number[];
}

export interface Detector {
  name: string;
  baseline: boolean;
  /**
   * After an alarm (a score at or above the threshold), further alarms are held back this long: one alarm
   * per incident, as an on-call engineer wants it. Applied at whatever threshold the detector runs with.
   */
  refractoryMs?: number;
  /** A score per point (higher = more anomalous); may read only points ≤ i for score i. */
  score(values: readonly number[], stepMs: number): Float64Array;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** NAB's scaled sigmoid: +0.987 at the start of a window (−1), 0 at its end… −1 far after it. */
export const scaledSigmoid = (pos: number) => (pos > 3 ? -1 : 2 * sigmoid(-5 * pos) - 1);

export const standardProfile = { tp: 1, fp: 0.11, fn: 1 };

export function probation(length: number): number {
  return Math.min(Math.floor(0.15 * length), 750);
}

interface FileScore {
  raw: number;
  tp: number;
  fp: number;
  fn: number;
  /** Minutes from the counted detection to the labelled anomaly, per detected window (positive = before it). */
  leads: number[];
}

/** One file's NAB score at a threshold (`detections[i]` = score ≥ threshold). */
export function scoreFile(
  f: NabFile,
  scores: Float64Array,
  threshold: number,
  profile = standardProfile,
  refractoryMs = 0,
): FileScore {
  const n = f.values.length;
  let quietUntil = -Infinity;
  const start = probation(n);
  const windows = f.windows.map(([a, b]) => {
    let lo = f.times.findIndex((t) => t >= a);
    let hi = -1;
    for (let i = n - 1; i >= 0; i--)
      if (f.times[i]! <= b) {
        hi = i;
        break;
      }
    if (lo < 0) lo = n;
    return { lo, hi, detected: false };
  });
  const out: FileScore = { raw: 0, tp: 0, fp: 0, fn: 0, leads: [] };
  let w = 0;
  for (let i = start; i < n; i++) {
    while (w < windows.length && windows[w]!.hi < i) w++;
    if (!(scores[i]! >= threshold) || f.times[i]! < quietUntil) continue;
    quietUntil = f.times[i]! + refractoryMs;
    const cur = windows[w];
    if (cur && i >= cur.lo && i <= cur.hi) {
      if (cur.detected) continue;
      cur.detected = true;
      const len = cur.hi - cur.lo + 1;
      out.raw += scaledSigmoid(-(cur.hi - i + 1) / len) * profile.tp;
      out.tp++;
      const label = f.labels.find((l) => l >= f.times[cur.lo]! && l <= f.times[cur.hi]!);
      if (label !== undefined) out.leads.push((label - f.times[i]!) / 60_000);
      continue;
    }
    const prev = w > 0 ? windows[w - 1] : undefined;
    if (prev && prev.hi < i) {
      const len = prev.hi - prev.lo + 1;
      out.raw += scaledSigmoid((i - prev.hi) / len) * profile.fp;
    } else out.raw -= profile.fp;
    out.fp++;
  }
  for (const win of windows) if (!win.detected && win.hi >= start) out.fn++;
  out.raw -= out.fn * profile.fn;
  return out;
}

export interface NabResult {
  detector: string;
  baseline: boolean;
  /** Normalised score: 0 = detecting nothing, 100 = every window at its start. */
  score: number;
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  /** Median lead time in minutes over detected windows with a label (positive = before the anomaly). */
  median_lead_min: number;
  per_file: { name: string; raw: number; tp: number; fp: number; fn: number; leads: number[] }[];
}

/** Scores a detector on the corpus at its best single threshold (a sweep over the scores' quantiles). */
export function nabEvaluate(files: readonly NabFile[], detector: Detector, profile = standardProfile): NabResult {
  const scored = files.map((f) => {
    const step = f.times.length > 1 ? f.times[1]! - f.times[0]! : 60_000;
    return { f, s: detector.score(f.values, step) };
  });
  const all: number[] = [];
  for (const { s } of scored) for (const v of s) if (Number.isFinite(v)) all.push(v);
  all.sort((a, b) => a - b);
  const candidates = new Set<number>();
  for (let q = 0.5; q < 1; q += 0.0025) candidates.add(quantile(all, q));
  for (let k = 1; k <= 200; k++) candidates.add(all[all.length - k] ?? Infinity);
  let nullScore = 0;
  let perfect = 0;
  for (const f of files) {
    const start = probation(f.values.length);
    for (const [, b] of f.windows) {
      if (f.times.findLastIndex((t) => t <= b) < start) continue;
      nullScore -= profile.fn;
      perfect += scaledSigmoid(-1) * profile.tp;
    }
  }
  let best: NabResult | undefined;
  for (const threshold of [...candidates].sort((a, b) => a - b)) {
    const per = scored.map(({ f, s }) => ({ name: f.name, ...scoreFile(f, s, threshold, profile, detector.refractoryMs) }));
    const raw = per.reduce((a, p) => a + p.raw, 0);
    const score = (100 * (raw - nullScore)) / (perfect - nullScore);
    if (best && score <= best.score) continue;
    const leads = per.flatMap((p) => p.leads).sort((a, b) => a - b);
    best = {
      detector: detector.name,
      baseline: detector.baseline,
      score,
      threshold,
      tp: per.reduce((a, p) => a + p.tp, 0),
      fp: per.reduce((a, p) => a + p.fp, 0),
      fn: per.reduce((a, p) => a + p.fn, 0),
      median_lead_min: leads.length ? quantile(leads, 0.5) : NaN,
      per_file: per,
    };
  }
  return best!;
}

/** Trailing mean and standard deviation over `w` points before i (finite ones). */
function trailing(values: readonly number[], i: number, w: number): { mean: number; sd: number } {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let j = Math.max(0, i - w); j < i; j++) {
    const v = values[j]!;
    if (!Number.isFinite(v)) continue;
    s += v;
    s2 += v * v;
    n++;
  }
  const mean = n ? s / n : NaN;
  return { mean, sd: n > 1 ? Math.sqrt(Math.max(0, s2 / n - mean * mean)) : NaN };
}

const pointsPerDay = (stepMs: number) => Math.max(1, Math.round(86_400_000 / stepMs));

/** Baseline: |x − mean| / sd over the trailing day. */
export const rollingZ: Detector = {
  name: 'rolling-z',
  baseline: true,
  score(values, stepMs) {
    const w = pointsPerDay(stepMs);
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const { mean, sd } = trailing(values, i, w);
      out[i] = sd > 0 ? Math.abs(values[i]! - mean) / sd : 0;
    }
    return out;
  },
};

/** Baseline: the change from a day before, as a z-score against the trailing day's changes. */
export const seasonalResidual: Detector = {
  name: 'seasonal-residual',
  baseline: true,
  score(values, stepMs) {
    const m = pointsPerDay(stepMs);
    const r = values.map((v, i) => (i >= m ? v - values[i - m]! : NaN));
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const { mean, sd } = trailing(r, i, m);
      out[i] = Number.isFinite(r[i]!) && sd > 0 ? Math.abs(r[i]! - mean) / sd : 0;
    }
    return out;
  },
};

/**
 * pathpilot's detector: the rolling z-score with one alarm per incident — after an alarm, the next
 * 12 hours raise none. The baseline's false alarms are mostly the same incident alarming again and again
 * (NAB charges each one outside the window); an on-call engineer wants the first.
 */
export const refractoryZ: Detector = {
  ...rollingZ,
  name: 'pathpilot-refractory-z',
  baseline: false,
  refractoryMs: 12 * 3_600_000,
};

export const defaultDetectors = (): Detector[] => [rollingZ, seasonalResidual, refractoryZ];
