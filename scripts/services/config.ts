/**
 * Where the local services live and which loopback ports they use. One `ServicesConfig` describes a
 * whole set (Kafka, ClickHouse, Redis, Prometheus); the default set lives in `<project>/.data/services`
 * on the standard ports. The benchmark builds a second, isolated set on other ports.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kinds of service a set may run; a cluster topology runs several instances of one kind. */
export const SERVICE_NAMES = ['kafka', 'clickhouse', 'zookeeper', 'redis', 'prometheus'] as const;
export type LocalServiceName = (typeof SERVICE_NAMES)[number];

/**
 * How many instances of each engine a set runs. The default is the small deployment (one Kafka
 * broker, one ClickHouse server, no ZooKeeper); `services up --kafka-brokers 3` and
 * `--clickhouse-cluster 2x2` ask for the clustered ones (issue 20).
 */
export interface ServicesTopology {
  /** KRaft brokers (each also a controller voter when > 1). */
  kafkaBrokers: number;
  /** ClickHouse shards × replicas; undefined = one plain server (no ZooKeeper). */
  clickhouseCluster?: { shards: number; replicas: number };
}

export interface ServicesConfig {
  /** Absolute data folder; each service gets `<root>/<name>/`. */
  root: string;
  host: string;
  ports: {
    kafka: number;
    kafkaController: number;
    clickhouseHttp: number;
    clickhouseTcp: number;
    /** Replication fetches between the replicas of a ClickHouse cluster (`interserver_http_port`). */
    clickhouseInterserver: number;
    /** ZooKeeper client port (a ClickHouse cluster's coordination). */
    zookeeper: number;
    redis: number;
    prometheus: number;
  };
  kafka: {
    /** Apache Kafka release taken from Maven Central (`org.apache.kafka:kafka_2.13`). */
    version: string;
    /** The log4j2 release whose `log4j-slf4j-impl` binding matches that Kafka's log4j-core. */
    log4jVersion: string;
    heap: string;
    /** Maven local repository (jar cache); undefined = Maven's own default (~/.m2/repository). */
    mavenRepo?: string;
  };
  /** How long to wait for a service to become healthy after it was started. */
  startTimeoutMs: number;
  topology: ServicesTopology;
}

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The standard set. Two environment variables move it, e.g. for a second checkout beside a running
 * set: PATHPILOT_SERVICES_DIR (data folder) and PATHPILOT_SERVICES_PORT_OFFSET (added to every port).
 */
export function defaultServicesConfig(overrides: Partial<ServicesConfig> = {}): ServicesConfig {
  const offset = portOffset();
  return {
    root: process.env.PATHPILOT_SERVICES_DIR
      ? resolve(process.env.PATHPILOT_SERVICES_DIR)
      : join(projectRoot, '.data', 'services'),
    host: '127.0.0.1',
    ports: {
      kafka: 9092 + offset,
      kafkaController: 9093 + offset,
      clickhouseHttp: 8123 + offset,
      clickhouseTcp: 9000 + offset,
      clickhouseInterserver: 9009 + offset,
      zookeeper: 2181 + offset,
      redis: 6379 + offset,
      prometheus: 9090 + offset,
    },
    kafka: { version: '4.3.1', log4jVersion: '2.25.4', heap: '512m' },
    startTimeoutMs: 90_000,
    topology: { kafkaBrokers: 1 },
    ...overrides,
  };
}

/** Added to every default port by `clusterServicesConfig`, so the cluster set runs beside the default one. */
export const clusterPortOffset = 20_000;

/**
 * The cluster set of issue 20 (what the `cluster` test project runs): three KRaft brokers and a
 * 2×2 ClickHouse cluster with ZooKeeper, in `<project>/.data/cluster`, on the default ports + 20000
 * (Kafka 29092, 29192, 29292; ClickHouse 28123…), so it runs beside the default set.
 */
export function clusterServicesConfig(overrides: Partial<ServicesConfig> = {}): ServicesConfig {
  const base = defaultServicesConfig();
  const ports = Object.fromEntries(
    Object.entries(base.ports).map(([key, port]) => [key, port + clusterPortOffset]),
  ) as ServicesConfig['ports'];
  return {
    ...base,
    root: join(projectRoot, '.data', 'cluster'),
    ports,
    // Three brokers beside the default set on a small machine: a smaller heap each.
    kafka: { ...base.kafka, heap: '384m' },
    topology: { kafkaBrokers: 3, clickhouseCluster: { shards: 2, replicas: 2 } },
    ...overrides,
  };
}

