import {
  recordDefinitions,
  type FieldDef,
  type FieldMap,
  type RecordDefinition,
  type RecordName,
} from '../../core/records/index.ts';
import type { StoreCapabilities } from '../../core/store/types.ts';
import type { RetentionConfig } from '../config.ts';

/**
 * The analytics schema, declared once. Each table is data: columns with logical types, engine,
 * partition and sort keys, and a retention tier. `ddl.ts` renders it for the detected target
 * (ClickHouse 18.16 common subset, or the modern form with TTL and LowCardinality) and
 * `converge.ts` compares it with what the server reports.
 */
export type LogicalType =
  | 'DateTime'
  | 'Date'
  | 'UInt8'
  | 'UInt16'
  | 'UInt32'
  | 'UInt64'
  | 'Float64'
  | 'String'
  /** A string with few distinct values: LowCardinality(String) where the target has it. */
  | 'LowString'
  /** An aggregate state, e.g. `AggregateFunction(sum, Float64)`; rendered verbatim. */
  | { aggregate: string };

export interface ColumnDef {
  name: string;
  type: LogicalType;
  doc?: string;
}

export type RetentionTier = keyof RetentionConfig | 'forever';

export interface TableDef {
  kind: 'table';
  name: string;
  doc: string;
  columns: ColumnDef[];
  engine: 'MergeTree' | 'ReplacingMergeTree' | 'SummingMergeTree' | 'AggregatingMergeTree';
  /** ReplacingMergeTree version column. */
  version?: string;
  /** DateTime column driving partitions and retention. */
  timeColumn: string;
  /** Partition granularity: a day keeps DROP PARTITION retention precise; a month suits small tables. */
  partition: 'day' | 'month';
  orderBy: string[];
  retention: RetentionTier;
  /**
   * On a cluster, the column whose value picks a row's shard (`halfMD5(column)` in the Distributed
   * table, the same function the sink computes): rows a ReplacingMergeTree must see together, and
   * reads by site, stay on one shard.
   */
  shardKey: string;
}

export interface MaterializedViewDef {
  kind: 'view';
  name: string;
  doc: string;
  /** Target table (TO …); both must be in the same database. */
  to: string;
  from: string;
  /** The SELECT, with `{db}` standing for the quoted database name. */
  select: string;
}

/** A plain (non-materialized) view: computed on read. */
export interface PlainViewDef {
  kind: 'plain-view';
  name: string;
  doc: string;
  select: string;
}

export type SchemaObject = TableDef | MaterializedViewDef | PlainViewDef;

/**
 * Stored offsets are `space × 2^40 + Kafka offset`, where `space` is a 20-bit hash of the topic: a new
 * topic (or a recreated one under another name) never inherits another topic's high-water mark.
 */
export const offsetSpaceSize = 1_099_511_627_776; // 2^40

/** Columns the sink adds to every raw table: where the row came from in Kafka (exactly-once, see sink/). */
export const sourceColumns: ColumnDef[] = [
  { name: 'src_partition', type: 'UInt32', doc: 'Kafka partition the row was read from' },
  { name: 'src_offset', type: 'UInt64', doc: 'Offset space × 2^40 + Kafka offset of the message that carried the row' },
];

function logicalFor(def: FieldDef): LogicalType {
  switch (def.kind) {
    case 'time':
      return 'DateTime';
    case 'uint8':
      return 'UInt8';
    case 'uint16':
      return 'UInt16';
    case 'uint32':
      return 'UInt32';
    case 'uint64':
      return 'UInt64';
    case 'float':
      return 'Float64';
    case 'lowcard':
    case 'enum':
      return 'LowString';
    case 'string':
    case 'ip':
    case 'json':
      return 'String';
  }
}

/** The columns of a record definition, in order. */
export function recordColumns<M extends FieldMap>(def: RecordDefinition<M>): ColumnDef[] {
  return Object.entries(def.fields).map(([name, f]) => ({ name, type: logicalFor(f), doc: f.doc }));
}

/** Raw table per record kind. */
export const rawTableOf: Record<RecordName, string> = {
  flow: 'flows_raw',
  probe: 'probes_raw',
  iface: 'iface_raw',
  cost: 'costs_raw',
  change: 'changes',
};

function rawTable(
  record: RecordName,
  spec: Omit<TableDef, 'kind' | 'name' | 'columns' | 'timeColumn'> & { extra?: ColumnDef[] },
): TableDef {
  const def = recordDefinitions[record] as unknown as RecordDefinition<FieldMap>;
  return {
    kind: 'table',
    name: rawTableOf[record],
    columns: [...recordColumns(def), ...(spec.extra ?? []), ...sourceColumns],
    timeColumn: def.timeField,
    engine: spec.engine,
    version: spec.version,
    partition: spec.partition,
    orderBy: spec.orderBy,
    retention: spec.retention,
    shardKey: spec.shardKey,
    doc: spec.doc,
  };
}

