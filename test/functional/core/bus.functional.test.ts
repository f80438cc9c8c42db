import { describe, expect, it } from 'vitest';
import { createBus } from '../../../core/bus/index.ts';
import { KafkaBus } from '../../../core/bus/kafka.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { busConformance } from '../../conformance/bus.ts';
import { requireService, uniqueName } from '../../support/services.ts';

function brokers(): string[] {
  return requireService('kafka').split(',');
}

busConformance('kafka', async () => {
  const bus = new KafkaBus({ brokers: brokers(), retryBackoffMs: 100 });
  await bus.start();
  return bus;
});

describe('KafkaBus', () => {
  it('is built by createBus and counts what it publishes and consumes', async () => {
    const registry = createRegistry();
    const bus = createBus({ kind: 'kafka', brokers: brokers() }, { registry });
    expect(bus.kind).toBe('kafka');
    await bus.start();
    const topic = uniqueName('bus_metrics');
    try {
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      await bus.ensureTopics([{ topic, partitions: 2 }]); // idempotent
      let got = 0;
      const sub = await bus.subscribe({
        group: uniqueName('g'),
        topics: [topic],
        fromBeginning: true,
        handler: async (b) => void (got += b.messages.length),
      });
      await bus.publish(
        topic,
        Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(4) })),
      );
      for (let i = 0; i < 1500 && got < 25; i++) await new Promise((r) => setTimeout(r, 20));
      await sub.stop();
      const m = await metricValues(registry);
      expect(m[`pathpilot_bus_published_messages_total{topic="${topic}"}`]).toBe(25);
      expect(m[`pathpilot_bus_published_bytes_total{topic="${topic}"}`]).toBe(100);
      expect(m[`pathpilot_bus_consumed_messages_total{topic="${topic}"}`]).toBe(25);
    } finally {
      await bus.deleteTopics([topic]);
      await bus.stop();
    }
  });

  it('fails start() with a clear error when no broker answers', async () => {
    const bus = new KafkaBus({ brokers: ['127.0.0.1:1'] });
    await expect(bus.start()).rejects.toThrow(/unable to connect to Kafka at 127\.0\.0\.1:1/);
    await bus.stop();
  });
});
