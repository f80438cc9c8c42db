// Tunnels panel: the overlay's WireGuard peerings as the actuator's tunnel watch last read them (state,
// last handshake, key age, next rotation, failed over) and every IPsec peer's SA.
import { $, clear, h } from './dom.js';
import { fmtDayHM } from './format.js';
import { state } from './state.js';

/** `3 h 05 m`, `42 s`; '–' when unknown. */
function age(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 120) return `${m} min`;
  const hours = Math.floor(m / 60);
  return hours < 48 ? `${hours} h ${String(m % 60).padStart(2, '0')} m` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function stateCell(up, failedOver) {
  const label = up === null ? 'unknown' : up ? 'up' : 'down';
  const cls = up === null ? '' : up ? 'ok' : 'bad';
  return h(
    'td',
    null,
    h('span', { class: `pill ${cls}`, text: label }),
    failedOver ? h('span', { class: 'pill warn', text: 'failed over' }) : null,
  );
}

export function renderTunnels() {
  const t = state.tunnels;
  const body = clear($('tunnel-body'));
  const note = $('tunnel-note');
  if (!t || !t.available) {
    note.textContent = 'the actuator runs in another process: its tunnel watch is not visible here';
    return;
  }
  const down = t.wireguard.filter((w) => w.up === false).length + t.ipsec.filter((i) => !i.up).length;
  note.textContent =
    t.checked_at === null && t.ipsec.length === 0
      ? 'no overlay watched (actuator.tunnels.overlay_dir) and no IPsec peer'
      : `${t.wireguard.length + t.ipsec.length} tunnel ends, ${down} down${t.checked_at ? ` · read ${fmtDayHM(t.checked_at)}` : ''}`;
  for (const w of t.wireguard)
    body.append(
      h(
        'tr',
        { 'data-kind': 'wireguard', 'data-state': w.up === null ? 'unknown' : w.up ? 'up' : 'down' },
        h('td', { text: `${w.node} ${w.iface} → ${w.peer}` }),
        h('td', { text: `WireGuard ${w.path}` }),
        stateCell(w.up, w.failed_over),
        h('td', { class: 'num', text: age(w.handshake_age_s) }),
        h('td', { class: 'num', text: age(w.key_age_s) }),
        h('td', { class: 'num', text: w.next_rotation_at === null ? '–' : fmtDayHM(w.next_rotation_at) }),
      ),
    );
  for (const i of t.ipsec)
    body.append(
      h(
        'tr',
        { 'data-kind': 'ipsec', 'data-state': i.up ? 'up' : 'down' },
        h('td', { text: `${i.node} → ${i.peer}` }),
        h('td', { text: 'IPsec SA' }),
        stateCell(i.up, false),
        h('td', { class: 'num', text: '–' }),
        h('td', { class: 'num', text: '–' }),
        h('td', { class: 'num', text: '–' }),
      ),
    );
}
