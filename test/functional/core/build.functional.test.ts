import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../../core/bus/index.ts';
import { exampleConfigPath } from '../../../core/config/index.ts';
import { createLogger } from '../../../core/log.ts';
import { decodeRecords, type FlowRecord } from '../../../core/records/index.ts';
import { FlowEncoder } from '../../../ingest/flow/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { exportedFlows } from '../ingest/flows.ts';
import { freeUdpPort } from '../ingest/reuseport.ts';

/**
 * The built CLI (`npm run build` → dist/, what the Dockerfile runs; the functional global setup
 * builds it): the ingest role's process loads no client library it does not use, and it runs the
 * collector end to end — its receiving thread (source text) and two decoding worker threads (their
 * own bundle) — into the real Kafka.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'dist', 'cli', 'main.js');
const t0 = Date.UTC(2026, 11, 1, 9, 0, 0);

/** The packages a built file imports statically, following the project's own chunks. */
function staticPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/^import\s[^'"]*?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:'))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  walk(entry);
  return packages;
}

describe('the built CLI (dist/)', () => {
  it('`start` loads only what every role needs; the services\u2019 clients load with the roles that use them', () => {
    expect(existsSync(cli)).toBe(true);
    const packages = staticPackages(join(root, 'dist', 'cli', 'commands', 'start.js'));
    expect(packages.has('zod')).toBe(true);
    for (const heavy of ['kafkajs', 'bullmq', 'ioredis', '@clickhouse/client', 'fastify', '@tensorflow/tfjs', 'chdb', 'highs'])
      expect(packages.has(heavy), `${heavy} is imported statically by start`).toBe(false);
    const check = spawnSync(process.execPath, [cli, 'start', 'ingest', '--check', '-c', exampleConfigPath], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(check.status, check.stderr).toBe(0);
    // The ingest role's process builds the bus alone: no store, no queue.
    expect(check.stdout).toMatch(/configuration ok; roles: ingest; components: bus, ingest\/flow, ingest\/billing\n/);
  });

  it('`start ingest` with two decoding threads publishes every flow of an IPFIX export to Kafka', async () => {
    const bus = createBus(
      { kind: 'kafka', brokers: requireService('kafka').split(',') },
      { log: createLogger({ level: 'warn' }) },
    );
    await bus.start();
    const topic = uniqueName('pp_flow_built');
    await bus.ensureTopics([{ topic }]);
    const received: FlowRecord[] = [];
    const sub = await bus.subscribe({
      group: uniqueName('pp_flow_built'),
      topics: [topic],
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) received.push(...(decodeRecords(m.value) as FlowRecord[]));
      },
    });
    const port = await freeUdpPort();
    const child = spawn(process.execPath, [cli, 'start', 'ingest', '-c', exampleConfigPath], {
      cwd: root,
      env: {
        ...process.env,
        KAFKA_BROKERS: requireService('kafka'),
        PATHPILOT_LOG_LEVEL: 'info',
        PATHPILOT__INGEST__FLOW: JSON.stringify({
          port,
          workers: 2,
          topics: { flow: topic, iface: `${topic}_iface` },
          batch: { linger_ms: 100 },
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const logs: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const exporter = createSocket('udp4');
    try {
      await until(() => logs.some((l) => l.msg === 'flow collector listening'), 60_000, 'the collector to listen');
      await new Promise<void>((r) => exporter.bind(0, '127.0.0.1', r));
      const encoder = new FlowEncoder({ format: 'ipfix', domainId: 3, recordsPerDatagram: 20, templateEvery: 10 });
      const flows = exportedFlows(t0, '127.0.0.1', 0, 2_000, { domain_id: 3 });
      for (const [k, d] of encoder.encode(flows, t0).entries()) {
        await new Promise((r) => exporter.send(d, port, '127.0.0.1', r));
        if (k % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
      await until(() => received.length >= flows.length, 60_000, 'every flow in Kafka');
      expect(new Set(received.map((r) => r.src_port))).toEqual(new Set(flows.map((f) => f.src_port)));
      expect(received.find((r) => r.src_port === 10_007)).toMatchObject({ bytes: 107, packets: 3, dst_port: 443 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.find((l) => l.msg === 'flow collector stopped')).toMatchObject({ flows: 2_000, errors: {}, dropped: 0 });
    } finally {
      exporter.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      await sub.stop();
      await bus.stop();
    }
  });
});
