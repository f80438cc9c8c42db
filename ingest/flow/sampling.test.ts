import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flowRecord, type FlowRecord } from '../../core/records/index.ts';
import { FlowDecoder, type FlowDecoderOptions } from './decode.ts';

/**
 * Sampling from option data and renormalization on ingest. The IPFIX fixture mirrors pmacct's
 * test 104-IPFIXv10-IPv6-CISCO-sampling_option (Cisco ASR9k, sampler 1 in 256 announced only in
 * option data; provenance in test/fixtures/flow/SOURCES.md); the expected volumes are pmacct's
 * (output-flow-00.json with nfacctd_renormalize: true).
 */
const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'flow', 'pmacct_ipfix_sampling');
const options = readFileSync(join(dir, '01_opttpl257_optdata.dat'));
const templateAndData = readFileSync(join(dir, '02_tpl342_data.dat'));
const moreData = readFileSync(join(dir, '03_data342.dat'));
const exporter = '2a02:a90:4007:700::54';
const t0 = 1_700_000_002_000;

function run(datagrams: Buffer[], opts: FlowDecoderOptions = {}, from = exporter) {
  const dec = new FlowDecoder(opts);
  const flows: FlowRecord[] = [];
  let defaultRated = 0;
  datagrams.forEach((d, i) => {
    const r = dec.decode(d, { exporter: from, receivedAt: t0 + i * 5000 });
    expect(r.errors).toEqual([]);
    flows.push(...r.flows);
    defaultRated += r.defaultRated;
  });
  return { dec, flows, defaultRated };
}

const volumes = (flows: FlowRecord[]) => flows.map((f) => [f.src_addr, f.sampling_rate, f.bytes, f.packets]);

describe('IPFIX sampling from option data (pmacct test 104, Cisco ASR9k)', () => {
  it('renormalizes by the sampler the option data announced: 72 bytes at 1 in 256 are 18,432', () => {
    const { flows, defaultRated } = run([options, templateAndData, moreData]);
    expect(volumes(flows)).toEqual([
      ['fe80::fa53:29ff:fe3a:3152', 256, 18_432, 256],
      ['fe80::4206:d5ff:feff:dd90', 256, 1_474_560, 15_360],
      ['fe80::6ee8:74ff:feff:c308', 256, 1_228_800, 15_360],
    ]);
    expect(flows.map((f) => [f.dst_addr, f.protocol, f.in_if, f.dscp])).toEqual([
      ['fe80::ea5c:aff:fe3b:fc00', 58, 42, 48],
      ['ff02::12', 112, 71, 48],
      ['ff02::12', 112, 70, 48],
    ]);
    expect(defaultRated).toBe(0);
    for (const f of flows) expect(flowRecord.check(f).ok).toBe(true);
  });

  it('data decoded before the option record arrives takes the exporter default, later data the sampler', () => {
    // As pmacct: no buffering for option data; the early record is counted as defaulted.
    const { flows, defaultRated } = run([templateAndData, options, moreData], { defaultSamplingRate: () => 100 });
    expect(volumes(flows)).toEqual([
      ['fe80::fa53:29ff:fe3a:3152', 100, 7200, 100],
      ['fe80::4206:d5ff:feff:dd90', 256, 1_474_560, 15_360],
      ['fe80::6ee8:74ff:feff:c308', 256, 1_228_800, 15_360],
    ]);
    expect(defaultRated).toBe(1);
  });

  it('option data that arrives before its options template waits for it, then sets the rate', () => {
    // Split datagram 1 into its two sets: option data first, its template second.
    const header = options.subarray(0, 16);
    const tplSet = options.subarray(16, 16 + options.readUInt16BE(18));
    const dataSet = options.subarray(16 + tplSet.length);
    const msg = (set: Buffer) => {
      const m = Buffer.concat([header, set]);
      m.writeUInt16BE(m.length, 2);
      return m;
    };
    const { dec, flows } = run([msg(dataSet), msg(tplSet), templateAndData]);
    expect(dec.templates.pendingCount()).toBe(0);
    expect(volumes(flows)).toEqual([['fe80::fa53:29ff:fe3a:3152', 256, 18_432, 256]]);
  });

  it('keeps the sampler per exporter and observation domain', () => {
    const dec = new FlowDecoder();
    dec.decode(options, { exporter, receivedAt: t0 });
    // Another exporter sending the same templates: no sampler known for it.
    dec.decode(templateAndData, { exporter: '2001:db8::99', receivedAt: t0 });
    const other = dec.decode(moreData, { exporter: '2001:db8::99', receivedAt: t0 });
    expect(volumes(other.flows).map(([, rate, bytes]) => [rate, bytes])).toEqual([
      [1, 5760],
      [1, 4800],
    ]);
    // The same exporter, another observation domain: none either.
    const domain7 = Buffer.from(templateAndData);
    domain7.writeUInt32BE(7, 12);
    const r = dec.decode(domain7, { exporter, receivedAt: t0 });
    expect(r.flows.map((f) => [f.domain_id, f.sampling_rate, f.bytes])).toEqual([[7, 1, 72]]);
  });
});

