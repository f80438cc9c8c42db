import type { QuantileForecast, SeriesContext } from './baselines.ts';
import { dayMs, periods, weekMs } from './baselines.ts';
import { rng } from '../te/synthetic.ts';
import { seededDense, shuffleRows, tf, tfReady } from './tf.ts';

/** One training series: values at a fixed step, usable up to `trainEnd` (exclusive). */
export interface TrainingSeries {
  values: readonly number[];
  ctx: SeriesContext;
  trainEnd?: number;
}

export const featureCount = 12;

function scaleOf(values: readonly number[], end: number): number {
  let s = 0;
  let n = 0;
  for (let i = Math.max(0, end - 7 * 288); i < end; i++) {
    s += Math.abs(values[i]!);
    n++;
  }
  return n > 0 && s > 0 ? s / n : 1;
}

/**
 * Features for the value at index `origin - 1 + k` given history up to `origin` (exclusive): last value,
 * last-hour mean, the value a day and a week before the target, the day-over-day change at the origin,
 * hour-of-day and day-of-week of the target (sin/cos), a weekend flag and the horizon as a fraction of a day.
 */
export function features(
  values: readonly number[],
  origin: number,
  k: number,
  ctx: SeriesContext,
  scale: number,
  out: Float32Array,
  at: number,
): void {
  const { day, week } = periods(ctx);
  const last = values[origin - 1]!;
  const hourSteps = Math.max(1, Math.round(3_600_000 / ctx.stepMs));
  let hourMean = 0;
  for (let i = Math.max(0, origin - hourSteps); i < origin; i++) hourMean += values[i]!;
  hourMean /= Math.min(hourSteps, origin);
  const target = origin - 1 + k;
  const back = (steps: number, fallback: number) => {
    let j = target - steps;
    while (j >= origin) j -= day;
    return j >= 0 ? values[j]! : fallback;
  };
  const dayAgo = back(day, last);
  const weekAgo = target - week >= 0 && target - week < origin ? values[target - week]! : dayAgo;
  const prevDayAtOrigin = origin - 1 - day >= 0 ? values[origin - 1 - day]! : last;
  const tMs = ctx.startMs + target * ctx.stepMs;
  const hod = ((tMs % dayMs) / dayMs) * 2 * Math.PI;
  const dowIdx = Math.floor(((tMs + 4 * dayMs) % weekMs) / dayMs); // 0 = Sunday (1970-01-01 was a Thursday)
  const dow = (dowIdx / 7) * 2 * Math.PI;
  out[at] = last / scale;
  out[at + 1] = hourMean / scale;
  out[at + 2] = dayAgo / scale;
  out[at + 3] = weekAgo / scale;
  out[at + 4] = (last - prevDayAtOrigin) / scale;
  out[at + 5] = Math.sin(hod);
  out[at + 6] = Math.cos(hod);
  out[at + 7] = Math.sin(dow);
  out[at + 8] = Math.cos(dow);
  out[at + 9] = dowIdx === 0 || dowIdx === 6 ? 1 : 0;
  out[at + 10] = k / day;
  out[at + 11] = (weekAgo - dayAgo) / scale;
}

export interface SavedModel {
  modelTopology: unknown;
  weightSpecs: unknown;
  /** Base64 of the weight buffer. */
  weightData: string;
}

/** Pinball loss for quantiles 0.5 and 0.9; the second output is the (softplus) gap from p50 to p90. */
function quantileLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const y = yTrue.slice([0, 0], [-1, 1]).reshape([-1]);
    const p50 = yPred.slice([0, 0], [-1, 1]).reshape([-1]);
    const p90 = p50.add(tf.softplus(yPred.slice([0, 1], [-1, 1]).reshape([-1])));
    const pin = (q: number, p: tf.Tensor) => {
      const e = y.sub(p);
      return tf.maximum(e.mul(q), e.mul(q - 1)).mean();
    };
    return pin(0.5, p50).add(pin(0.9, p90));
  });
}

export interface TrainOptions {
  epochs?: number;
  samplesPerSeries?: number;
  maxHorizon: number;
  seed?: number;
  onProgress?: (fraction: number) => void;
}

/**
 * A global quantile MLP (p50/p90) over lag and calendar features, trained on every series at once with the
 * series scaled by its recent mean (so one model serves links of any size). TensorFlow.js, wasm backend.
 */
export class QuantileMlp {
  readonly name = 'mlp-quantile';
  private constructor(private readonly model: tf.LayersModel) {}

