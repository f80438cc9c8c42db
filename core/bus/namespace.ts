import type { Bus, MessageBatch, SubscribeOptions } from './types.ts';

/**
 * A bus whose topics all live under `prefix` (e.g. `staging.` or a test run's own name), so several
 * deployments or test runs share one Kafka without reading each other's messages. Callers keep using
 * the record definitions' topic names; batches they receive carry the unprefixed name.
 */
export function namespacedBus(inner: Bus, prefix: string): Bus {
  if (!prefix) return inner;
  const outer = (topic: string) => `${prefix}${topic}`;
  const strip = (batch: MessageBatch): MessageBatch =>
    batch.topic.startsWith(prefix) ? { ...batch, topic: batch.topic.slice(prefix.length) } : batch;
  return {
    kind: inner.kind,
    start: () => inner.start(),
    stop: () => inner.stop(),
    ensureTopics: (topics) => inner.ensureTopics(topics.map((t) => ({ ...t, topic: outer(t.topic) }))),
    publish: (topic, messages) => inner.publish(outer(topic), messages),
    subscribe: (options: SubscribeOptions) =>
      inner.subscribe({ ...options, topics: options.topics.map(outer), handler: (batch) => options.handler(strip(batch)) }),
    deleteTopics: (topics) => inner.deleteTopics(topics.map(outer)),
  };
}
