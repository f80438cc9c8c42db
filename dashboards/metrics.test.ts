import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRegistry, type Registry } from '../core/metrics.ts';
import { createBusMetrics } from '../core/bus/metrics.ts';
import { createQueueMetrics } from '../core/queue/metrics.ts';
import { createFlowMetrics } from '../ingest/flow/metrics.ts';
import { createProbeMetrics } from '../ingest/probe/metrics.ts';
import { createBillingMetrics } from '../ingest/billing/metrics.ts';
import { createSinkMetrics } from '../analytics/sink/metrics.ts';
import { createOptimizerMetrics } from '../optimizer/metrics.ts';
import { createTunnelMetrics } from '../actuator/tunnels/metrics.ts';
import { createComplianceMetrics, createFeedMetrics, createRouterKeyMetrics } from '../actuator/security/metrics.ts';
import { createFaultMetrics } from '../actuator/faults.ts';
import { loadDashboardFiles, panelQueries, paths } from './index.ts';
import { wantedMetrics } from './prometheus/wanted-metrics.ts';

/**
 * The alert rules and dashboard PromQL name only series the code emits: names come from the real
 * metric factories (registered on a fresh registry) plus any literal `pathpilot_…` name in the
 * source tree, so a renamed series breaks this test instead of silently emptying an alert.
 */
const root = join(paths.prometheusRules, '..', '..', '..');

function emittedByFactories(): Set<string> {
  const registry: Registry = createRegistry({ defaultMetrics: true });
  createBusMetrics(registry);
  createQueueMetrics(registry);
  createFlowMetrics(registry);
  createProbeMetrics(registry);
  createBillingMetrics(registry);
  createSinkMetrics(registry);
  createOptimizerMetrics(registry);
  createTunnelMetrics(registry);
  createComplianceMetrics(registry);
  createFeedMetrics(registry);
  createRouterKeyMetrics(registry);
  createFaultMetrics(registry);
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

function literalNamesInSource(): Set<string> {
  const names = new Set<string>();
  const skip = new Set(['node_modules', '.data', '.git', 'dashboards', 'test', 'bench', 'docs']);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (skip.has(entry)) continue;
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/['"`](pathpilot_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
      }
    }
  };
  walk(root);
  return names;
}

/** Metric names in a PromQL expression (histogram series reduced to the histogram's name). */
export function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(pathpilot_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

const ruleFiles = readdirSync(paths.prometheusRules).filter((f) => f.endsWith('.yml'));
const rules = ruleFiles.flatMap((f) =>
  (parse(readFileSync(join(paths.prometheusRules, f), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules),
);
const emitted = new Set([...emittedByFactories(), ...literalNamesInSource()]);

describe('metric names in alert rules and dashboards', () => {
  it('finds the rules and the emitted series', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(rules.length).toBeGreaterThanOrEqual(9);
    expect(emitted.has('pathpilot_ingest_flow_dropped_total')).toBe(true);
    expect(emitted.has('pathpilot_analytics_sink_lag_seconds')).toBe(true);
  });

  it.each(rules.map((r) => [r.alert ?? r.record!, r.expr] as const))('%s names only emitted or wanted series', (_n, expr) => {
    const names = metricNames(expr);
    // Every rule reads a pathpilot series, except target health, which reads Prometheus's own `up`.
    expect(names.length > 0 || /^up\{job="pathpilot"\}/.test(expr), expr).toBe(true);
    const unknown = names.filter((n) => !emitted.has(n) && !(n in wantedMetrics));
    expect(unknown, `not emitted by any component: ${unknown.join(', ')}`).toEqual([]);
  });

  it('dashboard PromQL names only emitted series', () => {
    const { promql } = panelQueries(loadDashboardFiles().values());
    expect(promql.length).toBeGreaterThan(10);
    for (const q of promql) {
      const unknown = metricNames(q.target.expr).filter((n) => !emitted.has(n));
      expect(unknown, `${q.dashboard} / ${q.panel}: ${q.target.expr}`).toEqual([]);
    }
  });

  it('covers the alerts the issue asks for', () => {
    const alerts = rules.map((r) => r.alert);
    for (const a of [
      'PathpilotPathSloBreach',
      'PathpilotIngestLag',
      'PathpilotRollbackHappened',
      'PathpilotBudget80Percent',
      'PathpilotBudget100Percent',
      'PathpilotCollectorDrops',
    ]) {
      expect(alerts).toContain(a);
    }
  });

  it('lists as wanted only series nobody emits yet (drop an entry once its owner ships it)', () => {
    const shipped = Object.keys(wantedMetrics).filter((n) => emitted.has(n));
    expect(shipped, `now emitted, remove from dashboards/prometheus/wanted-metrics.ts: ${shipped.join(', ')}`).toEqual([]);
    const used = new Set(rules.flatMap((r) => metricNames(r.expr)));
    for (const n of Object.keys(wantedMetrics)) expect(used.has(n), `${n} is wanted but no rule uses it`).toBe(true);
  });

  it('reduces histogram series to their metric name', () => {
    expect(metricNames('histogram_quantile(0.9, rate(pathpilot_a_seconds_bucket[5m])) / pathpilot_b_total')).toEqual([
      'pathpilot_a_seconds',
      'pathpilot_b_total',
    ]);
    expect(relative(root, paths.prometheusRules)).toBe(join('dashboards', 'prometheus', 'rules'));
  });
});
