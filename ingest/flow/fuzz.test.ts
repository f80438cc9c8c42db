import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flowRecord, ifaceRecord } from '../../core/records/index.ts';
import { parsePcap } from '../pcap/read.ts';
import { FlowDecoder } from './decode.ts';
import { FlowEncoder } from './encode.ts';

/**
 * Bounded property tests: random and mutated datagrams never throw out of the decoder, every
 * record that comes out is schema-valid, and a datagram that yields nothing is counted with a reason.
 */
const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'flow');
const datDir = join(fixtures, 'logstash_netflow_dat');
const seeds: Buffer[] = [
  ...readdirSync(datDir)
    .filter((f) => f.endsWith('.dat'))
    .map((f) => readFileSync(join(datDir, f))),
  ...['sflow_expanded', 'sflow-print-v6', 'sflow_multiple_counter_30_pdus'].flatMap((n) =>
    parsePcap(readFileSync(join(fixtures, 'tcpdump_sflow', `${n}.pcap`))).map((d) => d.payload),
  ),
];

// A decoder primed with every template, so mutations reach the data-record paths too.
function primed(): FlowDecoder {
  const dec = new FlowDecoder({ pendingTtlMs: 60_000 });
  for (const s of seeds) dec.decode(s, { exporter: '192.0.2.1', receivedAt: 0 });
  return dec;
}

function checkResult(dec: FlowDecoder, buf: Buffer): void {
  let result;
  try {
    result = dec.decode(buf, { exporter: '192.0.2.1', receivedAt: 1 });
  } catch (err) {
    throw new Error(`decoder threw on ${buf.toString('hex')}: ${String(err)}`);
  }
  for (const f of result.flows) expect(flowRecord.check(f).ok, JSON.stringify(f)).toBe(true);
  for (const i of result.ifaces) expect(ifaceRecord.check(i).ok, JSON.stringify(i)).toBe(true);
  for (const e of result.errors) expect(typeof e).toBe('string');
}

describe('decoder robustness (fast-check)', () => {
  it('random bytes never throw; short or unknown ones are counted', () => {
    const dec = new FlowDecoder();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), (bytes) => {
        const buf = Buffer.from(bytes);
        checkResult(dec, buf);
        const r = dec.decode(buf, { exporter: '192.0.2.2', receivedAt: 1 });
        if (buf.length < 4) expect(r.errors).toEqual(['truncated']);
        const v = buf.length >= 4 ? buf.readUInt16BE(0) : -1;
        if (buf.length >= 4 && ![0, 5, 9, 10].includes(v)) expect(r.errors).toEqual(['unknown_version']);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('random bytes behind a valid version header never throw', () => {
    const dec = primed();
    const versions = [
      [0, 5],
      [0, 9],
      [0, 10],
      [0, 0, 0, 5],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...versions), fc.uint8Array({ maxLength: 600 }), (v, rest) => {
        checkResult(dec, Buffer.concat([Buffer.from(v), Buffer.from(rest)]));
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('mutated real datagrams (bit flips, truncation, splices) never throw', () => {
    const dec = primed();
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (seed, flips, cut) => {
          const buf = Buffer.from(seed);
          for (const [pos, val] of flips) if (buf.length > 0) buf[pos % buf.length] = val;
          const out = cut === undefined ? buf : buf.subarray(0, cut % (buf.length + 1));
          checkResult(dec, out);
        },
      ),
      { numRuns: 4000, seed: 1234 },
    );
  });

  it('truncating any encoded datagram is counted, never thrown', () => {
    const enc = new FlowEncoder({ format: 'ipfix', recordsPerDatagram: 5 });
    const rec = {
      time_received: 0,
      exporter: '192.0.2.1',
      format: 'ipfix' as const,
      domain_id: 0,
      sequence: 0,
      sampling_rate: 1,
      src_addr: '10.0.0.1',
      dst_addr: '10.0.0.2',
      protocol: 6,
      bytes: 100,
      packets: 1,
    };
    const [d] = enc.encode([rec, rec, rec], 1_700_000_000_000);
    for (let n = 0; n < d!.length; n++) {
      const dec = new FlowDecoder();
      const r = dec.decode(d!.subarray(0, n), { exporter: '192.0.2.1', receivedAt: 1 });
      // Every cut either yields counted errors or (at a record boundary) fewer records.
      expect(r.errors.length > 0 || r.flows.length < 3 || n === d!.length).toBe(true);
      if (r.flows.length === 0) expect(r.errors.length).toBeGreaterThan(0);
    }
  });
});
