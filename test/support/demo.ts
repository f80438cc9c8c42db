/**
 * Running the demo (app/demo.ts) inside the functional tier on the shared services: each run gets its
 * own topics, database, queues, consumer group and actuator state, and leaves nothing behind. Without
 * that, suites running alongside (or an earlier run's queue and state) share one set of names: a
 * rerun within the same simulated hour found the previous run's finished jobs under the same ids.
 */
import type { DemoRuntime } from '../../app/demo.ts';
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

/** Drops the run's database and topics (best effort), then stops it. */
export async function disposeDemo(demo: DemoRuntime | undefined): Promise<void> {
  if (!demo) return;
  await demo.shared.store.exec(sql`DROP DATABASE IF EXISTS ${ident(demo.shared.store.database)}`).catch(() => undefined);
  // The bus adds the run's topic prefix to these names.
  const topics = [...Object.values(recordDefinitions).map((d) => d.topic), 'pathpilot.deadletter.v1'];
  await demo.shared.bus.deleteTopics(topics).catch(() => undefined);
  await demo.stop();
}
