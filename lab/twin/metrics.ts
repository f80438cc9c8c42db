import { counter, gauge, type Registry } from '../../core/metrics.ts';

/** The twin's series: everything it emits is counted. */
export function createTwinMetrics(registry: Registry) {
  const p = 'pathpilot_lab_twin';
  return {
    ticks: counter(registry, `${p}_ticks_total`, 'Simulated ticks run'),
    emitted: counter<'kind'>(
      registry,
      `${p}_emitted_total`,
      'Items emitted, by kind (probe, iface, flow, datagram, billing_file)',
      ['kind'],
    ),
    errors: counter<'error_type'>(registry, `${p}_errors_total`, 'Errors, by type', ['error_type']),
    routingReads: counter(registry, `${p}_routing_reads_total`, 'Router configs read after a commit'),
    ignored: counter(registry, `${p}_config_ignored_total`, 'Router config items the twin could not use'),
    simTime: gauge(registry, `${p}_sim_time_seconds`, 'Simulated time of the last tick (epoch seconds)'),
    costTotal: gauge(registry, `${p}_egress_cost_total`, 'Cumulative simulated egress cost'),
  };
}
export type TwinMetrics = ReturnType<typeof createTwinMetrics>;
