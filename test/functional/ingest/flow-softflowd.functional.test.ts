import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../../core/bus/index.ts';
import type { Bus } from '../../../core/bus/types.ts';
import { exampleConfigPath, loadConfigText } from '../../../core/config/index.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { decodeRecords, flowRecord, type FlowRecord } from '../../../core/records/index.ts';
import { createFlowCollector } from '../../../ingest/flow/index.ts';
import { writePcap, type SyntheticPacket } from '../../../ingest/pcap/write.ts';
import { requireService, uniqueName } from '../../support/services.ts';

/**
 * A real exporter: Debian's softflowd reads a pcap and exports NetFlow v5, v9 and IPFIX to the
 * collector on loopback; the collector publishes to a real Kafka. What reaches Kafka must match,
 * flow for flow and byte for byte, what softflowd reports it exported.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pp-softflowd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The example topology, with site onprem-nyc exporting from 127.0.0.1 (where softflowd sends from).
const { root } = loadConfigText(
  readFileSync(exampleConfigPath, 'utf8').replace('exporter_address: 127.0.1.1', 'exporter_address: 127.0.0.1'),
);

/** 1200 flows of 1–6 packets, TCP and UDP, three DSCP classes, over 20 s of capture time. */
function traffic(): SyntheticPacket[] {
  const t0 = Date.UTC(2026, 10, 1, 12, 0, 0);
  const packets: SyntheticPacket[] = [];
  for (let i = 0; i < 1200; i++) {
    const n = 1 + (i % 6);
    for (let k = 0; k < n; k++) {
      packets.push({
        time: t0 + Math.floor((i * 20_000) / 1200) + k * 3,
        src: `10.51.${(i >> 8) & 255}.${i & 255}`,
        dst: `10.${[10, 11, 20][i % 3]}.${i % 7}.${1 + (i % 200)}`,
        protocol: i % 2 ? 6 : 17,
        srcPort: 20000 + i,
        dstPort: [443, 53, 5060][i % 3]!,
        length: 60 + ((i * 37 + k * 101) % 1400),
        dscp: [46, 26, 0][i % 3],
      });
    }
  }
  return packets.sort((a, b) => a.time - b.time);
}

interface SoftflowdReport {
  flows: number;
  datagrams: number;
  octets: number;
  packets: number;
}

function parseReport(text: string): SoftflowdReport {
  const m = /Flows exported: (\d+) \((\d+) records\) in (\d+) packets \((\d+) failures\)/.exec(text);
  if (!m) throw new Error(`softflowd printed no export statistics:\n${text}`);
  expect(Number(m[4])).toBe(0);
  let octets = 0;
  let packets = 0;
  for (const p of text.matchAll(/^\s+\w+ \(\d+\):\s+(\d+)\s+(\d+)\s/gm)) {
    octets += Number(p[1]);
    packets += Number(p[2]);
  }
  return { flows: Number(m[2]), datagrams: Number(m[3]), octets, packets };
}

async function softflowd(version: string, port: number, pcap: string, totalPackets: number): Promise<SoftflowdReport> {
  const ctl = join(dir, `ctl-${version}`);
  const child = spawn(
    'softflowd',
    ['-r', pcap, '-n', `127.0.0.1:${port}`, '-v', version, '-d', '-c', ctl, '-p', join(dir, `pid-${version}`)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    // softflowd 1.1.0 reads a capture file between control commands: poll until it has read it all.
    let processed = -1;
    for (let i = 0; i < 100 && processed !== totalPackets; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const { stdout } = await run('softflowctl', ['-c', ctl, 'statistics'], { timeout: 5000 });
        processed = Number(/Packets processed: (\d+)/.exec(stdout)?.[1] ?? -1);
      } catch {
        // Control socket not there yet.
      }
    }
    expect(processed).toBe(totalPackets);
    // Shutdown expires every flow and exports it, then prints the totals (at the end of the file
    // softflowd may also do that on its own, and then the control socket is already gone).
    await run('softflowctl', ['-c', ctl, 'shutdown'], { timeout: 5000 }).catch(() => undefined);
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    expect(code).not.toBe('timeout');
  } finally {
    child.kill('SIGKILL');
  }
  return parseReport(output);
}

