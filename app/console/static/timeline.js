// Timeline panel: the audit trail of every proposal (proposed, approved, applied, guard, rollback).
import { $, clear, h, s } from './dom.js';
import { fmtClock, fmtDayHM, fmtHM, shortId } from './format.js';
import { state } from './state.js';

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
  // Someone else changed a router mid-rollout: stopped for an admin (orange, not the rollback red).
  drifted: '#db6d28',
  'drift-accepted': '#6e7681',
};

export function renderTimelineLegend() {
  const lg = clear($('tl-legend'));
  for (const [k, label] of [
    ['approved', 'approved'],
    ['applied', 'applied / step'],
    ['guard-fail', 'guard fail / rollback'],
    ['drifted', 'drifted'],
    ['confirmed', 'confirmed'],
  ]) {
    const sw = h('span', { class: 'sw dot' });
    sw.style.background = EVENT_COLORS[k];
    lg.append(h('span', null, sw, label));
  }
}

export function renderTimeline() {
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
        if (e.event === 'rolled-back' || e.event === 'guard-fail' || e.event === 'failed' || e.event === 'drifted') {
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
