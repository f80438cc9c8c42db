// Compliance panel: each site router's score against the rules pack as the actuator's compliance watch
// last checked it, with its failing rules (severity, what is at fault, the control ids).
import { $, clear, h } from './dom.js';
import { fmtDayHM } from './format.js';
import { state } from './state.js';

const SEVERITY_CLASS = { high: 'bad', medium: 'warn', low: '' };

function failingCell(router) {
  if (router.error) return h('td', { class: 'muted', text: router.error });
  const failing = router.results.filter((r) => r.status === 'fail');
  if (!failing.length) return h('td', null, h('span', { class: 'pill ok', text: 'all applicable rules pass' }));
  return h(
    'td',
    null,
    ...failing.map((r) =>
      h('span', {
        class: `pill ${SEVERITY_CLASS[r.severity] ?? ''}`,
        'data-rule': r.id,
        text: `${r.id} ${r.title}`,
        title: `${r.findings.map((f) => `${f.path}: ${f.detail}`).join('\n')}\nCIS ${r.controls.cis.join(', ')} · SOC 2 ${r.controls.soc2.join(', ')} · ISO 27001 ${r.controls.iso27001.join(', ')} · PCI DSS ${r.controls.pci.join(', ')}\n${r.remedy}`,
      }),
    ),
  );
}

export function renderCompliance() {
  const c = state.compliance;
  const body = clear($('compliance-body'));
  const note = $('compliance-note');
  if (!c || !c.available) {
    note.textContent = 'the actuator runs in another process: its compliance watch is not visible here';
    return;
  }
  if (c.checked_at === null) {
    note.textContent = 'not checked yet (actuator.compliance.interval_s)';
    return;
  }
  note.textContent = `${c.routers.length} routers · checked ${fmtDayHM(c.checked_at)} · \`pathpilot compliance report\` for the full report`;
  for (const r of c.routers)
    body.append(
      h(
        'tr',
        { 'data-router': r.router },
        h('td', { text: r.router }),
        h('td', { class: 'num', text: r.score === null ? '–' : r.score.toFixed(1) }),
        failingCell(r),
      ),
    );
}
