import type { FlowRecord } from '../../core/records/index.ts';

/**
 * The one place sampled volumes become estimates: bytes and packets × sampling_rate, on ingest, for
 * every format (NetFlow v5/v9, IPFIX, sFlow). Records keep `sampling_rate` so a reader can tell an
 * estimate from a count; nothing downstream multiplies again (analytics sums `bytes` as stored).
 * Estimates beyond 2^53 are clamped, as decoded counters are.
 */
export function renormalize(flows: FlowRecord[]): void {
  for (const f of flows) {
    const rate = f.sampling_rate;
    if (rate <= 1) continue;
    f.bytes = Math.min(f.bytes * rate, Number.MAX_SAFE_INTEGER);
    f.packets = Math.min(f.packets * rate, Number.MAX_SAFE_INTEGER);
  }
}
