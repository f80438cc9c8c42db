import type { FlowRecord } from '../../../core/records/index.ts';

/**
 * `n` distinct IPFIX flows of one exporter as the functional ingest tests send them: record i (from
 * `from`) has source port 10,000 + i and bytes 100 + i, so a test can tell every record apart.
 */
export function exportedFlows(
  t0: number,
  exporter: string,
  from: number,
  n: number,
  over: Partial<FlowRecord> = {},
): FlowRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      time_received: t0,
      exporter,
      format: 'ipfix',
      domain_id: 7,
      sequence: 0,
      sampling_rate: 1,
      src_addr: `10.51.${(i >> 8) & 255}.${i & 255}`,
      dst_addr: `10.10.${i % 200}.${(i * 7) & 255}`,
      src_port: 10_000 + i,
      dst_port: 443,
      protocol: 6,
      in_if: 1,
      out_if: 2,
      bytes: 100 + i,
      packets: 1 + (i % 5),
      flow_start: t0 - 30_000,
      flow_end: t0,
      ...over,
    };
  });
}
