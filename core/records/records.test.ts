import { describe, expect, it } from 'vitest';
import { flowRecord, probeRecord, costRecord, encodeRecords, decodeRecords, type FlowRecord } from './index.ts';
import { ValidationError } from '../errors.ts';

const flow: FlowRecord = {
  time_received: 1_767_571_200_123,
  exporter: '127.0.1.1',
  format: 'ipfix',
  domain_id: 7,
  sequence: 42,
  sampling_rate: 100,
  src_addr: '10.51.0.10',
  dst_addr: '10.10.3.4',
  protocol: 6,
  bytes: 1500,
  packets: 1,
  dscp: 46,
};

describe('record definitions', () => {
  it('name their topics with the version', () => {
    expect(flowRecord.topic).toBe('pathpilot.flow.v1');
    expect(probeRecord.topic).toBe('pathpilot.probe.v1');
  });

  it('accept a valid record and name the bad field of an invalid one', () => {
    expect(flowRecord.parse(flow)).toEqual(flow);
    expect(() => flowRecord.parse({ ...flow, protocol: 300 })).toThrow(ValidationError);
    const res = flowRecord.check({ ...flow, bytes: -1 });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toContain('bytes');
    expect(costRecord.check({ ...flow }).ok).toBe(false);
  });

  it('turn records into complete ClickHouse rows and back', () => {
    const row = flowRecord.toRow(flow);
    expect(row.time_received).toBe(1_767_571_200);
    expect(row.src_port).toBe(0);
    expect(row.site).toBe('');
    expect(Object.keys(row)).toEqual(flowRecord.fieldNames);
    const back = flowRecord.fromRow({ ...row, time_received: '2026-01-05 00:00:00' });
    expect(back.time_received).toBe(1_767_571_200_000);
    expect(back.bytes).toBe(1500);
  });

  it('round-trip a batch through the Kafka encoding', () => {
    const batch = Array.from({ length: 100 }, (_, i) => ({ ...flow, sequence: i }));
    const decoded = decodeRecords(encodeRecords(batch));
    expect(decoded).toEqual(batch);
    expect(() => decodeRecords(Buffer.from([0x01]))).toThrow(/record batch/);
  });
});

describe('record batch decoding', () => {
  it('reads plain MessagePack maps from other encoders as objects', async () => {
    const { Packr } = await import('msgpackr');
    const plain = new Packr({ useRecords: false }).pack([{ a: 1, b: 'x' }]);
    expect(decodeRecords(plain)).toEqual([{ a: 1, b: 'x' }]);
  });
});
