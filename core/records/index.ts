import { defineRecord, type RecordOf } from './define.ts';

export * from './define.ts';
export * from './codec.ts';

/** A flow (NetFlow v5/v9, IPFIX or sFlow sample) as decoded and enriched by ingest. */
export const flowRecord = defineRecord({
  name: 'flow',
  version: 1,
  keyField: 'exporter',
  timeField: 'time_received',
  fields: {
    time_received: { kind: 'time', doc: 'When the collector received the datagram' },
    exporter: { kind: 'ip', doc: 'Exporter (agent) address' },
    format: { kind: 'enum', values: ['netflow5', 'netflow9', 'ipfix', 'sflow5'], doc: 'Wire format' },
    domain_id: { kind: 'uint32', doc: 'Observation domain id (IPFIX), source id (v9), engine (v5), sub-agent (sFlow)' },
    sequence: { kind: 'uint32', doc: 'Export sequence number' },
    sampling_rate: {
      kind: 'uint32',
      doc: '1-in-N packet sampling; 1 means unsampled. bytes/packets are already scaled by it on ingest',
    },
    src_addr: { kind: 'ip', doc: 'Source address' },
    dst_addr: { kind: 'ip', doc: 'Destination address' },
    src_port: { kind: 'uint16', doc: 'Source port', optional: true },
    dst_port: { kind: 'uint16', doc: 'Destination port', optional: true },
    protocol: { kind: 'uint8', doc: 'IP protocol number' },
    tcp_flags: { kind: 'uint8', doc: 'Cumulative TCP flags', optional: true },
    dscp: { kind: 'uint8', doc: 'DSCP (ToS >> 2)', optional: true },
    in_if: { kind: 'uint32', doc: 'Input ifIndex', optional: true },
    out_if: { kind: 'uint32', doc: 'Output ifIndex', optional: true },
    bytes: {
      kind: 'uint64',
      doc: 'Estimated bytes: as exported × sampling_rate (renormalized on ingest; do not multiply again)',
    },
    packets: {
      kind: 'uint64',
      doc: 'Estimated packets: as exported × sampling_rate (renormalized on ingest; do not multiply again)',
    },
    flow_start: { kind: 'time', doc: 'First packet', optional: true },
    flow_end: { kind: 'time', doc: 'Last packet', optional: true },
    next_hop: { kind: 'ip', doc: 'Next-hop address', optional: true },
    src_as: { kind: 'uint32', doc: 'Source AS', optional: true },
    dst_as: { kind: 'uint32', doc: 'Destination AS', optional: true },
    site: { kind: 'lowcard', doc: 'Site of the exporter (enrichment)', optional: true },
    dst_site: { kind: 'lowcard', doc: 'Site owning the destination prefix (enrichment)', optional: true },
    link: { kind: 'lowcard', doc: 'Link of the output interface (enrichment)', optional: true },
    class: { kind: 'lowcard', doc: 'Traffic class from DSCP (enrichment)', optional: true },
  },
});
export type FlowRecord = RecordOf<typeof flowRecord.fields>;

/** One probe window over one path. */
export const probeRecord = defineRecord({
  name: 'probe',
  version: 1,
  keyField: 'path_id',
  timeField: 'window_start',
  fields: {
    window_start: { kind: 'time', doc: 'Window start' },
    window_end: { kind: 'time', doc: 'Window end' },
    src_site: { kind: 'lowcard', doc: 'Sending site' },
    dst_site: { kind: 'lowcard', doc: 'Reflecting site' },
    path_id: { kind: 'lowcard', doc: 'Path probed' },
    class: { kind: 'lowcard', doc: 'Class whose DSCP the probes carried', optional: true },
    sent: { kind: 'uint32', doc: 'Probes sent in the window' },
    received: { kind: 'uint32', doc: 'Replies received within the window (late ones excluded)' },
    duplicates: { kind: 'uint32', doc: 'Duplicate replies', optional: true },
    reordered: { kind: 'uint32', doc: 'Replies arriving out of sequence order', optional: true },
    loss_ratio: { kind: 'float', doc: '1 - received/sent' },
    rtt_min_ms: { kind: 'float', doc: 'RTT minimum (ms)' },
    rtt_avg_ms: { kind: 'float', doc: 'RTT mean (ms)' },
    rtt_p50_ms: { kind: 'float', doc: 'RTT median (ms)' },
    rtt_p95_ms: { kind: 'float', doc: 'RTT 95th percentile (ms)' },
    rtt_max_ms: { kind: 'float', doc: 'RTT maximum (ms)' },
    jitter_ms: { kind: 'float', doc: 'Mean absolute difference of consecutive RTTs (RFC 3550 style), ms' },
  },
});
export type ProbeRecord = RecordOf<typeof probeRecord.fields>;

