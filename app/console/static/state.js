// Shared state of the page: what the last poll returned and what the user picked; the refresh hook.

export const POLL_MS = 4000;
export const COST_POLL_MS = 12000;
export const TOKEN_KEY = 'pathpilot.token';

export const state = {
  token: null,
  who: null,
  overview: null,
  proposals: null,
  /** False when the server reads proposals from the store (no actuator role in its process). */
  decides: true,
  /** The actuator's mode and emergency policy, explained above the proposals. */
  policy: null,
  events: null,
  quality: null,
  cost: null,
  /** The actuator's tunnel watch: overlay peerings and IPsec SAs (`available` false when it runs elsewhere). */
  tunnels: null,
  compliance: null,
  selectedLink: null,
  qPair: null,
  qClass: null,
  qMetric: 'rtt_p95_ms',
  pending: new Set(),
  lastJson: {},
  lastCostAt: 0,
};

/** Panels ask for an immediate poll (after a decision) through this hook; main.js installs the poller. */
let refresher = () => {};
export function setRefresher(fn) {
  refresher = fn;
}
export function refreshNow() {
  refresher();
}
