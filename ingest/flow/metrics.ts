import { counter, createStageMetrics, gauge, type Registry, type StageMetrics } from '../../core/metrics.ts';

export const flowMetricsPrefix = 'pathpilot_ingest_flow';

/**
 * The collector's series. Stage vocabulary: `received_total` (datagrams), `sent_total` (records
 * accepted by the bus), `errors_total{error_type}` (decode reasons, publish failures),
 * `dropped_total{reason}` (records or data sets lost: buffer_full, template_missing, shutdown).
 */
export interface FlowMetrics extends StageMetrics {
  receivedBytes: ReturnType<typeof counter>;
  records: ReturnType<typeof counter<'kind'>>;
  messages: ReturnType<typeof counter<'kind'>>;
  defaultRated: ReturnType<typeof counter>;
  buffered: ReturnType<typeof gauge>;
  templates: ReturnType<typeof gauge>;
  templateFields: ReturnType<typeof gauge>;
  pending: ReturnType<typeof gauge>;
  pendingBytes: ReturnType<typeof gauge>;
  limited: ReturnType<typeof counter<'limit'>>;
  receiveDropped: ReturnType<typeof counter>;
}

export function createFlowMetrics(registry: Registry): FlowMetrics {
  const p = flowMetricsPrefix;
  return {
    ...createStageMetrics(registry, p),
    receivedBytes: counter(registry, `${p}_received_bytes_total`, 'UDP payload bytes received'),
    records: counter(registry, `${p}_decoded_records_total`, 'Records decoded, by kind (flow, iface)', ['kind']),
    messages: counter(registry, `${p}_published_messages_total`, 'Kafka messages published, by kind', ['kind']),
    defaultRated: counter(
      registry,
      `${p}_sampling_defaulted_total`,
      'Flows whose export carried no sampling rate: the configured per-exporter default was applied',
    ),
    buffered: gauge(registry, `${p}_buffered_records`, 'Records waiting for the bus (open batches + queued messages)'),
    templates: gauge(registry, `${p}_templates`, 'NetFlow v9/IPFIX templates known'),
    templateFields: gauge(
      registry,
      `${p}_template_fields`,
      'Fields declared by the templates held (bounded by templates.max_total_fields)',
    ),
    pending: gauge(registry, `${p}_pending_data_sets`, 'Data sets waiting for their template'),
    pendingBytes: gauge(registry, `${p}_pending_bytes`, 'Bytes of data sets waiting for their template'),
    limited: counter(
      registry,
      `${p}_limited_total`,
      'Times a bound on exporter-controlled state acted: template_fields, template_density (templates refused), ' +
        'templates_per_domain, template_fields_total (LRU evictions), template_ttl, pending_sets, pending_bytes, ' +
        'flows_per_datagram',
      ['limit'],
    ),
    receiveDropped: counter(
      registry,
      `${p}_receive_dropped_total`,
      'Datagrams the receiving thread dropped because receiver.buffer_bytes were waiting to be decoded',
    ),
  };
}
