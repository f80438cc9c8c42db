import { describe, expect, it } from 'vitest';
import { partitionsWithoutLeader, TopicsNotReadyError, waitForTopicsReady, type TopicMetadataView } from './topic-ready.ts';

const meta = (topics: Record<string, number[]>): TopicMetadataView => ({
  topics: Object.entries(topics).map(([name, leaders]) => ({
    name,
    partitions: leaders.map((leader, partitionId) => ({ partitionId, leader })),
  })),
});

describe('partitionsWithoutLeader', () => {
  it('is empty when every partition of every topic has a leader', () => {
    expect(partitionsWithoutLeader(meta({ a: [1, 1], b: [1] }), ['a', 'b'])).toEqual([]);
  });

  it('names partitions without a leader and topics the metadata lacks or has no partitions for', () => {
    expect(partitionsWithoutLeader(meta({ a: [1, -1, 1], c: [] }), ['a', 'b', 'c'])).toEqual(['a/1', 'b', 'c']);
  });
});

describe('waitForTopicsReady', () => {
  it('asks again until the metadata has leaders and the leader serves offsets', async () => {
    let metadataCalls = 0;
    let offsetCalls = 0;
    const admin = {
      fetchTopicMetadata: async () => {
        metadataCalls++;
        if (metadataCalls === 1) throw new Error('This server does not host this topic-partition');
        return meta({ t: metadataCalls < 3 ? [1, -1] : [1, 1] });
      },
      fetchTopicOffsets: async () => {
        offsetCalls++;
        if (offsetCalls === 1) throw new Error('This server does not host this topic-partition');
        return [];
      },
    };
    await waitForTopicsReady(admin, ['t'], { timeoutMs: 5_000, intervalMs: 1 });
    expect(metadataCalls).toBe(4);
    expect(offsetCalls).toBe(2);
  });

  it('fails after the timeout naming the partitions still without a leader and the last error', async () => {
    const admin = {
      fetchTopicMetadata: async () => meta({ ok: [1], t: [1, -1, -1] }),
      fetchTopicOffsets: async () => [],
    };
    const err = await waitForTopicsReady(admin, ['ok', 't'], { timeoutMs: 30, intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicsNotReadyError);
    expect((err as TopicsNotReadyError).pending).toEqual(['t/1', 't/2']);
    expect((err as Error).message).toMatch(/not ready after 30 ms: t\/1, t\/2/);
  });
});
