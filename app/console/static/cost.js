// Cost panel: month-to-date spend against budgets, projection, cumulative spend and cost per link.
import { $, clear, h, s } from './dom.js';
import { MONTHS, PROVIDER_COLORS, fmtPct, money, niceMax } from './format.js';
import { state } from './state.js';

export function renderCost() {
  const c = state.cost;
  if (!c) return;
  $('cost-month').textContent = `${c.month} · ${fmtPct(c.month_elapsed)} of the month elapsed`;
  const bars = clear($('budget-bars'));
  if (!c.budgets.length) bars.append(h('div', { class: 'muted', text: 'No budgets configured (policy.budgets).' }));
  for (const b of c.budgets) {
    const W = 400;
    const H = 18;
    const scale = Math.max(1.05, b.projected / b.monthly, b.used) * 1.02;
    const x = (v) => Math.min(W, (v / b.monthly / scale) * W);
    const color = b.status === 'over' ? '#f85149' : b.status === 'warn' ? '#d29922' : '#3fb950';
    const svg = s(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none' },
      s('rect', { x: 0, y: 3, width: W, height: H - 6, rx: 4, fill: '#222b38' }),
      s('rect', {
        x: 0,
        y: 3,
        width: x(b.projected),
        height: H - 6,
        rx: 4,
        fill: color,
        'fill-opacity': 0.22,
        stroke: color,
        'stroke-opacity': 0.5,
        'stroke-dasharray': '3 2',
      }),
      s('rect', { x: 0, y: 3, width: x(b.month_to_date), height: H - 6, rx: 4, fill: color }),
      s('line', {
        x1: x(b.monthly * c.month_elapsed),
        x2: x(b.monthly * c.month_elapsed),
        y1: 0,
        y2: H,
        stroke: '#dbe2ea',
        'stroke-width': 1.5,
      }),
      ...b.alert_at.map((a) =>
        s('line', {
          x1: x(b.monthly * a),
          x2: x(b.monthly * a),
          y1: 1,
          y2: H - 1,
          stroke: a >= 1 ? '#f85149' : '#d29922',
          'stroke-width': 2,
        }),
      ),
    );
    bars.append(
      h(
        'div',
        { class: 'budget', 'data-budget': b.scope },
        h(
          'div',
          { class: 'label' },
          h(
            'span',
            null,
            h('strong', { text: b.scope }),
            ' ',
            h('span', {
              class: `pill ${b.status === 'over' ? 'bad' : b.status === 'warn' ? 'warn' : 'ok'}`,
              text: fmtPct(b.used),
            }),
          ),
          h('span', {
            class: 'amount',
            text: `billed ${money(b.month_to_date, c.currency)} of ${money(b.monthly, c.currency)} this month · projected ${money(b.projected, c.currency)} by month end`,
          }),
        ),
        svg,
      ),
    );
  }
  bars.append(
    h(
      'div',
      { class: 'legend' },
      h('span', { text: 'bar: month to date · dashed: projected · white tick: even pace · amber/red ticks: alert levels' }),
    ),
  );
  renderCumulative(c);
  const tbl = clear($('cost-links'));
  const rows = c.links.slice(0, 6);
  if (rows.length) {
    tbl.append(
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { text: 'Link (last 7 days)' }),
            h('th', { class: 'num', text: 'Cost, 7 days' }),
            h('th', { class: 'num', text: 'GB' }),
            h('th', { class: 'num', text: 'per GB' }),
          ),
        ),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              null,
              h('td', { class: 'mono', text: r.link }),
              h('td', { class: 'num', text: money(r.cost, c.currency) }),
              h('td', { class: 'num', text: r.gb.toFixed(0) }),
              h('td', { class: 'num', text: r.cost_per_gb === null ? '–' : money(r.cost_per_gb, c.currency, 3) }),
            ),
          ),
        ),
      ),
    );
  }
}

function renderCumulative(c) {
  const svg = clear($('cost-svg'));
  const W = 420;
  const H = 170;
  const M = { l: 52, r: 10, t: 10, b: 22 };
  const d = new Date(c.now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const budgeted = c.budgets.filter((b) => b.provider && !b.link);
  const providers = [...new Set([...budgeted.map((b) => b.provider), ...c.providers.map((p) => p.provider)])];
  const lastVals = c.daily.length ? Object.values(c.daily[c.daily.length - 1].by_provider) : [];
  const ymax = niceMax(Math.max(1, ...budgeted.map((b) => b.monthly), ...lastVals));
  const x = (t) => M.l + ((t - monthStart) / (monthEnd - monthStart)) * (W - M.l - M.r);
  const y = (v) => H - M.b - (v / ymax) * (H - M.t - M.b);
  const axis = s('g', { class: 'axis' });
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    axis.append(
      s('line', { x1: M.l, x2: W - M.r, y1: y(v), y2: y(v), class: 'grid-line' }),
      s('text', {
        x: M.l - 6,
        y: y(v) + 4,
        'text-anchor': 'end',
        text: money(v, c.currency, 0, { compact: true }),
      }),
    );
  }
  for (const day of [1, 8, 15, 22, 29]) {
    const t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), day);
    if (t < monthEnd)
      axis.append(s('text', { x: x(t), y: H - 6, 'text-anchor': 'middle', text: `${day} ${MONTHS[d.getUTCMonth()]}` }));
  }
  svg.append(axis);
  const color = (p) => PROVIDER_COLORS[p] ?? PROVIDER_COLORS.other;
  for (const b of budgeted) {
    svg.append(
      s('line', {
        x1: x(monthStart),
        y1: y(0),
        x2: x(monthEnd),
        y2: y(b.monthly),
        stroke: color(b.provider),
        'stroke-opacity': 0.45,
        'stroke-dasharray': '5 4',
      }),
    );
  }
  for (const p of providers) {
    const pts = c.daily
      .filter((r) => r.by_provider[p] !== undefined)
      .map((r) => `${x(r.day + 86_400_000).toFixed(1)},${y(r.by_provider[p]).toFixed(1)}`);
    if (pts.length)
      svg.append(
        s('polyline', {
          points: `${x(monthStart)},${y(0)} ${pts.join(' ')}`,
          fill: 'none',
          stroke: color(p),
          'stroke-width': 2,
        }),
      );
  }
  svg.append(s('line', { x1: x(c.now), x2: x(c.now), y1: M.t, y2: H - M.b, stroke: '#8b97a7', 'stroke-dasharray': '2 3' }));
  const lg = clear($('cost-legend'));
  for (const p of providers) {
    const sw = h('span', { class: 'sw' });
    sw.style.background = color(p);
    lg.append(h('span', null, sw, p));
  }
  lg.append(h('span', { text: 'cumulative spend, month to date · dashed: budget pace' }));
}
