/** Time range, epoch milliseconds, half-open: [from, to). */
export interface TimeRange {
  from: number;
  to: number;
}

export interface PathQuality {
  path_id: string;
  class: string;
  src_site: string;
  dst_site: string;
  /** Quantiles of the per-window median RTT over the range (t-digest), ms. */
  rtt_p50_ms: number;
  rtt_p95_ms: number;
  rtt_p99_ms: number;
  /** Largest per-window p95 RTT seen in the range, ms. */
  rtt_p95_max_ms: number;
  /** 1 − received/sent over the range (0 when nothing was sent). */
  loss_ratio: number;
  jitter_ms: number;
  windows: number;
  sent: number;
  received: number;
}

export interface UtilizationPoint {
  link: string;
  /** Bucket start, epoch ms. */
  t: number;
  bps: number;
  /** Set when the iface source is used: which end measured it. */
  router?: string;
  interface?: string;
}

export interface TrafficCell {
  src_site: string;
  dst_site: string;
  class: string;
  bytes: number;
  /** Average rate over the range, bits/s. */
  bps: number;
}

export interface CostPerGb {
  provider: string;
  link: string;
  currency: string;
  cost: number;
  /** GB carried by the link (flows × sampling) in the range; 0 for costs not mapped to a link. */
  gb: number;
  /** cost / gb; null when no traffic was seen. */
  cost_per_gb: number | null;
}

export interface MonthSpend {
  provider: string;
  link: string;
  currency: string;
  month_to_date: number;
  /** Linear run-rate projection to the end of the month. */
  projected: number;
}

export interface Talker {
  addr: string;
  bytes: number;
  packets: number;
  flows: number;
}

export interface WindowQuality {
  rtt_p50_ms: number;
  rtt_p95_ms: number;
  loss_ratio: number;
  jitter_ms: number;
  windows: number;
  sent: number;
}

export interface WindowComparison {
  current: WindowQuality | null;
  baseline: WindowQuality | null;
  /** Relative change current vs. baseline ((cur − base) / base); loss is an absolute difference. Null without data. */
  change: { rtt_p50: number; rtt_p95: number; loss: number; jitter: number } | null;
}

/** Bytes of a class a source site sent towards a destination site through a first-hop link (flows carry the first hop). */
export interface FirstHopTraffic {
  src_site: string;
  dst_site: string;
  link: string;
  class: string;
  /** Sampling-scaled bytes. */
  bytes: number;
}

/** FirstHopTraffic over a range, with the range actually read (widened to the rollup's buckets). */
export interface FirstHopVolume {
  from: number;
  to: number;
  rows: FirstHopTraffic[];
}

/** FirstHopTraffic in one minute. */
export interface FirstHopMinute extends FirstHopTraffic {
  /** Minute start, epoch ms. */
  t: number;
}

/** Probe quality of one path and class in one minute. */
export interface PathMinuteQuality {
  /** Minute start, epoch ms. */
  t: number;
  path_id: string;
  class: string;
  /** The worst probe window's p95 RTT in the minute, ms. */
  rtt_p95_max_ms: number;
  loss_ratio: number;
  jitter_ms: number;
  windows: number;
  sent: number;
}
