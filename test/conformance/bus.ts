/**
 * The Bus contract (core/bus/types.ts), checked against every implementation: the unit tier runs it
 * on the in-process bus (core/bus/memory.test.ts), the functional tier on Kafka
 * (test/functional/core/bus.functional.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, MessageBatch, ReceivedMessage, Subscription } from '../../core/bus/types.ts';
import { uniqueName } from '../support/services.ts';

export interface BusConformanceOptions {
  /** How long to wait for expected deliveries (Kafka joins groups in seconds). @defaultValue 30000 */
  waitMs?: number;
  /** How long "nothing more arrives" is watched before asserting an exact count. @defaultValue 300 */
  quietMs?: number;
}

/** Each call returns a started bus; several calls are several "processes" on one cluster. */
export type BusFactory = () => Promise<Bus>;

interface Received {
  topic: string;
  partition: number;
  message: ReceivedMessage;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function body(value: object): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parse(m: ReceivedMessage): { key: string; seq: number } {
  return JSON.parse(m.value.toString('utf8')) as { key: string; seq: number };
}

export function busConformance(name: string, factory: BusFactory, options: BusConformanceOptions = {}): void {
  const waitMs = options.waitMs ?? 30_000;
  const quietMs = options.quietMs ?? 300;

  describe(`Bus conformance: ${name}`, () => {
    const buses: Bus[] = [];
    const topics: string[] = [];
    const subscriptions: Subscription[] = [];

    async function bus(): Promise<Bus> {
      const b = await factory();
      buses.push(b);
      return b;
    }

    async function topic(b: Bus, partitions = 3): Promise<string> {
      const t = uniqueName('conf_bus');
      topics.push(t);
      await b.ensureTopics([{ topic: t, partitions }]);
      return t;
    }

    /** Subscribes and records every delivered message (and each handler call) in `out`. */
    async function collect(
      b: Bus,
      opts: { group: string; topics: string[]; fromBeginning?: boolean; maxBatchMessages?: number },
      out: Received[],
      before?: (batch: MessageBatch) => Promise<void>,
    ): Promise<Subscription> {
      const sub = await b.subscribe({
        ...opts,
        handler: async (batch) => {
          if (before) await before(batch);
          for (const message of batch.messages) out.push({ topic: batch.topic, partition: batch.partition, message });
        },
      });
      subscriptions.push(sub);
      return sub;
    }

    afterEach(async () => {
      for (const s of subscriptions.splice(0)) await s.stop();
      const cleaner = buses[0];
      if (cleaner && topics.length) await cleaner.deleteTopics(topics.splice(0));
      for (const b of buses.splice(0)) await b.stop();
    });

    it('publishes and consumes with exact counts, keys, headers and offsets', async () => {
      const b = await bus();
      const t = await topic(b);
      const got: Received[] = [];
      await collect(b, { group: uniqueName('g'), topics: [t], fromBeginning: true }, got);
      for (let call = 0; call < 3; call++) {
        await b.publish(
          t,
          Array.from({ length: 100 }, (_, i) => ({
            key: `k${i % 10}`,
            value: body({ key: `k${i % 10}`, seq: call * 100 + i }),
            headers: { 'pp-schema': 'test.v1', call: String(call) },
          })),
        );
      }
      await waitFor('300 messages', () => got.length >= 300, waitMs);
      await sleep(quietMs);
      expect(got).toHaveLength(300);
      const seqs = new Set(got.map((r) => parse(r.message).seq));
      expect(seqs.size).toBe(300);
      for (const r of got) {
        const { key, seq } = parse(r.message);
        expect(r.topic).toBe(t);
        expect(r.message.key).toBe(key);
        expect(r.message.headers).toEqual({ 'pp-schema': 'test.v1', call: String(Math.floor(seq / 100)) });
        expect(r.message.offset).toMatch(/^\d+$/);
        expect(r.message.timestamp).toBeGreaterThan(Date.UTC(2000, 0, 1));
      }
      // Offsets are dense per partition: 0, 1, 2, … with nothing skipped or repeated.
      const byPartition = new Map<number, number[]>();
      for (const r of got) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), Number(r.message.offset)]);
      for (const offsets of byPartition.values()) {
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      expect([...byPartition.keys()].every((p) => p >= 0 && p < 3)).toBe(true);
    });

    it('keeps per-key order, one key on one partition', async () => {
      const b = await bus();
      const t = await topic(b, 4);
      const got: Received[] = [];
      await collect(b, { group: uniqueName('g'), topics: [t], fromBeginning: true, maxBatchMessages: 7 }, got);
      const keys = ['edge-a', 'edge-b', 'edge-c', 'edge-d', 'edge-e'];
      let seq = 0;
      for (let call = 0; call < 10; call++) {
        await b.publish(
          t,
          Array.from({ length: 50 }, (_, i) => {
            const key = keys[(i * 7 + call) % keys.length];
            return { key, value: body({ key, seq: seq++ }) };
          }),
        );
      }
      await waitFor('500 messages', () => got.length >= 500, waitMs);
      const perKey = new Map<string, { partitions: Set<number>; seqs: number[] }>();
      for (const r of got) {
        const { key, seq: s } = parse(r.message);
        const entry = perKey.get(key) ?? { partitions: new Set(), seqs: [] };
        entry.partitions.add(r.partition);
        entry.seqs.push(s);
        perKey.set(key, entry);
      }
      expect([...perKey.keys()].sort()).toEqual(keys);
      for (const { partitions, seqs } of perKey.values()) {
        expect(partitions.size).toBe(1);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    });

    it('commits only after the handler succeeds: a failed batch is redelivered, nothing lost or skipped', async () => {
      const b = await bus();
      const t = await topic(b, 1);
      const got: Received[] = [];
      let calls = 0;
      let failedBatch: string[] = [];
      await collect(b, { group: uniqueName('g'), topics: [t], fromBeginning: true, maxBatchMessages: 20 }, got, async (batch) => {
        calls++;
        if (calls === 1) {
          failedBatch = batch.messages.map((m) => m.offset);
          throw new Error('sink down (injected)');
        }
      });
      await b.publish(
        t,
        Array.from({ length: 60 }, (_, i) => ({ key: 'one', value: body({ key: 'one', seq: i }) })),
      );
      await waitFor('60 messages after a redelivery', () => got.length >= 60, waitMs);
      await sleep(quietMs);
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(failedBatch.length).toBeGreaterThan(0);
      expect(failedBatch[0]).toBe('0');
      // The failed batch came back (its messages were not recorded the first time) and nothing repeats.
      expect(got.map((r) => Number(r.message.offset))).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(got.map((r) => parse(r.message).seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    });

    it('does not commit a batch whose handler keeps failing: the next member of the group gets it', async () => {
      const b1 = await bus();
      const t = await topic(b1, 1);
      const group = uniqueName('g');
      let failures = 0;
      const first = await b1.subscribe({
        group,
        topics: [t],
        fromBeginning: true,
        handler: async () => {
          failures++;
          throw new Error('always failing (injected)');
        },
      });
      await b1.publish(
        t,
        Array.from({ length: 10 }, (_, i) => ({ value: body({ key: 'x', seq: i }) })),
      );
      await waitFor('a failed delivery', () => failures >= 1, waitMs);
      await first.stop();
      const b2 = await bus();
      const got: Received[] = [];
      await collect(b2, { group, topics: [t], fromBeginning: true }, got);
      await waitFor('10 messages on the second member', () => got.length >= 10, waitMs);
      await sleep(quietMs);
      expect(got.map((r) => parse(r.message).seq).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('a restarted group resumes after its committed offsets', async () => {
      const b1 = await bus();
      const t = await topic(b1);
      const group = uniqueName('g');
      const first: Received[] = [];
      const sub1 = await collect(b1, { group, topics: [t], fromBeginning: true }, first);
      await b1.publish(
        t,
        Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: body({ key: `k${i % 5}`, seq: i }) })),
      );
      await waitFor('50 messages', () => first.length >= 50, waitMs);
      await sub1.stop();
      await b1.publish(
        t,
        Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: body({ key: `k${i % 5}`, seq: 50 + i }) })),
      );
      // A new "process": fromBeginning must not matter once the group has committed offsets.
      const b2 = await bus();
      const second: Received[] = [];
      await collect(b2, { group, topics: [t], fromBeginning: true }, second);
      await waitFor('30 new messages', () => second.length >= 30, waitMs);
      await sleep(quietMs);
      expect(first).toHaveLength(50);
      expect(second.map((r) => parse(r.message).seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => 50 + i));
    });

    it('pause stops deliveries until resume', async () => {
      const b = await bus();
      const t = await topic(b);
      const got: Received[] = [];
      const sub = await collect(b, { group: uniqueName('g'), topics: [t], fromBeginning: true }, got);
      await b.publish(t, [{ key: 'a', value: body({ key: 'a', seq: 0 }) }]);
      await waitFor('the first message', () => got.length >= 1, waitMs);
      sub.pause();
      await b.publish(
        t,
        Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: body({ key: `k${i}`, seq: i + 1 }) })),
      );
      await sleep(Math.max(quietMs, 1500));
      expect(got).toHaveLength(1);
      sub.resume();
      await waitFor('21 messages after resume', () => got.length >= 21, waitMs);
      await sleep(quietMs);
      expect(got).toHaveLength(21);
    });

    it('fromBeginning reads history; otherwise a new group starts at the end', async () => {
      const b = await bus();
      const t = await topic(b);
      await b.publish(
        t,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: body({ key: `k${i}`, seq: i }) })),
      );
      const early: Received[] = [];
      const late: Received[] = [];
      await collect(b, { group: uniqueName('early'), topics: [t], fromBeginning: true }, early);
      await collect(b, { group: uniqueName('late'), topics: [t], fromBeginning: false }, late);
      await waitFor('history for the fromBeginning group', () => early.length >= 10, waitMs);
      await b.publish(
        t,
        Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: body({ key: `k${i}`, seq: 10 + i }) })),
      );
      await waitFor('15 and 5 messages', () => early.length >= 15 && late.length >= 5, waitMs);
      await sleep(quietMs);
      expect(early).toHaveLength(15);
      expect(late.map((r) => parse(r.message).seq).sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14]);
    });

    it('independent groups each receive every message; one subscription reads several topics', async () => {
      const b = await bus();
      const t1 = await topic(b, 2);
      const t2 = await topic(b, 1);
      const g1: Received[] = [];
      const g2: Received[] = [];
      await collect(b, { group: uniqueName('g1'), topics: [t1, t2], fromBeginning: true }, g1);
      await collect(b, { group: uniqueName('g2'), topics: [t1], fromBeginning: true }, g2);
      await b.publish(
        t1,
        Array.from({ length: 40 }, (_, i) => ({ value: body({ key: 't1', seq: i }) })),
      );
      await b.publish(
        t2,
        Array.from({ length: 7 }, (_, i) => ({ value: body({ key: 't2', seq: i }) })),
      );
      await waitFor('47 and 40 messages', () => g1.length >= 47 && g2.length >= 40, waitMs);
      await sleep(quietMs);
      expect(g1.filter((r) => r.topic === t1)).toHaveLength(40);
      expect(g1.filter((r) => r.topic === t2)).toHaveLength(7);
      expect(g2).toHaveLength(40);
    });

    it('rejects malformed input with a clear error and publishes nothing of the call', async () => {
      const b = await bus();
      const t = await topic(b, 1);
      const got: Received[] = [];
      await collect(b, { group: uniqueName('g'), topics: [t], fromBeginning: true }, got);
      await expect(
        b.publish(t, [{ value: body({ key: 'ok', seq: 0 }) }, { value: 'not a buffer' as unknown as Buffer }]),
      ).rejects.toThrow(/message 1 has no Buffer value/);
      await expect(b.publish('bad topic!', [{ value: Buffer.from('x') }])).rejects.toThrow(/invalid topic name/);
      await b.publish(t, [{ value: body({ key: 'ok', seq: 1 }) }]);
      await waitFor('the valid message', () => got.length >= 1, waitMs);
      await sleep(quietMs);
      expect(got.map((r) => parse(r.message).seq)).toEqual([1]);
    });
  });
}
