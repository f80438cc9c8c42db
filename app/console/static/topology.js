// Topology panel: sites on a longitude map, links coloured by utilization and SLO health, link detail.
import { $, clear, h, s } from './dom.js';
import { PROVIDER_COLORS, STATUS_COLORS, fmtBps, fmtMs, fmtPct, healthClass, money, utilColor } from './format.js';
import { state } from './state.js';

const LONGITUDE = [
  [/us-?west|uswest|california|oregon/, -120],
  [/us-?central|uscentral|iowa|texas/, -95],
  [/us-?east|useast|virginia|ohio|new.?york/, -75],
  [/canada/, -80],
  [/sa-|brazil|south.?america/, -47],
  [/westeurope|eu-?west|uk|london|ireland|netherlands/, 2],
  [/eu-?central|germany|frankfurt|europe/, 9],
  [/eu-?north|sweden|finland/, 18],
  [/me-|uae|israel/, 50],
  [/india|ap-?south|mumbai/, 78],
  [/singapore|ap-?southeast|indonesia/, 104],
  [/hongkong|hong.?kong|cn-|china/, 114],
  [/japan|tokyo|ap-?northeast|korea/, 139],
  [/australia|sydney/, 151],
];
function longitude(site) {
  const r = `${site.region} ${site.id} ${site.name}`.toLowerCase();
  for (const [re, lon] of LONGITUDE) if (re.test(r)) return lon;
  return 200;
}

/** Sites around an ellipse, west to east clockwise from the left, so neighbours sit near each other. */
function layout(sites, w, hgt) {
  const order = [...sites].sort((a, b) => longitude(a) - longitude(b) || a.id.localeCompare(b.id));
  const cx = w / 2;
  const cy = hgt / 2 + 4;
  const rx = w / 2 - 110;
  const ry = hgt / 2 - 60;
  const pos = new Map();
  order.forEach((site, i) => {
    const a = Math.PI - (i / order.length) * 2 * Math.PI - Math.PI / order.length;
    pos.set(site.id, { x: cx + rx * Math.cos(a), y: cy - ry * Math.sin(a) });
  });
  return pos;
}

