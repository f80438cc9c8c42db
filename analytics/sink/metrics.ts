import {
  counter,
  createStageMetrics,
  histogram,
  type Registry,
  type StageMetrics,
  type Counter,
  type Histogram,
} from '../../core/metrics.ts';

/**
 * The sink's series (Vector's vocabulary): received = records decoded from Kafka, sent = rows
 * accepted by ClickHouse, errors{error_type}, dropped{reason} (invalid → dead letter, duplicate →
 * already stored). Plus inserts by table, retries and the dead-letter count.
 */
export interface SinkMetrics extends StageMetrics {
  rowsInserted: Counter<'table'>;
  inserts: Counter<'table'>;
  insertSeconds: Histogram<'table'>;
  retries: Counter<string>;
  deadLettered: Counter<'reason'>;
  lagSeconds: Histogram<'table'>;
}

export function createSinkMetrics(registry: Registry): SinkMetrics {
  const prefix = 'pathpilot_analytics_sink';
  return {
    ...createStageMetrics(registry, prefix),
    rowsInserted: counter(registry, `${prefix}_rows_inserted_total`, 'Rows accepted by ClickHouse, by table', ['table']),
    inserts: counter(registry, `${prefix}_inserts_total`, 'INSERT statements accepted by ClickHouse, by table', ['table']),
    insertSeconds: histogram(
      registry,
      `${prefix}_insert_seconds`,
      'INSERT duration',
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ['table'],
    ),
    retries: counter(registry, `${prefix}_insert_retries_total`, 'INSERT attempts retried after a failure'),
    deadLettered: counter(
      registry,
      `${prefix}_dead_lettered_total`,
      'Messages or records sent to the dead-letter topic, by reason',
      ['reason'],
    ),
    lagSeconds: histogram(
      registry,
      `${prefix}_lag_seconds`,
      'Kafka message timestamp to ClickHouse acceptance',
      [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      ['table'],
    ),
  };
}