/** A NetFlow v9 datagram (RFC 3954) with the given flowsets, source id 9. */
function v9(sets: Buffer[], sequence = 1): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(9, 0);
  head.writeUInt16BE(sets.length, 2);
  head.writeUInt32BE(3_600_000, 4);
  head.writeUInt32BE(t0 / 1000, 8);
  head.writeUInt32BE(sequence, 12);
  head.writeUInt32BE(9, 16);
  return Buffer.concat([head, ...sets]);
}

function flowset(id: number, body: Buffer): Buffer {
  const len = Math.ceil((4 + body.length) / 4) * 4;
  const b = Buffer.alloc(len);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(len, 2);
  body.copy(b, 4);
  return b;
}

const u16s = (...v: number[]) => Buffer.from(new Uint16Array(v.map((x) => ((x & 0xff) << 8) | (x >> 8))).buffer);

// Options template 300: scope System (type 1, 4 bytes); FLOW_SAMPLER_ID (48, 1), FLOW_SAMPLER_MODE (49, 1),
// FLOW_SAMPLER_RANDOM_INTERVAL (50, 4) — what Cisco IOS/IOS XR export for a sampler map.
const v9OptionsTemplate = flowset(1, u16s(300, 4, 12, 1, 4, 48, 1, 49, 1, 50, 4));
const v9Sampler = (id: number, interval: number) => {
  const b = Buffer.alloc(10);
  b.writeUInt32BE(0, 0);
  b[4] = id;
  b[5] = 2; // random
  b.writeUInt32BE(interval, 6);
  return b;
};
// Data template 301: src, dst, bytes, packets, FLOW_SAMPLER_ID (1 byte).
const v9DataTemplate = flowset(0, u16s(301, 5, 8, 4, 12, 4, 1, 4, 2, 4, 48, 1));
const v9Record = (src: number, bytes: number, packets: number, sampler: number) => {
  const b = Buffer.alloc(17);
  b.writeUInt32BE(src, 0);
  b.writeUInt32BE(0x0a000001, 4);
  b.writeUInt32BE(bytes, 8);
  b.writeUInt32BE(packets, 12);
  b[16] = sampler;
  return b;
};