export function renderTopology() {
  const o = state.overview;
  if (!o) return;
  const svg = clear($('topo-svg'));
  const W = 820;
  const H = 440;
  const pos = layout(o.sites, W, H);
  if (!state.selectedLink || !o.links.some((l) => l.id === state.selectedLink)) {
    const busiest = [...o.links].sort((a, b) => (b.utilization ?? -1) - (a.utilization ?? -1))[0];
    state.selectedLink = busiest ? busiest.id : null;
  }
  // Parallel links between the same two sites bend apart.
  const groups = new Map();
  for (const l of o.links) {
    const key = [l.a, l.b].sort().join('|');
    const g = groups.get(key) ?? [];
    g.push(l);
    groups.set(key, g);
  }
  const linkLayer = s('g');
  const labelLayer = s('g');
  for (const group of groups.values()) {
    group.forEach((l, i) => {
      const pa = pos.get(l.a);
      const pb = pos.get(l.b);
      if (!pa || !pb) return;
      const [p0, p1] = l.a < l.b ? [pa, pb] : [pb, pa];
      const dx = p1.x - p0.x;
      const dy = p1.y - p0.y;
      const len = Math.hypot(dx, dy) || 1;
      const bend = (i - (group.length - 1) / 2) * 46;
      const mx = (p0.x + p1.x) / 2 - (dy / len) * bend;
      const my = (p0.y + p1.y) / 2 + (dx / len) * bend;
      const d = `M${p0.x.toFixed(1)},${p0.y.toFixed(1)} Q${mx.toFixed(1)},${my.toFixed(1)} ${p1.x.toFixed(1)},${p1.y.toFixed(1)}`;
      // Point on the curve at t = 0.5.
      const lx = 0.25 * p0.x + 0.5 * mx + 0.25 * p1.x;
      const ly = 0.25 * p0.y + 0.5 * my + 0.25 * p1.y;
      const width = 2 + Math.log10(Math.max(10, l.capacity_mbps)) * 1.3;
      const color = utilColor(l.utilization, o.max_utilization);
      const title = `${l.id} (${l.kind})\n${l.a} ↔ ${l.b}\n${fmtBps(l.bps)} of ${fmtBps(l.capacity_mbps * 1e6)} · ${fmtPct(l.utilization)}\nhealth: ${l.health}${
        l.worst
          ? ` (${l.worst.path_id} ${l.worst.class}: p95 ${fmtMs(l.worst.rtt_p95_max_ms)}, loss ${fmtPct(l.worst.loss_ratio, 2)})`
          : ''
      }`;
      const g = s(
        'g',
        {
          class: l.id === state.selectedLink ? 'selected' : '',
          'data-link': l.id,
          onclick: () => {
            state.selectedLink = l.id;
            renderTopology();
          },
        },
        s('title', { text: title }),
        s('path', {
          d,
          class: 'link-line',
          fill: 'none',
          stroke: color,
          'stroke-width': l.id === state.selectedLink ? width + 2 : width,
          'stroke-linecap': 'round',
          'stroke-dasharray': l.kind === 'internet' || l.kind === 'ipsec' ? '10 6' : l.kind === 'wireguard' ? '2 0' : undefined,
        }),
        s('path', { d, class: 'link-hit' }),
      );
      linkLayer.append(g);
      const label = l.utilization === null ? '–' : fmtPct(l.utilization);
      labelLayer.append(
        s(
          'g',
          { transform: `translate(${lx.toFixed(1)},${ly.toFixed(1)})`, 'pointer-events': 'none' },
          s('circle', { r: 5, fill: STATUS_COLORS[l.health], stroke: '#151b23', 'stroke-width': 2, cx: -16 }),
          s('text', { class: 'link-label', x: -8, y: 4, text: label }),
        ),
      );
    });
  }
  svg.append(linkLayer, labelLayer);
  for (const site of o.sites) {
    const p = pos.get(site.id);
    const color = PROVIDER_COLORS[site.provider] ?? PROVIDER_COLORS.other;
    const below = p.y > H / 2 + 10;
    svg.append(
      s(
        'g',
        { transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`, 'data-site': site.id },
        s('title', {
          text: `${site.name} (${site.id})\n${site.provider} ${site.region}\n${site.prefixes.join(', ')}\nVyOS ${site.router.version}${
            site.router.revision !== undefined ? ` · config revision ${site.router.revision}` : ''
          }`,
        }),
        s('circle', { r: 17, fill: '#10161e', stroke: color, class: 'site-node' }),
        s('text', {
          'text-anchor': 'middle',
          y: 4,
          'font-size': 10,
          'font-weight': 700,
          fill: color,
          text: site.provider === 'onprem' ? 'DC' : site.provider.slice(0, 3).toUpperCase(),
        }),
        s('text', { class: 'site-label', 'text-anchor': 'middle', y: below ? 34 : -40, text: site.name }),
        s('text', {
          class: 'site-sub',
          'text-anchor': 'middle',
          y: below ? 48 : -26,
          text: site.router.revision !== undefined ? `${site.id} · rev ${site.router.revision}` : site.id,
        }),
      ),
    );
  }
  renderLinkDetail();
}

function sparkline(series, capacityBps, limit) {
  const W = 220;
  const H = 70;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none' });
  if (series.length < 2) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#8b97a7', 'font-size': 11, text: 'no data yet' }));
    return svg;
  }
  const t0 = series[0].t;
  const t1 = series[series.length - 1].t;
  const max = Math.max(capacityBps, ...series.map((p) => p.bps));
  const x = (t) => ((t - t0) / (t1 - t0 || 1)) * W;
  const y = (v) => H - 2 - (v / max) * (H - 6);
  const pts = series.map((p) => `${x(p.t).toFixed(1)},${y(p.bps).toFixed(1)}`);
  svg.append(
    s('line', {
      x1: 0,
      x2: W,
      y1: y(capacityBps * limit),
      y2: y(capacityBps * limit),
      stroke: '#f85149',
      'stroke-dasharray': '4 3',
      'stroke-width': 1,
    }),
    s('path', { d: `M0,${H} L${pts.join(' L')} L${W},${H} Z`, fill: 'rgba(79,156,249,0.18)' }),
    s('polyline', { points: pts.join(' '), fill: 'none', stroke: '#4f9cf9', 'stroke-width': 1.6 }),
  );
  return svg;
}

function renderLinkDetail() {
  const o = state.overview;
  const box = clear($('link-detail'));
  const l = o && o.links.find((x) => x.id === state.selectedLink);
  if (!l) {
    box.append(h('div', { class: 'muted', text: 'Click a link for details.' }));
    return;
  }
  const row = (k, v, extra) => [h('dt', { text: k }), h('dd', extra || {}, v)];
  box.append(
    h('h3', { text: l.id }),
    h('div', { class: 'muted', text: `${l.kind} · ${l.a} ↔ ${l.b}` }),
    h(
      'dl',
      null,
      row('rate', fmtBps(l.bps)),
      row('capacity', fmtBps(l.capacity_mbps * 1e6)),
      row('utilization', h('span', { text: fmtPct(l.utilization, 1) })),
      row('measured by', l.source ?? '–'),
      row('price', `${money(l.cost_per_gb, o.currency, 3)}/GB`),
      row('health', h('span', { class: `pill ${healthClass(l.health)}`, text: l.health })),
      l.worst ? row('worst p95 / loss', `${fmtMs(l.worst.rtt_p95_max_ms)} / ${fmtPct(l.worst.loss_ratio, 2)}`) : null,
    ),
    l.worst
      ? h(
          'div',
          { class: 'worst-path' },
          h('span', { class: 'muted', text: 'worst path ' }),
          h('span', { class: 'mono', text: `${l.worst.path_id} · ${l.worst.class}` }),
        )
      : null,
    h('div', { class: 'muted', text: `busiest direction, last ${Math.round(o.window_ms / 60000)} min` }),
    sparkline(l.series, l.capacity_mbps * 1e6, o.max_utilization),
  );
}

export function renderTopoLegend() {
  const o = state.overview;
  const lg = clear($('topo-legend'));
  const sw = (color, cls) => h('span', { class: `sw ${cls || ''}`, style: undefined, 'data-color': color });
  const items = [
    [utilColor(0.2, 0.8), '< 50%'],
    [utilColor(0.66, 0.8), 'near limit'],
    [utilColor(0.9, 0.8), `> ${fmtPct(o ? o.max_utilization : 0.8)}`],
  ];
  for (const [c, label] of items) {
    const el = sw(c);
    el.style.background = c;
    lg.append(h('span', null, el, label));
  }
  for (const [k, label] of [
    ['ok', 'SLO ok'],
    ['warn', '> 80% of SLO'],
    ['breach', 'SLO breach'],
    ['infeasible', 'SLO infeasible on every path'],
  ]) {
    const el = sw(STATUS_COLORS[k], 'dot');
    el.style.background = STATUS_COLORS[k];
    lg.append(h('span', null, el, label));
  }
}
