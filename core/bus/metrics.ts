import { counter, createRegistry, type Counter, type Registry } from '../metrics.ts';

/**
 * The bus's series. Topics are few and fixed (one per record kind), so `topic` is a safe label.
 * - `pathpilot_bus_published_messages_total{topic}`: messages the bus accepted (Kafka: acked).
 * - `pathpilot_bus_consumed_messages_total{topic}`: messages whose handler resolved and were committed.
 * - `pathpilot_bus_redelivered_messages_total{topic}`: messages handed out again after a handler failure.
 * - `pathpilot_bus_errors_total{error_type}`: `publish`, `handler`, `commit`, `consumer`, `admin`, `validation`.
 */
export interface BusMetrics {
  published: Counter<'topic'>;
  publishedBytes: Counter<'topic'>;
  consumed: Counter<'topic'>;
  redelivered: Counter<'topic'>;
  errors: Counter<'error_type'>;
}

export function createBusMetrics(registry: Registry = createRegistry()): BusMetrics {
  return {
    published: counter(registry, 'pathpilot_bus_published_messages_total', 'Messages accepted by the bus', ['topic']),
    publishedBytes: counter(registry, 'pathpilot_bus_published_bytes_total', 'Bytes of message values accepted by the bus', [
      'topic',
    ]),
    consumed: counter(registry, 'pathpilot_bus_consumed_messages_total', 'Messages handled and committed by subscribers', [
      'topic',
    ]),
    redelivered: counter(
      registry,
      'pathpilot_bus_redelivered_messages_total',
      'Messages handed to a handler again after it failed',
      ['topic'],
    ),
    errors: counter(registry, 'pathpilot_bus_errors_total', 'Bus errors, by type', ['error_type']),
  };
}
