/**
 * Series the alert rules need that no component emits yet. Each entry is a contract for its owner;
 * `dashboards/metrics.test.ts` fails if a rule or panel names a series that is neither emitted by
 * the code nor listed here, and also once an entry starts being emitted (then delete it here).
 */
export interface WantedMetric {
  owner: string;
  type: 'counter' | 'gauge';
  labels: string[];
  help: string;
}

export const wantedMetrics: Record<string, WantedMetric> = {
  pathpilot_ingest_probe_slo_breach: {
    owner: 'ingest/probe',
    type: 'gauge',
    labels: ['path_id', 'class', 'slo'],
    help: '1 while the last closed probe window of the path breaks the class SLO objective `slo` (rtt_p95, loss, jitter), else 0',
  },
  pathpilot_optimizer_budget_used_ratio: {
    owner: 'optimizer',
    type: 'gauge',
    labels: ['budget'],
    help: 'Projected month-end spend over the monthly budget of each policy.budgets entry (1 = at budget)',
  },
};
