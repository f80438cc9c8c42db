/**
 * What the console shows, assembled from the query library (analytics/queries), the topology and the
 * actuator role. Every time window is taken from the shared clock (the demo runs on an accelerated
 * SimulatedClock), never from the wall clock.
 */
import {
  costPerGb,
  linkUtilization,
  monthToDateSpend,
  pathQuality,
  type PathQuality,
  type UtilizationPoint,
} from '../../analytics/queries/index.ts';
import type { Store } from '../../core/store/types.ts';
import type { ClassConfig, RootConfig } from '../../core/config/schema.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { VyosLab } from '../../lab/vyos/index.ts';
import { healthRank, infeasibleSlos, sloStatus, type Health, type InfeasibleSlo } from './slo.ts';

export type { Health, InfeasibleSlo } from './slo.ts';

const minute = 60_000;
const day = 86_400_000;

export interface PathStatus extends PathQuality {
  links: string[];
  priority: number;
  status: Health;
  slo: ClassConfig['slo'] | null;
}

export interface LinkView {
  id: string;
  kind: string;
  a: string;
  b: string;
  capacity_mbps: number;
  cost_per_gb: number;
  /** Busiest direction over the last minutes, bits/s (null without data). */
  bps: number | null;
  /** bps / capacity (null without data). */
  utilization: number | null;
  /** Where the rate came from: interface counters (per direction) or flow records. */
  source: 'iface' | 'flows' | null;
  health: Health;
  /** The worst path × class measured over this link, when there is one. */
  worst: { path_id: string; class: string; rtt_p95_max_ms: number; loss_ratio: number; jitter_ms: number } | null;
  /** Per-minute busiest-direction bps over the utilization window. */
  series: { t: number; bps: number }[];
}

export interface SiteView {
  id: string;
  name: string;
  provider: string;
  region: string;
  prefixes: string[];
  router: { version: string; revision?: number; url?: string };
}

export interface Overview {
  now: number;
  currency: string;
  mode: string;
  max_utilization: number;
  window_ms: number;
  sites: SiteView[];
  links: LinkView[];
  /**
   * Path × class SLO status over the health window, worst first. The paths of an SLO in
   * `slo_infeasible` have status "infeasible", not "breach".
   */
  paths: PathStatus[];
  /** Path × class measurements in breach over the health window (an infeasible SLO's paths excluded). */
  breaches: number;
  /** (pair, class) SLOs every path of the pair broke over the health window: listed once each. */
  slo_infeasible: InfeasibleSlo[];
}

export interface OverviewOptions {
  /** Window for the utilization sparkline and the current rate. */
  utilizationMs?: number;
  /** Window the current rate is averaged over (the newest minutes of the utilization window). */
  rateMs?: number;
  /** Window for path health. */
  healthMs?: number;
}

/** Sum per (link, router, t) so each direction is one series, then keep the busiest direction per minute. */
function busiestDirection(points: UtilizationPoint[]): Map<string, Map<number, number>> {
  const byLink = new Map<string, Map<number, number>>();
  for (const p of points) {
    const series = byLink.get(p.link) ?? new Map<number, number>();
    byLink.set(p.link, series);
    series.set(p.t, Math.max(series.get(p.t) ?? 0, p.bps));
  }
  return byLink;
}

/**
 * Path × class SLO status over `range`, worst first, and the (pair, class) SLOs no path of the pair
 * met: their paths get status "infeasible" instead of "breach" (no routing change fixes them).
 */
