import type { Store } from '../../core/store/types.ts';
import { sql, ident, list, dateTimeMs, joinSql, raw, type Sql } from '../../core/store/sql.ts';
import { ValidationError } from '../../core/errors.ts';
import { rollupSlices, rollupTables } from '../rollups/index.ts';
import type {
  CostPerGb,
  FirstHopMinute,
  FirstHopVolume,
  MonthSpend,
  PathMinuteQuality,
  PathQuality,
  Talker,
  TimeRange,
  TrafficCell,
  UtilizationPoint,
  WindowComparison,
  WindowQuality,
} from './types.ts';

export * from './types.ts';
export * from './writes.ts';
export { pickResolution, rollupSlices } from '../rollups/index.ts';

/**
 * The query library: every other part reads ClickHouse through these functions. They run
 * unchanged on ClickHouse 18.16, modern servers and chDB (test/conformance/analytics-queries.ts):
 * no query parameters, no window functions, at most one JOIN, times as DateTime seconds.
 */

const t = (store: Store, table: string) => sql`${ident(store.database)}.${ident(table)}`;

function checkRange(range: TimeRange): void {
  if (!Number.isFinite(range.from) || !Number.isFinite(range.to) || range.to <= range.from) {
    throw new ValidationError(`invalid time range [${range.from}, ${range.to}): "to" must be after "from"`);
  }
}

const inList = (column: string, values: readonly string[] | undefined): Sql | undefined =>
  values && values.length > 0 ? sql`${raw(column)} IN ${list(values)}` : undefined;

const where = (parts: (Sql | undefined)[]): Sql =>
  joinSql(
    parts.filter((p): p is Sql => p !== undefined),
    ' AND ',
  );

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

// ---------------------------------------------------------------------------------------------
// Path quality

export interface PathQualityQuery {
  range: TimeRange;
  pathIds?: string[];
  classes?: string[];
  srcSite?: string;
  dstSite?: string;
}