/** PATHPILOT_SERVICES_PORT_OFFSET as a number (0 when unset); a bad value is an error, not a silent 0. */
export function portOffset(): number {
  const raw = process.env.PATHPILOT_SERVICES_PORT_OFFSET;
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 50_000) {
    throw new Error(`PATHPILOT_SERVICES_PORT_OFFSET must be an integer 0..50000, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The environment variables the rest of the project reads to reach the services. */
/** The variables `services env` prints, by name. */
export interface ServiceEnv {
  KAFKA_BROKERS: string;
  CLICKHOUSE_URL: string;
  REDIS_URL: string;
  PROMETHEUS_URL: string;
  PROMETHEUS_TARGETS_DIR: string;
  [name: string]: string;
}

export function serviceEnv(cfg: ServicesConfig): ServiceEnv {
  const h = cfg.host;
  return {
    KAFKA_BROKERS: kafkaBrokerList(cfg),
    CLICKHOUSE_URL: `http://${h}:${cfg.ports.clickhouseHttp}`,
    REDIS_URL: `redis://${h}:${cfg.ports.redis}`,
    PROMETHEUS_URL: `http://${h}:${cfg.ports.prometheus}`,
    PROMETHEUS_TARGETS_DIR: prometheusTargetsDir(cfg),
    ...clickhouseClusterEnv(cfg),
  };
}

/** The ClickHouse cluster's name in every node's `remote_servers` (scripts/services/clickhouse-cluster.ts). */
export const clickhouseClusterName = 'pathpilot';

/**
 * Ports of ClickHouse cluster node i (0-based, shard-major: s1r1, s1r2, s2r1…): each base port + i.
 * Node 0 keeps the configured ports, so CLICKHOUSE_URL is where a single server would be.
 */
export function clickhouseNodePorts(cfg: ServicesConfig, i: number): { http: number; tcp: number; interserver: number } {
  return {
    http: cfg.ports.clickhouseHttp + i,
    tcp: cfg.ports.clickhouseTcp + i,
    interserver: cfg.ports.clickhouseInterserver + i,
  };
}

/** CLICKHOUSE_CLUSTER (its name) and CLICKHOUSE_CLUSTER_URLS (every node, comma-separated) when a cluster runs. */
export function clickhouseClusterEnv(cfg: ServicesConfig): Record<string, string> {
  const c = cfg.topology.clickhouseCluster;
  if (!c) return {};
  const urls = Array.from({ length: c.shards * c.replicas }, (_, i) => `http://${cfg.host}:${clickhouseNodePorts(cfg, i).http}`);
  return { CLICKHOUSE_CLUSTER: clickhouseClusterName, CLICKHOUSE_CLUSTER_URLS: urls.join(',') };
}

/**
 * Port step between the nodes of a Kafka cluster: node i (1-based) listens on `ports.kafka` +
 * 100·(i−1) and its controller on `ports.kafkaController` + 100·(i−1) (9092, 9192, 9292 /
 * 9093, 9193, 9293). Node 1 keeps the configured ports, so the first broker of KAFKA_BROKERS is
 * where a single broker would be.
 */
export const kafkaNodePortStep = 100;

export function kafkaNodePorts(cfg: ServicesConfig, node: number): { broker: number; controller: number } {
  const shift = (node - 1) * kafkaNodePortStep;
  return { broker: cfg.ports.kafka + shift, controller: cfg.ports.kafkaController + shift };
}

/** `host:port` of every broker of the set, comma-separated (the KAFKA_BROKERS value). */
export function kafkaBrokerList(cfg: ServicesConfig): string {
  return Array.from({ length: cfg.topology.kafkaBrokers }, (_, i) => `${cfg.host}:${kafkaNodePorts(cfg, i + 1).broker}`).join(
    ',',
  );
}

/** The folder of one service instance (`kafka`, `kafka-2`, `clickhouse-s1r2`, …). */
export function serviceDir(cfg: ServicesConfig, name: string): string {
  return join(cfg.root, name);
}

/** Drop `<job>.json` files here (Prometheus file_sd format) to have Prometheus scrape them. */
export function prometheusTargetsDir(cfg: ServicesConfig): string {
  return join(serviceDir(cfg, 'prometheus'), 'targets');
}

/** Where `up` records the topology it was asked for, so `status`, `env` and `down` see the same set. */
function topologyFile(root: string): string {
  return join(root, 'topology.json');
}

/** The topology recorded by the last `up` with topology flags in `root`, else `fallback` (single nodes). */
export function recordedTopology(root: string, fallback: ServicesTopology = { kafkaBrokers: 1 }): ServicesTopology {
  const file = topologyFile(root);
  if (!existsSync(file)) return fallback;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServicesTopology>;
  const brokers = parsed.kafkaBrokers ?? 1;
  if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`${file}: kafkaBrokers must be an integer ≥ 1`);
  return { kafkaBrokers: brokers, ...(parsed.clickhouseCluster ? { clickhouseCluster: parsed.clickhouseCluster } : {}) };
}

export function recordTopology(root: string, topology: ServicesTopology): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(topologyFile(root), `${JSON.stringify(topology, null, 2)}\n`);
}
