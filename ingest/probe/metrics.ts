import { counter, createStageMetrics, type Counter, type Registry, type StageMetrics } from '../../core/metrics.ts';

/**
 * Series of the probe agent (`pathpilot_ingest_probe_*`): `sent_total` counts records published,
 * `received_total` replies received; probes sent, late replies, reflected packets have their own.
 */
export interface ProbeMetrics extends StageMetrics {
  probes: Counter<string>;
  late: Counter<string>;
  reflected: Counter<string>;
  windows: Counter<string>;
}

export function createProbeMetrics(registry: Registry): ProbeMetrics {
  const prefix = 'pathpilot_ingest_probe';
  return {
    ...createStageMetrics(registry, prefix),
    probes: counter(registry, `${prefix}_probes_sent_total`, 'Probe packets sent'),
    late: counter(
      registry,
      `${prefix}_late_replies_total`,
      'Replies arriving after their window closed (not counted as received)',
    ),
    reflected: counter(registry, `${prefix}_reflected_total`, 'Probe packets reflected by the reflector'),
    windows: counter(registry, `${prefix}_windows_total`, 'Probe windows closed'),
  };
}
