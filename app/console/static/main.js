// Entry point of the pathpilot console: polls /console/api/* and hands each panel its data. Native ES
// modules, no bundler; data is only ever inserted as text nodes or attribute values, never as HTML.
/* global document, sessionStorage, setInterval */
import { api, askToken, banner, changed, readToken, setLive } from './api.js';
import { renderCost } from './cost.js';
import { $ } from './dom.js';
import { renderHeader } from './header.js';
import { renderProposals } from './proposals.js';
import { qualityPath, renderQuality, renderWorstPaths } from './quality.js';
import { COST_POLL_MS, POLL_MS, TOKEN_KEY, setRefresher, state } from './state.js';
import { renderTimeline, renderTimelineLegend } from './timeline.js';
import { renderTopoLegend, renderTopology } from './topology.js';
import { renderTunnels } from './tunnels.js';
import { renderCompliance } from './compliance.js';
import { renderFaults } from './faults.js';

$('login-form').addEventListener('submit', () => {
  const t = $('login-token').value.trim();
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    state.token = t;
    state.who = null;
    poll();
  }
});

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
    const [ov, pr, ev, q, cost, tun, comp, faults] = await Promise.all([
      api('/console/api/overview'),
      api('/console/api/proposals'),
      api('/console/api/events?limit=300'),
      api(qualityPath()),
      dueCost ? api('/console/api/cost') : Promise.resolve(null),
      api('/console/api/tunnels'),
      api('/console/api/compliance'),
      api('/console/api/faults'),
    ]);
    state.faults = faults;
    state.tunnels = tun;
    state.compliance = comp;
    state.overview = ov;
    state.proposals = pr.proposals;
    state.decides = pr.decides;
    state.policy = pr.policy;
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
    if (changed('proposals', [pr.proposals, pr.decides, pr.policy, state.who])) renderProposals();
    if (changed('worst', [ov.paths.slice(0, 6), ov.slo_infeasible])) renderWorstPaths();
    if (changed('quality', [q, state.qMetric])) renderQuality();
    if (cost && changed('cost', cost)) renderCost();
    if (changed('events', [ev.events, Math.floor(ov.now / 60_000)])) renderTimeline();
    if (changed('tunnels', [tun.wireguard, tun.ipsec, tun.available])) renderTunnels();
    if (changed('compliance', [comp.routers, comp.checked_at, comp.available])) renderCompliance();
    if (changed('faults', [faults.localization, faults.checked_at, faults.available])) renderFaults();
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

setRefresher(poll);
renderTimelineLegend();
poll();
setInterval(poll, POLL_MS);
