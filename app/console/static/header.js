// Header: mode, simulated clock, counts of proposals, applied changes and rollbacks.
import { $, clear, h } from './dom.js';
import { fmtClock } from './format.js';
import { state } from './state.js';

export function renderHeader() {
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
