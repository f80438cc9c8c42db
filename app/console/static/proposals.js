// Proposals panel: the queue, undecided and newest first, with approve/reject for approvers.
import { api } from './api.js';
import { $, clear, h, toast } from './dom.js';
import { fmtDayHM, fmtPct, money, riskPill, shortId, statusPill } from './format.js';
import { refreshNow, state } from './state.js';

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

const signed = (x) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;

/**
 * The effect measured after the change (actuator/realized.ts), beside the predicted pill: realized cost/day
 * against the promise, SLO pair-class minutes and traffic before → after. Nothing until it is measured.
 */
/**
 * The actuator's pre-change assessment (what the change re-routes, cuts or opens among live conversations,
 * the compliance findings it adds, how many approvers it needs); the conversations it would cut in the tooltip.
 */
function assessmentLine(p) {
  const a = p.assessment;
  if (!a) return null;
  const cut = a.cut.map((c) => `${c.router}: ${c.flow} (${c.bytes} B)`).join('\n');
  return h(
    'div',
    { class: 'assessment', 'data-assessed': a.level },
    a.approvals_required > 1 ? h('span', { class: 'pill bad', text: `needs ${a.approvals_required} approvers` }) : null,
    h('span', { class: 'reasons', title: cut || a.reasons.join('\n'), text: a.reasons.join(' · ') }),
  );
}

function realizedPills(p, cur) {
  const r = p.realized;
  if (!r) return [];
  const predicted = (p.predicted || {}).cost_per_day;
  // Green when the promise held (within 5 %), amber when it cost noticeably more than promised.
  const miss = predicted ? (r.cost_per_day - predicted) / predicted : null;
  const mins = (r.after.to - r.after.from) / 60_000;
  const span = mins % 60 === 0 ? `${mins / 60} h` : `${mins} min`;
  const sloDelta = r.slo_pair_class_minutes - r.slo_pair_class_minutes_before;
  const gbDelta = r.gb_per_day_before > 0 ? (r.gb_per_day - r.gb_per_day_before) / r.gb_per_day_before : null;
  return [
    h(
      'span',
      {
        class: `pill realized ${miss === null ? '' : miss <= 0.05 ? 'ok' : 'warn'}`,
        'data-realized': 'cost',
        title: `Measured transfer cost per day of the whole network over ${span} after the change (${money(r.cost_per_day_before, cur)} over ${span} before its apply), against the prediction`,
      },
      'realized cost/day ',
      h('strong', { text: money(r.cost_per_day, cur) }),
      ` (predicted ${money(predicted, cur)})`,
    ),
    h(
      'span',
      {
        class: `pill realized ${sloDelta < 0 ? 'ok' : sloDelta > 0 ? 'warn' : ''}`,
        'data-realized': 'slo',
        title: `Minutes × (pair, class) of this change's scope whose traffic crossed a path breaking the class SLO, ${span} before → ${span} after`,
      },
      'SLO pair-class minutes ',
      h('strong', { text: `${r.slo_pair_class_minutes_before} → ${r.slo_pair_class_minutes}` }),
    ),
    h(
      'span',
      {
        class: 'pill realized',
        'data-realized': 'traffic',
        title: 'GB per day the sites sent, before → after: routing does not change it, so a change here is the traffic itself',
      },
      'traffic GB/day ',
      h('strong', { text: `${r.gb_per_day_before.toFixed(0)} → ${r.gb_per_day.toFixed(0)}` }),
      gbDelta !== null ? ` (${signed(gbDelta)})` : '',
    ),
  ];
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
    refreshNow();
  }
}

/** One sentence on what happens to a proposal under the configured mode and emergency policy. */
export function policyText(policy) {
  if (!policy) return '';
  const emergency = policy.emergency_auto
    ? 'Emergency failovers (a path in use breaking its SLO while another path holds it) are applied at once by the emergency policy and listed here for review (actuator.emergency_auto: true).'
    : 'Emergency failovers wait for an approver like any change (actuator.emergency_auto: false).';
  if (policy.mode === 'observe')
    return 'Observe mode (actuator.mode: observe): proposals are only shown; nothing is applied, emergency failovers included.';
  if (policy.mode === 'auto')
    return `Automatic mode: changes within the guardrails (risk, shift per step, rate limit, freeze windows, cool-down) go out unattended; the rest wait for an approver. ${emergency}`;
  return `Approval mode: every plan waits for an approver. ${emergency}`;
}

export function renderProposals() {
  const list = clear($('proposal-list'));
  const ps = state.proposals || [];
  const open = ps.filter((p) => p.actionable).length;
  $('queue-count').textContent = `${open} awaiting decision · ${ps.length} total`;
  if (state.policy)
    list.append(h('div', { class: 'meta policy', 'data-policy': state.policy.mode, text: policyText(state.policy) }));
  if (ps.length === 0) {
    list.append(
      h('div', { class: 'empty', text: 'No proposals yet: the optimizer proposes a change when it finds a better split.' }),
    );
    return;
  }
  const canDecide = state.who && (state.who.role === 'approver' || state.who.role === 'admin');
  // Without the actuator role in the server's process the list is read from the store: read-only.
  const decidedHere = state.decides !== false;
  const cur = state.overview ? state.overview.currency : 'USD';
  for (const p of ps.slice(0, 30)) {
    const pr = p.predicted || {};
    const before = pr.cost_per_day_before;
    const delta = before ? (pr.cost_per_day - before) / before : null;
    const buttons = [];
    let actions = null;
    if (p.actionable && !decidedHere) {
      actions = h('div', { class: 'meta', text: 'Decided where the actuator runs (its API or Slack): read-only here.' });
    } else if (p.actionable && canDecide) {
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
          riskPill(p.assessment ? p.assessment.level : p.risk),
          p.emergency ? h('span', { class: 'pill bad', text: 'emergency' }) : null,
          statusPill(p.status),
        ),
        h('div', { class: 'reason', text: p.reason }),
        h(
          'div',
          { class: 'effects' },
          // The whole network's predicted transfer cost per day after the change (and before it): the
          // budget card's figures are billed month-to-date spend, a different quantity.
          h(
            'span',
            {
              class: `pill ${delta !== null && delta < 0 ? 'ok' : delta > 0 ? 'warn' : ''}`,
              title: 'Predicted transfer cost per day of the whole network once this change is in place',
            },
            'network cost/day ',
            h('strong', { text: money(pr.cost_per_day, cur) }),
            delta !== null ? ` (was ${money(before, cur)}, ${signed(delta)})` : '',
          ),
          h('span', { class: 'pill' }, 'max util ', h('strong', { text: fmtPct(pr.max_utilization) })),
          h(
            'span',
            { class: `pill ${pr.slo_risk > 0.3 ? 'warn' : ''}` },
            'SLO risk ',
            h('strong', { text: fmtPct(pr.slo_risk) }),
          ),
          realizedPills(p, cur),
        ),
        assessmentLine(p),
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
