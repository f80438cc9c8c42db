import type { RootConfig } from '../core/config/index.ts';
import type { OptimizerData, DailyCost } from './data.ts';
import { holtWinters } from './forecast/baselines.ts';
import { linearRegression } from 'simple-statistics';
import { csvCell, escapeHtml as esc } from '../core/report-text.ts';

export interface LinkCapacity {
  link: string;
  from_site: string;
  to_site: string;
  capacity_mbps: number;
  /** Hourly mean utilization (0–1) over the history, oldest first; `history_start` is the first hour. */
  history: number[];
  history_start: number;
  /** Hourly forecast bands (0–1) from now. */
  forecast_p50: number[];
  forecast_p90: number[];
  /** p95 of the last 7 days' utilization. */
  peak_utilization: number;
  /** Growth of the daily peak, utilization points per day (linear fit). */
  growth_per_day: number;
  /** Days until the daily peak reaches 80% / 100%; null when not growing (or already there: 0). */
  days_to_80: number | null;
  days_to_100: number | null;
  recommendation?: { action: string; new_capacity_mbps: number; monthly_cost: number; by_days: number };
}

export interface PairGrowth {
  from: string;
  to: string;
  class: string;
  last_week_mbps: number;
  previous_week_mbps: number;
  growth_pct: number | null;
}

export interface BudgetLine {
  scope: string;
  monthly: number;
  month_to_date: number;
  projected: number;
  /** Fractions of the budget the projection crosses (alert levels). */
  alerts: number[];
}

export interface CapacityReport {
  generated_at: number;
  currency: string;
  links: LinkCapacity[];
  pairs: PairGrowth[];
  budgets: BudgetLine[];
  spend: { provider: string; month_to_date: number; projected: number }[];
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

function hourly(values: readonly number[], stepMs: number): number[] {
  const per = Math.max(1, Math.round(hourMs / stepMs));
  const out: number[] = [];
  for (let i = 0; i + per <= values.length; i += per) {
    let s = 0;
    for (let j = i; j < i + per; j++) s += values[j]!;
    out.push(s / per);
  }
  return out;
}

function p95(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}

/** Days until a linear trend from `now` reaches `level`: 0 when already there, null when it never does. */
function daysTo(current: number, slope: number, level: number): number | null {
  if (current >= level) return 0;
  if (slope <= 1e-6) return null;
  return (level - current) / slope;
}

/** Month-to-date spend and a projection: spend so far + the last 7 days' daily mean × days left. */
export function projectSpend(costs: readonly DailyCost[], now: number): Map<string, { mtd: number; projected: number }> {
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const out = new Map<string, { mtd: number; projected: number }>();
  const byProvider = new Map<string, DailyCost[]>();
  for (const c of costs) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c]);
  for (const [provider, list] of byProvider) {
    const mtd = list.filter((c) => c.day >= monthStart && c.day < Math.min(now, monthEnd)).reduce((a, c) => a + c.cost, 0);
    const lastDay = Math.max(...list.map((c) => c.day));
    const recent = list.filter((c) => c.day > lastDay - 7 * dayMs);
    const days = new Set(recent.map((c) => c.day)).size;
    const daily = days > 0 ? recent.reduce((a, c) => a + c.cost, 0) / days : 0;
    const left = Math.max(0, (monthEnd - Math.max(lastDay + dayMs, monthStart)) / dayMs);
    out.set(provider, { mtd, projected: mtd + daily * left });
  }
  return out;
}

/**
 * Capacity planning: per directed link the utilization history and forecast bands (Holt-Winters, daily and
 * weekly seasonality), days until 80% and 100% from the trend of daily peaks, upgrade recommendations with
 * their cost, demand growth per pair and class, and the budget projection with alert levels.
 */