export async function pathHealth(
  store: Store,
  topology: Topology,
  range: { from: number; to: number },
): Promise<{ paths: PathStatus[]; infeasible: InfeasibleSlo[] }> {
  const rows = await pathQuality(store, { range });
  const judged = rows.map((q) => {
    const path = topology.paths.get(q.path_id);
    const cls = topology.classes.get(q.class);
    return {
      ...q,
      links: path?.links ?? [],
      priority: path?.priority ?? 0,
      status: sloStatus(q, cls),
      slo: cls?.slo ?? null,
    };
  });
  const infeasible = infeasibleSlos(judged, topology);
  const unmeetable = new Set(infeasible.map((x) => `${x.pair[0]}>${x.pair[1]}|${x.class}`));
  for (const p of judged) if (unmeetable.has(`${p.src_site}>${p.dst_site}|${p.class}`)) p.status = 'infeasible';
  const rank = (s: Health) => healthRank[s];
  const paths = judged.sort(
    (a, b) =>
      rank(b.status) - rank(a.status) ||
      b.rtt_p95_max_ms / (b.slo?.rtt_p95_ms ?? 1) - a.rtt_p95_max_ms / (a.slo?.rtt_p95_ms ?? 1) ||
      a.path_id.localeCompare(b.path_id),
  );
  return { paths, infeasible };
}

export async function pathStatuses(store: Store, topology: Topology, range: { from: number; to: number }): Promise<PathStatus[]> {
  return (await pathHealth(store, topology, range)).paths;
}

export async function overview(
  store: Store,
  topology: Topology,
  root: RootConfig,
  now: number,
  lab: VyosLab | undefined,
  options: OverviewOptions = {},
): Promise<Overview> {
  const utilMs = options.utilizationMs ?? 60 * minute;
  const rateMs = options.rateMs ?? 5 * minute;
  const healthMs = options.healthMs ?? 15 * minute;
  // Whole minutes, ending at the last complete minute: a half-filled bucket would read as a dip.
  const to = Math.floor(now / minute) * minute;
  const range = { from: to - utilMs, to };
  const [iface, flows, { paths, infeasible }] = await Promise.all([
    linkUtilization(store, { range, source: 'iface' }),
    linkUtilization(store, { range, source: 'flows' }),
    pathHealth(store, topology, { from: to - healthMs, to }),
  ]);
  const ifaceByLink = busiestDirection(iface);
  const flowsByLink = busiestDirection(flows);

  const links: LinkView[] = root.links.map((l) => {
    const fromIface = ifaceByLink.get(l.id);
    const chosen = fromIface && fromIface.size > 0 ? fromIface : flowsByLink.get(l.id);
    const source = chosen && chosen.size > 0 ? (chosen === fromIface ? 'iface' : 'flows') : null;
    const series = chosen ? [...chosen.entries()].map(([t, bps]) => ({ t, bps })).sort((x, y) => x.t - y.t) : [];
    const recent = series.filter((p) => p.t >= to - rateMs);
    const bps = recent.length > 0 ? recent.reduce((s, p) => s + p.bps, 0) / recent.length : null;
    // Health: paths made of this link alone say the most; otherwise every path crossing it.
    const direct = paths.filter((p) => p.links.length === 1 && p.links[0] === l.id);
    const through = direct.length > 0 ? direct : paths.filter((p) => p.links.includes(l.id));
    // `paths` is sorted worst first, so the first one crossing the link is its worst.
    const w = through[0];
    const health: Health = w?.status ?? 'unknown';
    const worst: LinkView['worst'] = w
      ? { path_id: w.path_id, class: w.class, rtt_p95_max_ms: w.rtt_p95_max_ms, loss_ratio: w.loss_ratio, jitter_ms: w.jitter_ms }
      : null;
    return {
      id: l.id,
      kind: l.kind,
      a: l.a.site,
      b: l.b.site,
      capacity_mbps: l.capacity_mbps,
      cost_per_gb: l.cost_per_gb,
      bps,
      utilization: bps === null ? null : bps / (l.capacity_mbps * 1e6),
      source,
      health,
      worst,
      series,
    };
  });

  const sites: SiteView[] = root.sites.map((s) => {
    const handle = lab?.routers.get(s.id);
    return {
      id: s.id,
      name: s.name ?? s.id,
      provider: s.provider,
      region: s.region ?? '',
      prefixes: s.prefixes,
      router: {
        version: s.router.vyos_version,
        ...(handle ? { revision: handle.revision(), url: handle.url } : {}),
      },
    };
  });

  return {
    now,
    currency: root.policy.currency,
    mode: root.actuator.mode,
    max_utilization: root.policy.max_utilization,
    window_ms: utilMs,
    sites,
    links,
    paths,
    breaches: paths.filter((p) => p.status === 'breach').length,
    slo_infeasible: infeasible,
  };
}