describe('NetFlow v9 sampling from option data', () => {
  it('maps FLOW_SAMPLER_ID in data records to FLOW_SAMPLER_RANDOM_INTERVAL from option data', () => {
    const dec = new FlowDecoder();
    const samplers = flowset(300, Buffer.concat([v9Sampler(1, 100), v9Sampler(2, 1000)]));
    const data = flowset(
      301,
      Buffer.concat([v9Record(0xc0000201, 1500, 2, 1), v9Record(0xc0000202, 64, 1, 2), v9Record(0xc0000203, 500, 5, 7)]),
    );
    const r = dec.decode(v9([v9OptionsTemplate, samplers, v9DataTemplate, data]), { exporter: '192.0.2.50', receivedAt: t0 });
    expect(r.errors).toEqual([]);
    // Sampler 7 was never announced and is not 0: the configured default (1) applies, and is counted.
    expect(volumes(r.flows)).toEqual([
      ['192.0.2.1', 100, 150_000, 200],
      ['192.0.2.2', 1000, 64_000, 1000],
      ['192.0.2.3', 1, 500, 5],
    ]);
    expect(r.defaultRated).toBe(1);
  });

  it('records with sampler id 0 take the sampler announced last (C7600 / IOS XR, as pmacct)', () => {
    const dec = new FlowDecoder();
    const samplers = flowset(300, v9Sampler(3, 256));
    const data = flowset(301, v9Record(0xc0000204, 72, 1, 0));
    const r = dec.decode(v9([v9OptionsTemplate, samplers, v9DataTemplate, data]), { exporter: '192.0.2.51', receivedAt: t0 });
    expect(volumes(r.flows)).toEqual([['192.0.2.4', 256, 18_432, 256]]);
  });

  it('reads SAMPLING_INTERVAL (34) from option data without a sampler id as the domain rate', () => {
    const dec = new FlowDecoder();
    const tpl = flowset(1, u16s(302, 4, 8, 1, 4, 34, 4, 35, 1));
    const opt = Buffer.alloc(9);
    opt.writeUInt32BE(64, 4);
    opt[8] = 1;
    const dataTpl = flowset(0, u16s(303, 3, 8, 4, 1, 4, 2, 4));
    const rec = Buffer.alloc(12);
    rec.writeUInt32BE(0xc0000205, 0);
    rec.writeUInt32BE(100, 4);
    rec.writeUInt32BE(1, 8);
    const r = dec.decode(v9([tpl, flowset(302, opt), dataTpl, flowset(303, rec)]), { exporter: '192.0.2.52', receivedAt: t0 });
    expect(volumes(r.flows)).toEqual([['192.0.2.5', 64, 6400, 64]]);
    expect(dec.templates.domainSamplingRate('192.0.2.52', 'netflow9', 9)).toBe(64);
  });
});

describe('IPFIX PSAMP selectors (RFC 5476 / IANA IEs 302, 305, 306, 309, 310)', () => {
  function ipfix(sets: Buffer[]): Buffer {
    const body = Buffer.concat(sets);
    const head = Buffer.alloc(16);
    head.writeUInt16BE(10, 0);
    head.writeUInt16BE(16 + body.length, 2);
    head.writeUInt32BE(t0 / 1000, 4);
    head.writeUInt32BE(3, 12);
    return Buffer.concat([head, body]);
  }
  it('random n-out-of-N (samplingSize/samplingPopulation) keyed by selectorId in the data records', () => {
    // Options template 400: scope selectorId (302, 8); samplingSize (309, 4), samplingPopulation (310, 4).
    const optTpl = flowset(3, u16s(400, 3, 1, 302, 8, 309, 4, 310, 4));
    const sel = Buffer.alloc(16);
    sel.writeBigUInt64BE(9n, 0);
    sel.writeUInt32BE(2, 8);
    sel.writeUInt32BE(2000, 12);
    // Data template 401: src, bytes, packets, selectorId.
    const dataTpl = flowset(2, u16s(401, 4, 8, 4, 1, 8, 2, 8, 302, 8));
    const rec = Buffer.alloc(28);
    rec.writeUInt32BE(0xc0000206, 0);
    rec.writeBigUInt64BE(1000n, 4);
    rec.writeBigUInt64BE(3n, 12);
    rec.writeBigUInt64BE(9n, 20);
    const r = new FlowDecoder().decode(ipfix([optTpl, flowset(400, sel), dataTpl, flowset(401, rec)]), {
      exporter: '192.0.2.53',
      receivedAt: t0,
    });
    expect(r.errors).toEqual([]);
    expect(volumes(r.flows)).toEqual([['192.0.2.6', 1000, 1_000_000, 3000]]);
  });
});
