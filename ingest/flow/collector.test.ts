import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../core/bus/memory.ts';
import type { Bus, BusMessage } from '../../core/bus/types.ts';
import { loadConfig } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import { createRegistry, metricValues } from '../../core/metrics.ts';
import { decodeRecords, encodeRecords, flowRecord, type FlowRecord } from '../../core/records/index.ts';
import { RecordBatch } from './batch.ts';
import { createFlowCollector, type FlowCollector } from './collector.ts';
import { FlowEncoder } from './encode.ts';
import { datagram, templateSet, zeroLengthTemplate } from './hostile-exports.ts';
import { exporterAddress, inheritedSockets } from './listen.ts';

/** A MemoryBus that records what was published and can be told to refuse publishes. */
class RecordingBus extends MemoryBus {
  published: { topic: string; messages: BusMessage[] }[] = [];
  failing = false;
  override async publish(topic: string, messages: BusMessage[]): Promise<void> {
    if (this.failing) throw new Error('broker unavailable (injected)');
    await super.publish(topic, messages);
    this.published.push({ topic, messages });
  }
  records(topic = flowRecord.topic): FlowRecord[] {
    return this.published
      .filter((p) => p.topic === topic)
      .flatMap((p) => p.messages.flatMap((m) => decodeRecords(m.value) as FlowRecord[]));
  }
}

const { root } = loadConfig();
const t0 = Date.UTC(2026, 10, 22, 4, 0, 0);

function flow(i: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    time_received: t0,
    exporter: '127.0.1.1',
    format: 'ipfix',
    domain_id: 1,
    sequence: 0,
    sampling_rate: 1,
    src_addr: `10.51.0.${i % 250}`,
    dst_addr: '10.10.1.1',
    src_port: 40000 + i,
    dst_port: 443,
    protocol: 6,
    dscp: 46,
    in_if: 1,
    out_if: 2,
    bytes: 1000 + i,
    packets: 1,
    ...over,
  };
}