const agg = (fn: string, type = 'Float64'): LogicalType => ({ aggregate: `AggregateFunction(${fn}, ${type})` });
export const probeQuantiles = '0.5, 0.95, 0.99';

/** Every table and view, in creation order (targets before the views that feed them). */
export function schemaObjects(): SchemaObject[] {
  const flowRollup = (name: string, bucket: string, retention: RetentionTier): [TableDef, MaterializedViewDef] => [
    {
      kind: 'table',
      name,
      doc: `Flows per ${bucket.slice('toStartOf'.length).toLowerCase()} by site, link, class and destination site; bytes and packets as renormalized on ingest`,
      columns: [
        { name: 't', type: 'DateTime' },
        { name: 'site', type: 'LowString' },
        { name: 'link', type: 'LowString' },
        { name: 'class', type: 'LowString' },
        { name: 'dst_site', type: 'LowString' },
        { name: 'bytes', type: 'UInt64' },
        { name: 'packets', type: 'UInt64' },
        { name: 'flows', type: 'UInt64' },
      ],
      engine: 'SummingMergeTree',
      timeColumn: 't',
      partition: 'day',
      orderBy: ['t', 'site', 'link', 'class', 'dst_site'],
      retention,
      shardKey: 'site',
    },
    {
      kind: 'view',
      name: `${name}_mv`,
      doc: `Feeds ${name} from flows_raw`,
      to: name,
      from: 'flows_raw',
      select:
        `SELECT ${bucket}(time_received) AS t, site, link, class, dst_site, ` +
        `sum(bytes) AS bytes, sum(packets) AS packets, count() AS flows ` +
        `FROM {db}.flows_raw GROUP BY t, site, link, class, dst_site`,
    },
  ];

  const probeRollup = (name: string, bucket: string, retention: RetentionTier): [TableDef, MaterializedViewDef] => [
    {
      kind: 'table',
      name,
      doc: `Probe quality per path and class per ${bucket.slice('toStartOf'.length).toLowerCase()}: RTT quantile state (of window medians), loss and jitter`,
      columns: [
        { name: 't', type: 'DateTime' },
        { name: 'path_id', type: 'LowString' },
        { name: 'class', type: 'LowString' },
        { name: 'src_site', type: 'LowString' },
        { name: 'dst_site', type: 'LowString' },
        { name: 'rtt', type: agg(`quantilesTDigest(${probeQuantiles})`) },
        { name: 'rtt_p95_max', type: agg('max') },
        { name: 'sent', type: agg('sum', 'UInt64') },
        { name: 'received', type: agg('sum', 'UInt64') },
        { name: 'jitter', type: agg('avg') },
        { name: 'windows', type: agg('count', 'UInt8') },
      ],
      engine: 'AggregatingMergeTree',
      timeColumn: 't',
      partition: 'day',
      orderBy: ['path_id', 'class', 't', 'src_site', 'dst_site'],
      retention,
      shardKey: 'src_site',
    },
    {
      kind: 'view',
      name: `${name}_mv`,
      doc: `Feeds ${name} from probes_raw`,
      to: name,
      from: 'probes_raw',
      select:
        `SELECT ${bucket}(window_start) AS t, path_id, class, src_site, dst_site, ` +
        `quantilesTDigestState(${probeQuantiles})(rtt_p50_ms) AS rtt, maxState(rtt_p95_ms) AS rtt_p95_max, ` +
        `sumState(toUInt64(sent)) AS sent, sumState(toUInt64(received)) AS received, avgState(jitter_ms) AS jitter, ` +
        `countState(toUInt8(1)) AS windows ` +
        `FROM {db}.probes_raw GROUP BY t, path_id, class, src_site, dst_site`,
    },
  ];

  return [
    rawTable('flow', {
      doc: 'Raw flows as decoded and enriched by ingest',
      engine: 'MergeTree',
      partition: 'day',
      orderBy: ['time_received', 'site', 'link'],
      retention: 'raw_days',
      shardKey: 'site',
    }),
    rawTable('probe', {
      doc: 'Probe windows per path',
      engine: 'MergeTree',
      partition: 'day',
      orderBy: ['path_id', 'window_start'],
      retention: 'raw_days',
      shardKey: 'src_site',
    }),
    rawTable('iface', {
      doc: 'Interface counter samples (cumulative)',
      engine: 'MergeTree',
      partition: 'day',
      orderBy: ['router', 'interface', 'time'],
      retention: 'raw_days',
      shardKey: 'router',
    }),
    rawTable('cost', {
      doc: 'Billing lines; a re-imported or restated line (same line_id) replaces the one with a lower line_version',
      engine: 'ReplacingMergeTree',
      version: 'line_version',
      partition: 'month',
      orderBy: ['line_id'],
      retention: 'cost_days',
      shardKey: 'line_id',
    }),
    rawTable('change', {
      doc: 'The audit trail (append-only); a repeated event_id is the same event',
      engine: 'ReplacingMergeTree',
      partition: 'month',
      orderBy: ['proposal_id', 'time', 'event_id'],
      retention: 'forever',
      shardKey: 'proposal_id',
    }),
    // The sink's exactly-once bookkeeping: the highest Kafka offset stored per table and partition,
    // maintained by materialized views in the same INSERT as the rows (see analytics/sink).
    {
      kind: 'table',
      name: 'sink_offsets',
      doc: 'Highest Kafka offset stored per raw table and partition (written by MVs with the rows)',
      columns: [
        { name: 'tbl', type: 'String' },
        { name: 'src_partition', type: 'UInt32' },
        { name: 'space', type: 'UInt32', doc: 'Offset space: a hash of the Kafka topic (src_offset >> 40)' },
        { name: 'max_offset', type: 'UInt64' },
        { name: 'day', type: 'Date' },
      ],
      engine: 'ReplacingMergeTree',
      version: 'max_offset',
      timeColumn: 'day',
      partition: 'month',
      orderBy: ['tbl', 'src_partition', 'space'],
      retention: 'forever',
      shardKey: 'tbl',
    },
    ...(['flows_raw', 'probes_raw', 'iface_raw', 'costs_raw', 'changes'] as const).map((t): MaterializedViewDef => ({
      kind: 'view',
      name: `${t}_offsets_mv`,
      doc: `Records the highest offset written to ${t}`,
      to: 'sink_offsets',
      from: t,
      select:
        `SELECT '${t}' AS tbl, src_partition, toUInt32(intDiv(src_offset, ${offsetSpaceSize})) AS space, ` +
        `max(src_offset) AS max_offset, today() AS day FROM {db}.${t} GROUP BY src_partition, space`,
    })),
    ...flowRollup('flows_1m', 'toStartOfMinute', 'minute_days'),
    ...flowRollup('flows_1h', 'toStartOfHour', 'hour_days'),
    ...flowRollup('flows_1d', 'toStartOfDay', 'hour_days'),
    ...probeRollup('probes_1m', 'toStartOfMinute', 'minute_days'),
    ...probeRollup('probes_1h', 'toStartOfHour', 'hour_days'),
    ...probeRollup('probes_1d', 'toStartOfDay', 'hour_days'),
    {
      kind: 'table',
      name: 'link_util_1m',
      doc: 'Bytes per link per minute estimated from flows (bytes × sampling rate)',
      columns: [
        { name: 't', type: 'DateTime' },
        { name: 'link', type: 'LowString' },
        { name: 'bytes', type: 'UInt64' },
      ],
      engine: 'SummingMergeTree',
      timeColumn: 't',
      partition: 'day',
      orderBy: ['link', 't'],
      retention: 'minute_days',
      shardKey: 'link',
    },
    {
      kind: 'view',
      name: 'link_util_1m_mv',
      doc: 'Feeds link_util_1m from flows_raw',
      to: 'link_util_1m',
      from: 'flows_raw',
      select:
        `SELECT toStartOfMinute(time_received) AS t, link, sum(bytes) AS bytes ` +
        `FROM {db}.flows_raw WHERE link != '' GROUP BY t, link`,
    },
    {
      kind: 'table',
      name: 'iface_1m',
      doc: 'Last interface counter value per minute (rates come from consecutive minutes)',
      columns: [
        { name: 't', type: 'DateTime' },
        { name: 'router', type: 'LowString' },
        { name: 'interface', type: 'LowString' },
        { name: 'link', type: 'LowString' },
        { name: 'last_time', type: agg('max', "DateTime('UTC')") },
        { name: 'in_octets', type: { aggregate: "AggregateFunction(argMax, UInt64, DateTime('UTC'))" } },
        { name: 'out_octets', type: { aggregate: "AggregateFunction(argMax, UInt64, DateTime('UTC'))" } },
        { name: 'speed_bps', type: agg('max', 'UInt64') },
      ],
      engine: 'AggregatingMergeTree',
      timeColumn: 't',
      partition: 'day',
      orderBy: ['router', 'interface', 't', 'link'],
      retention: 'minute_days',
      shardKey: 'router',
    },
    {
      kind: 'view',
      name: 'iface_1m_mv',
      doc: 'Feeds iface_1m from iface_raw',
      to: 'iface_1m',
      from: 'iface_raw',
      select:
        `SELECT toStartOfMinute(time) AS t, router, interface, link, maxState(time) AS last_time, ` +
        `argMaxState(in_octets, time) AS in_octets, argMaxState(out_octets, time) AS out_octets, maxState(speed_bps) AS speed_bps ` +
        `FROM {db}.iface_raw GROUP BY t, router, interface, link`,
    },
    {
      kind: 'plain-view',
      name: 'cost_daily',
      doc: 'Daily cost by provider, link and category. A view (not an MV) so re-imported lines replace, never add',
      select:
        `SELECT toDate(usage_start) AS day, provider, link, category, currency, sum(cost) AS cost, ` +
        `sum(usage_quantity) AS usage_quantity FROM {db}.costs_raw FINAL GROUP BY day, provider, link, category, currency`,
    },
    {
      kind: 'table',
      name: 'forecasts',
      doc: 'Forecast points per model run and target (link, pair, provider…)',
      columns: [
        { name: 'made_at', type: 'DateTime' },
        { name: 'model', type: 'LowString' },
        { name: 'model_version', type: 'String' },
        { name: 'metric', type: 'LowString' },
        { name: 'target', type: 'LowString' },
        { name: 't', type: 'DateTime' },
        { name: 'value', type: 'Float64' },
        { name: 'lo', type: 'Float64' },
        { name: 'hi', type: 'Float64' },
      ],
      engine: 'ReplacingMergeTree',
      timeColumn: 'made_at',
      partition: 'day',
      orderBy: ['metric', 'target', 'model', 't', 'made_at'],
      retention: 'forecast_days',
      shardKey: 'target',
    },
    {
      kind: 'table',
      name: 'proposals',
      doc: 'Proposals (latest status wins: ReplacingMergeTree by updated_at)',
      columns: [
        { name: 'id', type: 'String' },
        { name: 'created_at', type: 'DateTime' },
        { name: 'updated_at', type: 'DateTime' },
        { name: 'kind', type: 'LowString' },
        { name: 'status', type: 'LowString' },
        { name: 'risk', type: 'LowString' },
        { name: 'reason', type: 'String' },
        { name: 'body', type: 'String', doc: 'The proposal as JSON (core/proposal.ts)' },
      ],
      engine: 'ReplacingMergeTree',
      version: 'updated_at',
      timeColumn: 'created_at',
      partition: 'month',
      orderBy: ['id'],
      retention: 'forever',
      shardKey: 'id',
    },
    {
      kind: 'table',
      name: 'api_access',
      doc: 'Access log of the API: one row per call (who, from where, what, verdict), kept as long as hourly rollups',
      columns: [
        { name: 'time', type: 'DateTime' },
        { name: 'source', type: 'String', doc: 'Client address' },
        { name: 'principal', type: 'LowString', doc: 'Who (token name, oidc:user); empty when unauthenticated' },
        { name: 'role', type: 'LowString' },
        { name: 'service', type: 'LowString', doc: 'The API area: console, actuator, optimizer, health, metrics' },
        { name: 'method', type: 'LowString' },
        { name: 'action', type: 'String', doc: 'The route called (its pattern, not the raw URL)' },
        { name: 'status', type: 'UInt16' },
        { name: 'verdict', type: 'LowString', doc: 'allowed, unauthorized, forbidden, refused (4xx), error (5xx)' },
        { name: 'client_cert', type: 'String', doc: 'Subject CN of the client certificate under mutual TLS' },
      ],
      engine: 'MergeTree',
      timeColumn: 'time',
      partition: 'month',
      orderBy: ['time', 'principal'],
      retention: 'hour_days',
      shardKey: 'source',
    },
    {
      kind: 'table',
      name: 'models',
      doc: 'Model registry: one row per trained model version',
      columns: [
        { name: 'name', type: 'LowString' },
        { name: 'version', type: 'String' },
        { name: 'created_at', type: 'DateTime' },
        { name: 'kind', type: 'LowString' },
        { name: 'status', type: 'LowString' },
        { name: 'metrics', type: 'String', doc: 'Backtest metrics as JSON' },
        { name: 'artifact', type: 'String', doc: 'Serialized weights/parameters (base64 or JSON)' },
      ],
      engine: 'ReplacingMergeTree',
      version: 'created_at',
      timeColumn: 'created_at',
      partition: 'month',
      orderBy: ['name', 'version'],
      retention: 'forever',
      shardKey: 'name',
    },
  ];
}

export function tableDefs(): TableDef[] {
  return schemaObjects().filter((o): o is TableDef => o.kind === 'table');
}

/** Retention in days for a tier, or undefined for keep-forever. */
export function retentionDays(tier: RetentionTier, retention: RetentionConfig): number | undefined {
  return tier === 'forever' ? undefined : retention[tier];
}

export type { StoreCapabilities };