// ---------------------------------------------------------------------------------------------
// Path quality over time

export interface QualitySeries {
  now: number;
  step_ms: number;
  pair: [string, string] | null;
  class: string | null;
  slo: ClassConfig['slo'] | null;
  pairs: [string, string][];
  classes: { id: string; slo: ClassConfig['slo'] }[];
  paths: {
    id: string;
    links: string[];
    priority: number;
    /** Per bucket: median RTT (p50 of the window medians), the worst window's p95, loss and jitter. */
    points: { t: number; rtt_p50_ms: number; rtt_p95_ms: number; loss_ratio: number; jitter_ms: number }[];
  }[];
}

/**
 * Path quality per time bucket. Each bucket is one `pathQuality` call over every path; buckets that
 * ended more than `settleMs` ago do not change any more and are kept (bounded LRU), so a poll costs
 * one or two queries whatever the window.
 */
export class QualityBuckets {
  private readonly cache = new Map<string, PathQuality[]>();

  constructor(
    private readonly store: Store,
    private readonly maxEntries = 2_000,
    private readonly settleMs = 3 * minute,
  ) {}

  async bucket(from: number, to: number, now: number): Promise<PathQuality[]> {
    const key = `${from}:${to}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const rows = await pathQuality(this.store, { range: { from, to } });
    if (to + this.settleMs <= now) {
      this.cache.set(key, rows);
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    return rows;
  }

  get size(): number {
    return this.cache.size;
  }
}

export async function qualitySeries(
  buckets: QualityBuckets,
  topology: Topology,
  now: number,
  q: { pair?: [string, string]; class?: string; windowMs: number; stepMs: number },
  fallback: () => { pair: [string, string]; class: string } | undefined,
): Promise<QualitySeries> {
  const pairs = topology.pairs();
  const classes = [...topology.classes.values()].map((c) => ({ id: c.id, slo: c.slo }));
  const worst = q.pair ? undefined : fallback();
  const pair = q.pair ?? worst?.pair ?? pairs[0] ?? null;
  const clsId = q.class ?? worst?.class ?? classes[0]?.id ?? null;
  const cls = clsId ? topology.classes.get(clsId) : undefined;
  const end = Math.floor(now / q.stepMs) * q.stepMs;
  const starts: number[] = [];
  for (let t = end - q.windowMs; t < end; t += q.stepMs) starts.push(t);
  const results = await Promise.all(starts.map((t) => buckets.bucket(t, t + q.stepMs, now)));
  const candidates = pair ? topology.pathsFor(pair[0], pair[1]) : [];
  const paths = candidates.map((p) => ({
    id: p.id,
    links: p.links,
    priority: p.priority,
    points: [] as QualitySeries['paths'][number]['points'],
  }));
  results.forEach((rows, i) => {
    for (const r of rows) {
      if (r.class !== clsId || r.windows === 0) continue;
      const target = paths.find((p) => p.id === r.path_id);
      target?.points.push({
        t: starts[i]!,
        rtt_p50_ms: r.rtt_p50_ms,
        rtt_p95_ms: r.rtt_p95_max_ms,
        loss_ratio: r.loss_ratio,
        jitter_ms: r.jitter_ms,
      });
    }
  });
  return { now, step_ms: q.stepMs, pair, class: clsId, slo: cls?.slo ?? null, pairs, classes, paths };
}

// ---------------------------------------------------------------------------------------------
// Cost against budget

export interface CostView {
  now: number;
  currency: string;
  month: string;
  /** Fraction of the month elapsed. */
  month_elapsed: number;
  budgets: {
    scope: string;
    provider?: string;
    link?: string;
    monthly: number;
    alert_at: number[];
    month_to_date: number;
    projected: number;
    /** month_to_date / monthly. */
    used: number;
    status: 'ok' | 'warn' | 'over';
  }[];
  /** Month-to-date spend per provider (also those without a budget). */
  providers: { provider: string; month_to_date: number; projected: number }[];
  /** Cumulative spend per day of the month, per provider. */
  daily: { day: number; by_provider: Record<string, number> }[];
  /** Cost per GB per link over the last 7 days. */
  links: { link: string; provider: string; cost: number; gb: number; cost_per_gb: number | null }[];
}

/** Daily spend per provider; whole days more than `settleDays` old are kept (billing arrives late). */
export class DailyCost {
  private readonly cache = new Map<number, Record<string, number>>();
  constructor(
    private readonly store: Store,
    private readonly settleDays = 3,
    private readonly maxEntries = 400,
  ) {}

  async day(start: number, now: number): Promise<Record<string, number>> {
    const hit = this.cache.get(start);
    if (hit) return hit;
    const rows = await costPerGb(this.store, { range: { from: start, to: start + day } });
    const by: Record<string, number> = {};
    for (const r of rows) by[r.provider] = (by[r.provider] ?? 0) + r.cost;
    if (start + (this.settleDays + 1) * day <= now) {
      this.cache.set(start, by);
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    return by;
  }
}

export async function costView(store: Store, daily: DailyCost, root: RootConfig, now: number): Promise<CostView> {
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const weekAgo = Math.max(0, Math.floor(now / day) * day - 7 * day);
  const [spend, perGb] = await Promise.all([
    monthToDateSpend(store, { now }),
    costPerGb(store, { range: { from: weekAgo, to: Math.max(weekAgo + day, Math.ceil(now / day) * day) } }),
  ]);
  const providers = new Map<string, { provider: string; month_to_date: number; projected: number }>();
  for (const s of spend) {
    const p = providers.get(s.provider) ?? { provider: s.provider, month_to_date: 0, projected: 0 };
    p.month_to_date += s.month_to_date;
    p.projected += s.projected;
    providers.set(s.provider, p);
  }
  const budgets = root.policy.budgets.map((b) => {
    const rows = spend.filter(
      (s) => (b.provider === undefined || s.provider === b.provider) && (b.link === undefined || s.link === b.link),
    );
    const mtd = rows.reduce((a, r) => a + r.month_to_date, 0);
    const projected = rows.reduce((a, r) => a + r.projected, 0);
    const used = mtd / b.monthly;
    const firstAlert = Math.min(...b.alert_at, 1);
    return {
      scope: [b.provider, b.link].filter(Boolean).join(' / ') || 'all',
      ...(b.provider ? { provider: b.provider } : {}),
      ...(b.link ? { link: b.link } : {}),
      monthly: b.monthly,
      alert_at: b.alert_at,
      month_to_date: mtd,
      projected,
      used,
      status: (used >= 1 || projected / b.monthly >= Math.max(...b.alert_at, 1)
        ? 'over'
        : used >= firstAlert || projected / b.monthly >= firstAlert
          ? 'warn'
          : 'ok') as 'ok' | 'warn' | 'over',
    };
  });
  const today = Math.floor(now / day) * day;
  const dayStarts: number[] = [];
  for (let t = monthStart; t <= today && t < monthEnd; t += day) dayStarts.push(t);
  const perDay = await Promise.all(dayStarts.map((t) => daily.day(t, now)));
  const running: Record<string, number> = {};
  const cumulative = perDay.map((by, i) => {
    for (const [p, v] of Object.entries(by)) running[p] = (running[p] ?? 0) + v;
    return { day: dayStarts[i]!, by_provider: { ...running } };
  });
  const linkProvider = new Map(root.links.map((l) => [l.id, l]));
  return {
    now,
    currency: root.policy.currency,
    month: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`,
    month_elapsed: (now - monthStart) / (monthEnd - monthStart),
    budgets,
    providers: [...providers.values()].sort((a, b) => b.month_to_date - a.month_to_date),
    daily: cumulative,
    links: perGb
      .filter((c) => c.link && linkProvider.has(c.link))
      .map((c) => ({ link: c.link, provider: c.provider, cost: c.cost, gb: c.gb, cost_per_gb: c.cost_per_gb }))
      .sort((a, b) => b.cost - a.cost),
  };
}