async function consume(bus: Bus, topic: string, expected: number): Promise<FlowRecord[]> {
  const got: FlowRecord[] = [];
  const sub = await bus.subscribe({
    group: uniqueName('flowtest'),
    topics: [topic],
    fromBeginning: true,
    handler: async (batch) => {
      for (const m of batch.messages) {
        expect(m.headers['pp-schema']).toBe('flow.v1');
        got.push(...(decodeRecords(m.value) as FlowRecord[]));
      }
    },
  });
  const end = Date.now() + 60_000;
  while (got.length < expected && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  // A little longer: anything beyond the expected count would be a duplicate.
  await new Promise((r) => setTimeout(r, 500));
  await sub.stop();
  return got;
}

describe('softflowd → collector → Kafka', () => {
  const packets = traffic();
  const pcap = join(dir, 'traffic.pcap');
  writePcap(pcap, packets);

  it.each([
    ['5', 'netflow5'],
    ['9', 'netflow9'],
    ['10', 'ipfix'],
  ])('NetFlow version %s: flow and byte totals in Kafka match what softflowd exported', async (version, format) => {
    const brokers = requireService('kafka');
    const topic = uniqueName(`pp_flow_softflowd_v${version}`);
    const bus = createBus({ kind: 'kafka', brokers: brokers.split(',') });
    await bus.start();
    const registry = createRegistry();
    const collector = createFlowCollector(
      { bus, registry, root },
      { port: 0, topics: { flow: topic, iface: `${topic}_iface` }, batch: { max_records: 500, linger_ms: 100 } },
    );
    try {
      await collector.start();
      const port = collector.addresses()[0]!.port;
      const report = await softflowd(version, port, pcap, packets.length);
      expect(report.flows).toBe(1200);
      expect(report.packets).toBe(packets.length);

      const until = Date.now() + 20_000;
      while (collector.stats().datagrams < report.datagrams && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(await collector.flush(20_000)).toBe(true);
      const stats = collector.stats();
      expect(stats).toMatchObject({
        datagrams: report.datagrams,
        flows: report.flows,
        sent: report.flows,
        dropped: 0,
        errors: {},
      });

      const records = await consume(bus, topic, report.flows);
      expect(records).toHaveLength(report.flows);
      expect(records.reduce((n, r) => n + r.bytes, 0)).toBe(report.octets);
      expect(records.reduce((n, r) => n + r.packets, 0)).toBe(report.packets);
      for (const r of records) expect(flowRecord.check(r).ok).toBe(true);
      expect(new Set(records.map((r) => r.format))).toEqual(new Set([format]));
      // Enrichment: softflowd's address is onprem-nyc's exporter; DSCP → class; destinations → sites.
      expect(new Set(records.map((r) => r.site))).toEqual(new Set(['onprem-nyc']));
      const byClass = (c: string) => records.filter((r) => r.class === c).length;
      expect([byClass('realtime'), byClass('interactive'), byClass('bulk')]).toEqual([400, 400, 400]);
      expect(new Set(records.map((r) => r.dst_site))).toEqual(new Set(['aws-use1', 'aws-euc1', 'gcp-usc1']));
      // The 5-tuples softflowd saw are the ones we generated.
      const ports = new Set(records.map((r) => r.src_port));
      expect(ports.size).toBe(1200);
      const m = await metricValues(registry);
      expect(m['pathpilot_ingest_flow_sent_total']).toBe(report.flows);
    } finally {
      await collector.stop();
      await bus.deleteTopics([topic, `${topic}_iface`]).catch(() => undefined);
      await bus.stop();
    }
  });
});
