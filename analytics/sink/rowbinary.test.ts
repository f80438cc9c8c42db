import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockPool, RowBinaryWriter } from './rowbinary.ts';

type Op = { kind: 'u8' | 'u16' | 'u32' | 'u64' | 'f64'; v: number } | { kind: 'str'; v: string };

/** The plain reference: one Buffer per value. */
function reference(op: Op): Buffer {
  const b = Buffer.alloc(8);
  switch (op.kind) {
    case 'u8':
      return Buffer.from([op.v]);
    case 'u16':
      b.writeUInt16LE(op.v);
      return b.subarray(0, 2);
    case 'u32':
      b.writeUInt32LE(op.v);
      return b.subarray(0, 4);
    case 'u64':
      b.writeBigUInt64LE(BigInt(op.v));
      return b;
    case 'f64':
      b.writeDoubleLE(op.v);
      return b;
    case 'str': {
      const bytes = Buffer.from(op.v, 'utf8');
      const len: number[] = [];
      let n = bytes.length;
      do {
        len.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
        n >>>= 7;
      } while (n > 0);
      return Buffer.concat([Buffer.from(len), bytes]);
    }
  }
}

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u16' as const), v: fc.integer({ min: 0, max: 65_535 }) }),
  fc.record({ kind: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 4_294_967_295 }) }),
  fc.record({ kind: fc.constant('u64' as const), v: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) }),
  fc.record({ kind: fc.constant('f64' as const), v: fc.double() }),
  fc.record({ kind: fc.constant('str' as const), v: fc.string({ unit: 'binary', maxLength: 50 }) }),
  // Long enough for two- and three-byte lengths, and to cross the 1 MiB blocks.
  fc.record({
    kind: fc.constant('str' as const),
    v: fc.string({ unit: fc.constantFrom('x', 'é', '€', '𝄞'), minLength: 100, maxLength: 40_000 }),
  }),
);

describe('RowBinaryWriter', () => {
  it('writes exactly what a value-by-value encoding writes, across blocks and takes', () => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 40 }), { minLength: 1, maxLength: 60 }), (rows) => {
        const writer = new RowBinaryWriter();
        const taken: Buffer[] = [];
        const want: Buffer[] = [];
        rows.forEach((row, i) => {
          writer.room(8 * row.length); // the fixed-width reservation encode.ts makes per row
          for (const o of row) {
            if (o.kind === 'str') writer.str(o.v);
            else writer[o.kind](o.v);
            want.push(reference(o));
          }
          if (i % 7 === 6) taken.push(...writer.take());
        });
        expect(writer.length).toBe(Buffer.concat(want).length - Buffer.concat(taken).length);
        taken.push(...writer.take());
        expect(Buffer.concat(taken).equals(Buffer.concat(want))).toBe(true);
        expect(writer.take()).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('writes offsets beyond 2^53 from their 32-bit halves', () => {
    const writer = new RowBinaryWriter();
    const offset = (1n << 60n) + 12_345n;
    writer.room(8);
    writer.u64Parts(Number(offset & 0xffffffffn), Number(offset >> 32n));
    expect(Buffer.concat(writer.take()).readBigUInt64LE()).toBe(offset);
  });

  it('hands its blocks round through a pool without two bodies ever sharing bytes', () => {
    const pool = new BlockPool(4096, 8);
    /** `rows` strings of 40 × `c`, and the RowBinary bytes they make. */
    const write = (w: RowBinaryWriter, c: string, rows: number): string => {
      for (let i = 0; i < rows; i++) w.str(c.repeat(40));
      return `(${c.repeat(40)}`.repeat(rows);
    };
    const first = new RowBinaryWriter(pool);
    const sentText = write(first, 'a', 150); // over 6 KB: several blocks
    const taken = first.take();
    expect(taken.length).toBeGreaterThanOrEqual(2);
    const sent = Buffer.concat(taken);
    pool.release(taken);
    pool.release(taken); // a second release of the same body is ignored
    expect(pool.size).toBe(taken.length);
    // Both writers go on after the release: the first one must not write into the blocks it gave
    // back, which the second one now fills.
    const second = new RowBinaryWriter(pool);
    const firstText = write(first, 'c', 30);
    const secondText = write(second, 'd', 30);
    const firstMore = write(first, 'e', 30);
    const secondMore = write(second, 'f', 30);
    expect(pool.size).toBe(taken.length - 2); // one block each, both from the pool
    expect(Buffer.concat(first.take()).toString('latin1')).toBe(firstText + firstMore);
    expect(Buffer.concat(second.take()).toString('latin1')).toBe(secondText + secondMore);
    expect(sent.toString('latin1')).toBe(sentText);
    // Not its own (another pool's, or no block at all): never taken in.
    pool.release([Buffer.alloc(4096)]);
    expect(pool.size).toBe(taken.length - 2);
  });
});