/** p50/p95/p99 RTT, loss and jitter per path and class over the range, from the probe rollups. */
export async function pathQuality(store: Store, q: PathQualityQuery): Promise<PathQuality[]> {
  checkRange(q.range);
  const { slices } = rollupSlices(q.range, {
    minute: rollupTables.probesMinute,
    hour: rollupTables.probesHour,
    day: rollupTables.probesDay,
  });
  const filters = (from: number, to: number) =>
    where([
      sql`t >= ${dateTimeMs(from)} AND t < ${dateTimeMs(to)}`,
      inList('path_id', q.pathIds),
      inList('class', q.classes),
      q.srcSite !== undefined ? sql`src_site = ${q.srcSite}` : undefined,
      q.dstSite !== undefined ? sql`dst_site = ${q.dstSite}` : undefined,
    ]);
  const source = joinSql(
    slices.map(
      (s) => sql`SELECT path_id, class, src_site, dst_site, rtt, rtt_p95_max, sent, received, jitter, windows
        FROM ${t(store, s.table)} WHERE ${filters(s.from, s.to)}`,
    ),
    ' UNION ALL ',
  );
  // Aliases differ from column names: 18.16 resolves WHERE against SELECT aliases.
  const rows = await store.query<{
    path_id: string;
    class: string;
    src: string;
    dst: string;
    q: number[];
    p95max: number;
    sent: number;
    received: number;
    jitter: number;
    windows: number;
  }>(sql`
    SELECT path_id, class, any(src_site) AS src, any(dst_site) AS dst,
      quantilesTDigestMerge(0.5, 0.95, 0.99)(rtt) AS q, maxMerge(rtt_p95_max) AS p95max,
      sumMerge(sent) AS sent, sumMerge(received) AS received, avgMerge(jitter) AS jitter, countMerge(windows) AS windows
    FROM (${source})
    GROUP BY path_id, class
    ORDER BY path_id, class`);
  return rows.map((r) => {
    const sent = num(r.sent);
    const received = num(r.received);
    return {
      path_id: r.path_id,
      class: r.class,
      src_site: r.src,
      dst_site: r.dst,
      rtt_p50_ms: num(r.q[0]),
      rtt_p95_ms: num(r.q[1]),
      rtt_p99_ms: num(r.q[2]),
      rtt_p95_max_ms: num(r.p95max),
      loss_ratio: sent > 0 ? Math.max(0, 1 - received / sent) : 0,
      jitter_ms: num(r.jitter),
      windows: num(r.windows),
      sent,
      received,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Link utilization

export interface UtilizationQuery {
  range: TimeRange;
  links?: string[];
  /** Bucket size; default 60 s. Must be a multiple of 60 s. */
  stepMs?: number;
  /** `flows`: bytes × sampling rate from flow records; `iface`: interface counter deltas. */
  source?: 'flows' | 'iface';
}

/** Bits per second per link per bucket. */
export async function linkUtilization(store: Store, q: UtilizationQuery): Promise<UtilizationPoint[]> {
  checkRange(q.range);
  const stepMs = q.stepMs ?? 60_000;
  if (stepMs < 60_000 || stepMs % 60_000 !== 0) throw new ValidationError('stepMs must be a positive multiple of 60000');
  const step = stepMs / 1000;
  if ((q.source ?? 'flows') === 'flows') {
    const rows = await store.query<{ link: string; b: number; bytes: number }>(sql`
      SELECT link, intDiv(toUInt32(t), ${step}) * ${step} AS b, sum(bytes) AS bytes
      FROM ${t(store, rollupTables.linkMinute)}
      WHERE ${where([sql`t >= ${dateTimeMs(q.range.from)} AND t < ${dateTimeMs(q.range.to)}`, inList('link', q.links)])}
      GROUP BY link, b ORDER BY link, b`);
    return rows.map((r) => ({ link: r.link, t: num(r.b) * 1000, bps: (num(r.bytes) * 8) / step }));
  }
  // Counters are cumulative: the rate of a minute is the counter growth since the previous sample.
  const rows = await store.query<{ router: string; interface: string; link: string; last: number; out_octets: number }>(sql`
    SELECT router, interface, link, toUnixTimestamp(maxMerge(last_time)) AS last, argMaxMerge(out_octets) AS out_octets
    FROM ${t(store, rollupTables.ifaceMinute)}
    WHERE ${where([
      sql`t >= ${dateTimeMs(q.range.from - 60_000)} AND t < ${dateTimeMs(q.range.to)}`,
      inList('link', q.links),
      sql`link != ''`,
    ])}
    GROUP BY router, interface, link, t ORDER BY router, interface, link, t`);
  const buckets = new Map<string, { link: string; router: string; iface: string; t: number; bits: number }>();
  for (let i = 1; i < rows.length; i++) {
    const prev = rows[i - 1]!;
    const cur = rows[i]!;
    if (prev.router !== cur.router || prev.interface !== cur.interface || prev.link !== cur.link) continue;
    const dt = num(cur.last) - num(prev.last);
    const d = num(cur.out_octets) - num(prev.out_octets);
    if (dt <= 0 || d < 0) continue; // counter reset or wrap: skip the interval
    const at = num(cur.last) * 1000;
    if (at < q.range.from || at >= q.range.to) continue;
    const b = Math.floor(at / stepMs) * stepMs;
    const key = `${cur.router}|${cur.interface}|${b}`;
    const acc = buckets.get(key) ?? { link: cur.link, router: cur.router, iface: cur.interface, t: b, bits: 0 };
    acc.bits += d * 8;
    buckets.set(key, acc);
  }
  return [...buckets.values()]
    .map((x) => ({ link: x.link, router: x.router, interface: x.iface, t: x.t, bps: x.bits / step }))
    .sort((a, b) => a.link.localeCompare(b.link) || a.router.localeCompare(b.router) || a.t - b.t);
}

// ---------------------------------------------------------------------------------------------
// Traffic matrix

export interface TrafficMatrixQuery {
  range: TimeRange;
  classes?: string[];
  sites?: string[];
}

/**
 * The flow rollups covering `range` (the coarsest table each slice allows) as one UNION ALL of `columns`,
 * with `filters`; `res` is the range read, widened to whole buckets.
 */
function flowRollups(store: Store, range: TimeRange, columns: Sql, filters: (Sql | undefined)[] = []) {
  const { slices, resolution: res } = rollupSlices(range, {
    minute: rollupTables.flowsMinute,
    hour: rollupTables.flowsHour,
    day: rollupTables.flowsDay,
  });
  const source = joinSql(
    slices.map(
      (s) => sql`SELECT ${columns} FROM ${t(store, s.table)}
        WHERE ${where([sql`t >= ${dateTimeMs(s.from)} AND t < ${dateTimeMs(s.to)}`, ...filters])}`,
    ),
    ' UNION ALL ',
  );
  return { source, res };
}

/** Bytes (sampling-scaled) and average bps per source site × destination site × class. */
export async function trafficMatrix(store: Store, q: TrafficMatrixQuery): Promise<TrafficCell[]> {
  checkRange(q.range);
  const { source, res } = flowRollups(store, q.range, sql`site, dst_site, class, bytes`, [
    inList('class', q.classes),
    inList('site', q.sites),
  ]);
  const rows = await store.query<{ src_site: string; dst_site: string; class: string; bytes: number }>(sql`
    SELECT site AS src_site, dst_site, class, sum(bytes) AS bytes
    FROM (${source})
    GROUP BY src_site, dst_site, class
    ORDER BY src_site, dst_site, class`);
  const seconds = (res.to - res.from) / 1000;
  return rows.map((r) => ({ ...r, bytes: num(r.bytes), bps: (num(r.bytes) * 8) / seconds }));
}

// ---------------------------------------------------------------------------------------------
// Costs

const GB = 1e9;

/** Cost, carried GB and cost per GB per provider and link over the range (whole days). */
export async function costPerGb(store: Store, q: { range: TimeRange }): Promise<CostPerGb[]> {
  checkRange(q.range);
  const day = 86_400_000;
  const from = Math.floor(q.range.from / day) * day;
  const to = Math.ceil(q.range.to / day) * day;
  const costs = await store.query<{ provider: string; link: string; currency: string; cost: number }>(sql`
    SELECT provider, link, currency, sum(cost) AS cost
    FROM ${t(store, rollupTables.costDaily)}
    WHERE day >= toDate(${dateTimeMs(from)}) AND day < toDate(${dateTimeMs(to)})
    GROUP BY provider, link, currency ORDER BY provider, link, currency`);
  const traffic = await store.query<{ link: string; bytes: number }>(sql`
    SELECT link, sum(bytes) AS bytes FROM ${t(store, rollupTables.linkMinute)}
    WHERE t >= ${dateTimeMs(from)} AND t < ${dateTimeMs(to)} GROUP BY link`);
  const bytesByLink = new Map(traffic.map((r) => [r.link, num(r.bytes)]));
  return costs.map((c) => {
    const gb = c.link ? (bytesByLink.get(c.link) ?? 0) / GB : 0;
    const cost = num(c.cost);
    return { provider: c.provider, link: c.link, currency: c.currency, cost, gb, cost_per_gb: gb > 0 ? cost / gb : null };
  });
}

/** Month-to-date spend per provider and link, with a linear end-of-month projection. */
export async function monthToDateSpend(store: Store, q: { now: number }): Promise<MonthSpend[]> {
  const now = new Date(q.now);
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const rows = await store.query<{ provider: string; link: string; currency: string; cost: number; last_day: number }>(sql`
    SELECT provider, link, currency, sum(cost) AS cost, toUInt32(max(day)) AS last_day
    FROM ${t(store, rollupTables.costDaily)}
    WHERE day >= toDate(${dateTimeMs(monthStart)}) AND day < toDate(${dateTimeMs(monthEnd)}) AND day <= toDate(${dateTimeMs(q.now)})
    GROUP BY provider, link, currency ORDER BY provider, link, currency`);
  const monthMs = monthEnd - monthStart;
  // Billing data covers whole days up to the last day present: project from the days covered.
  const covered = Math.max(86_400_000, Math.min(q.now, monthEnd) - monthStart);
  return rows.map((r) => {
    const mtd = num(r.cost);
    return {
      provider: r.provider,
      link: r.link,
      currency: r.currency,
      month_to_date: mtd,
      projected: (mtd * monthMs) / covered,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Top talkers

export interface TopTalkersQuery {
  range: TimeRange;
  by: 'src_addr' | 'dst_addr';
  site?: string;
  link?: string;
  limit?: number;
}

/** Addresses with the most (sampling-scaled) bytes, from raw flows. */
export async function topTalkers(store: Store, q: TopTalkersQuery): Promise<Talker[]> {
  checkRange(q.range);
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 10)), 10_000);
  const col = q.by === 'src_addr' ? raw('src_addr') : raw('dst_addr');
  const rows = await store.query<Talker>(sql`
    SELECT ${col} AS addr, sum(bytes) AS bytes, sum(packets) AS packets, count() AS flows
    FROM ${t(store, 'flows_raw')}
    WHERE ${where([
      sql`time_received >= ${dateTimeMs(q.range.from)} AND time_received < ${dateTimeMs(q.range.to)}`,
      q.site !== undefined ? sql`site = ${q.site}` : undefined,
      q.link !== undefined ? sql`link = ${q.link}` : undefined,
    ])}
    GROUP BY addr ORDER BY bytes DESC, addr LIMIT ${limit}`);
  return rows.map((r) => ({ addr: r.addr, bytes: num(r.bytes), packets: num(r.packets), flows: num(r.flows) }));
}

// ---------------------------------------------------------------------------------------------
// Live flows (pre-change risk)

export interface LiveFlow {
  src_addr: string;
  dst_addr: string;
  /** IP protocol number. */
  protocol: number;
  /** 0 when the exporter gave none (ICMP, fragments). */
  dst_port: number;
  class: string;
  dst_site: string;
  bytes: number;
  flows: number;
  /** Last time the conversation was seen (ms). */
  last_seen: number;
}

/**
 * The conversations one site's router (or every router) exported over `range` (source, destination,
 * protocol, destination port, class), most bytes first: what a change on that router could re-route or
 * cut, and who talks to whom (micro-segmentation).
 */
export async function liveFlows(store: Store, q: { range: TimeRange; site?: string; limit?: number }): Promise<LiveFlow[]> {
  checkRange(q.range);
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 5000)), 100_000);
  const rows = await store.query<Record<string, unknown>>(sql`
    SELECT src_addr, dst_addr, protocol, ifNull(dst_port, 0) AS port, ifNull(class, '') AS cls, ifNull(dst_site, '') AS dsite,
      sum(bytes) AS total, count() AS n, toUInt32(max(time_received)) AS last
    FROM ${t(store, 'flows_raw')}
    WHERE ${where([
      sql`time_received >= ${dateTimeMs(q.range.from)} AND time_received < ${dateTimeMs(q.range.to)}`,
      q.site !== undefined ? sql`site = ${q.site}` : undefined,
    ])}
    GROUP BY src_addr, dst_addr, protocol, port, cls, dsite
    ORDER BY total DESC, src_addr, dst_addr, port LIMIT ${limit}`);
  return rows.map((r) => ({
    src_addr: String(r['src_addr']),
    dst_addr: String(r['dst_addr']),
    protocol: num(r['protocol']),
    dst_port: num(r['port']),
    class: String(r['cls']),
    dst_site: String(r['dsite']),
    bytes: num(r['total']),
    flows: num(r['n']),
    last_seen: num(r['last']) * 1000,
  }));
}

// ---------------------------------------------------------------------------------------------
// SLO guard: current vs. baseline

export interface CompareWindowsQuery {
  pathIds: string[];
  /** The baseline window's paths, when not `pathIds` (where the traffic went before a change). */
  baselinePathIds?: string[];
  class?: string;
  current: TimeRange;
  baseline: TimeRange;
}

/** A probe-window aggregate row, as windowQuality and windowQualityByPath select it. */
interface QualityRow {
  q50: number;
  q95: number;
  sent: number;
  received: number;
  jitter: number;
  windows: number;
}

const qualityColumns = sql`quantileExact(0.5)(rtt_p50_ms) AS q50, quantileExact(0.95)(rtt_p95_ms) AS q95,
  sum(toUInt64(sent)) AS sent, sum(toUInt64(received)) AS received, avg(jitter_ms) AS jitter, count() AS windows`;

/** The row as WindowQuality; null when it counts no window. */
function toWindowQuality(r: QualityRow | undefined): WindowQuality | null {
  if (!r || num(r.windows) === 0) return null;
  const sent = num(r.sent);
  return {
    rtt_p50_ms: num(r.q50),
    rtt_p95_ms: num(r.q95),
    loss_ratio: sent > 0 ? Math.max(0, 1 - num(r.received) / sent) : 0,
    jitter_ms: num(r.jitter),
    windows: num(r.windows),
    sent,
  };
}

async function windowQuality(
  store: Store,
  pathIds: string[],
  cls: string | undefined,
  range: TimeRange,
): Promise<WindowQuality | null> {
  const rows = await store.query<QualityRow>(sql`
    SELECT ${qualityColumns}
    FROM ${t(store, 'probes_raw')}
    WHERE ${where([
      sql`window_start >= ${dateTimeMs(range.from)} AND window_start < ${dateTimeMs(range.to)}`,
      inList('path_id', pathIds),
      cls !== undefined ? sql`class = ${cls}` : undefined,
    ])}`);
  return toWindowQuality(rows[0]);
}

/**
 * When the oldest probe window (`probes`) or flow (`flows`) still stored begins, ms; undefined when
 * there is none. Series readers start there instead of querying empty buckets one by one.
 */
export async function firstDataTime(store: Store, kind: 'probes' | 'flows'): Promise<number | undefined> {
  const [table, column] = kind === 'probes' ? ['probes_raw', 'window_start'] : ['flows_raw', 'time_received'];
  const rows = await store.query<{ m: number | string; n: number | string }>(
    sql`SELECT toUInt64(toUnixTimestamp(min(${raw(column)}))) AS m, count() AS n FROM ${t(store, table)}`,
  );
  const r = rows[0];
  return r && num(r.n) > 0 ? num(r.m) * 1000 : undefined;
}

/**
 * Window quality per path and class (`${path}|${class}`) and per path over every class (`${path}|*`),
 * in two queries (no ROLLUP: ClickHouse 18.16 lacks it): the self-heal pass judges every path at once.
 */
export async function windowQualityByPath(store: Store, range: TimeRange): Promise<Map<string, WindowQuality>> {
  checkRange(range);
  const out = new Map<string, WindowQuality>();
  const byClass = async (perClass: boolean) => {
    const rows = await store.query<QualityRow & { path_id: string; class: string }>(sql`
      SELECT path_id, ${perClass ? sql`class` : sql`'*'`} AS class, ${qualityColumns}
      FROM ${t(store, 'probes_raw')}
      WHERE window_start >= ${dateTimeMs(range.from)} AND window_start < ${dateTimeMs(range.to)}
      GROUP BY path_id${perClass ? sql`, class` : sql``}`);
    for (const r of rows) {
      const q = toWindowQuality(r);
      if (q) out.set(`${r.path_id}|${r.class}`, q);
    }
  };
  await byClass(true);
  await byClass(false);
  return out;
}

/**
 * The actuator's SLO guard input: probe quality of the given paths (and class) in the current
 * window vs. a baseline window, from raw probe windows so short bake windows are exact.
 */
export async function compareWindows(store: Store, q: CompareWindowsQuery): Promise<WindowComparison> {
  checkRange(q.current);
  checkRange(q.baseline);
  const baselinePathIds = q.baselinePathIds ?? q.pathIds;
  if (q.pathIds.length === 0 || baselinePathIds.length === 0)
    throw new ValidationError('compareWindows needs at least one path id');
  const [current, baseline] = await Promise.all([
    windowQuality(store, q.pathIds, q.class, q.current),
    windowQuality(store, baselinePathIds, q.class, q.baseline),
  ]);
  const rel = (c: number, b: number) => (b > 0 ? (c - b) / b : c > 0 ? Infinity : 0);
  return {
    current,
    baseline,
    change:
      current && baseline
        ? {
            rtt_p50: rel(current.rtt_p50_ms, baseline.rtt_p50_ms),
            rtt_p95: rel(current.rtt_p95_ms, baseline.rtt_p95_ms),
            loss: current.loss_ratio - baseline.loss_ratio,
            jitter: rel(current.jitter_ms, baseline.jitter_ms),
          }
        : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Realized effect of an applied change (actuator/realized-measure.ts prices and judges these rows)

const minute = 60_000;
/** Per-minute reads are bounded: a week of minutes per key at most. */
const maxMinuteRangeMs = 7 * 86_400_000;

function checkMinuteRange(range: TimeRange): { from: number; to: number } {
  checkRange(range);
  if (range.to - range.from > maxMinuteRangeMs)
    throw new ValidationError(`per-minute range too long: ${range.to - range.from} ms (at most ${maxMinuteRangeMs})`);
  return { from: Math.floor(range.from / minute) * minute, to: Math.ceil(range.to / minute) * minute };
}

/**
 * Bytes per source site, destination site, first-hop link and class over the range, one grouped query over
 * the flow rollups; `from`/`to` is the range read (widened to whole buckets), for per-day rates. The
 * realized effect prices these bytes (it sums over classes); the compliance report's data-residency proof
 * reads which regions each class's bytes crossed.
 */
export async function trafficByFirstHop(store: Store, q: { range: TimeRange }): Promise<FirstHopVolume> {
  checkRange(q.range);
  const { source, res } = flowRollups(store, q.range, sql`site, dst_site, link, class, bytes`);
  const rows = await store.query<{ src_site: string; dst_site: string; link: string; class: string; bytes: number }>(sql`
    SELECT site AS src_site, dst_site, link, class, sum(bytes) AS bytes
    FROM (${source})
    GROUP BY src_site, dst_site, link, class
    ORDER BY src_site, dst_site, link, class`);
  return { from: res.from, to: res.to, rows: rows.map((r) => ({ ...r, bytes: num(r.bytes) })) };
}

/** Bytes per minute, source and destination site, class and first-hop link, for the given sites and classes. */
export async function firstHopMinutes(
  store: Store,
  q: { range: TimeRange; sites: readonly string[]; classes: readonly string[] },
): Promise<FirstHopMinute[]> {
  const r = checkMinuteRange(q.range);
  if (q.sites.length === 0 || q.classes.length === 0) return [];
  const rows = await store.query<{ m: number; src: string; dst_site: string; class: string; link: string; bytes: number }>(sql`
    SELECT toUInt32(t) AS m, site AS src, dst_site, class, link, sum(bytes) AS bytes
    FROM ${t(store, rollupTables.flowsMinute)}
    WHERE ${where([
      sql`t >= ${dateTimeMs(r.from)} AND t < ${dateTimeMs(r.to)}`,
      inList('site', [...q.sites]),
      inList('dst_site', [...q.sites]),
      inList('class', [...q.classes]),
    ])}
    GROUP BY m, src, dst_site, class, link
    ORDER BY m, src, dst_site, class, link`);
  return rows.map((x) => ({
    t: num(x.m) * 1000,
    src_site: x.src,
    dst_site: x.dst_site,
    class: x.class,
    link: x.link,
    bytes: num(x.bytes),
  }));
}

/** Probe quality per minute, path and class (the worst window's p95, loss, mean jitter), from the minute rollup. */
export async function pathQualityByMinute(
  store: Store,
  q: { range: TimeRange; pathIds: readonly string[] },
): Promise<PathMinuteQuality[]> {
  const r = checkMinuteRange(q.range);
  if (q.pathIds.length === 0) return [];
  const rows = await store.query<{
    m: number;
    path_id: string;
    class: string;
    p95max: number;
    sent: number;
    received: number;
    jitter: number;
    windows: number;
  }>(sql`
    SELECT toUInt32(t) AS m, path_id, class, maxMerge(rtt_p95_max) AS p95max, sumMerge(sent) AS sent,
      sumMerge(received) AS received, avgMerge(jitter) AS jitter, countMerge(windows) AS windows
    FROM ${t(store, rollupTables.probesMinute)}
    WHERE ${where([sql`t >= ${dateTimeMs(r.from)} AND t < ${dateTimeMs(r.to)}`, inList('path_id', [...q.pathIds])])}
    GROUP BY m, path_id, class
    ORDER BY m, path_id, class`);
  return rows.map((x) => {
    const sent = num(x.sent);
    return {
      t: num(x.m) * 1000,
      path_id: x.path_id,
      class: x.class,
      rtt_p95_max_ms: num(x.p95max),
      loss_ratio: sent > 0 ? Math.max(0, 1 - num(x.received) / sent) : 0,
      jitter_ms: num(x.jitter),
      windows: num(x.windows),
      sent,
    };
  });
}
