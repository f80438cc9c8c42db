/**
 * Security metrics: compliance (each pass of the compliance watch) and threat feeds (each pass of the feed
 * watch) — what the security dashboard and the compliance and feed alerts read.
 */
import type { Counter, Gauge } from 'prom-client';
import { counter, gauge, type Registry } from '../../core/metrics.ts';
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

export interface FeedMetrics {
  lastSuccess: Gauge<'feed'>;
  entries: Gauge<'feed'>;
  errors: Counter<'feed'>;
  hits: Gauge<'router'>;
}

/** Threat-feed metrics (feed-watch.ts): freshness (the alert reads it), size, errors and hits. */
export function createFeedMetrics(registry: Registry): FeedMetrics {
  const p = 'pathpilot_threat_feed';
  return {
    lastSuccess: gauge(
      registry,
      `${p}_last_success_timestamp_seconds`,
      'When a threat feed was last read and parsed without error',
      ['feed'],
    ),
    entries: gauge(registry, `${p}_entries`, 'Networks in a threat feed at its last good read', ['feed']),
    errors: counter(
      registry,
      `${p}_errors_total`,
      'Threat feed reads that failed or had bad lines (the last good networks were kept)',
      ['feed'],
    ),
    hits: gauge(
      registry,
      `${p}_hits`,
      "Live conversations to or from the threat group's networks over the last feed interval, per router (from flows)",
      ['router'],
    ),
  };
}

export interface RouterKeyMetrics {
  age: Gauge<'router'>;
  rotations: Counter<'router' | 'outcome'>;
}

/** Router API key metrics (router-key-watch.ts): each key's age and every rotation's outcome. */
export function createRouterKeyMetrics(registry: Registry): RouterKeyMetrics {
  const p = 'pathpilot_router_api_key';
  return {
    age: gauge(
      registry,
      `${p}_age_seconds`,
      'Age of the API key pathpilot uses on a router (absent: made before pathpilot kept it)',
      ['router'],
    ),
    rotations: counter(
      registry,
      `${p}_rotations_total`,
      'Router API key rotations by outcome (rotated, old-key-kept, refused, rolled-back)',
      ['router', 'outcome'],
    ),
  };
}
