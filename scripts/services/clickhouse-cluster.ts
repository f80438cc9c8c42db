import type { ServicesConfig } from './config.ts';
import { clickhouseClusterName, clickhouseNodePorts, serviceDir } from './config.ts';
import { clickhouseLaunch, writeClickhouseConfig, xmlEscape } from './clickhouse.ts';
import { clickhouseHealth } from './health.ts';
import type { LocalService } from './service.ts';
import { zookeeper } from './zookeeper.ts';

/**
 * A ClickHouse cluster on loopback (issue 20): `topology.clickhouseCluster` shards × replicas of
 * Debian's ClickHouse 18.16 and the standalone ZooKeeper they replicate through. Each node is an
 * instance `clickhouse-s<shard>r<replica>` with its own folder and ports, and the same cluster
 * definition (`remote_servers`, cluster `pathpilot`, `internal_replication`: the replicated tables
 * copy the data, Distributed tables write one replica per shard), the `zookeeper` section, its own
 * `macros` (`shard` = its shard number in `remote_servers` order, `replica` = `s<shard>r<replica>`)
 * and `distributed_ddl` (ON CLUSTER statements). Ports: config.ts `clickhouseNodePorts`. docker-compose's `cluster` profile mounts the same
 * sections (deploy/clickhouse-cluster/, checked against this file by clickhouse-cluster.test.ts).
 */
/**
 * ZooKeeper session of each server. Short, so a replica killed with -9 loses its ephemeral
 * `is_active` node within seconds and the restarted server can take its place again (the default,
 * 30 s, would keep its tables read-only that long); still well above a GC pause on a busy machine.
 */
export const clusterSessionTimeoutMs = 6_000;

/** Node i listens on each base port + i (config.ts): up to 9 nodes the port ranges stay apart. */
export const maxClusterNodes = 9;

export interface ClusterNode {
  /** Instance name: `clickhouse-s1r2`. */
  name: string;
  shard: number;
  replica: number;
  httpPort: number;
  tcpPort: number;
  interserverPort: number;
}

/** Where each server of a cluster definition is reached (native protocol). */
export interface ClusterLayout {
  name: string;
  zookeeper: { host: string; port: number };
  /** Per shard, in order, its replicas' native (TCP) addresses. */
  shards: { host: string; port: number }[][];
}

export function clusterNodes(cfg: ServicesConfig): ClusterNode[] {
  const c = cfg.topology.clickhouseCluster;
  if (!c) return [];
  const count = c.shards * c.replicas;
  if (count > maxClusterNodes)
    throw new Error(`a ClickHouse cluster of ${count} servers is too large here (at most ${maxClusterNodes})`);
  const nodes: ClusterNode[] = [];
  for (let shard = 1; shard <= c.shards; shard++) {
    for (let replica = 1; replica <= c.replicas; replica++) {
      const ports = clickhouseNodePorts(cfg, nodes.length);
      nodes.push({
        name: `clickhouse-s${shard}r${replica}`,
        shard,
        replica,
        httpPort: ports.http,
        tcpPort: ports.tcp,
        interserverPort: ports.interserver,
      });
    }
  }
  return nodes;
}

export function clusterLayout(cfg: ServicesConfig): ClusterLayout {
  const nodes = clusterNodes(cfg);
  const shards = [...new Set(nodes.map((n) => n.shard))].map((s) =>
    nodes.filter((n) => n.shard === s).map((n) => ({ host: cfg.host, port: n.tcpPort })),
  );
  return { name: clickhouseClusterName, zookeeper: { host: cfg.host, port: cfg.ports.zookeeper }, shards };
}

/** `<remote_servers>`: the cluster, each shard replicated internally (one replica written, ZooKeeper copies). */
export function remoteServersXml(layout: ClusterLayout): string {
  const shards = layout.shards
    .map(
      (replicas) =>
        `      <shard>\n        <internal_replication>true</internal_replication>\n` +
        replicas.map((r) => `        <replica><host>${xmlEscape(r.host)}</host><port>${r.port}</port></replica>\n`).join('') +
        `      </shard>\n`,
    )
    .join('');
  return `  <remote_servers>\n    <${layout.name}>\n${shards}    </${layout.name}>\n  </remote_servers>\n`;
}

