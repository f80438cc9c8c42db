import type { CurrentWeights } from '../core/proposal.ts';
import type { ProbeWindow } from './forecast/risk.ts';

/**
 * The data the optimizer reads, and nothing more. Production reads it through analytics/queries
 * (optimizer/data-queries.ts); tests and the bench use MemoryOptimizerData. Series are regular: values at
 * `startMs + i·stepMs`, gaps filled with 0 by the implementation (no traffic is a real zero).
 */
export interface Range {
  from: number;
  to: number;
  stepMs: number;
}

export interface RegularSeries {
  startMs: number;
  stepMs: number;
  values: number[];
}

/** Mbit/s leaving `from_site` over `link`. */
export interface LinkTraffic extends RegularSeries {
  link: string;
  from_site: string;
}

/** Mbit/s from site `from` to site `to` in `class`. */
export interface PairTraffic extends RegularSeries {
  from: string;
  to: string;
  class: string;
}

export interface PathProbes {
  path: string;
  windows: ProbeWindow[];
}

/** Cost of one UTC day (`day` = epoch ms of 00:00) per provider, and per link when the cost maps to one. */
export interface DailyCost {
  day: number;
  provider: string;
  link?: string;
  cost: number;
}

/** Current split (core/proposal.ts: the actuator derives it, the optimizer plans against it). */
export type { CurrentWeights };

export interface OptimizerData {
  linkTraffic(range: Range): Promise<LinkTraffic[]>;
  pairTraffic(range: Range): Promise<PairTraffic[]>;
  pathProbes(range: { from: number; to: number }): Promise<PathProbes[]>;
  dailyCost(range: { from: number; to: number }): Promise<DailyCost[]>;
  /** The split the routers run now (last applied weights); pairs absent here run their primary path. */
  currentWeights(): Promise<CurrentWeights>;
}

/** Resamples a regular series to the requested range (missing steps are 0). */
function window<T extends RegularSeries>(s: T, range: Range): T {
  const n = Math.max(0, Math.floor((range.to - range.from) / range.stepMs));
  const values = new Array<number>(n).fill(0);
  const ratio = range.stepMs / s.stepMs;
  for (let i = 0; i < s.values.length; i++) {
    const t = s.startMs + i * s.stepMs;
    if (t < range.from || t >= range.to) continue;
    const j = Math.floor((t - range.from) / range.stepMs);
    values[j] = values[j]! + s.values[i]! / ratio;
  }
  return { ...s, startMs: range.from, stepMs: range.stepMs, values };
}

/** In-memory data for tests, benches and the CLI's offline modes. */
export class MemoryOptimizerData implements OptimizerData {
  links: LinkTraffic[] = [];
  pairs: PairTraffic[] = [];
  probes: PathProbes[] = [];
  costs: DailyCost[] = [];
  weights: CurrentWeights = new Map();

  constructor(init: Partial<Pick<MemoryOptimizerData, 'links' | 'pairs' | 'probes' | 'costs' | 'weights'>> = {}) {
    Object.assign(this, init);
  }

  async linkTraffic(range: Range): Promise<LinkTraffic[]> {
    return this.links.map((s) => window(s, range));
  }

  async pairTraffic(range: Range): Promise<PairTraffic[]> {
    return this.pairs.map((s) => window(s, range));
  }

  async pathProbes(range: { from: number; to: number }): Promise<PathProbes[]> {
    return this.probes.map((p) => ({ path: p.path, windows: p.windows.filter((w) => w.t >= range.from && w.t < range.to) }));
  }

  async dailyCost(range: { from: number; to: number }): Promise<DailyCost[]> {
    return this.costs.filter((c) => c.day >= range.from && c.day < range.to);
  }

  async currentWeights(): Promise<CurrentWeights> {
    return new Map([...this.weights].map(([k, v]) => [k, { ...v }]));
  }
}
