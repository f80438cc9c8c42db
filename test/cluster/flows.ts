import type { FlowRecord } from '../../core/records/index.ts';

/** A flow of the cluster tests' synthetic stream: record `seq`, with what a test varies on top. */
export function streamFlow(
  seq: number,
  fields: Partial<FlowRecord> & Pick<FlowRecord, 'time_received' | 'exporter'>,
): FlowRecord {
  return {
    format: 'ipfix',
    domain_id: 1,
    sequence: seq,
    sampling_rate: 1,
    src_addr: `10.${seq % 200}.${(seq >> 8) % 250}.1`,
    dst_addr: '10.1.0.1',
    protocol: 6,
    bytes: 1500,
    packets: 2,
    ...fields,
  };
}
