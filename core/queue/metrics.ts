import { counter, createRegistry, type Counter, type Registry } from '../metrics.ts';

/**
 * The queue's series (queue names are few and fixed in production):
 * `pathpilot_queue_jobs_total{queue,event}` with event = added | duplicate | completed | retried | failed,
 * and `pathpilot_queue_errors_total{error_type}` for the adapter's own failures (not job failures).
 */
export interface QueueMetrics {
  jobs: Counter<'queue' | 'event'>;
  errors: Counter<'error_type'>;
}

export function createQueueMetrics(registry: Registry = createRegistry()): QueueMetrics {
  return {
    jobs: counter(registry, 'pathpilot_queue_jobs_total', 'Job events, by queue and event', ['queue', 'event']),
    errors: counter(registry, 'pathpilot_queue_errors_total', 'Queue adapter errors, by type', ['error_type']),
  };
}
