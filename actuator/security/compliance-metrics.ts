/**
 * Compliance metrics, set by each pass of the compliance watch: what the security dashboard and the
 * `PathpilotComplianceHighFailing` alert read.
 */
import type { Gauge } from 'prom-client';
import { gauge, type Registry } from '../../core/metrics.ts';
import { complianceRules, type RouterCompliance } from './compliance.ts';

export interface ComplianceMetrics {
  score: Gauge<'router'>;
  ruleFailing: Gauge<'router' | 'rule' | 'severity'>;
  checked: Gauge;
}

export function createComplianceMetrics(registry: Registry): ComplianceMetrics {
  const p = 'pathpilot_compliance';
  return {
    score: gauge(registry, `${p}_score`, "A router's compliance score (0-100: applicable rules passed, weighted by severity)", [
      'router',
    ]),
    ruleFailing: gauge(
      registry,
      `${p}_rule_failing`,
      'Findings of a compliance rule on a router (0: it passes; absent: not applicable or the router was not read)',
      ['router', 'rule', 'severity'],
    ),
    checked: gauge(
      registry,
      `${p}_last_check_timestamp_seconds`,
      'When the routers were last checked against the rules pack',
      [],
    ),
  };
}

/** One pass's results on the gauges: a router that could not be read loses its series (no stale score). */
export function recordCompliance(m: ComplianceMetrics, routers: readonly RouterCompliance[], now: number): void {
  for (const r of routers) {
    m.score.remove({ router: r.router });
    for (const rule of complianceRules) m.ruleFailing.remove({ router: r.router, rule: rule.id, severity: rule.severity });
    if (r.score === null) continue;
    m.score.set({ router: r.router }, r.score);
    for (const rule of r.results)
      if (rule.status !== 'n/a')
        m.ruleFailing.set({ router: r.router, rule: rule.id, severity: rule.severity }, rule.findings.length);
  }
  m.checked.set(now / 1000);
}
