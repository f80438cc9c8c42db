import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../../core/bus/index.ts';
import { exampleConfigPath } from '../../../core/config/index.ts';
import { createLogger } from '../../../core/log.ts';
import { decodeRecords, type FlowRecord } from '../../../core/records/index.ts';
import { FlowEncoder } from '../../../ingest/flow/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { exportedFlows } from './flows.ts';
import { freeUdpPort, withReusePortSocket } from './reuseport.ts';

/**
 * Two `pathpilot start ingest` processes share one UDP port through SO_REUSEPORT (each gets its own
 * socket of the port's reuse group by socket activation, as two systemd socket units with
 * ReusePort=yes would). Each publishes to a topic of its own, so Kafka shows which process decoded
 * what. Two exporters, one landing on each process, send IPFIX with template churn: templates
 * re-sent every few datagrams, then moved to new ids, then withdrawn and their ids redefined with
 * another layout. Every record must arrive decoded, every exporter's records only from one process,
 * and neither process may count a data set as template_missing.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const t0 = Date.UTC(2026, 11, 1, 9, 0, 0);

interface RoleProcess {
  child: ChildProcess;
  topic: string;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

const processes: RoleProcess[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

function startIngest(port: number, topic: string): RoleProcess {
  const { command, args } = withReusePortSocket('127.0.0.1', port, process.execPath, [
    '--import',
    'tsx',
    'cli/main.ts',
    'start',
    'ingest',
    '-c',
    exampleConfigPath,
  ]);
  const child = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: requireService('kafka'),
      CLICKHOUSE_URL: requireService('clickhouse'),
      REDIS_URL: requireService('redis'),
      // The summary lines this test reads are info logs (under vitest the default level is silent).
      PATHPILOT_LOG_LEVEL: 'info',
      PATHPILOT__INGEST__FLOW: JSON.stringify({
        port,
        topics: { flow: topic, iface: `${topic}_iface` },
        batch: { linger_ms: 100 },
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: RoleProcess = { child, topic, logs: [], exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) p.logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on('data', (b: Buffer) => process.stderr.write(b));
  processes.push(p);
  return p;
}

function logged(p: RoleProcess, msg: string): Record<string, unknown> | undefined {
  return p.logs.find((l) => l.msg === msg);
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** IPFIX with its template ids rewritten (template, options template and data sets): the "same" export under other ids. */
function remapIds(datagram: Buffer, ids: Record<number, number>): Buffer {
  const b = Buffer.from(datagram);
  let o = 16;
  while (o + 4 <= b.length) {
    const setId = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (setId === 2 || setId === 3) {
      let r = o + 4;
      while (r + 4 <= o + len) {
        const id = b.readUInt16BE(r);
        const count = b.readUInt16BE(r + 2);
        if (ids[id] !== undefined) b.writeUInt16BE(ids[id]!, r);
        r += (setId === 3 ? 6 : 4) + count * 4;
      }
    } else if (ids[setId] !== undefined) b.writeUInt16BE(ids[setId]!, o);
    o += len;
  }
  return b;
}

/** An IPFIX template withdrawal (RFC 7011 §8.1: a template record with no fields) for the ids. */
function withdrawal(domain: number, ids: number[]): Buffer {
  const set = Buffer.alloc(4 + ids.length * 4);
  set.writeUInt16BE(2, 0);
  set.writeUInt16BE(set.length, 2);
  ids.forEach((id, i) => set.writeUInt16BE(id, 4 + i * 4));
  const h = Buffer.alloc(16);
  h.writeUInt16BE(10, 0);
  h.writeUInt16BE(16 + set.length, 2);
  h.writeUInt32BE(Math.floor(t0 / 1000), 4);
  h.writeUInt32BE(domain, 12);
  return Buffer.concat([h, set]);
}

interface Sent {
  rate: number;
  bytes: number;
}

/**
 * One exporter's export in three phases, 40 datagrams of 10 records each:
 * 1. ids 256/257, sampling rate per record (IE 34), templates re-sent every 7 datagrams;
 * 2. the same flows' next ids under template ids 300/301 (options template 302), rate 16 announced in option data;
 * 3. 300–302 and 256–258 withdrawn, then 256/257/258 redefined with phase 2's layout (no IE 34), rate 4.
 */
function exportWithChurn(exporter: string, domain: number): { datagrams: Buffer[]; expected: Map<number, Sent> } {
  const expected = new Map<number, Sent>();
  const datagrams: Buffer[] = [];
  const phase1 = new FlowEncoder({ format: 'ipfix', domainId: domain, recordsPerDatagram: 10, templateEvery: 7 });
  const recs1 = exportedFlows(t0, exporter, 0, 400, { sampling_rate: 1 });
  datagrams.push(...phase1.encode(recs1, t0));
  for (const r of recs1) expected.set(r.src_port!, { rate: 1, bytes: r.bytes });
  const phase2 = new FlowEncoder({
    format: 'ipfix',
    domainId: domain,
    recordsPerDatagram: 10,
    templateEvery: 5,
    samplingRate: 16,
  });
  const recs2 = exportedFlows(t0, exporter, 400, 400);
  datagrams.push(...phase2.encode(recs2, t0).map((d) => remapIds(d, { 256: 300, 257: 301, 258: 302 })));
  for (const r of recs2) expected.set(r.src_port!, { rate: 16, bytes: r.bytes * 16 });
  datagrams.push(withdrawal(domain, [300, 301, 302, 256, 257]));
  const phase3 = new FlowEncoder({
    format: 'ipfix',
    domainId: domain,
    recordsPerDatagram: 10,
    templateEvery: 9,
    samplingRate: 4,
  });
  const recs3 = exportedFlows(t0, exporter, 800, 400);
  datagrams.push(...phase3.encode(recs3, t0));
  for (const r of recs3) expected.set(r.src_port!, { rate: 4, bytes: r.bytes * 4 });
  return { datagrams, expected };
}

