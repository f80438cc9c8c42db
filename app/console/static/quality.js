// Path-quality panel: per-path RTT/loss/jitter over time for one pair and class, and the worst paths.
/* global URLSearchParams */
import { api, banner, changed } from './api.js';
import { $, clear, h, s } from './dom.js';
import { SERIES, fmtDayHM, fmtHM, fmtMs, fmtPct, healthClass, niceMax } from './format.js';
import { state } from './state.js';

function fillSelect(sel, options, value) {
  const json = JSON.stringify(options);
  if (sel.dataset.options !== json) {
    clear(sel);
    for (const [v, label] of options) sel.append(h('option', { value: v, text: label }));
    sel.dataset.options = json;
  }
  sel.value = value;
}

$('q-pair').addEventListener('change', (e) => {
  state.qPair = e.target.value;
  refreshQuality();
});
$('q-class').addEventListener('change', (e) => {
  state.qClass = e.target.value;
  refreshQuality();
});
$('q-metric').addEventListener('change', (e) => {
  state.qMetric = e.target.value;
  state.lastJson.quality = null;
  renderQuality();
});

const METRIC = {
  rtt_p95_ms: { label: 'p95 RTT (worst minute)', unit: 'ms', fmt: fmtMs, slo: (slo) => slo.rtt_p95_ms },
  rtt_p50_ms: { label: 'p50 RTT', unit: 'ms', fmt: fmtMs, slo: () => null },
  loss_ratio: { label: 'loss', unit: '%', fmt: (v) => fmtPct(v, 2), slo: (slo) => slo.loss_pct / 100 },
  jitter_ms: { label: 'jitter', unit: 'ms', fmt: fmtMs, slo: (slo) => slo.jitter_ms },
};