  /** Trains a new model, or continues training `warm` (a model trained on older data) when given. */
  static async train(series: readonly TrainingSeries[], options: TrainOptions, warm?: QuantileMlp): Promise<QuantileMlp> {
    await tfReady();
    const rand = rng(options.seed ?? 7);
    const per = options.samplesPerSeries ?? 600;
    const xs = new Float32Array(series.length * per * featureCount);
    const ys = new Float32Array(series.length * per * 2);
    let n = 0;
    for (const s of series) {
      const end = s.trainEnd ?? s.values.length;
      const { day } = periods(s.ctx);
      const minOrigin = Math.min(end - 1, day + 12);
      if (end - minOrigin < 24) continue;
      for (let i = 0; i < per; i++) {
        const k = 1 + Math.floor(rand() ** 2 * options.maxHorizon);
        const origin = minOrigin + Math.floor(rand() * Math.max(1, end - k - minOrigin));
        if (origin - 1 + k >= end) continue;
        const scale = scaleOf(s.values, origin);
        features(s.values, origin, k, s.ctx, scale, xs, n * featureCount);
        ys[2 * n] = ys[2 * n + 1] = s.values[origin - 1 + k]! / scale;
        n++;
      }
    }
    // Samples are drawn series by series: mixed (seeded) so every batch sees many series.
    shuffleRows(xs, ys, n, { x: featureCount, y: 2 }, rand);
    let model = warm?.model;
    if (!model) {
      const seed = options.seed ?? 7;
      const input = tf.input({ shape: [featureCount] });
      const h1 = tf.layers.dense({ units: 48, activation: 'relu', ...seededDense(seed) }).apply(input) as tf.SymbolicTensor;
      const h2 = tf.layers.dense({ units: 32, activation: 'relu', ...seededDense(seed + 1) }).apply(h1) as tf.SymbolicTensor;
      const out = tf.layers.dense({ units: 2, ...seededDense(seed + 2) }).apply(h2) as tf.SymbolicTensor;
      model = tf.model({ inputs: input, outputs: out });
    }
    model.compile({ optimizer: tf.train.adam(warm ? 0.001 : 0.003), loss: quantileLoss });
    const x = tf.tensor2d(xs.subarray(0, n * featureCount), [n, featureCount]);
    // Keras wants the target shaped like the output; both columns hold the same value.
    const y = tf.tensor2d(ys.subarray(0, 2 * n), [n, 2]);
    const epochs = options.epochs ?? 12;
    await model.fit(x, y, {
      epochs,
      batchSize: 1024,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async (e) => options.onProgress?.((e + 1) / epochs) },
    });
    x.dispose();
    y.dispose();
    return warm ?? new QuantileMlp(model);
  }

  /** Forecasts for many (history, origin) requests in one batch. */
  predictMany(
    requests: readonly { values: readonly number[]; origin: number; h: number; ctx: SeriesContext }[],
  ): QuantileForecast[] {
    const total = requests.reduce((a, r) => a + r.h, 0);
    const xs = new Float32Array(total * featureCount);
    const scales: number[] = [];
    let row = 0;
    for (const r of requests) {
      const scale = scaleOf(r.values, r.origin);
      scales.push(scale);
      for (let k = 1; k <= r.h; k++) features(r.values, r.origin, k, r.ctx, scale, xs, row++ * featureCount);
    }
    const out = tf.tidy(() => (this.model.predict(tf.tensor2d(xs, [total, featureCount])) as tf.Tensor).dataSync());
    const result: QuantileForecast[] = [];
    row = 0;
    requests.forEach((r, i) => {
      const p50: number[] = [];
      const p90: number[] = [];
      for (let k = 0; k < r.h; k++, row++) {
        const a = out[row * 2]!;
        const b = out[row * 2 + 1]!;
        const gap = b > 20 ? b : Math.log1p(Math.exp(b));
        p50.push(Math.max(0, a * scales[i]!));
        p90.push(Math.max(0, (a + gap) * scales[i]!));
      }
      result.push({ p50, p90 });
    });
    return result;
  }

  predict(values: readonly number[], h: number, ctx: SeriesContext): QuantileForecast {
    return this.predictMany([{ values, origin: values.length, h, ctx }])[0]!;
  }

  async save(): Promise<SavedModel> {
    let saved: SavedModel | undefined;
    await this.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const data = artifacts.weightData;
        const buf = Array.isArray(data) ? Buffer.concat(data.map((d) => Buffer.from(d))) : Buffer.from(data as ArrayBuffer);
        saved = {
          modelTopology: artifacts.modelTopology,
          weightSpecs: artifacts.weightSpecs,
          weightData: buf.toString('base64'),
        };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!saved) throw new Error('the model did not save');
    return saved;
  }

  static async load(saved: SavedModel): Promise<QuantileMlp> {
    await tfReady();
    const buf = Buffer.from(saved.weightData, 'base64');
    const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: saved.modelTopology as object,
        weightSpecs: saved.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData,
      }),
    );
    return new QuantileMlp(model);
  }

  dispose(): void {
    this.model.dispose();
  }
}
