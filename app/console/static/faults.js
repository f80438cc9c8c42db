// Faults panel: the links (or segments the probes cannot tell apart) the actuator's last self-heal pass
// localized as at fault from the paths' probes, with the loss and delay each adds and the confidence.
import { $, clear, h } from './dom.js';
import { fmtDayHM } from './format.js';
import { state } from './state.js';

export function renderFaults() {
  const f = state.faults;
  const body = clear($('faults-body'));
  const note = $('faults-note');
  if (!f || !f.available) {
    note.textContent = 'the actuator runs in another process: its fault localization is not visible here';
    return;
  }
  if (f.checked_at === null || !f.localization) {
    note.textContent = 'not localized yet (every self-heal pass)';
    return;
  }
  const l = f.localization;
  note.textContent = `${l.bad.length} bad paths · checked ${fmtDayHM(f.checked_at)}${l.unexplained.length ? ` · ${l.unexplained.length} unexplained` : ''}`;
  if (!l.findings.length) {
    body.append(h('tr', null, h('td', { colspan: '5', class: 'muted', text: 'no link at fault' })));
    return;
  }
  for (const x of l.findings)
    body.append(
      h(
        'tr',
        { 'data-links': x.links.join(' ') },
        h('td', { text: x.links.join(' + ') }),
        h('td', { class: 'num', text: `${(x.loss * 100).toFixed(1)} %` }),
        h('td', { class: 'num', text: `${x.added_ms.toFixed(0)} ms` }),
        h('td', { class: 'num', text: x.confidence.toFixed(2) }),
        h('td', { class: 'muted', text: `${x.paths.length} paths`, title: x.paths.join('\n') }),
      ),
    );
}