async function send(datagrams: Buffer[], port: number, from = '127.0.1.1'): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, from, resolve));
  for (const d of datagrams)
    await new Promise<void>((resolve, reject) => s.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

let collectors: FlowCollector[] = [];
afterEach(async () => {
  for (const c of collectors) await c.stop();
  collectors = [];
});

async function start(bus: Bus, config: Record<string, unknown> = {}, log?: ReturnType<typeof createLogger>) {
  const registry = createRegistry();
  const c = createFlowCollector(
    { bus, registry, root, ...(log ? { log } : {}) },
    { port: 0, batch: { max_records: 50, linger_ms: 20 }, ...config },
  );
  collectors.push(c);
  await c.start();
  return { c, registry, port: c.addresses()[0]!.port };
}

describe('flow collector', () => {
  it('receives IPFIX over UDP, enriches from the topology and publishes keyed MessagePack batches', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const { c, registry, port } = await start(bus);
    const enc = new FlowEncoder({ format: 'ipfix', domainId: 1, recordsPerDatagram: 25 });
    await send(
      enc.encode(
        Array.from({ length: 120 }, (_, i) => flow(i)),
        t0,
      ),
      port,
    );
    await until(() => bus.records().length >= 120);
    expect(await c.flush()).toBe(true);
    const got = bus.records();
    expect(got).toHaveLength(120);
    for (const r of got) {
      expect(flowRecord.check(r).ok).toBe(true);
      expect(r).toMatchObject({
        exporter: '127.0.1.1',
        site: 'onprem-nyc',
        link: 'nyc-use1-dx',
        dst_site: 'aws-use1',
        class: 'realtime',
      });
    }
    expect(got.map((r) => r.bytes).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => 1000 + i));
    const msgs = bus.published.flatMap((p) => p.messages);
    expect(msgs.every((m) => m.key === '127.0.1.1' && m.headers?.['pp-schema'] === 'flow.v1')).toBe(true);
    expect(Math.max(...msgs.map((m) => (decodeRecords(m.value) as unknown[]).length))).toBe(50);
    const m = await metricValues(registry);
    expect(m['pathpilot_ingest_flow_received_total']).toBe(5);
    expect(m['pathpilot_ingest_flow_sent_total']).toBe(120);
    expect(m['pathpilot_ingest_flow_decoded_records_total{kind="flow"}']).toBe(120);
  });

  it('counts every bound on template state that acts, and logs it at a bounded rate', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    const log = createLogger({ level: 'warn', destination: out });
    const { c, registry } = await start(bus, { templates: { max_per_domain: 2 } }, log);
    const hostile = datagram('ipfix', [templateSet('ipfix', [{ id: 300, fields: zeroLengthTemplate(300, 16_376) }])]);
    for (let i = 0; i < 5; i++) c.ingest(hostile, '198.51.100.7', t0);
    const small = (id: number) =>
      templateSet('ipfix', [
        {
          id,
          fields: [
            { id: 8, length: 4 },
            { id: 1, length: 4 },
          ],
        },
      ]);
    c.ingest(datagram('ipfix', [small(256), small(257), small(258)]), '198.51.100.8', t0);
    await until(() => lines.length >= 4);
    const m = await metricValues(registry);
    expect(m['pathpilot_ingest_flow_limited_total{limit="template_fields"}']).toBe(5);
    expect(m['pathpilot_ingest_flow_errors_total{error_type="bad_template"}']).toBe(5);
    expect(m['pathpilot_ingest_flow_limited_total{limit="templates_per_domain"}']).toBe(1);
    // Five refusals, three lines (burst 3 per 10 s per bound); the eviction gets its own line.
    const refused = lines.filter((l) => l.includes('"limit":"template_fields"'));
    expect(refused).toHaveLength(3);
    expect(refused[0]).toContain('198.51.100.7');
    expect(lines.filter((l) => l.includes('"limit":"templates_per_domain"'))).toHaveLength(1);
  });

  it('counts malformed datagrams by reason and keeps going', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const { c, registry, port } = await start(bus);
    const good = new FlowEncoder({ format: 'netflow9', recordsPerDatagram: 10 }).encode(
      Array.from({ length: 10 }, (_, i) => flow(i)),
      t0,
    );
    await send([Buffer.from([1, 2, 3]), Buffer.from('00630000deadbeef', 'hex'), good[0]!.subarray(0, 30), ...good], port);
    await until(() => c.stats().datagrams >= 4);
    await c.flush();
    expect(bus.records()).toHaveLength(10);
    const m = await metricValues(registry);
    expect(m['pathpilot_ingest_flow_errors_total{error_type="truncated"}']).toBe(2);
    expect(m['pathpilot_ingest_flow_errors_total{error_type="unknown_version"}']).toBe(1);
  });

  it('applies the per-exporter default sampling rate when the export carries none', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const { c, registry, port } = await start(bus, { sampling: { default: 1, exporters: { '127.0.1.2': 100 } } });
    // NetFlow v5 with interval 0 in its header: "no sampling information".
    const v5 = Buffer.alloc(24 + 48);
    v5.writeUInt16BE(5, 0);
    v5.writeUInt16BE(1, 2);
    v5.writeUInt32BE(Math.floor(t0 / 1000), 8);
    v5.writeUInt32BE(0x0a320101, 24 + 4); // dst 10.50.1.1 (onprem-fra)
    v5.writeUInt32BE(3, 24 + 16);
    v5.writeUInt32BE(4500, 24 + 20);
    await send([v5], port, '127.0.1.2');
    await until(() => c.stats().flows >= 1);
    await c.flush();
    expect(bus.records()).toEqual([
      expect.objectContaining({
        sampling_rate: 100,
        // 4500 bytes / 3 packets exported, renormalized by the exporter's configured default.
        bytes: 450_000,
        packets: 300,
        site: 'onprem-fra',
        dst_site: 'onprem-fra',
        class: 'bulk',
      }),
    ]);
    // Never silently: the defaulted rate is counted.
    expect((await metricValues(registry))['pathpilot_ingest_flow_sampling_defaulted_total']).toBe(1);
  });

  it('never blocks on the bus: a bounded buffer, then counted drops, then recovery', async () => {
    const bus = new RecordingBus();
    await bus.start();
    bus.failing = true;
    const { c, registry, port } = await start(bus, { buffer_records: 1000, batch: { max_records: 100, linger_ms: 20 } });
    const enc = new FlowEncoder({ format: 'ipfix', recordsPerDatagram: 20 });
    await send(
      enc.encode(
        Array.from({ length: 3000 }, (_, i) => flow(i)),
        t0,
      ),
      port,
    );
    await until(() => c.stats().datagrams >= 150);
    const s = c.stats();
    expect(s.datagrams).toBe(150);
    expect(s.buffered).toBeLessThanOrEqual(1000);
    expect(s.dropped).toBe(3000 - s.buffered);
    let m = await metricValues(registry);
    expect(m['pathpilot_ingest_flow_dropped_total{reason="buffer_full"}']).toBe(s.dropped);
    expect(m['pathpilot_ingest_flow_errors_total{error_type="publish"}']).toBeGreaterThan(0);
    bus.failing = false;
    expect(await c.flush(10_000)).toBe(true);
    expect(bus.records()).toHaveLength(s.buffered);
    m = await metricValues(registry);
    expect(m['pathpilot_ingest_flow_sent_total']).toBe(s.buffered);
  });

  it('decodes on worker threads when workers > 1, with the same results', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const { c, port } = await start(bus, { workers: 2 });
    const encA = new FlowEncoder({ format: 'ipfix', recordsPerDatagram: 20 });
    const encB = new FlowEncoder({ format: 'netflow9', recordsPerDatagram: 20 });
    await send(
      encA.encode(
        Array.from({ length: 100 }, (_, i) => flow(i)),
        t0,
      ),
      port,
      '127.0.1.1',
    );
    await send(
      encB.encode(
        Array.from({ length: 60 }, (_, i) => flow(i)),
        t0,
      ),
      port,
      '127.0.1.3',
    );
    await until(() => bus.records().length >= 160);
    await c.flush();
    const got = bus.records();
    expect(got).toHaveLength(160);
    expect(got.filter((r) => r.site === 'onprem-nyc')).toHaveLength(100);
    expect(got.filter((r) => r.site === 'aws-use1' && r.format === 'netflow9')).toHaveLength(60);
    expect(c.stats().flows).toBe(160);
  });

  it('rejects a bad configuration naming the key', () => {
    expect(() => createFlowCollector({ bus: new MemoryBus(), registry: createRegistry(), root }, { port: 70000 })).toThrow(
      /ingest\.flow\.port/,
    );
    expect(() => createFlowCollector({ bus: new MemoryBus(), registry: createRegistry(), root }, { bogus: 1 })).toThrow(
      /ingest\.flow/,
    );
  });
});

