import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaBus } from './kafka.ts';
import { crcPatch, nativeCrcCalls } from './kafkajs-crc.ts';

const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve('kafkajs/package.json')), 'src', 'protocol', 'recordBatch', 'crc32C');

describe('native CRC-32C for kafkajs', () => {
  it('is installed and gives the same checksums as kafkajs’ JavaScript implementation', async () => {
    expect(KafkaBus).toBeTypeOf('function');
    expect(crcPatch).toEqual({ native: true });
    const used = require(join(dir, 'index.js')) as (b: Buffer) => number;
    const js = require(join(dir, 'crc32C.js')) as (b: Buffer) => number;
    expect(used(Buffer.from('123456789'))).toBe(0xe3069283);
    for (const size of [0, 1, 7, 64, 1000, 65_537, 300_001]) {
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i++) buf[i] = (i * 2654435761) >>> 24;
      expect(used(buf)).toBe(js(buf) >>> 0);
    }
    // kafkajs' record batch encoder calls the native one.
    const { RecordBatch } = require(join(dir, '..', 'v0', 'index.js')) as {
      RecordBatch: (a: { records: never[] }) => Promise<{ buffer: Buffer }>;
    };
    const before = nativeCrcCalls.count;
    const batch = await RecordBatch({ records: [] });
    expect(batch.buffer.length).toBeGreaterThan(40);
    expect(nativeCrcCalls.count).toBe(before + 1);
  });
});