export function renderQuality() {
  const q = state.quality;
  if (!q) return;
  fillSelect(
    $('q-pair'),
    q.pairs.map(([a, b]) => [`${a}>${b}`, `${a} → ${b}`]),
    q.pair ? `${q.pair[0]}>${q.pair[1]}` : '',
  );
  fillSelect(
    $('q-class'),
    q.classes.map((c) => [c.id, c.id]),
    q.class || '',
  );
  const metric = METRIC[state.qMetric];
  const svg = clear($('q-svg'));
  const W = 760;
  const H = 260;
  const M = { l: 56, r: 16, t: 12, b: 26 };
  const end = Math.floor(q.now / q.step_ms) * q.step_ms;
  const t0 =
    end - (q.paths[0]?.points.length ? Math.max(0, end - Math.min(...q.paths.flatMap((p) => p.points.map((x) => x.t)))) : 0);
  const from = Math.min(t0, end - 120 * 60_000);
  const sloV = q.slo ? metric.slo(q.slo) : null;
  const values = q.paths.flatMap((p) => p.points.map((x) => x[state.qMetric]));
  const ymax = niceMax(Math.max(sloV ? sloV * 1.15 : 0, ...values, 0) * 1.05);
  const x = (t) => M.l + ((t - from) / (end - from || 1)) * (W - M.l - M.r);
  const y = (v) => H - M.b - (v / ymax) * (H - M.t - M.b);
  const axis = s('g', { class: 'axis' });
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    axis.append(
      s('line', { x1: M.l, x2: W - M.r, y1: y(v), y2: y(v), class: 'grid-line', 'stroke-width': 1 }),
      s('text', { x: M.l - 8, y: y(v) + 4, 'text-anchor': 'end', text: metric.fmt(v) }),
    );
  }
  const span = end - from;
  const tick = span <= 3 * 3600_000 ? 30 * 60_000 : span <= 12 * 3600_000 ? 2 * 3600_000 : 6 * 3600_000;
  for (let t = Math.ceil(from / tick) * tick; t <= end; t += tick) {
    axis.append(s('text', { x: x(t), y: H - 8, 'text-anchor': 'middle', text: fmtHM(t) }));
  }
  svg.append(axis);
  if (sloV !== null && sloV !== undefined) {
    svg.append(
      s('line', {
        x1: M.l,
        x2: W - M.r,
        y1: y(sloV),
        y2: y(sloV),
        stroke: '#f85149',
        'stroke-dasharray': '6 4',
        'stroke-width': 1.5,
      }),
      s('text', {
        x: W - M.r - 4,
        y: y(sloV) - 5,
        'text-anchor': 'end',
        fill: '#f85149',
        'font-size': 11,
        text: `SLO ${metric.fmt(sloV)}`,
      }),
    );
  }
  const legend = clear($('q-legend'));
  q.paths.forEach((p, i) => {
    const color = SERIES[i % SERIES.length];
    const pts = p.points.map((pt) => `${x(pt.t + q.step_ms / 2).toFixed(1)},${y(pt[state.qMetric]).toFixed(1)}`);
    if (pts.length > 1)
      svg.append(
        s('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round' }),
      );
    if (pts.length === 1) {
      const [px, py] = pts[0].split(',');
      svg.append(s('circle', { cx: px, cy: py, r: 3, fill: color }));
    }
    const sw = h('span', { class: 'sw' });
    sw.style.background = color;
    legend.append(
      h('span', { title: p.links.join(' → ') }, sw, `${p.id} `, h('span', { class: 'mono', text: `(${p.links.join(' → ')})` })),
    );
  });
  if (!values.length) {
    svg.append(
      s('text', {
        x: W / 2,
        y: H / 2,
        'text-anchor': 'middle',
        fill: '#8b97a7',
        'font-size': 13,
        text: 'No probe data for this pair and class yet',
      }),
    );
  }
  // Hover: nearest bucket, every path's value.
  const cursor = s('line', { y1: M.t, y2: H - M.b, stroke: '#8b97a7', 'stroke-width': 1, visibility: 'hidden' });
  const overlay = s('rect', { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b, fill: 'transparent' });
  svg.append(cursor, overlay);
  const tip = $('q-tip');
  overlay.addEventListener('mousemove', (ev) => {
    const box = svg.getBoundingClientRect();
    const sx = ((ev.clientX - box.left) / box.width) * W;
    const t = from + ((sx - M.l) / (W - M.l - M.r)) * (end - from);
    const bucket = Math.floor(t / q.step_ms) * q.step_ms;
    const rows = q.paths.map((p, i) => [p, i, p.points.find((pt) => pt.t === bucket)]).filter(([, , pt]) => pt);
    if (!rows.length) {
      tip.hidden = true;
      cursor.setAttribute('visibility', 'hidden');
      return;
    }
    cursor.setAttribute('x1', x(bucket + q.step_ms / 2));
    cursor.setAttribute('x2', x(bucket + q.step_ms / 2));
    cursor.setAttribute('visibility', 'visible');
    clear(tip).append(
      h('div', { class: 'muted', text: `${fmtDayHM(bucket)}–${fmtHM(bucket + q.step_ms)}` }),
      ...rows.map(([p, i, pt]) => {
        const sw = h('span', { class: 'sw' });
        sw.style.background = SERIES[i % SERIES.length];
        const d = h('div', { class: 'legend' }, h('span', null, sw, `${p.id}: ${metric.fmt(pt[state.qMetric])}`));
        return d;
      }),
    );
    tip.hidden = false;
    const px = ((x(bucket) + 14) / W) * box.width;
    tip.style.left = `${Math.min(px, box.width - tip.offsetWidth - 4)}px`;
    tip.style.top = '8px';
  });
  overlay.addEventListener('mouseleave', () => {
    tip.hidden = true;
    cursor.setAttribute('visibility', 'hidden');
  });
}

/** Shows a pair and class in the chart. */
function showPair(src, dst, cls) {
  state.qPair = `${src}>${dst}`;
  state.qClass = cls;
  refreshQuality();
}

