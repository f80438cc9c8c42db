import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { analyticsSchema } from '../analytics/config.ts';
import { loadConfig } from '../core/config/index.ts';
import { defaultServicesConfig } from '../scripts/services/config.ts';
import { kafkaServerProperties } from '../scripts/services/kafka.ts';
import { paths } from './index.ts';

/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked structurally:
 * services, images, health checks, dependencies, ports, mounted files, the environment pathpilot
 * reads, and the Kafka settings against the ones scripts/services uses.
 */
const repo = join(paths.dashboardsJson, '..', '..', '..');
const read = (f: string) => readFileSync(join(repo, f), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services;
const roles = ['ingest', 'sink', 'optimizer', 'actuator', 'api'];
const infra = ['kafka', 'clickhouse', 'redis', 'prometheus', 'grafana'];

/** `key=value` lines of the server.properties scripts/services/kafka.ts writes. */
function servicesKafkaProperties(): Map<string, string> {
  const src = read('scripts/services/kafka.ts');
  const body = /function serverProperties[\s\S]*?return `([\s\S]*?)`;/.exec(src)?.[1];
  if (!body) throw new Error('server.properties template not found in scripts/services/kafka.ts');
  return servicesKafkaPropertiesOf(body);
}

function servicesKafkaPropertiesOf(body: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of body.split('\n')) {
    const m = /^([a-z][a-z0-9.]*)=(.*)$/.exec(line.trim());
    if (m) props.set(m[1]!, m[2]!);
  }
  return props;
}