async function bindExporter(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  return s;
}

describe('several collector processes on one port (SO_REUSEPORT)', () => {
  it('keeps each exporter, and so its templates, on one process through template churn: every record decodes', async () => {
    const bus = createBus(
      { kind: 'kafka', brokers: requireService('kafka').split(',') },
      { log: createLogger({ level: 'warn' }) },
    );
    await bus.start();
    const port = await freeUdpPort();
    const topics = [uniqueName('pp_flow_rp_a'), uniqueName('pp_flow_rp_b')];
    await bus.ensureTopics(topics.map((topic) => ({ topic })));
    const received = new Map<string, FlowRecord[]>(topics.map((t) => [t, []]));
    const sub = await bus.subscribe({
      group: uniqueName('pp_flow_rp'),
      topics,
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) received.get(batch.topic)!.push(...(decodeRecords(m.value) as FlowRecord[]));
      },
    });
    try {
      const roles = topics.map((topic) => startIngest(port, topic));
      await until(() => roles.every((p) => logged(p, 'flow collector listening')), 90_000, 'both collectors to listen');
      for (const p of roles) expect(logged(p, 'flow collector listening')).toMatchObject({ port, socket: 'passed' });

      // Which process does each exporter reach? One template + data datagram from 16 candidates.
      const candidates = await Promise.all(Array.from({ length: 16 }, (_, i) => bindExporter(`127.0.1.${i + 1}`)));
      const probe = new FlowEncoder({ format: 'ipfix', domainId: 99, recordsPerDatagram: 1, templateEvery: 1 });
      for (const [i, s] of candidates.entries())
        s.send(probe.encode(exportedFlows(t0, `127.0.1.${i + 1}`, 50_000, 1), t0)[0]!, port, '127.0.0.1');
      const processOf = new Map<string, string>();
      await until(
        () => {
          for (const [topic, recs] of received) for (const r of recs) processOf.set(r.exporter, topic);
          return processOf.size === candidates.length;
        },
        30_000,
        'the probe datagrams',
      );
      // The kernel hashes source address and port: 16 exporters all on one of two processes has odds 2^-15.
      const chosen = topics.map((topic) => [...processOf].find(([, t]) => t === topic)?.[0]);
      expect(chosen.every(Boolean), `exporters per process: ${JSON.stringify([...processOf])}`).toBe(true);
      for (const r of received.values()) r.length = 0;

      // Two exporters, one per process, interleaved datagram by datagram.
      const exports = chosen.map((exporter, i) => ({ exporter: exporter!, ...exportWithChurn(exporter!, 7 + i) }));
      const sockets = exports.map((e) => candidates[Number(e.exporter.split('.')[3]) - 1]!);
      const longest = Math.max(...exports.map((e) => e.datagrams.length));
      for (let k = 0; k < longest; k++) {
        for (const [i, e] of exports.entries()) {
          const d = e.datagrams[k];
          if (d) await new Promise((r) => sockets[i]!.send(d, port, '127.0.0.1', r));
        }
        if (k % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      }
      const total = exports.reduce((n, e) => n + e.expected.size, 0);
      await until(() => [...received.values()].reduce((n, r) => n + r.length, 0) >= total, 60_000, 'every record in Kafka');

      for (const [i, e] of exports.entries()) {
        const own = topics[i]!;
        const other = topics[1 - i]!;
        const got = received.get(own)!.filter((r) => r.exporter === e.exporter);
        // Affinity: nothing of this exporter was decoded by the other process.
        expect(received.get(other)!.filter((r) => r.exporter === e.exporter)).toEqual([]);
        // Every record, once, with the rate and renormalized bytes of its phase.
        expect(got).toHaveLength(e.expected.size);
        expect(new Set(got.map((r) => r.src_port)).size).toBe(e.expected.size);
        for (const r of got) {
          const want = e.expected.get(r.src_port!);
          expect(want, `unexpected record ${r.src_port}`).toBeDefined();
          expect({ rate: r.sampling_rate, bytes: r.bytes }).toEqual(want);
        }
      }
      for (const s of candidates) s.close();

      for (const p of roles) p.child.kill('SIGTERM');
      expect(await Promise.all(roles.map((p) => p.exited))).toEqual([0, 0]);
      for (const [i, p] of roles.entries()) {
        const stopped = logged(p, 'flow collector stopped');
        expect(stopped, `process ${i} summary`).toBeDefined();
        // No data set waited for a template that never came, and nothing else went wrong.
        expect(stopped!.errors).toEqual({});
        expect(stopped).toMatchObject({ dropped: 0, receiveDropped: 0 });
        expect(stopped!.flows).toBe(received.get(p.topic)!.length + [...processOf.values()].filter((t) => t === p.topic).length);
      }
    } finally {
      await sub.stop();
      await bus.deleteTopics([...topics, ...topics.map((t) => `${t}_iface`)]).catch(() => undefined);
      await bus.stop();
    }
  });
});
