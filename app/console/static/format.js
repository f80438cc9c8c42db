// Formatting of times, rates, money and ids; chart scales; status colours and pills.
import { h } from './dom.js';

const pad = (n) => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function fmtClock(ms) {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} · ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}
export function fmtHM(ms) {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
export function fmtDayHM(ms) {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
export function fmtBps(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const units = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}
export function fmtPct(v, digits = 0) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${(v * 100).toFixed(digits)}%`;
}
export function fmtMs(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
}
/**
 * Every amount of money on the page goes through here, in the policy's currency. `compact` abbreviates
 * large amounts for chart axes ("$1.5K"); otherwise `digits` decimals exactly.
 */
export function money(v, currency, digits = 0, { compact = false } = {}) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: currency || 'USD',
      ...(compact
        ? { notation: 'compact', maximumFractionDigits: 1, minimumFractionDigits: 0 }
        : { maximumFractionDigits: digits, minimumFractionDigits: digits }),
    }).format(v);
  } catch {
    return `${v.toFixed(digits)} ${currency}`;
  }
}
export const shortId = (id) => (id.length > 22 ? `${id.slice(0, 10)}…${id.slice(-10)}` : id);

export const STATUS_COLORS = { ok: '#3fb950', warn: '#d29922', breach: '#f85149', infeasible: '#a371f7', unknown: '#6e7681' };
/** The pill class of a path health: an SLO no path meets is shown apart from a breach (nothing to reroute). */
export const healthClass = (status) => ({ ok: 'ok', warn: 'warn', breach: 'bad', infeasible: 'infeasible' })[status] ?? '';
export const PROVIDER_COLORS = {
  aws: '#ff9900',
  azure: '#3b8eea',
  gcp: '#34a853',
  alibaba: '#ff6a00',
  onprem: '#a0aec0',
  oracle: '#c74634',
  other: '#9f7aea',
};
export const SERIES = ['#4f9cf9', '#e3b341', '#bc8cff', '#56d4dd', '#f778ba', '#7ee787'];

/** Utilization → colour: green below half the limit, amber towards it, red past it. */
export function utilColor(u, limit) {
  if (u === null || u === undefined) return '#4a5564';
  const x = Math.max(0, Math.min(1.2, u / (limit || 0.8)));
  const stops = [
    [0, [63, 185, 80]],
    [0.6, [63, 185, 80]],
    [0.85, [210, 153, 34]],
    [1, [248, 81, 73]],
  ];
  if (x >= 1) return 'rgb(248,81,73)';
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i];
    const [x0, c0] = stops[i - 1];
    if (x <= x1) {
      const f = (x - x0) / (x1 - x0 || 1);
      const c = c0.map((v, j) => Math.round(v + (c1[j] - v) * f));
      return `rgb(${c.join(',')})`;
    }
  }
  return 'rgb(248,81,73)';
}

export const statusPill = (status) => {
  const cls =
    {
      'awaiting-approval': 'info',
      proposed: 'info',
      approved: 'info',
      applying: 'warn',
      baking: 'warn',
      confirmed: 'ok',
      'rolled-back': 'bad',
      failed: 'bad',
      drifted: 'bad',
      'drift-accepted': '',
      rejected: '',
      expired: '',
    }[status] ?? '';
  return h('span', { class: `pill ${cls}`, 'data-status': status, text: status });
};
export const riskPill = (risk) =>
  h('span', { class: `pill ${risk === 'high' ? 'bad' : risk === 'medium' ? 'warn' : 'ok'}`, text: `${risk} risk` });

export function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