describe('docker-compose.yml', () => {
  it('has the infrastructure and every pathpilot role (services of a profile only start on request)', () => {
    const always = Object.entries(services).filter(([, s]) => !s.profiles);
    expect(always.map(([name]) => name).sort()).toEqual([...infra, ...roles].sort());
  });

  it('pins every image (no :latest) and gives every service a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
      expect(s.healthcheck?.test.length, name).toBeGreaterThan(1);
    }
  });

  it('depends only on defined services, waiting for their health checks', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} → ${dep}`).toBeDefined();
        expect(cond.condition, `${name} → ${dep}`).toBe('service_healthy');
        expect(services[dep]!.healthcheck, dep).toBeDefined();
      }
    }
    for (const r of roles) expect(Object.keys(services[r]!.depends_on ?? {}).sort()).toEqual(['clickhouse', 'kafka', 'redis']);
    expect(Object.keys(services.grafana!.depends_on ?? {}).sort()).toEqual(['clickhouse', 'prometheus']);
  });

  it('publishes TCP ports on loopback only, with no host port used twice', () => {
    const seen = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        const udp = p.endsWith('/udp');
        if (!udp) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        const host = `${p.split(':').slice(-2, -1)[0]}/${udp ? 'udp' : 'tcp'}`;
        expect(seen.has(host), `${name} ${p}`).toBe(false);
        seen.add(host);
      }
    }
    expect(seen.has('3000/tcp') && seen.has('9090/tcp') && seen.has('8123/tcp') && seen.has('2055/udp')).toBe(true);
  });

  it('mounts files that exist in the repository, and declares its named volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [src] = v.split(':');
        if (src!.startsWith('./')) expect(existsSync(join(repo, src!)), `${name}: ${v}`).toBe(true);
        else expect(compose.volumes, `${name}: ${v}`).toHaveProperty(src!);
      }
    }
  });

  it('gives Grafana the ClickHouse plugin, the provisioning folders and every variable the datasources use', () => {
    const g = services.grafana!;
    expect(g.environment?.GF_INSTALL_PLUGINS).toContain('grafana-clickhouse-datasource');
    const mounts = new Map((g.volumes ?? []).map((v) => [v.split(':')[1], v.split(':')[0]]));
    expect(mounts.get('/etc/grafana/provisioning/datasources')).toBe('./dashboards/grafana/provisioning/datasources');
    expect(mounts.get('/etc/grafana/provisioning/dashboards')).toBe('./dashboards/grafana/provisioning/dashboards');
    const used = [...readFileSync(paths.datasources, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(3);
    for (const v of used) expect(g.environment, v).toHaveProperty(v);
    const home = g.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    const dashMount = (g.volumes ?? []).find((v) => home.startsWith(`${v.split(':')[1]}/`))!;
    expect(existsSync(join(repo, dashMount.split(':')[0]!, home.slice(dashMount.split(':')[1]!.length)))).toBe(true);
    expect(g.environment?.CLICKHOUSE_HOST).toBe('clickhouse');
    expect(g.environment?.PROMETHEUS_URL).toBe('http://prometheus:9090');
  });

  it('runs Prometheus on the repository config and scrapes every role where it serves /metrics', () => {
    const p = services.prometheus!;
    expect(p.volumes).toContain('./dashboards/prometheus:/etc/prometheus:ro');
    expect(p.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const cfg = parse(readFileSync(paths.prometheusConfig, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(cfg.rule_files).toEqual(['rules/*.yml']);
    const job = cfg.scrape_configs.find((j) => j.job_name === 'pathpilot')!;
    const targets = job.static_configs.flatMap((s) => s.targets).sort();
    expect(targets).toEqual(roles.map((r) => `${r}:8080`).sort());
    for (const r of roles) {
      const cmd = services[r]!.command!;
      expect(cmd[cmd.indexOf('--port') + 1], r).toBe('8080');
      expect(cmd[cmd.indexOf('--host') + 1], r).toBe('0.0.0.0');
    }
  });

  it('starts each role with `pathpilot start <role>` and the service URLs pathpilot reads', () => {
    for (const r of roles) {
      const s = services[r]!;
      expect(s.build?.dockerfile).toBe('Dockerfile');
      expect(s.command?.[0]).toBe('start');
      expect(s.command?.[1]).toBe(r);
      const positional = s.command!.slice(1).filter((a, i, all) => !a.startsWith('-') && !all[i - 1]?.startsWith('-'));
      for (const role of positional) expect(roles).toContain(role);
      const env = s.environment ?? {};
      expect(env.KAFKA_BROKERS).toBe('kafka:9092');
      expect(new URL(env.CLICKHOUSE_URL!).host).toBe('clickhouse:8123');
      expect(new URL(env.REDIS_URL!).host).toBe('redis:6379');
    }
    expect(services.ingest!.environment?.PATHPILOT__INGEST__FLOW__BIND).toBe('0.0.0.0');
  });

  it('configures Kafka (KRaft) with the same server.properties keys and values as scripts/services', () => {
    const props = servicesKafkaProperties();
    expect(props.get('process.roles')).toBe('broker,controller');
    const env = services.kafka!.environment!;
    const hostSpecific = new Set(['listeners', 'advertised.listeners', 'controller.quorum.voters', 'log.dirs']);
    for (const [key, value] of props) {
      const name = `KAFKA_${key.toUpperCase().replace(/\./g, '_')}`;
      expect(env, name).toHaveProperty(name);
      if (!hostSpecific.has(key)) expect(String(env[name]), name).toBe(value);
    }
    const kafkaKeys = Object.keys(env).filter((k) => k.startsWith('KAFKA_') && k !== 'KAFKA_HEAP_OPTS');
    expect(kafkaKeys.length).toBe(props.size);
    // Same listener names and ports, the host part being the service name.
    expect(env.KAFKA_LISTENERS).toBe('PLAINTEXT://:9092,CONTROLLER://:9093');
    expect(props.get('listeners')).toMatch(/^PLAINTEXT:\/\/.+,CONTROLLER:\/\/.+$/);
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka:9093');
    expect(services.kafka!.image).toBe(`apache/kafka:${defaultServicesConfig().kafka.version}`);
    expect(env.CLUSTER_ID ?? '').toMatch(/[A-Za-z0-9_-]{22}/);
  });

  it('has a `cluster` profile of three KRaft brokers configured as `services up --kafka-brokers 3` nodes', () => {
    const three = { ...defaultServicesConfig(), topology: { kafkaBrokers: 3 } };
    const hostSpecific = new Set(['listeners', 'advertised.listeners', 'controller.quorum.voters', 'log.dirs']);
    const clusterIds = new Set<string>();
    for (const id of [1, 2, 3]) {
      const name = `kafka-${id}`;
      const s = services[name]!;
      expect(s.profiles, name).toEqual(['cluster']);
      expect(s.image, name).toBe(services.kafka!.image);
      const env = s.environment!;
      const props = servicesKafkaPropertiesOf(kafkaServerProperties(three, id));
      for (const [key, value] of props) {
        const variable = `KAFKA_${key.toUpperCase().replace(/\./g, '_')}`;
        expect(env, `${name} ${variable}`).toHaveProperty(variable);
        if (!hostSpecific.has(key)) expect(String(env[variable]), `${name} ${variable}`).toBe(value);
      }
      expect(Object.keys(env).filter((k) => k.startsWith('KAFKA_') && k !== 'KAFKA_HEAP_OPTS').length, name).toBe(props.size);
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
      expect(env.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${name}:9092,CONTROLLER://${name}:9093`);
      clusterIds.add(env.CLUSTER_ID!);
    }
    // One cluster: every broker formatted with the same id.
    expect(clusterIds.size).toBe(1);
  });

  it('runs two of each pathpilot role on the clusters, with an analytics.store.cluster pathpilot accepts', () => {
    const clusterRoles = Object.entries(services).filter(([name]) => name.startsWith('cluster-'));
    for (const role of ['ingest', 'sink', 'optimizer', 'actuator'])
      expect(clusterRoles.filter(([, s]) => s.command?.[1] === role).length, role).toBe(2);
    for (const [name, s] of clusterRoles) {
      expect(s.profiles, name).toEqual(['cluster']);
      const env = s.environment!;
      expect(env.KAFKA_BROKERS, name).toBe('kafka-1:9092,kafka-2:9092,kafka-3:9092');
      for (const dep of Object.keys(s.depends_on ?? {})) expect(services, `${name} needs ${dep}`).toHaveProperty(dep);
      const overrides: NodeJS.ProcessEnv = { ...env, REDIS_URL: 'redis://redis:6379' };
      const loaded = loadConfig(join(repo, 'pathpilot.example.yaml'), overrides);
      const cluster = loaded.source.section('analytics', analyticsSchema).store.cluster!;
      expect(cluster.name, name).toBe('pathpilot');
      const nodes = cluster.shards.flat().map((u) => new URL(u).hostname);
      expect(nodes.sort(), name).toEqual(['clickhouse-s1r1', 'clickhouse-s1r2', 'clickhouse-s2r1', 'clickhouse-s2r2']);
      for (const node of nodes) expect(services[node]?.profiles, node).toEqual(['cluster']);
      expect(loaded.root.services.store.kind, name).toBe('server');
      expect(loaded.root.services.queue.kind, `${name}: leader election needs the Redis queue`).toBe('bullmq');
    }
    // Exporters are split by port between the two collectors.
    const udp = clusterRoles.flatMap(([, s]) => s.ports ?? []).filter((p) => p.endsWith('/udp'));
    expect(new Set(udp.map((p) => p.split(':')[0])).size).toBe(2);
  });
});

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function dockerfile(): Instruction[] {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    if (op!.toUpperCase() === 'FROM') stage++;
    out.push({ op: op!.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

describe('Dockerfile', () => {
  const ins = dockerfile();
  const last = Math.max(...ins.map((i) => i.stage));
  const finalStage = ins.filter((i) => i.stage === last);

  it('is multi-stage: a deps stage with npm ci, a build stage with npm run build and a node:20-slim runtime stage', () => {
    const froms = ins.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms).toEqual(['node:20-slim AS deps', 'node:20-slim AS build', 'node:20-slim AS runtime']);
    expect(ins.some((i) => i.stage === 1 && i.op === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
    expect(JSON.parse(read('package.json')).scripts.build).toMatch(/scripts\/build\.ts/);
    expect(ins.some((i) => i.stage === 0 && i.op === 'RUN' && /\bnpm ci\b/.test(i.args) && /--omit=dev/.test(i.args))).toBe(true);
    expect(finalStage.some((i) => i.op === 'COPY' && i.args.includes('--from=deps') && i.args.includes('node_modules'))).toBe(
      true,
    );
    expect(JSON.parse(read('package.json')).engines.node).toMatch(/^>=20/);
  });

  it('runs as a non-root user, the built CLI in one process, with a health check', () => {
    const user = finalStage.findLast((i) => i.op === 'USER');
    expect(user?.args).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user!.args);
    const idx = (op: string) => finalStage.findIndex((i) => i.op === op);
    expect(idx('USER')).toBeLessThan(idx('ENTRYPOINT'));
    expect(JSON.parse(finalStage[idx('ENTRYPOINT')]!.args)).toEqual(['node', 'dist/cli/main.js']);
    expect(
      finalStage.some((i) => i.op === 'COPY' && i.args.includes('--from=build') && /\/app\/dist \.\/dist$/.test(i.args)),
    ).toBe(true);
    expect(existsSync(join(repo, 'cli', 'main.ts'))).toBe(true);
    const cmd = JSON.parse(finalStage[idx('CMD')]!.args) as string[];
    expect(cmd[0]).toBe('start');
    expect(roles).toContain(cmd[1]);
    expect(finalStage[idx('HEALTHCHECK')]!.args).toContain('/healthz');
    expect(JSON.parse(read('package.json')).dependencies).toHaveProperty('tsx');
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const must of ['node_modules', '.data', '.git']) expect(ignored).toContain(must);
    const copies = ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const c of copies) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(join(repo, src)), src).toBe(true);
        expect(ignored, src).not.toContain(src);
      }
    }
    // Every runtime part of the tree is in the image (cli imports all of them).
    const copied = new Set(copies.flatMap((c) => c.args.split(/\s+/).slice(0, -1)));
    for (const dir of ['core', 'ingest', 'analytics', 'optimizer', 'actuator', 'lab', 'app', 'cli', 'bin']) {
      expect(copied.has(dir), dir).toBe(true);
    }
  });
});