/** Interface counters (sFlow counter samples, router polls, the twin). Counters are cumulative. */
export const ifaceRecord = defineRecord({
  name: 'iface',
  version: 1,
  keyField: 'router',
  timeField: 'time',
  fields: {
    time: { kind: 'time', doc: 'Sample time' },
    router: { kind: 'lowcard', doc: 'Site id of the router, or the agent address when unmapped' },
    interface: { kind: 'lowcard', doc: 'Interface name, or "if<index>"' },
    if_index: { kind: 'uint32', doc: 'ifIndex', optional: true },
    link: { kind: 'lowcard', doc: 'Link this interface belongs to (enrichment)', optional: true },
    speed_bps: { kind: 'uint64', doc: 'Interface speed, bits/s', optional: true },
    in_octets: { kind: 'uint64', doc: 'Cumulative input octets' },
    out_octets: { kind: 'uint64', doc: 'Cumulative output octets' },
    in_packets: { kind: 'uint64', doc: 'Cumulative input packets', optional: true },
    out_packets: { kind: 'uint64', doc: 'Cumulative output packets', optional: true },
    in_errors: { kind: 'uint64', doc: 'Cumulative input errors', optional: true },
    out_errors: { kind: 'uint64', doc: 'Cumulative output errors', optional: true },
    in_drops: { kind: 'uint64', doc: 'Cumulative input discards', optional: true },
    out_drops: { kind: 'uint64', doc: 'Cumulative output discards', optional: true },
    source: { kind: 'enum', values: ['sflow', 'poll', 'twin'], doc: 'Where the sample came from' },
  },
});
export type IfaceRecord = RecordOf<typeof ifaceRecord.fields>;

export const costCategories = ['internet-egress', 'inter-region', 'inter-zone', 'interconnect', 'other'] as const;
export type CostCategory = (typeof costCategories)[number];

/** One billing line item (or its data-transfer part). */
export const costRecord = defineRecord({
  name: 'cost',
  version: 1,
  keyField: 'provider',
  timeField: 'usage_start',
  fields: {
    line_id: { kind: 'string', doc: 'Deterministic id of the source line: re-imports replace, never double count' },
    line_version: {
      kind: 'uint64',
      doc: 'Version of the line (epoch ms: export time, else import time): of two lines with one id the higher wins',
      optional: true,
    },
    usage_start: { kind: 'time', doc: 'Charge period start' },
    usage_end: { kind: 'time', doc: 'Charge period end' },
    provider: { kind: 'lowcard', doc: 'aws, gcp, azure, alibaba, onprem, or the FOCUS provider name' },
    account: { kind: 'string', doc: 'Billing/sub account', optional: true },
    service: { kind: 'lowcard', doc: 'Service name', optional: true },
    src_region: { kind: 'lowcard', doc: 'Source region', optional: true },
    dst_region: { kind: 'lowcard', doc: 'Destination region', optional: true },
    category: { kind: 'enum', values: costCategories, doc: 'Charge category' },
    usage_quantity: { kind: 'float', doc: 'Usage quantity' },
    usage_unit: { kind: 'lowcard', doc: 'Usage unit (GB, Hours…)', optional: true },
    cost: { kind: 'float', doc: 'Cost (billed)' },
    currency: { kind: 'lowcard', doc: 'Currency code' },
    resource_id: { kind: 'string', doc: 'Resource id', optional: true },
    link: { kind: 'lowcard', doc: 'Link id when the line maps to one', optional: true },
    source_format: { kind: 'enum', values: ['focus', 'aws-cur', 'aws-cur2', 'gcp', 'azure', 'twin'], doc: 'Importer' },
  },
});
export type CostRecord = RecordOf<typeof costRecord.fields>;

export const changeEvents = [
  'proposed',
  'approved',
  'rejected',
  'expired',
  'applying',
  'applied',
  'step-applied',
  'baking',
  'guard-pass',
  'guard-fail',
  'guard-inconclusive',
  'rolled-back',
  'confirmed',
  'failed',
  'drifted',
  'drift-accepted',
  /** One approver of a proposal that needs several (high risk); the last one's is `approved`. */
  'approval-recorded',
] as const;
export type ChangeEvent = (typeof changeEvents)[number];

/** The audit trail: one event of one proposal's life. Append-only. */
export const changeRecord = defineRecord({
  name: 'change',
  version: 1,
  keyField: 'proposal_id',
  timeField: 'time',
  fields: {
    event_id: { kind: 'string', doc: 'Unique event id (idempotent writes)' },
    time: { kind: 'time', doc: 'When it happened' },
    proposal_id: { kind: 'string', doc: 'Proposal this event belongs to' },
    event: { kind: 'enum', values: changeEvents, doc: 'What happened' },
    actor: { kind: 'string', doc: 'Who: user, slack:<user>, auto, optimizer, guard', optional: true },
    router: { kind: 'lowcard', doc: 'Router (site id) the event concerns, if one', optional: true },
    step: { kind: 'uint8', doc: 'Rollout step index', optional: true },
    detail: { kind: 'json', doc: 'Event details: ops applied, before/after subtrees, verdict metrics', optional: true },
  },
});
export type ChangeRecordT = RecordOf<typeof changeRecord.fields>;

export const recordDefinitions = {
  flow: flowRecord,
  probe: probeRecord,
  iface: ifaceRecord,
  cost: costRecord,
  change: changeRecord,
} as const;
export type RecordName = keyof typeof recordDefinitions;
