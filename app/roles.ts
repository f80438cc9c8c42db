/**
 * One builder per role. Each hands its components the raw config section (`sectionOf`, so errors name
 * the file line) and the shared adapters; the components parse their own sections, once, and stay
 * inert until the caller starts them in order. Settings a caller needs on top of the file (the demo's)
 * are a config overlay merged into the raw input beforehand, never edits of parsed config.
 */
import { parseSection, sectionOf } from '../core/component.ts';
import { createLeadership } from '../core/leader.ts';
import { leaderConfigSchema } from '../core/leader-config.ts';
import { RedisLeaseStore } from '../core/lease.ts';
import type { ConfigSource } from '../core/config/index.ts';
import { analyticsSchema } from '../analytics/config.ts';
import { createSink, type Sink } from '../analytics/sink/index.ts';
import { createOptimizer, optimizerPlugin, storeDecisions, type Optimizer } from '../optimizer/index.ts';
import { QueriesOptimizerData, type QueriesDataOptions } from '../optimizer/data-queries.ts';
import type { OptimizerData } from '../optimizer/data.ts';
import { standbyOptimizer } from './optimizer-standby.ts';
import type { Shared } from './runtime.ts';

export { buildIngest, type IngestRole } from './ingest-role.ts';

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
  // On a ClickHouse cluster the sink writes each shard itself (analytics/sink/shards.ts).
  const cluster = shared.config.source.section('analytics', analyticsSchema).store.cluster;
  // A section that is not a mapping goes as it is, so the sink's ConfigError names it.
  const input =
    typeof sink === 'object' && sink !== null && !Array.isArray(sink)
      ? { ...sink, ...(retention !== undefined ? { retention } : {}), ...(cluster ? { cluster } : {}), ...options }
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

/**
 * The optimizer, active/standby: with a BullMQ queue its processes elect one leader in the queue's Redis
 * (`<prefix>:leader:optimizer`), and only the leader solves and proposes (app/optimizer-standby.ts);
 * with the in-process queue the one process leads.
 */
export function buildOptimizer(shared: Shared, dataOptions: QueriesDataOptions = {}): OptimizerRole {
  const data = new QueriesOptimizerData(shared.store, shared.config.root, { now: () => shared.clock.now(), ...dataOptions });
  const { source, root } = shared.config;
  const log = shared.log.child({ component: 'optimizer' });
  const q = root.services.queue;
  const store = q.kind === 'bullmq' && q.redis_url ? new RedisLeaseStore(q.redis_url, `${q.prefix}:leader`) : undefined;
  const leadership = createLeadership(
    { role: 'optimizer', store, registry: shared.registry, log, onFatal: shared.supervisor.onFatal },
    parseSection(leaderConfigSchema, sectionOf(source, 'optimizer.leader'), 'optimizer.leader'),
  );
  const optimizer = standbyOptimizer({
    queue: shared.queue,
    leadership,
    ...(store ? { store } : {}),
    make: (queue) =>
      createOptimizer(
        {
          data,
          queue,
          clock: shared.clock,
          root,
          registry: shared.registry,
          log,
          decisions: storeDecisions(shared.store),
          onFatal: shared.supervisor.onFatal,
        },
        sectionOf(source, 'optimizer'),
      ),
  });
  return { optimizer, data };
}

export function optimizerRoutesFor(shared: Shared, role: OptimizerRole) {
  return optimizerPlugin({ optimizer: role.optimizer, data: role.data, root: shared.config.root, clock: shared.clock });
}