describe('Enricher', () => {
  it('matches Topology.siteForAddress and parses only well-formed IPv4', async () => {
    const { Enricher, parseV4 } = await import('./enrich.ts');
    const { Topology } = await import('../../core/config/index.ts');
    const topo = new Topology(root);
    const e = new Enricher(topo);
    for (const a of ['10.51.3.4', '10.10.0.1', '10.40.255.255', '10.41.0.1', '192.0.2.1', '0.0.0.0', '', 'x', '2001:db8::1']) {
      expect(e.siteForAddress(a), a).toBe(topo.siteForAddress(a));
    }
    expect([
      parseV4('1.2.3.4'),
      parseV4('255.255.255.255'),
      parseV4('1.2.3'),
      parseV4('1.2.3.256'),
      parseV4('1..2.3'),
      parseV4('1.2.3.4.5'),
    ]).toEqual([0x01020304, 0xffffffff, -1, -1, -1, -1]);
  });
});

/** Each thread's scheduling policy (0 normal, 1 SCHED_FIFO) and real-time priority: /proc/self/task/<tid>/stat, fields 41 and 40. */
function threadScheduling(): { policy: number; rtPriority: number }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { policy: Number(fields[38]), rtPriority: Number(fields[37]) };
  });
}

/** This process's RLIMIT_RTPRIO soft limit (/proc/self/limits). */
function rtprioLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max realtime priority'));
  return Number(line?.split(/\s{2,}/)[1] ?? 0);
}

