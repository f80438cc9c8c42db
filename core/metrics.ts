import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry, Counter, Gauge, Histogram };

/** One registry per process; components receive it and register their series on it. */
export function createRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'pathpilot_' });
  return registry;
}

/**
 * The fixed vocabulary every pipeline stage emits (Vector's component spec):
 * `<prefix>_received_total`, `_sent_total`, `_errors_total{error_type}` and `_dropped_total{reason}`.
 */
export interface StageMetrics {
  received: Counter<string>;
  sent: Counter<string>;
  errors: Counter<'error_type'>;
  dropped: Counter<'reason'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function counter<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return getOrCreate(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
}

export function gauge<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return getOrCreate(registry, name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }));
}

export function histogram<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  return getOrCreate(registry, name, () => new Histogram<L>({ name, help, buckets, labelNames, registers: [registry] }));
}

/** `prefix` is explicit, e.g. `pathpilot_ingest_flow` (no stack-walking magic). */
export function createStageMetrics(registry: Registry, prefix: string): StageMetrics {
  return {
    received: counter(registry, `${prefix}_received_total`, `Items received by ${prefix}`),
    sent: counter(registry, `${prefix}_sent_total`, `Items sent onward by ${prefix}`),
    errors: counter(registry, `${prefix}_errors_total`, `Errors in ${prefix}, by type`, ['error_type']),
    dropped: counter(registry, `${prefix}_dropped_total`, `Items dropped by ${prefix}, by reason`, ['reason']),
  };
}

/** Reads the current values of a registry as `{ 'name{label="v"}': value }` for tests and summaries. */
export async function metricValues(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const v of metric.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
      const labels = Object.entries(v.labels)
        .map(([k, val]) => `${k}="${val}"`)
        .join(',');
      const name = v.metricName ?? metric.name;
      out[labels ? `${name}{${labels}}` : name] = v.value;
    }
  }
  return out;
}
