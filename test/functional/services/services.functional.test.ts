/**
 * The local services (scripts/services): `env` prints usable export lines, `up` is idempotent, and
 * each service answers a real request: Kafka metadata, ClickHouse `SELECT version()`, Redis PING,
 * Prometheus readiness plus a scrape target added through the file_sd hook.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultServicesConfig, prometheusTargetsDirOf, serviceEnv, status, up } from '../../../scripts/services/index.ts';
import { portOffset, projectRoot } from '../../../scripts/services/config.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const cfg = defaultServicesConfig();
const env = serviceEnv(cfg);
const run = promisify(execFile);
const servicesCli = join(projectRoot, 'scripts', 'services', 'main.ts');
const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx');

function redisCommand(host: string, port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no reply to ${command}`));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`connection closed; reply was ${JSON.stringify(reply)}`)));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.endsWith('\r\n')) {
        socket.destroy();
        resolve(reply.trim());
      }
    });
  });
}

describe('local services', () => {
  beforeAll(async () => {
    await up(cfg); // idempotent: the global setup has normally brought them up already
  }, 180_000);

  it('the global setup exported every service URL to the test workers', () => {
    expect(requireService('kafka')).toMatch(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/);
    expect(requireService('clickhouse')).toMatch(/^https?:\/\/[\w.-]+:\d+$/);
    expect(requireService('redis')).toMatch(/^redis:\/\/[\w.-]+:\d+$/);
    expect(requireService('prometheus')).toMatch(/^http:\/\/[\w.-]+:\d+$/);
  });

  it('`env` prints shell export lines for every service URL', async () => {
    const { stdout } = await run(tsx, [servicesCli, 'env'], { cwd: projectRoot });
    const lines = stdout.trim().split('\n');
    const o = portOffset(); // 0 unless PATHPILOT_SERVICES_PORT_OFFSET moves the set
    expect(lines).toContain(`export KAFKA_BROKERS=127.0.0.1:${9092 + o}`);
    expect(lines).toContain(`export CLICKHOUSE_URL=http://127.0.0.1:${8123 + o}`);
    expect(lines).toContain(`export REDIS_URL=redis://127.0.0.1:${6379 + o}`);
    expect(lines).toContain(`export PROMETHEUS_URL=http://127.0.0.1:${9090 + o}`);
    for (const line of lines) expect(line).toMatch(/^export [A-Z_]+=\S+$/);
    // The output is meant for `eval`: a shell must get the same values back.
    const { stdout: echoed } = await run('bash', ['-c', `${stdout}\nprintf '%s|%s' "$KAFKA_BROKERS" "$PROMETHEUS_TARGETS_DIR"`]);
    expect(echoed).toBe(`${env.KAFKA_BROKERS}|${env.PROMETHEUS_TARGETS_DIR}`);
  });

  it('`up` on healthy services starts nothing, and `status` reports all healthy', async () => {
    const again = await up(cfg);
    expect(again.started).toEqual([]);
    const states = await status(cfg);
    expect(states.map((s) => [s.name, s.state])).toEqual([
      ['kafka', 'healthy'],
      ['clickhouse', 'healthy'],
      ['redis', 'healthy'],
      ['prometheus', 'healthy'],
    ]);
    const { stdout } = await run(tsx, [servicesCli, 'status'], { cwd: projectRoot });
    expect(stdout).toMatch(new RegExp(`^kafka\\s+healthy\\s+127\\.0\\.0\\.1:${cfg.ports.kafka}\\s`, 'm'));
  });

  it('Kafka answers metadata requests and creates a topic', async () => {
    const kafka = new Kafka({ clientId: 'services-test', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueName('services_probe');
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toHaveLength(1);
      expect(cluster.brokers[0]).toMatchObject({ host: '127.0.0.1', port: cfg.ports.kafka });
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })).toBe(true);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]!.partitions).toHaveLength(2);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });

  it('ClickHouse answers SELECT version() and allows LowCardinality', async () => {
    const client = createClient({ url: env.CLICKHOUSE_URL, log: { level: ClickHouseLogLevel.OFF } });
    const db = uniqueName('services_probe');
    try {
      const rows = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
      expect(rows[0]!.v).toMatch(/^\d+\.\d+\.\d+/);
      await client.command({ query: `CREATE DATABASE ${db}` });
      await client.command({ query: `CREATE TABLE ${db}.t (s LowCardinality(String)) ENGINE = Memory` });
      await client.insert({ table: `${db}.t`, values: [{ s: 'a' }, { s: 'b' }, { s: 'a' }], format: 'JSONEachRow' });
      const counted = await (
        await client.query({ query: `SELECT uniqExact(s) AS n FROM ${db}.t`, format: 'JSONEachRow' })
      ).json<{ n: string | number }>();
      expect(Number(counted[0]!.n)).toBe(2);
    } finally {
      await client.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => {});
      await client.close();
    }
  });

  it('Redis answers PING and keeps a value', async () => {
    const { hostname, port } = new URL(env.REDIS_URL);
    expect(await redisCommand(hostname, Number(port), 'PING')).toBe('+PONG');
    const key = uniqueName('services_probe');
    expect(await redisCommand(hostname, Number(port), `SET ${key} v1 EX 60`)).toBe('+OK');
    expect(await redisCommand(hostname, Number(port), `GET ${key}`)).toBe('$2\r\nv1');
    expect(await redisCommand(hostname, Number(port), `DEL ${key}`)).toBe(':1');
  });

  it('Prometheus is ready and scrapes a target dropped into the file_sd folder', async () => {
    const ready = await fetch(`${env.PROMETHEUS_URL}/-/ready`);
    expect(ready.status).toBe(200);

    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('# TYPE services_probe_up gauge\nservices_probe_up 1\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const name = uniqueName('probe');
    // The folder the running Prometheus really reads (ours unless another checkout's Prometheus answers).
    const targetsDir = await prometheusTargetsDirOf(env.PROMETHEUS_URL);
    expect(targetsDir).toBeDefined();
    const file = join(targetsDir ?? '', `${name}.json`);
    writeFileSync(file, JSON.stringify([{ targets: [target], labels: { component: name } }]));
    try {
      let health = 'absent';
      for (let i = 0; i < 60 && health !== 'up'; i++) {
        await sleep(500);
        const res = await fetch(`${env.PROMETHEUS_URL}/api/v1/targets?state=active`);
        const body = (await res.json()) as { data: { activeTargets: { labels: Record<string, string>; health: string }[] } };
        health = body.data.activeTargets.find((t) => t.labels.component === name)?.health ?? 'absent';
      }
      expect(health).toBe('up');
    } finally {
      rmSync(file, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