export async function buildCapacityReport(
  deps: { data: OptimizerData; root: RootConfig; now: number },
  options: { historyDays?: number; forecastDays?: number; stepMs?: number; horizonDays?: number } = {},
): Promise<CapacityReport> {
  const { root, now } = deps;
  const stepMs = options.stepMs ?? 300_000;
  const historyDays = options.historyDays ?? 28;
  const to = now - (now % hourMs);
  const range = { from: to - historyDays * dayMs, to, stepMs };
  const [links, pairs, costs] = await Promise.all([
    deps.data.linkTraffic(range),
    deps.data.pairTraffic(range),
    deps.data.dailyCost({ from: now - 62 * dayMs, to: now }),
  ]);
  const linkById = new Map(root.links.map((l) => [l.id, l]));
  const forecastH = (options.forecastDays ?? 7) * 24;
  const upgradeWithin = options.horizonDays ?? 90;
  const linkReports: LinkCapacity[] = [];
  for (const s of links) {
    const cfg = linkById.get(s.link);
    if (!cfg) continue;
    const cap = cfg.capacity_mbps;
    // Hours before the first traffic are "no data yet", not zero demand: they would bend the trend.
    const all = hourly(s.values, s.stepMs).map((v) => v / cap);
    const first = Math.max(
      0,
      all.findIndex((v) => v > 0),
    );
    const hours = all.slice(first);
    const historyStart = s.startMs + first * hourMs;
    const fc = holtWinters(hours, forecastH, { stepMs: hourMs, startMs: historyStart });
    const days: number[] = [];
    for (let i = 0; i + 24 <= hours.length; i += 24) days.push(Math.max(...hours.slice(i, i + 24)));
    // Weekly max of daily peaks (rolling), so weekends do not read as growth or decline.
    const weekly = days.length >= 10 ? days.slice(6).map((_, i) => Math.max(...days.slice(i, i + 7))) : days;
    const fit = weekly.length >= 3 ? linearRegression(weekly.map((v, i) => [i, v])) : { m: 0, b: weekly[weekly.length - 1] ?? 0 };
    const fitEnd = fit.m * (weekly.length - 1) + fit.b;
    const peakNow = Math.max(p95(hours.slice(-7 * 24)), fitEnd);
    const d80 = daysTo(peakNow, fit.m, 0.8);
    const d100 = daysTo(peakNow, fit.m, 1);
    const rep: LinkCapacity = {
      link: s.link,
      from_site: s.from_site,
      to_site: cfg.a.site === s.from_site ? cfg.b.site : cfg.a.site,
      capacity_mbps: cap,
      history: hours,
      history_start: historyStart,
      forecast_p50: fc.p50,
      forecast_p90: fc.p90,
      peak_utilization: peakNow,
      growth_per_day: fit.m,
      days_to_80: d80,
      days_to_100: d100,
    };
    if (d80 !== null && d80 <= upgradeWithin) {
      const newCap = cap * 2;
      const perMbps = cfg.monthly_fixed_cost > 0 ? cfg.monthly_fixed_cost / cap : 0;
      rep.recommendation = {
        action:
          d80 === 0 ? `upgrade now: the peak is at ${(peakNow * 100).toFixed(0)}%` : `upgrade within ${Math.floor(d80)} days`,
        new_capacity_mbps: newCap,
        monthly_cost: perMbps > 0 ? perMbps * newCap : 0,
        by_days: Math.floor(d80),
      };
    }
    linkReports.push(rep);
  }
  linkReports.sort((a, b) => (a.days_to_80 ?? 1e9) - (b.days_to_80 ?? 1e9) || b.peak_utilization - a.peak_utilization);
  const perWeek = Math.round((7 * dayMs) / stepMs);
  const pairReports: PairGrowth[] = pairs.map((p) => {
    const mean = (a: number, b: number) => {
      const xs = p.values.slice(Math.max(0, a), Math.max(0, b));
      return xs.length > 0 ? xs.reduce((x, y) => x + y, 0) / xs.length : 0;
    };
    const n = p.values.length;
    const last = mean(n - perWeek, n);
    const prev = mean(n - 2 * perWeek, n - perWeek);
    return {
      from: p.from,
      to: p.to,
      class: p.class,
      last_week_mbps: last,
      previous_week_mbps: prev,
      growth_pct: prev > 0 && n >= 2 * perWeek ? ((last - prev) / prev) * 100 : null,
    };
  });
  pairReports.sort((a, b) => (b.growth_pct ?? -1e9) - (a.growth_pct ?? -1e9));
  const spend = projectSpend(costs, now);
  const budgets: BudgetLine[] = root.policy.budgets.map((b) => {
    let mtd = 0;
    let projected = 0;
    if (b.link) {
      const list = costs.filter((c) => c.link === b.link);
      const p = projectSpend(
        list.map((c) => ({ ...c, provider: b.link! })),
        now,
      ).get(b.link);
      mtd = p?.mtd ?? 0;
      projected = p?.projected ?? 0;
    } else
      for (const [prov, v] of spend)
        if (!b.provider || b.provider === prov) {
          mtd += v.mtd;
          projected += v.projected;
        }
    return {
      scope: b.link ? `link ${b.link}` : b.provider ? `provider ${b.provider}` : 'total',
      monthly: b.monthly,
      month_to_date: mtd,
      projected,
      alerts: b.alert_at.filter((f) => projected >= f * b.monthly),
    };
  });
  return {
    generated_at: now,
    currency: root.policy.currency,
    links: linkReports,
    pairs: pairReports,
    budgets,
    spend: [...spend].map(([provider, v]) => ({ provider, month_to_date: v.mtd, projected: v.projected })),
  };
}

