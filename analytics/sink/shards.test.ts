import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { halfMd5Mod } from './shards.ts';

describe('halfMd5Mod (the sink computes the Distributed tables’ shard)', () => {
  it('is ClickHouse halfMD5 modulo m', () => {
    // halfMD5('nyc') as ClickHouse 18.16.1 computes it (SELECT halfMD5('nyc')).
    const nyc = 14502006910083600616n;
    for (const m of [1, 2, 3, 7, 1_000_003, 2_097_151]) expect(halfMd5Mod('nyc', m)).toBe(Number(nyc % BigInt(m)));
    for (const key of ['', 'site-1', 'hkg', 'ünïcödé', 'x'.repeat(300)]) {
      const full = createHash('md5').update(key, 'utf8').digest().readBigUInt64BE(0);
      for (const m of [2, 3, 5, 1_000_003]) expect(halfMd5Mod(key, m), `${key} % ${m}`).toBe(Number(full % BigInt(m)));
    }
  });
});