/** The best path's figures that break the SLO ("p95 290 ms vs SLO 260 ms"), the p95 when none does. */
function breakingFigures(best, slo) {
  const figures = [];
  if (best.rtt_p95_max_ms > slo.rtt_p95_ms) figures.push(`p95 ${fmtMs(best.rtt_p95_max_ms)} vs SLO ${fmtMs(slo.rtt_p95_ms)}`);
  if (best.loss_ratio * 100 > slo.loss_pct) figures.push(`loss ${fmtPct(best.loss_ratio, 2)} vs SLO ${slo.loss_pct}%`);
  if (best.jitter_ms > slo.jitter_ms) figures.push(`jitter ${fmtMs(best.jitter_ms)} vs SLO ${fmtMs(slo.jitter_ms)}`);
  return figures.length ? figures.join(', ') : `p95 ${fmtMs(best.rtt_p95_max_ms)}`;
}

/**
 * Each (pair, class) SLO that every path of the pair broke over the window, once: no reroute can fix
 * it, so its paths are left out of the worst-path table and the breach count.
 */
function infeasibleList(items) {
  return h(
    'ul',
    { class: 'infeasible-list' },
    items.map((x) =>
      h(
        'li',
        {
          class: 'clickable',
          'data-infeasible': `${x.pair[0]}>${x.pair[1]}|${x.class}`,
          title: 'Show this pair in the chart',
          onclick: () => showPair(x.pair[0], x.pair[1], x.class),
        },
        h('span', { class: 'pill infeasible', text: 'SLO infeasible on every path' }),
        ' ',
        h('span', { class: 'mono', text: `${x.pair[0]} → ${x.pair[1]}` }),
        ` ${x.class}: best `,
        h('span', { class: 'mono', text: x.best.path_id }),
        ` ${breakingFigures(x.best, x.slo)}`,
      ),
    ),
  );
}

export function renderWorstPaths() {
  const o = state.overview;
  const box = clear($('worst-paths'));
  if (!o) return;
  const infeasible = o.slo_infeasible ?? [];
  if (infeasible.length) box.append(infeasibleList(infeasible));
  const rows = o.paths.filter((p) => p.status !== 'unknown' && p.status !== 'infeasible').slice(0, 6);
  if (!rows.length) return;
  box.append(
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { text: 'Path (last 15 min)' }),
          h('th', { text: 'Class' }),
          h('th', { class: 'num', text: 'p95 RTT (worst min)' }),
          h('th', { class: 'num', text: 'SLO' }),
          h('th', { class: 'num', text: 'Loss' }),
          h('th', { class: 'num', text: 'Jitter' }),
          h('th', { text: 'Status' }),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((p) =>
          h(
            'tr',
            {
              class: 'clickable',
              title: 'Show this pair in the chart',
              onclick: () => showPair(p.src_site, p.dst_site, p.class),
            },
            h('td', { class: 'mono', text: p.path_id }),
            h('td', { text: p.class }),
            h('td', { class: 'num', text: fmtMs(p.rtt_p95_max_ms) }),
            h('td', { class: 'num muted', text: p.slo ? fmtMs(p.slo.rtt_p95_ms) : '–' }),
            h('td', { class: 'num', text: fmtPct(p.loss_ratio, 2) }),
            h('td', { class: 'num', text: fmtMs(p.jitter_ms) }),
            h('td', null, h('span', { class: `pill ${healthClass(p.status)}`, text: p.status })),
          ),
        ),
      ),
    ),
  );
}

export function qualityPath() {
  const p = new URLSearchParams();
  if (state.qPair) p.set('pair', state.qPair);
  if (state.qClass) p.set('class', state.qClass);
  const qs = p.toString();
  return `/console/api/quality${qs ? `?${qs}` : ''}`;
}

async function refreshQuality() {
  try {
    state.quality = await api(qualityPath());
    // Pin what the server chose so the chart stays on one pair between polls.
    if (state.quality.pair) state.qPair = `${state.quality.pair[0]}>${state.quality.pair[1]}`;
    if (state.quality.class) state.qClass = state.quality.class;
    if (changed('quality', [state.quality, state.qMetric])) renderQuality();
  } catch (err) {
    banner(`path quality: ${err.message}`);
  }
}
