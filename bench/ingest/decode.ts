/**
 * bench:decode — NetFlow v9 and IPFIX decoding on one core: datagrams of 20–30 records (built by
 * our encoder: IPv4 5-tuple, interfaces, ASes, 64-bit counters, times; a tenth IPv6), decoded in a
 * loop for a fixed time. Target: ≥ 500,000 flows/s per format.
 */
import { FlowDecoder, FlowEncoder, type ExportFormat } from '../../ingest/flow/index.ts';
import type { FlowRecord } from '../../core/records/index.ts';

const TARGET = 500_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

function records(n: number): FlowRecord[] {
  const t0 = Date.UTC(2026, 10, 22, 4, 0, 0);
  return Array.from({ length: n }, (_, i) => ({
    time_received: t0,
    exporter: '127.0.1.1',
    format: 'ipfix' as const,
    domain_id: 1,
    sequence: 0,
    sampling_rate: 1,
    src_addr: i % 10 === 9 ? `2001:db8:${i % 97}::${(i % 65535).toString(16)}` : `10.51.${(i >> 8) & 255}.${i & 255}`,
    dst_addr: i % 10 === 9 ? '2001:db8:ffff::1' : `10.${10 + (i % 4)}.${(i * 7) & 255}.${(i * 13) & 255}`,
    next_hop: i % 10 === 9 ? 'fe80::1' : '169.254.10.2',
    src_port: 1024 + (i % 60000),
    dst_port: [443, 80, 53, 5060][i % 4]!,
    protocol: i % 3 === 0 ? 17 : 6,
    tcp_flags: 0x1b,
    dscp: [0, 46, 26, 10][i % 4],
    in_if: 1 + (i % 4),
    out_if: 10 + (i % 8),
    src_as: 64512 + (i % 100),
    dst_as: 16509,
    bytes: 64 + ((i * 7919) % 1_000_000),
    packets: 1 + (i % 500),
    flow_start: t0 - 60_000 + (i % 60_000),
    flow_end: t0 - (i % 1000),
  }));
}

function bench(format: ExportFormat): number {
  const recs = records(25_000);
  const datagrams: Buffer[] = [];
  // 20–30 records per datagram, templates refreshed every 20 datagrams (as exporters do).
  const enc = new FlowEncoder({ format, recordsPerDatagram: 30, templateEvery: 20 });
  for (let i = 0, size = 20; i < recs.length; i += size, size = 20 + (i % 11))
    datagrams.push(...enc.encode(recs.slice(i, i + size)));
  const dec = new FlowDecoder();
  const meta = { exporter: '127.0.1.1', receivedAt: Date.now() };
  // Warm-up (JIT), then the timed loop.
  for (const d of datagrams) dec.decode(d, meta);
  let flows = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(SECONDS * 1e9);
  let now = start;
  const cpu0 = process.cpuUsage();
  while (now < deadline) {
    for (const d of datagrams) {
      const r = dec.decode(d, meta);
      flows += r.flows.length;
      sink += r.errors.length;
    }
    now = process.hrtime.bigint();
  }
  if (sink !== 0) throw new Error(`decode errors during the benchmark: ${sink}`);
  const seconds = Number(now - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // The figure is flows per second of CPU time on one core: other work shares this 2-core machine,
  // so wall-clock time overstates the cost. Both are printed.
  const rate = flows / cpuSeconds;
  const wallRate = flows / seconds;
  const perDatagram = recs.length / datagrams.length;
  console.log(
    `decode ${format === 'ipfix' ? 'IPFIX' : 'NetFlow v9'}: ${Math.round(rate).toLocaleString('en-US')} flows/s ` +
      `(target ${TARGET.toLocaleString('en-US')}, ratio ${(rate / TARGET).toFixed(2)}) — per CPU-second on one thread; ` +
      `${flows.toLocaleString('en-US')} flows in ${cpuSeconds.toFixed(2)} CPU-s / ${seconds.toFixed(1)} s wall ` +
      `(${Math.round(wallRate).toLocaleString('en-US')} flows/s wall), ${perDatagram.toFixed(1)} records/datagram`,
  );
  return rate;
}

const rates = ((process.env.BENCH_ORDER ?? 'netflow9,ipfix').split(',') as ExportFormat[]).map(bench);
process.exitCode = rates.every((r) => r >= TARGET) ? 0 : 1;
