// Header: mode, simulated clock, counts of proposals, applied changes, rollbacks and SLO breaches.
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
    // Path × class breaches a reroute could fix; SLOs no path meets are counted apart.
    h(
      'span',
      { class: `pill ${o.breaches > 0 ? 'bad' : ''}`, 'data-count': 'breaches' },
      'SLO breaches ',
      h('strong', { text: o.breaches }),
    ),
  );
  if (o.slo_infeasible.length)
    b.append(
      h(
        'span',
        {
          class: 'pill infeasible',
          'data-count': 'infeasible',
          title: 'Pair and class SLOs no path meets (listed under Path quality)',
        },
        'infeasible SLOs ',
        h('strong', { text: o.slo_infeasible.length }),
      ),
    );
  if (state.who) $('who').textContent = `${state.who.name} · ${state.who.role}`;
}
