/**
 * Running the demo (app/demo.ts) inside the functional tier on the shared services: each run gets its
 * own topics, database, queues, consumer group and actuator state, and leaves nothing behind. Without
 * that, suites running alongside (or an earlier run's queue and state) share one set of names: a
 * rerun within the same simulated hour found the previous run's finished jobs under the same ids.
 */
import type { DemoRuntime } from '../../app/demo.ts';
import { analyticsStore } from '../../analytics/schema/cluster.ts';
import { createBus } from '../../core/bus/index.ts';
import { createLogger } from '../../core/log.ts';
import { recordDefinitions } from '../../core/records/index.ts';
import { ident, sql } from '../../core/store/sql.ts';
import { requireService, uniqueName } from './services.ts';

/** Environment for startDemo({ env }): the real services and names no other run uses. */
export function isolatedDemoEnv(tag: string): NodeJS.ProcessEnv {
  const name = uniqueName(tag);
  return {
    KAFKA_BROKERS: requireService('kafka'),
    CLICKHOUSE_URL: requireService('clickhouse'),
    REDIS_URL: requireService('redis'),
    PATHPILOT__SERVICES__BUS__TOPIC_PREFIX: `${name}.`,
    PATHPILOT__SERVICES__STORE__DATABASE: name,
    PATHPILOT__SERVICES__QUEUE__PREFIX: name,
    PATHPILOT__ANALYTICS__SINK__GROUP: name,
    PATHPILOT__ACTUATOR__STATE__PREFIX: name,
  };
}

/**
 * Stops the run, then drops its database and topics (best effort) with clients of its own. In that
 * order: dropped first, the run's sink and watches would spend their stop retrying against a
 * database that is gone.
 */
export async function disposeDemo(demo: DemoRuntime | undefined): Promise<void> {
  if (!demo) return;
  await demo.stop();
  const { root } = demo.shared.config;
  const store = analyticsStore(demo.shared.config, { log: createLogger({ level: 'silent' }) });
  await store
    .start()
    .then(() => store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`))
    .catch(() => undefined)
    .finally(() => store.stop().catch(() => undefined));
  // The bus adds the run's topic prefix to these names.
  const topics = [...Object.values(recordDefinitions).map((d) => d.topic), 'pathpilot.deadletter.v1'];
  const bus = createBus(root.services.bus, { log: createLogger({ level: 'silent' }) });
  await bus
    .start()
    .then(() => bus.deleteTopics(topics))
    .catch(() => undefined)
    .finally(() => bus.stop().catch(() => undefined));
}
