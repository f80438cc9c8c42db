import { costPerGb, firstDataTime, linkUtilization, pathQuality, trafficMatrix } from '../analytics/queries/index.ts';
import type { RootConfig } from '../core/config/index.ts';
import type { Store } from '../core/store/types.ts';
import type { CurrentWeights, DailyCost, LinkTraffic, OptimizerData, PairTraffic, PathProbes, Range } from './data.ts';
import type { ProbeWindow } from './forecast/risk.ts';

const dayMs = 86_400_000;

export interface QueriesDataOptions {
  /** The split the routers run now (from the actuator's last applied change); default: primary paths. */
  currentWeights?: () => Promise<CurrentWeights>;
  /** Parallel queries per read. */
  concurrency?: number;
  /** Buckets younger than this are re-read every time (data still arriving). */
  settleMs?: number;
  /** Probe window size the optimizer sees, ms (multiple of 60 s). */
  probeWindowMs?: number;
  /**
   * The time data is stamped in (the process clock; a simulated clock in the lab): a bucket counts as
   * settled, and is cached, once it ended `settleMs` before this. Default: the wall clock.
   */
  now?: () => number;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * OptimizerData over the analytics query library (ClickHouse server or chDB). Link traffic comes from one
 * utilization query (interface counters per router, so per direction; flows when no counters exist). The
 * library answers pair × class traffic, path quality and cost as aggregates over a range, so series are
 * built one bucket per query; settled buckets are cached, so a run only reads the buckets new since the last.
 */
export class QueriesOptimizerData implements OptimizerData {
  private readonly cache = new Map<string, unknown>();
  private readonly concurrency: number;
  private readonly settleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly root: RootConfig,
    private readonly options: QueriesDataOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.settleMs = options.settleMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  private async bucket<T>(kind: string, from: number, to: number, now: number, read: () => Promise<T>): Promise<T> {
    const key = `${kind}|${from}|${to}`;
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = await read();
    if (to <= now - this.settleMs) this.cache.set(key, value);
    return value;
  }

  /**
   * Buckets before the first stored data are empty: a fresh install (or a lab run) would otherwise query
   * days of them one by one. Found once; until then every read asks again.
   */
  private readonly firstData = new Map<'probes' | 'flows', number>();
  private async dataSince(kind: 'probes' | 'flows'): Promise<number> {
    let first = this.firstData.get(kind);
    if (first === undefined) {
      first = await firstDataTime(this.store, kind);
      if (first !== undefined) this.firstData.set(kind, first);
    }
    return first ?? Infinity;
  }

  private buckets(range: { from: number; to: number }, stepMs: number): number[] {
    const out: number[] = [];
    for (let t = range.from - (range.from % stepMs); t < range.to; t += stepMs) out.push(t);
    return out;
  }

  async linkTraffic(range: Range): Promise<LinkTraffic[]> {
    const stepMs = Math.max(60_000, range.stepMs - (range.stepMs % 60_000));
    let points = await linkUtilization(this.store, { range, stepMs, source: 'iface' });
    const byDirection = points.length > 0;
    if (!byDirection) points = await linkUtilization(this.store, { range, stepMs, source: 'flows' });
    const links = new Map(this.root.links.map((l) => [l.id, l]));
    const n = Math.max(0, Math.floor((range.to - range.from) / stepMs));
    const out = new Map<string, LinkTraffic>();
    for (const p of points) {
      const l = links.get(p.link);
      if (!l) continue;
      // Counters say which router sent; flow rollups do not, so they count against the link's `a` side.
      const from = byDirection && p.router ? p.router : l.a.site;
      const key = `${p.link}:${from}`;
      let s = out.get(key);
      if (!s)
        out.set(key, (s = { link: p.link, from_site: from, startMs: range.from, stepMs, values: new Array<number>(n).fill(0) }));
      const i = Math.floor((p.t - range.from) / stepMs);
      if (i >= 0 && i < n) s.values[i] = s.values[i]! + p.bps / 1e6;
    }
    return [...out.values()];
  }

  async pairTraffic(range: Range): Promise<PairTraffic[]> {
    const now = this.now();
    const stepMs = range.stepMs;
    const starts = this.buckets(range, stepMs);
    const since = await this.dataSince('flows');
    const cells = await mapLimit(starts, this.concurrency, (t) =>
      t + stepMs <= since
        ? Promise.resolve([])
        : this.bucket('tm', t, t + stepMs, now, () => trafficMatrix(this.store, { range: { from: t, to: t + stepMs } })),
    );
    const out = new Map<string, PairTraffic>();
    cells.forEach((list, i) => {
      for (const c of list) {
        const key = `${c.src_site}>${c.dst_site}|${c.class}`;
        let s = out.get(key);
        if (!s)
          out.set(
            key,
            (s = {
              from: c.src_site,
              to: c.dst_site,
              class: c.class,
              startMs: starts[0]!,
              stepMs,
              values: new Array<number>(starts.length).fill(0),
            }),
          );
        s.values[i] = c.bps / 1e6;
      }
    });
    return [...out.values()];
  }

  async pathProbes(range: { from: number; to: number }): Promise<PathProbes[]> {
    const now = this.now();
    const stepMs = this.options.probeWindowMs ?? 300_000;
    const starts = this.buckets(range, stepMs);
    const since = await this.dataSince('probes');
    const rows = await mapLimit(starts, this.concurrency, (t) =>
      t + stepMs <= since
        ? Promise.resolve([])
        : this.bucket('pq', t, t + stepMs, now, () => pathQuality(this.store, { range: { from: t, to: t + stepMs } })),
    );
    const out = new Map<string, ProbeWindow[]>();
    rows.forEach((list, i) => {
      // One window per path: classes probed on the same path are merged, weighted by their windows.
      const acc = new Map<string, { w: number; rtt: number; loss: number; jitter: number }>();
      for (const r of list) {
        const a = acc.get(r.path_id) ?? { w: 0, rtt: 0, loss: 0, jitter: 0 };
        const w = Math.max(1, r.windows);
        a.w += w;
        // The bucket's p95 RTT: the largest per-window p95 (the library's rtt_p95_ms is a p95 of window medians).
        a.rtt += r.rtt_p95_max_ms * w;
        a.loss += r.loss_ratio * 100 * w;
        a.jitter += r.jitter_ms * w;
        acc.set(r.path_id, a);
      }
      for (const [path, a] of acc) {
        const list2 = out.get(path) ?? [];
        list2.push({ t: starts[i]!, rtt_p95_ms: a.rtt / a.w, loss_pct: a.loss / a.w, jitter_ms: a.jitter / a.w });
        out.set(path, list2);
      }
    });
    return [...out].map(([path, windows]) => ({ path, windows }));
  }

  async dailyCost(range: { from: number; to: number }): Promise<DailyCost[]> {
    const now = this.now();
    const days = this.buckets(range, dayMs);
    const rows = await mapLimit(days, this.concurrency, (d) =>
      this.bucket('cost', d, d + dayMs, now, () => costPerGb(this.store, { range: { from: d, to: d + dayMs } })),
    );
    const out: DailyCost[] = [];
    rows.forEach((list, i) => {
      for (const r of list)
        if (r.cost !== 0) out.push({ day: days[i]!, provider: r.provider, link: r.link || undefined, cost: r.cost });
    });
    return out;
  }

  async currentWeights(): Promise<CurrentWeights> {
    return this.options.currentWeights ? this.options.currentWeights() : new Map();
  }
}
