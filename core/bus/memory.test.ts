import { describe, expect, it } from 'vitest';
import { busConformance } from '../../test/conformance/bus.ts';
import { SimulatedClock } from '../clock.ts';
import { createRegistry, metricValues } from '../metrics.ts';
import { createBus } from './index.ts';
import { MemoryBroker, MemoryBus } from './memory.ts';
import type { MessageBatch } from './types.ts';
import { checkSubscribe } from './validate.ts';

const broker = new MemoryBroker();
busConformance(
  'memory',
  async () => {
    const bus = new MemoryBus({ broker, retryBackoffMs: 20 });
    await bus.start();
    return bus;
  },
  { waitMs: 5_000, quietMs: 100 },
);

describe('MemoryBus', () => {
  it('counts published and consumed messages, handler errors and redeliveries', async () => {
    const registry = createRegistry();
    const bus = createBus({ kind: 'memory', brokers: [] }, { registry });
    await bus.start();
    let calls = 0;
    const done: MessageBatch[] = [];
    await bus.subscribe({
      group: 'g',
      topics: ['t'],
      fromBeginning: true,
      handler: async (batch) => {
        if (calls++ === 0) throw new Error('injected');
        done.push(batch);
      },
    });
    await bus.publish('t', [
      { key: 'a', value: Buffer.from('1') },
      { key: 'a', value: Buffer.from('22') },
    ]);
    for (let i = 0; i < 200 && done.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await bus.stop();
    const m = await metricValues(registry);
    expect(m['pathpilot_bus_published_messages_total{topic="t"}']).toBe(2);
    expect(m['pathpilot_bus_published_bytes_total{topic="t"}']).toBe(3);
    expect(m['pathpilot_bus_consumed_messages_total{topic="t"}']).toBe(2);
    expect(m['pathpilot_bus_redelivered_messages_total{topic="t"}']).toBe(2);
    expect(m['pathpilot_bus_errors_total{error_type="handler"}']).toBe(1);
  });

  it('shares a group partitions among members and hands them over when one leaves', async () => {
    const bus = new MemoryBus();
    await bus.start();
    await bus.ensureTopics([{ topic: 'shared', partitions: 4 }]);
    const seen = new Map<string, number[]>();
    const member = (name: string) =>
      bus.subscribe({
        group: 'g',
        topics: ['shared'],
        fromBeginning: true,
        handler: async (batch) => {
          seen.set(name, [...(seen.get(name) ?? []), ...batch.messages.map(() => batch.partition)]);
        },
      });
    const a = await member('a');
    await member('b');
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    await bus.publish(
      'shared',
      keys.map((key) => ({ key, value: Buffer.from(key) })),
    );
    for (let i = 0; i < 200 && (seen.get('a')?.length ?? 0) + (seen.get('b')?.length ?? 0) < 40; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const pa = new Set(seen.get('a'));
    const pb = new Set(seen.get('b'));
    expect(pa.size).toBeGreaterThan(0);
    expect(pb.size).toBeGreaterThan(0);
    expect([...pa].filter((p) => pb.has(p))).toEqual([]);
    await a.stop();
    await bus.publish(
      'shared',
      keys.map((key) => ({ key, value: Buffer.from(key) })),
    );
    const total = () => (seen.get('a')?.length ?? 0) + (seen.get('b')?.length ?? 0);
    for (let i = 0; i < 200 && total() < 80; i++) await new Promise((r) => setTimeout(r, 10));
    expect(total()).toBe(80);
    // After `a` left, `b` owns all four partitions and read the whole second round.
    expect(new Set(seen.get('b')?.slice(-40))).toEqual(new Set([0, 1, 2, 3].filter((p) => pa.has(p) || pb.has(p))));
    expect(seen.get('b')!.length).toBeGreaterThanOrEqual(40 + pb.size);
    await bus.stop();
  });

  it('a topic deleted and created again is read from its start by a latest-offset group', async () => {
    const bus = new MemoryBus();
    await bus.start();
    await bus.ensureTopics([{ topic: 'again', partitions: 1 }]);
    await bus.publish('again', [{ value: Buffer.from('old-1') }, { value: Buffer.from('old-2') }]);
    const got: string[] = [];
    await bus.subscribe({
      group: 'g',
      topics: ['again'],
      handler: async (b) => void got.push(...b.messages.map((m) => m.value.toString())),
    });
    await bus.deleteTopics(['again']);
    await bus.ensureTopics([{ topic: 'again', partitions: 1 }]);
    await bus.publish('again', [{ value: Buffer.from('new-1') }]);
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['new-1']);
    await bus.stop();
  });

  it('stamps messages with the clock it was given', async () => {
    const clock = new SimulatedClock(Date.UTC(2026, 0, 5));
    const bus = createBus({ kind: 'memory', brokers: [] }, { clock });
    await bus.start();
    const stamps: number[] = [];
    await bus.subscribe({
      group: 'g',
      topics: ['clocked'],
      fromBeginning: true,
      handler: async (b) => void stamps.push(...b.messages.map((m) => m.timestamp)),
    });
    await bus.publish('clocked', [{ value: Buffer.from('x') }]);
    for (let i = 0; i < 100 && stamps.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stamps).toEqual([Date.UTC(2026, 0, 5)]);
    await bus.stop();
  });

  it('refuses use before start and names the missing brokers of a kafka config', async () => {
    const bus = new MemoryBus();
    await expect(bus.publish('t', [])).rejects.toThrow(/before start/);
    expect(() => createBus({ kind: 'kafka', brokers: [] })).toThrow(/services\.bus\.brokers/);
  });

  it('refuses a fetch size per partition that is not a whole number of bytes ≥ 1024', () => {
    const base = { group: 'g', topics: ['t'], handler: async () => undefined };
    expect(() => checkSubscribe({ ...base, fetchBytesPerPartition: 512 })).toThrow(/fetchBytesPerPartition/);
    expect(() => checkSubscribe({ ...base, fetchBytesPerPartition: 1.5e6 + 0.5 })).toThrow(/fetchBytesPerPartition/);
    expect(() => checkSubscribe({ ...base, fetchBytesPerPartition: 64 * 1024 * 1024 })).not.toThrow();
    expect(() => checkSubscribe({ ...base, fetchMinBytes: 0 })).toThrow(/fetchMinBytes/);
    expect(() => checkSubscribe({ ...base, partitionsConcurrently: 0 })).toThrow(/partitionsConcurrently/);
    expect(() => checkSubscribe({ ...base, partitionsConcurrently: 4 })).not.toThrow();
    expect(() => checkSubscribe({ ...base, fetchMaxWaitMs: 60_000 })).toThrow(/fetchMaxWaitMs/);
    expect(() => checkSubscribe({ ...base, fetchMaxWaitMs: -1 })).toThrow(/fetchMaxWaitMs/);
    expect(() => checkSubscribe({ ...base, fetchMinBytes: 8 * 1024 * 1024, fetchMaxWaitMs: 1000 })).not.toThrow();
  });

  it('stop() waits for the running handler and commits what it finished', async () => {
    const broker2 = new MemoryBroker();
    const bus = new MemoryBus({ broker: broker2 });
    await bus.start();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    await bus.subscribe({
      group: 'g',
      topics: ['slow'],
      fromBeginning: true,
      handler: async () => {
        started = true;
        await gate;
      },
    });
    await bus.publish('slow', [{ value: Buffer.from('x') }]);
    for (let i = 0; i < 100 && !started; i++) await new Promise((r) => setTimeout(r, 5));
    const stopping = bus.stop();
    release();
    await stopping;
    expect(
      broker2.committedOffset('g', 'slow', 0) ??
        broker2.committedOffset('g', 'slow', 1) ??
        broker2.committedOffset('g', 'slow', 2),
    ).toBe(1);
  });
});

describe('MemoryBus retention', () => {
  it('trims consumed messages beyond maxRetainedMessages but keeps a lagging group’s backlog', async () => {
    const broker = new MemoryBroker();
    const bus = new MemoryBus({ broker, maxRetainedMessages: 10 });
    await bus.start();
    await bus.ensureTopics([{ topic: 'r', partitions: 1 }]);
    const fast: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: number[] = [];
    await bus.subscribe({
      group: 'fast',
      topics: ['r'],
      handler: async (b) => void fast.push(...b.messages.map((m) => Number(m.offset))),
    });
    await bus.subscribe({
      group: 'slow',
      topics: ['r'],
      maxBatchMessages: 5,
      handler: async (b) => {
        await gate;
        slow.push(...b.messages.map((m) => Number(m.offset)));
      },
    });
    for (let i = 0; i < 100; i++) {
      await bus.publish('r', [{ value: Buffer.from(String(i)) }]);
      await new Promise((r) => setImmediate(r));
    }
    const log = broker.topics.get('r')!.partitions[0]!;
    // The slow group holds its first batch: nothing it still needs is trimmed.
    expect(log.base).toBe(0);
    expect(log.messages).toHaveLength(100);
    release();
    for (let i = 0; i < 200 && (slow.length < 100 || fast.length < 100); i++) await new Promise((r) => setTimeout(r, 5));
    expect(slow).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(fast).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await bus.publish('r', [{ value: Buffer.from('100') }]);
    expect(log.messages.length).toBeLessThanOrEqual(13);
    expect(log.base + log.messages.length).toBe(101);
    // A new group reading from the beginning starts at the oldest retained message.
    const late: number[] = [];
    await bus.subscribe({
      group: 'late',
      topics: ['r'],
      fromBeginning: true,
      handler: async (b) => void late.push(...b.messages.map((m) => Number(m.offset))),
    });
    for (let i = 0; i < 100 && late.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(late[0]).toBe(log.base);
    expect(late.at(-1)).toBe(100);
    await bus.stop();
  });
});
