import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from './partition.ts';

describe('murmur2 partitioning', () => {
  it('matches the values of Kafka’s own UtilsTest', () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, want] of cases) expect(murmur2(Buffer.from(input))).toBe(want);
  });

  it('places keys where kafkajs’ default partitioner does', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({
      partitionErrorCode: 0,
      partitionId: i,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    for (let i = 0; i < 200; i++) {
      const key = `exporter-${i}.example`;
      const want = partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
      expect(partitionForKey(key, 7)).toBe(want);
    }
  });
});
