import { quantileSorted } from 'simple-statistics';
import type { ProbeRecord } from '../../core/records/index.ts';

/**
 * One probe window of one stream: probes sent in [start, end), replies counted until the window
 * closes (end + grace). Pure bookkeeping, no I/O or clock: the sender feeds it.
 */
export class ProbeWindow {
  sent = 0;
  duplicates = 0;
  reordered = 0;
  late = 0;
  /** RTT (ms) of each probe answered in time, by sequence number. */
  readonly rtts = new Map<number, number>();

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  /** Summarizes the window as a probe record. */
  toRecord(ids: { path_id: string; src_site: string; dst_site: string; class?: string }): ProbeRecord {
    const bySeq = [...this.rtts.entries()].sort((a, b) => a[0] - b[0]).map(([, rtt]) => rtt);
    const sorted = [...bySeq].sort((a, b) => a - b);
    const received = sorted.length;
    let jitter = 0;
    for (let i = 1; i < bySeq.length; i++) jitter += Math.abs(bySeq[i]! - bySeq[i - 1]!);
    const record: ProbeRecord = {
      window_start: this.start,
      window_end: this.end,
      src_site: ids.src_site,
      dst_site: ids.dst_site,
      path_id: ids.path_id,
      sent: this.sent,
      received,
      duplicates: this.duplicates,
      reordered: this.reordered,
      loss_ratio: this.sent > 0 ? Math.max(0, (this.sent - received) / this.sent) : 0,
      rtt_min_ms: received ? sorted[0]! : 0,
      rtt_avg_ms: received ? sorted.reduce((a, b) => a + b, 0) / received : 0,
      rtt_p50_ms: received ? quantileSorted(sorted, 0.5) : 0,
      rtt_p95_ms: received ? quantileSorted(sorted, 0.95) : 0,
      rtt_max_ms: received ? sorted[received - 1]! : 0,
      jitter_ms: bySeq.length > 1 ? jitter / (bySeq.length - 1) : 0,
    };
    if (ids.class) record.class = ids.class;
    return record;
  }
}
