import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterServicesConfig, defaultServicesConfig, projectRoot, serviceEnv } from './config.ts';
import { clickhouseConfigXml } from './clickhouse.ts';
import { clusterConfigSections, clusterLayout, clusterNodes, composeClusterFiles } from './clickhouse-cluster.ts';
import { servicesFor } from './index.ts';

describe('ClickHouse cluster of a services set', () => {
  // Fixed ports: PATHPILOT_SERVICES_PORT_OFFSET (a CI simulation) must not move them.
  const base = defaultServicesConfig({
    root: '/tmp/pp-set',
    ports: {
      ...defaultServicesConfig().ports,
      clickhouseHttp: 8123,
      clickhouseTcp: 9000,
      clickhouseInterserver: 9009,
      zookeeper: 2181,
    },
  });
  const cluster = { ...base, topology: { kafkaBrokers: 1, clickhouseCluster: { shards: 2, replicas: 2 } } };

  it('runs ZooKeeper and shards × replicas servers instead of the single server, each on its own ports', () => {
    expect(servicesFor(base).map((s) => s.name)).toContain('clickhouse');
    const names = servicesFor(cluster).map((s) => s.name);
    expect(names).not.toContain('clickhouse');
    expect(names).toEqual(
      expect.arrayContaining(['zookeeper', 'clickhouse-s1r1', 'clickhouse-s1r2', 'clickhouse-s2r1', 'clickhouse-s2r2']),
    );
    expect(clusterNodes(cluster).map((n) => [n.name, n.shard, n.replica, n.httpPort, n.tcpPort, n.interserverPort])).toEqual([
      ['clickhouse-s1r1', 1, 1, 8123, 9000, 9009],
      ['clickhouse-s1r2', 1, 2, 8124, 9001, 9010],
      ['clickhouse-s2r1', 2, 1, 8125, 9002, 9011],
      ['clickhouse-s2r2', 2, 2, 8126, 9003, 9012],
    ]);
    const ports = servicesFor(cluster).flatMap((s) => s.ports(cluster));
    expect(new Set(ports).size).toBe(ports.length);
    expect(() => clusterNodes({ ...base, topology: { kafkaBrokers: 1, clickhouseCluster: { shards: 5, replicas: 2 } } })).toThrow(
      /at most 9/,
    );
  });

  it('exports the cluster to the tests, CLICKHOUSE_URL staying the first node', () => {
    expect(serviceEnv(base).CLICKHOUSE_CLUSTER_URLS).toBeUndefined();
    const env = serviceEnv(cluster);
    expect(env.CLICKHOUSE_URL).toBe('http://127.0.0.1:8123');
    expect(env.CLICKHOUSE_CLUSTER).toBe('pathpilot');
    expect(env.CLICKHOUSE_CLUSTER_URLS).toBe(
      'http://127.0.0.1:8123,http://127.0.0.1:8124,http://127.0.0.1:8125,http://127.0.0.1:8126',
    );
    expect(clusterServicesConfig().topology.clickhouseCluster).toEqual({ shards: 2, replicas: 2 });
  });

  it('gives every node the same cluster and its own macros; the single server gets none of it', () => {
    const layout = clusterLayout(cluster);
    const xml = clickhouseConfigXml({
      dir: '/tmp/pp-set/clickhouse-s2r1',
      host: '127.0.0.1',
      httpPort: 8125,
      tcpPort: 9002,
      cacheBytes: 1,
      cluster: { interserverPort: 9011, sections: clusterConfigSections(layout, 2, 1) },
    });
    expect(xml).toContain('<interserver_http_port>9011</interserver_http_port>');
    expect(xml).toMatch(
      /<pathpilot>\s*<shard>\s*<internal_replication>true<\/internal_replication>\s*<replica><host>127\.0\.0\.1<\/host><port>9000<\/port><\/replica>\s*<replica><host>127\.0\.0\.1<\/host><port>9001<\/port>/,
    );
    expect(xml).toContain('<node><host>127.0.0.1</host><port>2181</port></node>');
    expect(xml).toMatch(/<macros>\s*<shard>2<\/shard>\s*<replica>s2r1<\/replica>/);
    expect(xml).toContain('<distributed_ddl>');
    const single = clickhouseConfigXml({
      dir: '/tmp/pp-set/clickhouse',
      host: '127.0.0.1',
      httpPort: 8123,
      tcpPort: 9000,
      cacheBytes: 1,
    });
    expect(single).not.toMatch(/remote_servers|zookeeper|macros|interserver/);
  });

  it("docker-compose's cluster profile mounts exactly the generated cluster files", () => {
    const dir = join(projectRoot, 'deploy', 'clickhouse-cluster');
    const files = composeClusterFiles();
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
    const compose = parse(readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { image?: string; profiles?: string[]; volumes?: string[]; depends_on?: Record<string, unknown> }>;
    };
    for (const node of ['s1r1', 's1r2', 's2r1', 's2r2']) {
      const s = compose.services[`clickhouse-${node}`]!;
      expect(s.image).toBe('yandex/clickhouse-server:18.16');
      expect(s.profiles).toEqual(['cluster']);
      expect(s.volumes).toEqual(
        expect.arrayContaining([
          './deploy/clickhouse-cluster/cluster.xml:/etc/clickhouse-server/config.d/cluster.xml:ro',
          `./deploy/clickhouse-cluster/macros-${node}.xml:/etc/clickhouse-server/config.d/macros.xml:ro`,
        ]),
      );
      expect(Object.keys(s.depends_on ?? {})).toEqual(['zookeeper']);
    }
    expect(compose.services.zookeeper!.profiles).toEqual(['cluster']);
  });
});
