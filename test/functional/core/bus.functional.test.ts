import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

  it('splits large calls and keeps per-key order under concurrent calls; topics take 2 MB messages', async () => {
    const bus = new KafkaBus({ brokers: brokers(), maxRequestBytes: 1024 * 1024 });
    await bus.start();
    const topic = uniqueName('bus_big');
    try {
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      const got: { key?: string; seq: number; size: number }[] = [];
      await bus.subscribe({
        group: uniqueName('g'),
        topics: [topic],
        fromBeginning: true,
        handler: async (b) => {
          for (const m of b.messages) got.push({ key: m.key, seq: m.value.readUInt32BE(0), size: m.value.length });
        },
      });
      const msg = (key: string, seq: number, size: number) => {
        const value = Buffer.alloc(size, 1);
        value.writeUInt32BE(seq, 0);
        return { key, value };
      };
      // 12 × 200 kB to one key: one call, split into requests of ≤ 1 MB.
      await bus.publish(
        topic,
        Array.from({ length: 12 }, (_, i) => msg('exporter-1', i, 200_000)),
      );
      // 20 concurrent single-message calls: merged while a request is in flight.
      await Promise.all(Array.from({ length: 20 }, (_, i) => bus.publish(topic, [msg('exporter-2', i, 50_000)])));
      // One message over the broker's 1 MB default, accepted thanks to the topic's max.message.bytes.
      await bus.publish(topic, [msg('exporter-3', 0, 2_000_000)]);
      for (let i = 0; i < 1500 && got.length < 33; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toHaveLength(33);
      expect(got.filter((g) => g.key === 'exporter-1').map((g) => g.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(got.filter((g) => g.key === 'exporter-2').map((g) => g.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(got.find((g) => g.key === 'exporter-3')?.size).toBe(2_000_000);
    } finally {
      await bus.deleteTopics([topic]);
      await bus.stop();
    }
  });

  it('a consumer process killed mid-batch commits nothing: the group’s next member gets every message', async () => {
    const topic = uniqueName('bus_killed');
    const group = uniqueName('g');
    const bus = new KafkaBus({ brokers: brokers(), sessionTimeoutMs: 6000 });
    await bus.start();
    try {
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      await bus.publish(
        topic,
        Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: Buffer.from(String(i)) })),
      );
      const module = fileURLToPath(new URL('../../../core/bus/kafka.ts', import.meta.url));
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { KafkaBus } from ${JSON.stringify(module)};
           const bus = new KafkaBus({ brokers: ${JSON.stringify(brokers())}, sessionTimeoutMs: 6000 });
           await bus.start();
           await bus.subscribe({ group: ${JSON.stringify(group)}, topics: [${JSON.stringify(topic)}], fromBeginning: true,
             handler: async (b) => { console.log('got ' + b.messages.length); await new Promise(() => {}); } });`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child consumer got no batch')), 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('got ')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGKILL');
      await exited;
      const got: number[] = [];
      const sub = await bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        handler: async (b) => void got.push(...b.messages.map((m) => Number(m.value.toString()))),
      });
      for (let i = 0; i < 3000 && got.length < 50; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
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
