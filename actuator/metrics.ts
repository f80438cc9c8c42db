import {
  counter,
  createRegistry,
  gauge,
  histogram,
  type Counter,
  type Gauge,
  type Histogram,
  type Registry,
} from '../core/metrics.ts';
import {
  createComplianceMetrics,
  createFeedMetrics,
  createRouterKeyMetrics,
  type ComplianceMetrics,
  type FeedMetrics,
  type RouterKeyMetrics,
} from './security/metrics.ts';
import { createTunnelMetrics, type TunnelMetrics } from './tunnels/metrics.ts';
import { createFaultMetrics, type FaultMetrics } from './faults.ts';

/** pathpilot_actuator_*: proposals by status, applies, rollbacks, drift, apply latency. */
export interface ActuatorMetrics {
  proposals: Counter<'status'>;
  applies: Counter<'result'>;
  rollbacks: Counter<'result'>;
  routerCalls: Counter<'op' | 'result'>;
  applyLatency: Histogram;
  rollbackLatency: Histogram;
  errors: Counter<'error_type'>;
  /** Routers found drifted (someone else changed a touched subtree) before a step, a restore or on resume. */
  drift: Counter<'router'>;
  /** 1 while a path breaks an objective of its class SLO at the last self-heal check, else 0. */
  pathSloBreach: Gauge<'path_id' | 'class' | 'slo'>;
  /** Realized effects measured (`measured`) or whose measurement failed and is retried (`error`). */
  realized: Counter<'result'>;
  /** Realized cost/day after the change over the predicted cost/day. */
  realizedCostRatio: Histogram;
  /** pathpilot_fault_link_*: the last fault localization's findings (faults.ts). */
  faults: FaultMetrics;
  /** Self-heal failovers not proposed: `no_headroom` (the backups cannot take the pair), `backed_off` (just rolled back). */
  failoverSkipped: Counter<'reason'>;
  /** pathpilot_tunnel_*: handshake ages, key ages, primaries failed over (tunnels/metrics.ts). */
  tunnels: TunnelMetrics;
  compliance: ComplianceMetrics;
  routerKeys: RouterKeyMetrics;
  feeds: FeedMetrics;
  /** Probed per router (actuator/vyos/capabilities.ts): `commit_confirm`, `confirm_action_reboot`; 1 or 0. */
  routerCapability: Gauge<'router' | 'capability'>;
}

export function createActuatorMetrics(registry: Registry = createRegistry()): ActuatorMetrics {
  const b = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
  return {
    proposals: counter(registry, 'pathpilot_actuator_proposals_total', 'Proposals entering each status', ['status']),
    applies: counter(registry, 'pathpilot_actuator_applies_total', 'Rollout steps applied to routers, by result', ['result']),
    rollbacks: counter(registry, 'pathpilot_actuator_rollbacks_total', 'Rollbacks, by result', ['result']),
    routerCalls: counter(registry, 'pathpilot_actuator_router_changes_total', 'Router change requests', ['op', 'result']),
    applyLatency: histogram(
      registry,
      'pathpilot_actuator_apply_latency_seconds',
      'Approval to first router committed (bake excluded)',
      b,
    ),
    rollbackLatency: histogram(
      registry,
      'pathpilot_actuator_rollback_latency_seconds',
      'Failing verdict to rollback complete',
      b,
    ),
    errors: counter(registry, 'pathpilot_actuator_errors_total', 'Actuator errors, by type', ['error_type']),
    drift: counter(
      registry,
      'pathpilot_actuator_drift_total',
      'Routers whose touched subtrees someone else changed during a rollout (the change stopped for a human)',
      ['router'],
    ),
    pathSloBreach: gauge(
      registry,
      'pathpilot_actuator_path_slo_breach',
      'Whether the path broke objective `slo` (rtt_p95, loss, jitter) of the class SLO over the last self-heal interval (1) or held it (0); absent without probe data',
      ['path_id', 'class', 'slo'],
    ),
    realized: counter(
      registry,
      'pathpilot_actuator_realized_total',
      'Applied proposals whose realized effect was measured after their window (result measured), or failed to be (error)',
      ['result'],
    ),
    realizedCostRatio: histogram(
      registry,
      'pathpilot_actuator_realized_cost_ratio',
      'Realized network cost/day in the window after a change over the predicted cost/day (1: as promised)',
      [0.5, 0.75, 0.9, 0.95, 1, 1.05, 1.1, 1.25, 1.5, 2],
    ),
    failoverSkipped: counter(
      registry,
      'pathpilot_actuator_failover_skipped_total',
      'Self-heal failovers not proposed, by reason: no_headroom (the healthy paths cannot take the pair), backed_off (the same move was just rolled back)',
      ['reason'],
    ),
    routerCapability: gauge(
      registry,
      'pathpilot_actuator_router_capability',
      'What the router was probed to offer: commit_confirm (1: confirm_time arms a timer), confirm_action_reboot (1: a fired timer reboots and loses unsaved commits; set action reload)',
      ['router', 'capability'],
    ),
    tunnels: createTunnelMetrics(registry),
    compliance: createComplianceMetrics(registry),
    routerKeys: createRouterKeyMetrics(registry),
    faults: createFaultMetrics(registry),
    feeds: createFeedMetrics(registry),
  };
}
