/**
 * The ingest role's builder, in a module of its own so a process that runs only `start ingest` loads
 * the collectors and nothing of the other roles (the optimizer's TensorFlow alone is ~80 MB of RSS).
 */
import { sectionOf, type Component } from '../core/component.ts';
import { createFlowCollector, type FlowCollector } from '../ingest/flow/index.ts';
import { createBillingImporter, type BillingImporter } from '../ingest/billing/index.ts';
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