/** An inline SVG chart: history line, forecast p50 line and p50–p90 band, 80% and 100% rules. */
function chart(l: LinkCapacity, width = 640, height = 140): string {
  const hist = l.history.slice(-14 * 24);
  const n = hist.length + l.forecast_p50.length;
  const maxY = Math.max(1.05, ...hist, ...l.forecast_p90);
  const x = (i: number) => ((i / Math.max(1, n - 1)) * (width - 40) + 35).toFixed(1);
  const y = (v: number) => (height - 15 - (v / maxY) * (height - 25)).toFixed(1);
  const line = (vals: number[], off: number) => vals.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i + off)},${y(v)}`).join('');
  const band =
    l.forecast_p90.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i + hist.length)},${y(v)}`).join('') +
    [...l.forecast_p50]
      .map((v, i) => [v, i] as const)
      .reverse()
      .map(([v, i]) => `L${x(i + hist.length)},${y(v)}`)
      .join('') +
    'Z';
  const rule = (v: number, color: string, label: string) =>
    `<line x1="35" x2="${width - 5}" y1="${y(v)}" y2="${y(v)}" stroke="${color}" stroke-dasharray="4 3"/><text x="2" y="${Number(y(v)) + 4}" font-size="10">${label}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="utilization of ${esc(l.link)}">
<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>${rule(0.8, '#e69f00', '80%')}${rule(1, '#d55e00', '100%')}
<path d="${band}" fill="#56b4e9" fill-opacity="0.35"/><path d="${line(hist, 0)}" fill="none" stroke="#333" stroke-width="1"/>
<path d="${line(l.forecast_p50, hist.length)}" fill="none" stroke="#0072b2" stroke-width="1.5"/></svg>`;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const days = (v: number | null) => (v === null ? 'not growing' : v === 0 ? 'now' : `${Math.floor(v)} d`);

/** Self-contained HTML (inline CSS and SVG, no CDN). */
export function renderCapacityHtml(r: CapacityReport): string {
  const money = (v: number) => `${v.toFixed(0)} ${esc(r.currency)}`;
  const rows = r.links
    .map(
      (l) =>
        `<tr><td>${esc(l.link)}</td><td>${esc(l.from_site)} → ${esc(l.to_site)}</td><td>${l.capacity_mbps}</td><td>${pct(l.peak_utilization)}</td><td>${(l.growth_per_day * 100).toFixed(2)} pt/d</td><td>${days(l.days_to_80)}</td><td>${days(l.days_to_100)}</td><td>${l.recommendation ? `${esc(l.recommendation.action)} → ${l.recommendation.new_capacity_mbps} Mbit/s${l.recommendation.monthly_cost > 0 ? ` (${money(l.recommendation.monthly_cost)}/month)` : ''}` : ''}</td></tr>`,
    )
    .join('\n');
  const charts = r.links
    .map((l) => `<figure><figcaption>${esc(l.link)} ${esc(l.from_site)} → ${esc(l.to_site)}</figcaption>${chart(l)}</figure>`)
    .join('\n');
  const pairs = r.pairs
    .map(
      (p) =>
        `<tr><td>${esc(p.from)} → ${esc(p.to)}</td><td>${esc(p.class)}</td><td>${p.last_week_mbps.toFixed(1)}</td><td>${p.previous_week_mbps.toFixed(1)}</td><td>${p.growth_pct === null ? 'n/a' : `${p.growth_pct.toFixed(1)}%`}</td></tr>`,
    )
    .join('\n');
  const budgets = r.budgets
    .map(
      (b) =>
        `<tr class="${b.alerts.length > 0 ? 'alert' : ''}"><td>${esc(b.scope)}</td><td>${money(b.monthly)}</td><td>${money(b.month_to_date)}</td><td>${money(b.projected)}</td><td>${b.alerts.map((a) => pct(a)).join(', ') || 'none'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pathpilot capacity report</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}tr.alert{background:#fde2d6}figure{margin:1em 0}figcaption{font-weight:600}</style></head>
<body><h1>Capacity report</h1><p>Generated ${new Date(r.generated_at).toISOString()}. Utilization history (hourly means, black), forecast p50 (blue) and p50–p90 band; dashed rules at 80% and 100%.</p>
<h2>Links</h2><table><thead><tr><th>link</th><th>direction</th><th>Mbit/s</th><th>peak (p95, 7 d)</th><th>growth</th><th>to 80%</th><th>to 100%</th><th>recommendation</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Budget projection</h2><table><thead><tr><th>budget</th><th>monthly</th><th>month to date</th><th>projected</th><th>alerts crossed</th></tr></thead><tbody>
${budgets}
</tbody></table>
<h2>Demand growth by pair</h2><table><thead><tr><th>pair</th><th>class</th><th>last week Mbit/s</th><th>week before</th><th>growth</th></tr></thead><tbody>
${pairs}
</tbody></table>
<h2>Utilization and forecast per link</h2>
${charts}
</body></html>
`;
}

/** One row per directed link. */
export function capacityCsv(r: CapacityReport): string {
  const head = [
    'link',
    'from_site',
    'to_site',
    'capacity_mbps',
    'peak_utilization',
    'growth_per_day',
    'days_to_80',
    'days_to_100',
    'recommended_capacity_mbps',
    'recommended_monthly_cost',
  ];
  const lines = r.links.map((l) =>
    [
      l.link,
      l.from_site,
      l.to_site,
      l.capacity_mbps,
      l.peak_utilization.toFixed(4),
      l.growth_per_day.toFixed(5),
      l.days_to_80?.toFixed(1),
      l.days_to_100?.toFixed(1),
      l.recommendation?.new_capacity_mbps,
      l.recommendation?.monthly_cost.toFixed(2),
    ]
      .map(csvCell)
      .join(','),
  );
  return [head.join(','), ...lines].join('\n') + '\n';
}