/** `<zookeeper>` and `<distributed_ddl>` (the ON CLUSTER task queue). */
export function coordinationXml(layout: ClusterLayout): string {
  return (
    `  <zookeeper>\n    <node><host>${xmlEscape(layout.zookeeper.host)}</host><port>${layout.zookeeper.port}</port></node>\n` +
    `    <session_timeout_ms>${clusterSessionTimeoutMs}</session_timeout_ms>\n  </zookeeper>\n` +
    `  <distributed_ddl>\n    <path>/clickhouse/task_queue/ddl</path>\n  </distributed_ddl>\n`
  );
}

/** `<macros>` of one server: the `{shard}` and `{replica}` of its replicated tables' ZooKeeper paths. */
export function macrosXml(shard: number, replica: number): string {
  return `  <macros>\n    <shard>${shard}</shard>\n    <replica>s${shard}r${replica}</replica>\n  </macros>\n`;
}

/** Everything a server adds to its config.xml to be node (shard, replica) of the cluster. */
export function clusterConfigSections(layout: ClusterLayout, shard: number, replica: number): string {
  return remoteServersXml(layout) + coordinationXml(layout) + macrosXml(shard, replica);
}

/**
 * The same cluster for docker-compose's `cluster` profile (2 × 2, hosts `clickhouse-s<shard>r<replica>`
 * and `zookeeper`, default ports): the config.d files in deploy/clickhouse-cluster/, by file name.
 * clickhouse-cluster.test.ts checks the committed files equal these.
 */
export function composeClusterFiles(shardCount = 2, replicaCount = 2): Record<string, string> {
  const host = (s: number, r: number): string => `clickhouse-s${s}r${r}`;
  const shards = Array.from({ length: shardCount }, (_, s) =>
    Array.from({ length: replicaCount }, (_, r) => ({ host: host(s + 1, r + 1), port: 9000 })),
  );
  const layout: ClusterLayout = { name: clickhouseClusterName, zookeeper: { host: 'zookeeper', port: 2181 }, shards };
  const doc = (what: string, body: string): string =>
    `<?xml version="1.0"?>\n<!-- ${what} Generated from scripts/services/clickhouse-cluster.ts (composeClusterFiles). -->\n<yandex>\n${body}</yandex>\n`;
  const files: Record<string, string> = {
    'cluster.xml': doc(
      'Every node: the cluster, ZooKeeper, the ON CLUSTER queue.',
      remoteServersXml(layout) + coordinationXml(layout),
    ),
  };
  for (let s = 1; s <= shardCount; s++)
    for (let r = 1; r <= replicaCount; r++) files[`macros-s${s}r${r}.xml`] = doc(`Node ${host(s, r)}.`, macrosXml(s, r));
  return files;
}

function clusterNode(node: ClusterNode): LocalService {
  return {
    name: node.name,
    kind: 'clickhouse',
    address: (cfg) => `http://${cfg.host}:${node.httpPort}`,
    ports: () => [node.httpPort, node.tcpPort, node.interserverPort],
    prerequisites: [{ command: 'clickhouse-server', debianPackage: 'clickhouse-server' }],
    stopGraceMs: 20_000,
    async prepare(cfg) {
      writeClickhouseConfig({
        dir: serviceDir(cfg, node.name),
        host: cfg.host,
        httpPort: node.httpPort,
        tcpPort: node.tcpPort,
        // Four servers on a small machine: small caches (the single server keeps 256 MiB).
        cacheBytes: 67_108_864,
        cluster: {
          interserverPort: node.interserverPort,
          sections: clusterConfigSections(clusterLayout(cfg), node.shard, node.replica),
        },
      });
    },
    launch(cfg) {
      return clickhouseLaunch(serviceDir(cfg, node.name));
    },
    async health(cfg) {
      const version = await clickhouseHealth(`http://${cfg.host}:${node.httpPort}`);
      return `version ${version}, shard ${node.shard} replica ${node.replica}`;
    },
  };
}

/** ZooKeeper, then every server of the cluster (all start together; a server waits for ZooKeeper itself). */
export function clickhouseClusterNodes(cfg: ServicesConfig): LocalService[] {
  return [zookeeper, ...clusterNodes(cfg).map(clusterNode)];
}
