import { counter, createStageMetrics, type Counter, type Registry, type StageMetrics } from '../../core/metrics.ts';

/**
 * Series of the billing importer (`pathpilot_ingest_billing_*`): rows received, records sent,
 * errors{error_type="bad_row"}, plus bytes read and files imported by format.
 */
export interface BillingMetrics extends StageMetrics {
  bytes: Counter<string>;
  files: Counter<'format'>;
}

export function createBillingMetrics(registry: Registry): BillingMetrics {
  const prefix = 'pathpilot_ingest_billing';
  return {
    ...createStageMetrics(registry, prefix),
    bytes: counter(registry, `${prefix}_bytes_read_total`, 'Bytes of billing files read'),
    files: counter(registry, `${prefix}_files_total`, 'Billing files imported, by format', ['format']),
  };
}
