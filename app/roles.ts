/**
 * One builder per role. Each hands its components the raw config section (`sectionOf`, so errors name
 * the file line) and the shared adapters; the components parse their own sections, once, and stay
 * inert until the caller starts them in order. Settings a caller needs on top of the file (the demo's)
 * are a config overlay merged into the raw input beforehand, never edits of parsed config.
 */
import { sectionOf, type Component } from '../core/component.ts';
import type { ConfigSource } from '../core/config/index.ts';
import { createFlowCollector, type FlowCollector } from '../ingest/flow/index.ts';
import { createBillingImporter, type BillingImporter } from '../ingest/billing/index.ts';
import { createSink, type Sink } from '../analytics/sink/index.ts';
import { createOptimizer, optimizerPlugin, storeDecisions, type Optimizer } from '../optimizer/index.ts';
import { QueriesOptimizerData, type QueriesDataOptions } from '../optimizer/data-queries.ts';
import type { OptimizerData } from '../optimizer/data.ts';
import type { Shared } from './runtime.ts';

export interface IngestRole {
  collector: FlowCollector;
  billing: BillingImporter;
  components: Component[];
}

export function buildIngest(shared: Shared): IngestRole {
  const { source } = shared.config;
  const collector = createFlowCollector(
    {
      bus: shared.bus,
      registry: shared.registry,
      root: shared.config.root,
      log: shared.log.child({ component: 'ingest.flow' }),
      clock: shared.clock,
      onFatal: shared.supervisor.onFatal,
    },
    sectionOf(source, 'ingest.flow'),
  );
  const billing = createBillingImporter(
    {
      registry: shared.registry,
      bus: shared.bus,
      topology: shared.topology,
      log: shared.log.child({ component: 'ingest.billing' }),
    },
    sectionOf(source, 'ingest.billing'),
  );
  return { collector, billing, components: [collector, billing] };
}

function rawSection(source: ConfigSource, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (v, k) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined),
      source.data,
    );
}

/**
 * The sink reads `analytics.sink` and the `analytics.retention` it converges the schema to; both go to
 * createSink raw and are parsed there once. `fromBeginning` is wiring, not configuration.
 */
export function buildSink(shared: Shared, options: { fromBeginning?: boolean } = {}): Sink {
  const sink = rawSection(shared.config.source, 'analytics.sink') ?? {};
  const retention = rawSection(shared.config.source, 'analytics.retention');
  // A section that is not a mapping goes as it is, so the sink's ConfigError names it.
  const input =
    typeof sink === 'object' && sink !== null && !Array.isArray(sink)
      ? { ...sink, ...(retention !== undefined ? { retention } : {}), ...options }
      : sink;
  return createSink(
    {
      bus: shared.bus,
      store: shared.store,
      registry: shared.registry,
      log: shared.log.child({ component: 'sink' }),
      clock: shared.clock,
    },
    input,
  );
}

export interface OptimizerRole {
  optimizer: Optimizer;
  data: OptimizerData;
}

export function buildOptimizer(shared: Shared, dataOptions: QueriesDataOptions = {}): OptimizerRole {
  const data = new QueriesOptimizerData(shared.store, shared.config.root, { now: () => shared.clock.now(), ...dataOptions });
  const optimizer = createOptimizer(
    {
      data,
      queue: shared.queue,
      clock: shared.clock,
      root: shared.config.root,
      registry: shared.registry,
      log: shared.log.child({ component: 'optimizer' }),
      decisions: storeDecisions(shared.store),
      onFatal: shared.supervisor.onFatal,
    },
    sectionOf(shared.config.source, 'optimizer'),
  );
  return { optimizer, data };
}

export function optimizerRoutesFor(shared: Shared, role: OptimizerRole) {
  return optimizerPlugin({ optimizer: role.optimizer, data: role.data, root: shared.config.root, clock: shared.clock });
}
