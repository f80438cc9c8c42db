/**
 * Cluster-tier global setup (vitest `globalSetup` of the `cluster` project, after the functional
 * one): makes sure the clusters the `test/cluster` files need are up and exports their addresses.
 * They run as a second services set (`clusterServicesConfig()`: `.data/cluster`, ports + 20000), so
 * the default single-node set stays as it is beside them.
 *
 * Same policy as the functional setup (global-setup.ts): a part whose variables are already set is
 * used as is; else its instances are brought up (`up` is idempotent and locked, a healthy cluster is
 * left alone). A part that cannot be started fails the run in CI; elsewhere its variables stay unset
 * and the tests that need it fail with the reason printed here. At teardown, in CI only (and unless
 * PATHPILOT_SERVICES_KEEP=1), the instances this setup itself started are stopped again.
 */
import type { LocalServiceName, ServicesConfig } from '../../scripts/services/index.ts';
import { down, ServicesError, up } from '../../scripts/services/index.ts';
import { clickhouseClusterEnv, clusterServicesConfig, kafkaBrokerList } from '../../scripts/services/config.ts';

interface ClusterPart {
  /** The kinds of instance it runs. */
  kinds: LocalServiceName[];
  /** The variables the tests read, from the set's config. */
  env(cfg: ServicesConfig): Record<string, string>;
}

const parts: ClusterPart[] = [
  // Three KRaft brokers, one controller quorum (test/cluster/kafka-broker-kill.cluster.test.ts).
  { kinds: ['kafka'], env: (cfg) => ({ KAFKA_CLUSTER_BROKERS: kafkaBrokerList(cfg) }) },
  // 2 shards × 2 replicas of ClickHouse 18.16 and their ZooKeeper (test/cluster/clickhouse-*.cluster.test.ts):
  // CLICKHOUSE_CLUSTER (the cluster's name) and CLICKHOUSE_CLUSTER_URLS (every node, shard-major).
  { kinds: ['zookeeper', 'clickhouse'], env: clickhouseClusterEnv },
];

const inCI = (): boolean => /^(1|true|yes)$/i.test(process.env.CI ?? '');
const say = (line: string): void => {
  process.stderr.write(`[cluster setup] ${line}\n`);
};

/** Whether a failed instance (`kafka-2`, `clickhouse-s1r2`) belongs to the part. */
const ofPart = (part: ClusterPart, instance: string): boolean =>
  part.kinds.some((kind) => instance === kind || instance.startsWith(`${kind}-`));

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const cfg = clusterServicesConfig();
  const missing = parts.filter((part) => Object.keys(part.env(cfg)).some((key) => !process.env[key]));
  if (missing.length === 0) return undefined;

  const names = missing.flatMap((part) => part.kinds);
  let started: string[] = [];
  let available = missing;
  const t0 = Date.now();
  try {
    started = (await up(cfg, { names, say })).started;
    say(`${names.join(', ')} healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    if (inCI()) {
      // The run fails: stop what this setup did start, as the teardown would have.
      if (err instanceof ServicesError && err.started.length > 0)
        await down(cfg, { names: err.started, say }).catch(() => undefined);
      throw err;
    }
    say(`some cluster services are unavailable; their tests will fail:\n${err instanceof Error ? err.message : String(err)}`);
    available = err instanceof ServicesError ? missing.filter((part) => !err.failures.some((f) => ofPart(part, f.name))) : [];
    if (err instanceof ServicesError) started = [...err.started];
  }
  for (const part of available) for (const [key, value] of Object.entries(part.env(cfg))) process.env[key] ??= value;

  const stopOnTeardown = inCI() && !process.env.PATHPILOT_SERVICES_KEEP && started.length > 0;
  return async () => {
    if (stopOnTeardown) await down(cfg, { names: started, say });
  };
}