describe('receiving thread', () => {
  it('decodes what it receives on its own thread, and drops and counts beyond receiver.buffer_bytes while decoding stalls', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const { c, registry, port } = await start(bus, {
      rcvbuf_bytes: 4 * 1024 * 1024,
      receiver: { thread: true, buffer_bytes: 512 * 1024 },
      batch: { max_records: 500, linger_ms: 20 },
    });
    const enc = new FlowEncoder({ format: 'ipfix', domainId: 1, recordsPerDatagram: 25, templateEvery: 1 });
    const datagrams = enc.encode(
      Array.from({ length: 600 * 25 }, (_, i) => flow(i)),
      t0,
    );
    expect(datagrams).toHaveLength(600);
    // Another thread sends while this one (the decoding thread) is blocked for 1 s.
    const sender = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const s = require('node:dgram').createSocket('udp4');
       s.bind(0, '127.0.1.1', async () => {
         for (const d of workerData.datagrams) await new Promise((r) => s.send(d, workerData.port, '127.0.0.1', r));
         s.close(() => parentPort.postMessage('sent'));
       });`,
      { eval: true, workerData: { port, datagrams } },
    );
    const sent = new Promise((resolve) => sender.once('message', resolve));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
    await sent;
    await sender.terminate();
    await until(() => c.stats().datagrams + c.stats().receiveDropped >= 600, 10_000);
    const { datagrams: received, receiveDropped } = c.stats();
    // Nothing was lost in the kernel (4 MB buffer): the receiving thread took every datagram and
    // either handed it over in one of its two 256 KB slabs or dropped it. The first slab went while
    // decoding was idle; the second filled up while decoding stalled.
    expect(received + receiveDropped).toBe(600);
    expect(receiveDropped).toBeGreaterThan(0);
    const perSlab = Math.floor((256 * 1024) / datagrams[1]!.length);
    expect(received).toBeGreaterThanOrEqual(perSlab);
    expect(received).toBeLessThanOrEqual(2 * perSlab);
    expect((await metricValues(registry))['pathpilot_ingest_flow_receive_dropped_total']).toBe(receiveDropped);
    await c.flush();
    expect(bus.records()).toHaveLength(received * 25);
    expect(c.stats().errors).toEqual({});
  });

  it('puts the receiving thread, and only it, in the real-time class where the privilege allows, and says so once where it does not', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const out = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    out.on('data', (b: Buffer) =>
      lines.push(
        ...b
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
    );
    await start(bus, { receiver: { realtime_priority: 3 } }, createLogger({ level: 'info', destination: out }));
    await until(() => lines.some((l) => l.msg === 'flow collector listening'));
    const listening = lines.find((l) => l.msg === 'flow collector listening')!;
    const warned = lines.filter((l) => String(l.msg).startsWith('the receiving thread stays in the normal scheduling class'));
    const threads = threadScheduling();
    // CAP_SYS_NICE (root) or an RLIMIT_RTPRIO of at least 3 lets a thread enter SCHED_FIFO at 3.
    const allowed = process.getuid?.() === 0 || rtprioLimit() >= 3;
    if (allowed) {
      expect(listening.receiverScheduling).toBe('fifo 3');
      expect(threads.filter((t) => t.policy === 1)).toEqual([{ policy: 1, rtPriority: 3 }]);
      expect(warned).toHaveLength(0);
    } else {
      expect(listening.receiverScheduling).toBe('other');
      expect(threads.filter((t) => t.policy !== 0)).toEqual([]);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ asked: 3, policy: 'other' });
    }
  });

  it('leaves the receiving thread in the normal class with realtime_priority 0', async () => {
    const bus = new RecordingBus();
    await bus.start();
    await start(bus, { receiver: { realtime_priority: 0 } });
    expect(threadScheduling().filter((t) => t.policy !== 0)).toEqual([]);
  });

  it('receives on the decoding thread when receiver.thread is false', async () => {
    const bus = new RecordingBus();
    await bus.start();
    const { c, port } = await start(bus, { receiver: { thread: false } });
    const enc = new FlowEncoder({ format: 'netflow9', domainId: 3, recordsPerDatagram: 10 });
    await send(
      enc.encode(
        Array.from({ length: 40 }, (_, i) => flow(i, { exporter: '127.0.1.2' })),
        t0,
      ),
      port,
      '127.0.1.2',
    );
    await until(() => c.stats().flows >= 40);
    expect(c.stats()).toMatchObject({ datagrams: 4, flows: 40, receiveDropped: 0 });
  });
});

describe('socket activation', () => {
  it('takes LISTEN_FDS from fd 3 only when LISTEN_PID names this process, with their names', () => {
    expect(inheritedSockets({ LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'ipfix:sflow' }, 42)).toEqual([
      { kind: 'fd', fd: 3, name: 'ipfix' },
      { kind: 'fd', fd: 4, name: 'sflow' },
    ]);
    expect(inheritedSockets({ LISTEN_FDS: '1', LISTEN_PID: '42' }, 42)).toEqual([{ kind: 'fd', fd: 3, name: 'fd3' }]);
    // Inherited by a child: not ours.
    expect(inheritedSockets({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42)).toEqual([]);
    expect(inheritedSockets({}, 42)).toEqual([]);
    expect(inheritedSockets({ LISTEN_FDS: '0', LISTEN_PID: '42' }, 42)).toEqual([]);
    expect(inheritedSockets({ LISTEN_FDS: 'x', LISTEN_PID: '42' }, 42)).toEqual([]);
  });

  it('reports IPv4 exporters reaching a dual-stack socket by their IPv4 address', () => {
    expect(exporterAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(exporterAddress('192.0.2.7')).toBe('192.0.2.7');
    expect(exporterAddress('2001:db8::7')).toBe('2001:db8::7');
    expect(exporterAddress('::ffff:c000:207')).toBe('::ffff:c000:207');
  });
});

describe('RecordBatch', () => {
  it('encodes appends into one message that decodes to every record, as encodeRecords would', () => {
    const records: FlowRecord[] = Array.from({ length: 777 }, (_, i) =>
      // Three shapes, interleaved: optional fields present or not.
      flow(i, i % 3 === 0 ? { site: 'onprem-nyc', class: 'realtime' } : i % 3 === 1 ? { next_hop: '169.254.10.2' } : {}),
    );
    const batch = new RecordBatch();
    for (let i = 0; i < records.length; i += 25) batch.append(records.slice(i, i + 25));
    expect(batch.count).toBe(777);
    const body = batch.seal();
    expect(decodeRecords(body)).toEqual(decodeRecords(encodeRecords(records)));
    // Shapes are defined once per message, so it is no larger than encodeRecords' (array32 vs array16 header).
    expect(body.length).toBeLessThanOrEqual(encodeRecords(records).length + 2);
  });

  it('seals an empty batch as an empty array', () => {
    expect(decodeRecords(new RecordBatch().seal())).toEqual([]);
  });
});
