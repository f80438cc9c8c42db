/**
 * Where the optimizer's decisions are recorded: forecasts, trained model versions and published proposals.
 * ClickHouse is the system of record (the dashboards, the console and the CLI read these tables through the
 * query library), so production records through `storeDecisions`; `memoryDecisions` keeps them for unit tests.
 */
import type { Proposal } from '../core/proposal.ts';
import type { Store } from '../core/store/types.ts';
import { saveModel, saveProposal, writeForecasts, type ForecastPoint, type ModelRow } from '../analytics/queries/writes.ts';
import type { ModelVersion } from './registry.ts';

/** One series' forecast from one run: p50 and p90 at `startMs + i·stepMs` (Mbit/s). */
export interface SeriesForecast {
  key: string;
  model: string;
  stepMs: number;
  /** Epoch ms of the first forecast step. */
  startMs: number;
  p50: number[];
  p90: number[];
}

export interface DecisionLog {
  forecasts(points: readonly ForecastPoint[]): Promise<void>;
  model(row: ModelRow): Promise<void>;
  proposal(proposal: Proposal, at: number): Promise<void>;
}

export function storeDecisions(store: Store): DecisionLog {
  return {
    forecasts: (points) => (points.length ? writeForecasts(store, points) : Promise.resolve()),
    model: (row) => saveModel(store, row),
    proposal: (p, at) => saveProposal(store, p, at),
  };
}

export interface MemoryDecisionLog extends DecisionLog {
  readonly points: ForecastPoint[];
  readonly models: ModelRow[];
  readonly proposals: Proposal[];
}

export function memoryDecisions(): MemoryDecisionLog {
  const points: ForecastPoint[] = [];
  const models: ModelRow[] = [];
  const proposals: Proposal[] = [];
  return {
    points,
    models,
    proposals,
    async forecasts(p) {
      points.push(...p);
    },
    async model(row) {
      models.push(row);
    },
    async proposal(p) {
      proposals.push(structuredClone(p));
    },
  };
}

const BITS_PER_MBIT = 1e6;

/**
 * Forecast points as the `forecasts` table holds them. Pair series (`pair:a>b|class`) become `pair_bps` per
 * pair and class; link series (`link:<id>:<from site>`, one per direction) are summed per link into `link_bps`,
 * the unit and grain of `link_util_1m` that the dashboards compare them with. The models forecast p50 and p90
 * only, so `value` is the p50 and `hi` the p90; `lo` is 0 (there is no lower quantile to store), which makes a
 * dashboard's "actual within [lo, hi]" the p90 coverage.
 */
export function forecastPoints(
  forecasts: readonly SeriesForecast[],
  run: { madeAt: number; modelVersion: string },
): ForecastPoint[] {
  const out: ForecastPoint[] = [];
  const links = new Map<string, ForecastPoint>();
  for (const f of forecasts) {
    const pair = f.key.startsWith('pair:') ? f.key.slice('pair:'.length) : undefined;
    const link = f.key.startsWith('link:') ? f.key.slice('link:'.length, f.key.lastIndexOf(':')) : undefined;
    f.p50.forEach((p50, i) => {
      const t = f.startMs + i * f.stepMs;
      const p90 = f.p90[i] ?? p50;
      const point: ForecastPoint = {
        made_at: run.madeAt,
        model: f.model,
        model_version: run.modelVersion,
        metric: pair ? 'pair_bps' : 'link_bps',
        target: pair ?? link ?? f.key,
        t,
        value: p50 * BITS_PER_MBIT,
        lo: 0,
        hi: p90 * BITS_PER_MBIT,
      };
      if (pair || !link) {
        out.push(point);
        return;
      }
      const key = `${link}@${t}`;
      const sum = links.get(key);
      if (!sum) links.set(key, point);
      else {
        sum.value += point.value;
        sum.hi += point.hi;
        // Directions may pick different models: the link's row names them all.
        if (!sum.model.split('+').includes(point.model)) sum.model = `${sum.model}+${point.model}`;
      }
    });
  }
  return [...out, ...links.values()];
}

/** A registered model version as a `models` row; the artifact travels as JSON so any instance can load it. */
export function modelRow(version: ModelVersion, artifact: unknown): ModelRow {
  return {
    name: version.kind,
    version: version.version,
    created_at: version.trained_at,
    kind: version.model,
    status: 'active',
    metrics: version.metrics,
    artifact: JSON.stringify({ registry: version, artifact }),
  };
}
