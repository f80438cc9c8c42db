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

export const wantedMetrics: Record<string, WantedMetric> = {};
