/**
 * Issue 11(c): subscribing right after a topic is created raced the broker's metadata ("unable to
 * subscribe group … This server does not host this topic-partition", seen in e2e/degradation under
 * load). The bus now waits until every partition of the topics it ensures has a leader that serves
 * it. Here fresh topics are subscribed to, and published to, the moment they exist, many times over,
 * by two buses at once (one creates the topic, the other finds it already listed, or a publish
 * auto-creates it while the subscriber looks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../../core/bus/kafka.ts';
import type { Subscription } from '../../../core/bus/types.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const rounds = 12;
const wallLimitMs = 90_000;
const partitions = 4;

describe('KafkaBus on fresh topics', () => {
  let a: KafkaBus;
  let b: KafkaBus;
  const created: string[] = [];

  beforeAll(async () => {
    const brokers = requireService('kafka').split(',');
    a = new KafkaBus({ brokers, clientId: 'pp-topics-a' });
    b = new KafkaBus({ brokers, clientId: 'pp-topics-b' });
    await Promise.all([a.start(), b.start()]);
  });

  afterAll(async () => {
    await a?.deleteTopics(created).catch(() => undefined);
    await Promise.allSettled([a?.stop(), b?.stop()]);
  });

  it('subscribes and publishes the moment a topic is created, round after round, without a metadata error', async () => {
    const wallEnd = Date.now() + wallLimitMs;
    let done = 0;
    for (let round = 0; round < rounds && Date.now() < wallEnd; round++) {
      const topic = uniqueName(`pp_fresh_${round}`);
      created.push(topic);
      const got: string[] = [];
      const subs: Subscription[] = [];
      try {
        // Both buses ensure the topic at once: one creates it, the other may see it listed before it has leaders.
        const [subA] = await Promise.all([
          a.subscribe({
            group: uniqueName('g_fresh'),
            topics: [topic],
            fromBeginning: true,
            handler: async (batch) => void got.push(...batch.messages.map((m) => m.value.toString())),
          }),
          // Even rounds ensure the topic first; odd rounds publish at once (the broker auto-creates it).
          (round % 2 === 0 ? b.ensureTopics([{ topic, partitions }]) : Promise.resolve()).then(() =>
            b.publish(
              topic,
              Array.from({ length: partitions * 2 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`m${i}`) })),
            ),
          ),
        ]);
        subs.push(subA);
        for (let i = 0; i < 500 && got.length < partitions * 2; i++) await new Promise((r) => setTimeout(r, 20));
        expect(got.sort()).toEqual(Array.from({ length: partitions * 2 }, (_, i) => `m${i}`).sort());
        done++;
      } finally {
        await Promise.allSettled(subs.map((s) => s.stop()));
      }
    }
    // The wall bound must not turn the test into a no-op.
    expect(done).toBeGreaterThanOrEqual(3);
  });
});
