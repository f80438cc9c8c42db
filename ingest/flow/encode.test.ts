import { describe, expect, it } from 'vitest';
import { flowRecord, type FlowRecord } from '../../core/records/index.ts';
import { FlowDecoder } from './decode.ts';
import { FlowEncoder, type ExportFormat } from './encode.ts';

const t0 = Date.UTC(2026, 10, 22, 4, 0, 0);

function sample(i: number, v6 = false): FlowRecord {
  return {
    time_received: t0,
    exporter: '127.0.1.1',
    format: 'ipfix',
    domain_id: 7,
    sequence: 0,
    sampling_rate: 1 + (i % 3) * 999,
    src_addr: v6 ? `2001:db8::${(i + 1).toString(16)}` : `10.51.${i % 256}.${(i * 7) % 256}`,
    dst_addr: v6 ? '2001:db8:1:2::ff' : `10.10.${(i * 3) % 256}.1`,
    next_hop: v6 ? 'fe80::1' : '169.254.10.2',
    src_port: 1000 + i,
    dst_port: 443,
    protocol: i % 2 ? 6 : 17,
    tcp_flags: i % 2 ? 0x1b : 0,
    dscp: [0, 46, 26][i % 3],
    in_if: 1,
    out_if: 2,
    src_as: 64512,
    dst_as: 4_200_000_000,
    bytes: 1500 * (i + 1) + 2 ** 40,
    packets: i + 1,
    flow_start: t0 - 60_000 + i,
    flow_end: t0 - 1_000,
  };
}

const roundTripFields = [
  'src_addr',
  'dst_addr',
  'next_hop',
  'src_port',
  'dst_port',
  'protocol',
  'tcp_flags',
  'dscp',
  'in_if',
  'out_if',
  'src_as',
  'dst_as',
  'flow_start',
  'flow_end',
  'sampling_rate',
] as const;

describe.each<ExportFormat>(['netflow9', 'ipfix'])('FlowEncoder %s', (format) => {
  it('round-trips IPv4 and IPv6 records through the decoder, sampling per record', () => {
    const records = [...Array.from({ length: 45 }, (_, i) => sample(i)), ...Array.from({ length: 5 }, (_, i) => sample(i, true))];
    const enc = new FlowEncoder({ format, domainId: 7, recordsPerDatagram: 25, bootTimeMs: t0 - 86_400_000 });
    const datagrams = enc.encode(records, t0);
    expect(datagrams).toHaveLength(2);
    const dec = new FlowDecoder();
    const got = datagrams.flatMap((d) => {
      const r = dec.decode(d, { exporter: '127.0.1.1', receivedAt: t0 + 5 });
      expect(r.errors).toEqual([]);
      return r.flows;
    });
    expect(got).toHaveLength(50);
    // Within a datagram IPv4 records come before IPv6 ones; compare as sets keyed by src.
    const byKey = new Map(got.map((r) => [`${r.src_addr}|${r.src_port}`, r]));
    for (const want of records) {
      const r = byKey.get(`${want.src_addr}|${want.src_port}`);
      expect(r, want.src_addr).toBeDefined();
      for (const f of roundTripFields) expect(r![f], f).toEqual(want[f]);
      // The encoder writes the counts an exporter saw; the decoder renormalizes them by the rate.
      expect(r!.bytes).toBe(want.bytes * want.sampling_rate);
      expect(r!.packets).toBe(want.packets * want.sampling_rate);
      expect(r!.format).toBe(format);
      expect(r!.domain_id).toBe(7);
      expect(flowRecord.check(r).ok).toBe(true);
    }
  });

  it('announces a fixed sampling rate through option data', () => {
    const enc = new FlowEncoder({ format, samplingRate: 512, recordsPerDatagram: 30 });
    const recs = Array.from({ length: 30 }, (_, i) => ({ ...sample(i), sampling_rate: 1 }));
    const [d] = enc.encode(recs, t0);
    const r = new FlowDecoder().decode(d!, { exporter: '192.0.2.1', receivedAt: t0 });
    expect(r.errors).toEqual([]);
    expect(r.flows).toHaveLength(30);
    expect(new Set(r.flows.map((f) => f.sampling_rate))).toEqual(new Set([512]));
    expect(r.flows.map((f) => f.packets)).toEqual(recs.map((f) => f.packets * 512));
  });

  it('sends templates first and on refresh; data without templates waits for them', () => {
    const enc = new FlowEncoder({ format, recordsPerDatagram: 10, templateEvery: 3 });
    const ds = enc.encode(
      Array.from({ length: 40 }, (_, i) => sample(i)),
      t0,
    );
    expect(ds).toHaveLength(4);
    const dec = new FlowDecoder();
    // Data datagram 2 (no templates) before datagram 1 (templates): buffered, then released.
    const early = dec.decode(ds[1]!, { exporter: '192.0.2.9', receivedAt: t0 });
    expect(early.flows).toHaveLength(0);
    expect(dec.templates.pendingCount()).toBe(1);
    const late = dec.decode(ds[0]!, { exporter: '192.0.2.9', receivedAt: t0 + 100 });
    expect(late.flows).toHaveLength(20);
    expect(dec.templates.pendingCount()).toBe(0);
    // Sequence numbers advance as each format defines them.
    const seq = (b: Buffer) => (format === 'ipfix' ? b.readUInt32BE(8) : b.readUInt32BE(12));
    expect(ds.map(seq)).toEqual(format === 'ipfix' ? [0, 10, 20, 30] : [0, 1, 2, 3]);
  });
});
