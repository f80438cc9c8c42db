/**
 * One builder per role. Each validates its own YAML section and returns inert components; the
 * caller starts them in order. The actuator role is added when actuator/ exposes createActuator.
 */
import type { Component } from '../core/component.ts';
import { createFlowCollector, type FlowCollector } from '../ingest/flow/index.ts';
import { flowCollectorConfigSchema } from '../ingest/flow/config.ts';
import { createBillingImporter, billingConfigSchema, type BillingImporter } from '../ingest/billing/index.ts';
import { createSink, type Sink } from '../analytics/sink/index.ts';
import { analyticsSchema } from '../analytics/config.ts';
import { createOptimizer, optimizerConfigSchema, optimizerPlugin, storeDecisions, type Optimizer } from '../optimizer/index.ts';
import { QueriesOptimizerData, type QueriesDataOptions } from '../optimizer/data-queries.ts';
import type { OptimizerData } from '../optimizer/data.ts';
import type { Shared } from './runtime.ts';

export interface IngestRole {
  collector: FlowCollector;
  billing: BillingImporter;
  components: Component[];
}

export function buildIngest(shared: Shared, overrides: { flowPort?: number } = {}): IngestRole {
  const { source } = shared.config;
  const flowConfig = source.section('ingest.flow', flowCollectorConfigSchema);
  if (overrides.flowPort !== undefined) flowConfig.port = overrides.flowPort;
  const collector = createFlowCollector(
    {
      bus: shared.bus,
      registry: shared.registry,
      root: shared.config.root,
      log: shared.log.child({ component: 'ingest.flow' }),
      clock: shared.clock,
    },
    flowConfig,
  );
  const billing = createBillingImporter(
    {
      registry: shared.registry,
      bus: shared.bus,
      topology: shared.topology,
      log: shared.log.child({ component: 'ingest.billing' }),
    },
    source.section('ingest.billing', billingConfigSchema),
  );
  return { collector, billing, components: [collector, billing] };
}

export function buildSink(shared: Shared, overrides: { fromBeginning?: boolean } = {}): Sink {
  const analytics = shared.config.source.section('analytics', analyticsSchema);
  return createSink(
    {
      bus: shared.bus,
      store: shared.store,
      registry: shared.registry,
      log: shared.log.child({ component: 'sink' }),
      clock: shared.clock,
    },
    { ...analytics.sink, retention: analytics.retention, ...overrides },
  );
}

export interface OptimizerRole {
  optimizer: Optimizer;
  data: OptimizerData;
}

export function buildOptimizer(
  shared: Shared,
  overrides: Record<string, unknown> = {},
  dataOptions: QueriesDataOptions = {},
): OptimizerRole {
  const section = { ...shared.config.source.section('optimizer', optimizerConfigSchema), ...overrides };
  const data = new QueriesOptimizerData(shared.store, shared.config.root, dataOptions);
  const optimizer = createOptimizer(
    {
      data,
      queue: shared.queue,
      clock: shared.clock,
      root: shared.config.root,
      registry: shared.registry,
      log: shared.log.child({ component: 'optimizer' }),
      decisions: storeDecisions(shared.store),
    },
    optimizerConfigSchema.parse(section),
  );
  return { optimizer, data };
}

export function optimizerRoutesFor(shared: Shared, role: OptimizerRole) {
  return optimizerPlugin({ optimizer: role.optimizer, data: role.data, root: shared.config.root, clock: shared.clock });
}
