// pathpilot console: polls /console/api/* and draws everything as DOM + inline SVG (no libraries).
// Data is only ever inserted as text nodes or attribute values, never as HTML.
'use strict';
/* global Node, URLSearchParams, clearTimeout, document, fetch, history, location, sessionStorage, setInterval, setTimeout */

(() => {
  const POLL_MS = 4000;
  const COST_POLL_MS = 12000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const TOKEN_KEY = 'pathpilot.token';

  const state = {
    token: null,
    who: null,
    overview: null,
    proposals: null,
    events: null,
    quality: null,
    cost: null,
    selectedLink: null,
    qPair: null,
    qClass: null,
    qMetric: 'rtt_p95_ms',
    pending: new Set(),
    lastJson: {},
    lastCostAt: 0,
  };

  // ------------------------------------------------------------------ helpers

  const $ = (id) => document.getElementById(id);

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  const pad = (n) => String(n).padStart(2, '0');
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function fmtClock(ms) {
    const d = new Date(ms);
    return `${DAYS[d.getUTCDay()]} ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} · ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }
  function fmtHM(ms) {
    const d = new Date(ms);
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
  function fmtDayHM(ms) {
    const d = new Date(ms);
    return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
  function fmtBps(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    const units = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
  }
  function fmtPct(v, digits = 0) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    return `${(v * 100).toFixed(digits)}%`;
  }
  function fmtMs(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
  }
  function money(v, currency, digits = 0) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    try {
      return new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency: currency || 'USD',
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      }).format(v);
    } catch {
      return `${v.toFixed(digits)} ${currency}`;
    }
  }
  const shortId = (id) => (id.length > 22 ? `${id.slice(0, 10)}…${id.slice(-10)}` : id);

  const STATUS_COLORS = { ok: '#3fb950', warn: '#d29922', breach: '#f85149', unknown: '#6e7681' };
  const PROVIDER_COLORS = {
    aws: '#ff9900',
    azure: '#3b8eea',
    gcp: '#34a853',
    alibaba: '#ff6a00',
    onprem: '#a0aec0',
    oracle: '#c74634',
    other: '#9f7aea',
  };
  const SERIES = ['#4f9cf9', '#e3b341', '#bc8cff', '#56d4dd', '#f778ba', '#7ee787'];

  /** Utilization → colour: green below half the limit, amber towards it, red past it. */
  function utilColor(u, limit) {
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

  const statusPill = (status) => {
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
        rejected: '',
        expired: '',
      }[status] ?? '';
    return h('span', { class: `pill ${cls}`, 'data-status': status, text: status });
  };
  const riskPill = (risk) =>
    h('span', { class: `pill ${risk === 'high' ? 'bad' : risk === 'medium' ? 'warn' : 'ok'}`, text: `${risk} risk` });

  function toast(message, kind) {
    const el = $('toast');
    el.textContent = message;
    el.className = `toast ${kind || ''}`;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (el.hidden = true), 4500);
  }

  // ------------------------------------------------------------------ auth + fetch

  function readToken() {
    const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, init) {
    const res = await fetch(path, {
      ...init,
      headers: { authorization: `Bearer ${state.token || ''}`, accept: 'application/json' },
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new HttpError(res.status, body.error || `HTTP ${res.status}`);
    return body;
  }

  function askToken(message) {
    const dlg = $('login');
    $('login-error').textContent = message || '';
    if (!dlg.open) dlg.showModal();
  }

  $('login-form').addEventListener('submit', () => {
    const t = $('login-token').value.trim();
    if (t) {
      sessionStorage.setItem(TOKEN_KEY, t);
      state.token = t;
      state.who = null;
      poll();
    }
  });

  function setLive(ok, label) {
    const el = $('live');
    el.dataset.state = ok ? 'ok' : 'error';
    el.querySelector('.label').textContent = label;
  }

  function banner(message) {
    const el = $('banner');
    el.hidden = !message;
    el.textContent = message || '';
  }

  /** Re-render a section only when its data changed (keeps hover and focus stable between polls). */
  function changed(key, data) {
    const json = JSON.stringify(data);
    if (state.lastJson[key] === json) return false;
    state.lastJson[key] = json;
    return true;
  }

  // ------------------------------------------------------------------ header

  function renderHeader() {
    const o = state.overview;
    if (!o) return;
    $('clock').textContent = fmtClock(o.now);
    const b = clear($('badges'));
    b.append(
      h('span', { class: 'pill info' }, 'mode ', h('strong', { text: o.mode })),
      h('span', { class: 'pill' }, 'proposals ', h('strong', { text: o.counts.proposals })),
      h('span', { class: 'pill ok' }, 'applied ', h('strong', { text: o.counts.applied })),
      h(
        'span',
        { class: `pill ${o.counts.rolled_back > 0 ? 'bad' : ''}` },
        'rolled back ',
        h('strong', { text: o.counts.rolled_back }),
      ),
    );
    if (state.who) $('who').textContent = `${state.who.name} · ${state.who.role}`;
  }

  // ------------------------------------------------------------------ topology

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

  function renderTopology() {
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
      svg.append(
        s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#8b97a7', 'font-size': 11, text: 'no data yet' }),
      );
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
        row(
          'health',
          h('span', {
            class: `pill ${l.health === 'ok' ? 'ok' : l.health === 'warn' ? 'warn' : l.health === 'breach' ? 'bad' : ''}`,
            text: l.health,
          }),
        ),
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

  function renderTopoLegend() {
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
    ]) {
      const el = sw(STATUS_COLORS[k], 'dot');
      el.style.background = STATUS_COLORS[k];
      lg.append(h('span', null, el, label));
    }
  }

  // ------------------------------------------------------------------ proposals

  function intentText(it) {
    switch (it.kind) {
      case 'path-weights': {
        const total = Object.values(it.weights).reduce((a, b) => a + b, 0) || 1;
        const split = Object.entries(it.weights)
          .map(([link, w]) => `${link} ${Math.round((w / total) * 100)}%`)
          .join(', ');
        return `${it.router}: ${it.pair[0]} → ${it.pair[1]} ${it.class}: ${split}`;
      }
      case 'bandwidth':
        return `${it.router}: shape ${it.link} to ${it.rate_mbps} Mb/s`;
      case 'qos':
        return `${it.router}: QoS on ${it.link} (${it.classes.map((c) => `${c.class} ${c.bandwidth_pct}%`).join(', ')})`;
      case 'class-pin':
        return `${it.router}: pin ${it.class} ${it.pair[0]} → ${it.pair[1]} to ${it.link}`;
      default:
        return `${it.router ?? ''} ${it.kind}`;
    }
  }

  async function decide(id, action, buttons) {
    state.pending.add(id);
    for (const b of buttons) b.disabled = true;
    try {
      const res = await api(`/console/api/proposals/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
      toast(`${action === 'approve' ? 'Approved' : 'Rejected'} ${shortId(id)}${res.status ? ` → ${res.status}` : ''}`, 'ok');
    } catch (err) {
      toast(`${action} failed: ${err.message}`, 'bad');
    } finally {
      state.pending.delete(id);
      state.lastJson.proposals = null;
      poll();
    }
  }

  function renderProposals() {
    const list = clear($('proposal-list'));
    const ps = state.proposals || [];
    const open = ps.filter((p) => p.actionable).length;
    $('queue-count').textContent = `${open} awaiting decision · ${ps.length} total`;
    if (ps.length === 0) {
      list.append(
        h('div', { class: 'empty', text: 'No proposals yet: the optimizer proposes a change when it finds a better split.' }),
      );
      return;
    }
    const canDecide = state.who && (state.who.role === 'approver' || state.who.role === 'admin');
    const cur = state.overview ? state.overview.currency : 'USD';
    for (const p of ps.slice(0, 30)) {
      const pr = p.predicted || {};
      const before = pr.cost_per_day_before;
      const delta = before ? (pr.cost_per_day - before) / before : null;
      const buttons = [];
      let actions = null;
      if (p.actionable && canDecide) {
        const approve = h('button', { class: 'approve', 'data-action': 'approve', type: 'button', text: 'Approve' });
        const reject = h('button', { class: 'reject', 'data-action': 'reject', type: 'button', text: 'Reject' });
        buttons.push(approve, reject);
        approve.addEventListener('click', () => decide(p.id, 'approve', buttons));
        reject.addEventListener('click', () => decide(p.id, 'reject', buttons));
        if (state.pending.has(p.id)) for (const b of buttons) b.disabled = true;
        actions = h('div', { class: 'actions' }, approve, reject);
      } else if (p.actionable) {
        actions = h('div', { class: 'meta', text: 'Needs an approver token to decide.' });
      }
      const last = (p.history || [])[p.history.length - 1];
      list.append(
        h(
          'article',
          { class: `proposal ${p.actionable ? 'actionable' : ''}`, 'data-proposal-id': p.id, 'data-status': p.status },
          h(
            'div',
            { class: 'row1' },
            h('span', { class: 'pid mono', title: p.id, text: p.id }),
            h('span', { class: 'pill', text: p.kind }),
            riskPill(p.risk),
            p.emergency ? h('span', { class: 'pill bad', text: 'emergency' }) : null,
            statusPill(p.status),
          ),
          h('div', { class: 'reason', text: p.reason }),
          h(
            'div',
            { class: 'effects' },
            h(
              'span',
              { class: `pill ${delta !== null && delta < 0 ? 'ok' : delta > 0 ? 'warn' : ''}` },
              'cost/day ',
              h('strong', { text: money(pr.cost_per_day, cur) }),
              delta !== null ? ` (${delta > 0 ? '+' : ''}${(delta * 100).toFixed(0)}%)` : '',
            ),
            h('span', { class: 'pill' }, 'max util ', h('strong', { text: fmtPct(pr.max_utilization) })),
            h(
              'span',
              { class: `pill ${pr.slo_risk > 0.3 ? 'warn' : ''}` },
              'SLO risk ',
              h('strong', { text: fmtPct(pr.slo_risk) }),
            ),
          ),
          h(
            'ul',
            { class: 'intents' },
            p.intents.slice(0, 6).map((it) => h('li', { text: intentText(it) })),
            p.intents.length > 6 ? h('li', { text: `… ${p.intents.length - 6} more` }) : null,
          ),
          h(
            'div',
            { class: 'meta' },
            `created ${fmtDayHM(p.created_at)}`,
            last ? ` · ${last.status}${last.actor ? ` by ${last.actor}` : ''} at ${fmtDayHM(last.at)}` : '',
          ),
          actions,
        ),
      );
    }
  }

  // ------------------------------------------------------------------ path quality

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

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function renderQuality() {
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

  function renderWorstPaths() {
    const o = state.overview;
    const box = clear($('worst-paths'));
    if (!o) return;
    const rows = o.paths.filter((p) => p.status !== 'unknown').slice(0, 6);
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
                onclick: () => {
                  state.qPair = `${p.src_site}>${p.dst_site}`;
                  state.qClass = p.class;
                  refreshQuality();
                },
              },
              h('td', { class: 'mono', text: p.path_id }),
              h('td', { text: p.class }),
              h('td', { class: 'num', text: fmtMs(p.rtt_p95_max_ms) }),
              h('td', { class: 'num muted', text: p.slo ? fmtMs(p.slo.rtt_p95_ms) : '–' }),
              h('td', { class: 'num', text: fmtPct(p.loss_ratio, 2) }),
              h('td', { class: 'num', text: fmtMs(p.jitter_ms) }),
              h(
                'td',
                null,
                h('span', { class: `pill ${p.status === 'ok' ? 'ok' : p.status === 'warn' ? 'warn' : 'bad'}`, text: p.status }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  // ------------------------------------------------------------------ cost

  function renderCost() {
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
              text: `${money(b.month_to_date, c.currency)} of ${money(b.monthly, c.currency)} · projected ${money(b.projected, c.currency)}`,
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
              h('th', { class: 'num', text: 'Cost' }),
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
          text: v >= 1000 ? `${(v / 1000).toFixed(v % 1000 ? 1 : 0)}k` : v.toFixed(0),
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
    lg.append(h('span', { text: `cumulative spend (${c.currency}) · dashed: budget pace` }));
  }

  // ------------------------------------------------------------------ timeline

  const EVENT_COLORS = {
    proposed: '#8b97a7',
    approved: '#4f9cf9',
    rejected: '#6e7681',
    expired: '#6e7681',
    applying: '#d29922',
    applied: '#3fb950',
    'step-applied': '#56d364',
    baking: '#e3b341',
    'guard-pass': '#3fb950',
    'guard-fail': '#f85149',
    'guard-inconclusive': '#d29922',
    'rolled-back': '#f85149',
    confirmed: '#2ea043',
    failed: '#f85149',
  };

  function renderTimelineLegend() {
    const lg = clear($('tl-legend'));
    for (const [k, label] of [
      ['approved', 'approved'],
      ['applied', 'applied / step'],
      ['guard-fail', 'guard fail / rollback'],
      ['confirmed', 'confirmed'],
    ]) {
      const sw = h('span', { class: 'sw dot' });
      sw.style.background = EVENT_COLORS[k];
      lg.append(h('span', null, sw, label));
    }
  }

  function renderTimeline() {
    const events = [...(state.events || [])].sort((a, b) => a.time - b.time);
    const now = state.overview ? state.overview.now : Date.now();
    const byProposal = new Map();
    for (const e of events) {
      const list = byProposal.get(e.proposal_id) ?? [];
      list.push(e);
      byProposal.set(e.proposal_id, list);
    }
    const lanes = [...byProposal.entries()].sort((a, b) => b[1][b[1].length - 1].time - a[1][a[1].length - 1].time).slice(0, 8);
    const W = 1200;
    const laneH = 26;
    const M = { l: 190, r: 20, t: 8, b: 24 };
    const H = Math.max(80, M.t + M.b + lanes.length * laneH);
    const svg = clear($('tl-svg'));
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    if (!lanes.length) {
      svg.append(
        s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#8b97a7', 'font-size': 13, text: 'No changes yet' }),
      );
    } else {
      const times = lanes.flatMap(([, es]) => es.map((e) => e.time));
      const from = Math.min(...times, now - 3600_000);
      const to = Math.max(now, ...times);
      const x = (t) => M.l + ((t - from) / (to - from || 1)) * (W - M.l - M.r);
      const axis = s('g', { class: 'axis' });
      const span = to - from;
      const tick = [15, 30, 60, 120, 360, 720, 1440].map((m) => m * 60_000).find((t) => span / t <= 10) ?? 86_400_000;
      for (let t = Math.ceil(from / tick) * tick; t <= to; t += tick) {
        axis.append(
          s('line', { x1: x(t), x2: x(t), y1: M.t, y2: H - M.b, class: 'grid-line' }),
          s('text', { x: x(t), y: H - 7, 'text-anchor': 'middle', text: span > 86_400_000 ? fmtDayHM(t) : fmtHM(t) }),
        );
      }
      svg.append(axis);
      lanes.forEach(([pid, es], i) => {
        const cy = M.t + i * laneH + laneH / 2;
        const last = es[es.length - 1];
        const rolled = es.some((e) => e.event === 'rolled-back');
        svg.append(
          s('text', {
            x: 8,
            y: cy + 4,
            fill: rolled ? '#f85149' : '#dbe2ea',
            'font-size': 12,
            class: 'mono',
            text: shortId(pid),
          }),
          s('line', {
            x1: x(es[0].time),
            x2: x(last.time),
            y1: cy,
            y2: cy,
            stroke: rolled ? '#f85149' : '#3b4756',
            'stroke-width': 3,
            'stroke-linecap': 'round',
          }),
        );
        for (const e of es) {
          const c = EVENT_COLORS[e.event] ?? '#8b97a7';
          const title = s('title', {
            text: `${fmtClock(e.time)}\n${e.proposal_id}: ${e.event}${e.router ? ` on ${e.router}` : ''}${e.actor ? ` by ${e.actor}` : ''}`,
          });
          if (e.event === 'rolled-back' || e.event === 'guard-fail' || e.event === 'failed') {
            const px = x(e.time);
            svg.append(
              s(
                'path',
                {
                  d: `M${px},${cy - 7} L${px + 7},${cy} L${px},${cy + 7} L${px - 7},${cy} Z`,
                  fill: c,
                  stroke: '#151b23',
                  'stroke-width': 1.5,
                },
                title,
              ),
            );
          } else {
            svg.append(s('circle', { cx: x(e.time), cy, r: 5.5, fill: c, stroke: '#151b23', 'stroke-width': 1.5 }, title));
          }
        }
      });
      svg.append(s('line', { x1: x(now), x2: x(now), y1: M.t - 4, y2: H - M.b, stroke: '#4f9cf9', 'stroke-dasharray': '3 3' }));
    }
    const tbody = clear($('tl-table').querySelector('tbody'));
    const recent = [...events].reverse().slice(0, 12);
    if (!recent.length) tbody.append(h('tr', null, h('td', { colspan: 6, class: 'muted', text: 'The audit trail is empty.' })));
    for (const e of recent) {
      const c = EVENT_COLORS[e.event] ?? '#8b97a7';
      const dot = h('span', { class: 'sw dot' });
      dot.style.background = c;
      dot.style.display = 'inline-block';
      dot.style.marginRight = '6px';
      tbody.append(
        h(
          'tr',
          { 'data-event': e.event },
          h('td', { text: fmtDayHM(e.time) }),
          h('td', { class: 'mono', title: e.proposal_id, text: shortId(e.proposal_id) }),
          h('td', null, dot, e.event),
          h('td', { text: e.router ?? '' }),
          h('td', { text: e.actor ?? '' }),
          h('td', { class: 'muted', text: detailText(e.detail) }),
        ),
      );
    }
  }

  /** An audit detail in one line: its message if it has one, else `key=value` pairs of its scalars. */
  function detailText(d) {
    if (d === undefined || d === null || d === '') return '';
    let text;
    if (typeof d !== 'object') text = String(d);
    else {
      const msg = d.error ?? d.message ?? d.reason ?? d.verdict ?? d.note;
      const scalars = Object.entries(d)
        .filter(([k, v]) => v !== null && typeof v !== 'object' && !['error', 'message', 'reason', 'verdict', 'note'].includes(k))
        .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`);
      text = [typeof msg === 'string' ? msg : null, ...scalars].filter(Boolean).join(' · ') || JSON.stringify(d);
    }
    return text.length > 140 ? `${text.slice(0, 137)}…` : text;
  }

  // ------------------------------------------------------------------ polling

  function qualityPath() {
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

  let polling = false;
  async function poll() {
    state.token = state.token || readToken();
    if (!state.token) {
      askToken();
      setLive(false, 'no token');
      return;
    }
    if (polling) return;
    polling = true;
    try {
      if (!state.who) state.who = await api('/console/api/whoami');
      const dueCost = Date.now() - state.lastCostAt > COST_POLL_MS;
      const [ov, pr, ev, q, cost] = await Promise.all([
        api('/console/api/overview'),
        api('/console/api/proposals'),
        api('/console/api/events?limit=300'),
        api(qualityPath()),
        dueCost ? api('/console/api/cost') : Promise.resolve(null),
      ]);
      state.overview = ov;
      state.proposals = pr.proposals;
      state.events = ev.events;
      state.quality = q;
      if (q.pair) state.qPair = `${q.pair[0]}>${q.pair[1]}`;
      if (q.class) state.qClass = q.class;
      if (cost) {
        state.cost = cost;
        state.lastCostAt = Date.now();
      }
      renderHeader();
      if (changed('topology', [ov.sites, ov.links, state.selectedLink])) {
        renderTopology();
        renderTopoLegend();
      }
      if (changed('proposals', [pr.proposals, state.who])) renderProposals();
      if (changed('worst', ov.paths.slice(0, 6))) renderWorstPaths();
      if (changed('quality', [q, state.qMetric])) renderQuality();
      if (cost && changed('cost', cost)) renderCost();
      if (changed('events', [ev.events, Math.floor(ov.now / 60_000)])) renderTimeline();
      banner('');
      setLive(true, 'live');
      document.body.dataset.ready = 'true';
    } catch (err) {
      if (err.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        state.token = null;
        state.who = null;
        askToken('That token was not accepted.');
        setLive(false, 'signed out');
      } else {
        banner(`Cannot refresh: ${err.message}`);
        setLive(false, 'error');
      }
    } finally {
      polling = false;
    }
  }

  renderTimelineLegend();
  poll();
  setInterval(poll, POLL_MS);
})();
