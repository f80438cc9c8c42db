import { describe, expect, it } from 'vitest';
import { InsertCombiner, joinBodies, type Piece } from './combine.ts';

const piece = (partition: number, rows: number, format: Piece['format'] = 'RowBinary'): Piece => ({
  format,
  body: Buffer.from(`p${partition}:${rows};`),
  rows,
  partition,
  first: BigInt(partition * 1000),
});

function recorder(windowMs = 1000, maxRows = 100) {
  const writes: Piece[][] = [];
  let fail = false;
  const combiner = new InsertCombiner<string>({
    maxRows,
    windowMs,
    write: async (pieces) => {
      writes.push([...pieces]);
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('store down');
      return pieces.map((p) => `stored p${p.partition}`);
    },
  });
  return { combiner, writes, failNext: () => void (fail = true) };
}

describe('insert combiner', () => {
  it('holds a piece while another batch still reads rows, then writes both as one INSERT, in order', async () => {
    const { combiner, writes } = recorder();
    combiner.enter();
    combiner.enter();
    combiner.leave(); // batch 0 waits on its piece
    const a = combiner.submit(piece(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    expect(writes).toHaveLength(0);
    const b = combiner.submit(piece(1, 20));
    combiner.leave(); // batch 1 is done reading: nothing left to wait for
    expect(await Promise.all([a, b])).toEqual(['stored p0', 'stored p1']);
    expect(writes.map((w) => w.map((p) => p.partition))).toEqual([[0, 1]]);
    expect(joinBodies(writes[0]!)).toEqual([Buffer.from('p0:10;'), Buffer.from('p1:20;')]);
  });

  it('writes at once when no batch is reading, and after the window when one keeps reading', async () => {
    const { combiner, writes } = recorder(40);
    expect(await combiner.submit(piece(0, 5))).toBe('stored p0');
    combiner.enter();
    const t0 = performance.now();
    expect(await combiner.submit(piece(1, 5))).toBe('stored p1');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    combiner.leave();
    expect(writes.map((w) => w.length)).toEqual([1, 1]);
  });

  it('never joins past maxRows or across formats, and a failed INSERT fails every piece in it', async () => {
    const { combiner, writes, failNext } = recorder(1000, 100);
    combiner.enter();
    const results = [
      combiner.submit(piece(0, 60)),
      combiner.submit(piece(1, 30)),
      combiner.submit(piece(2, 30)),
      combiner.submit(piece(3, 10, 'Native')),
    ];
    combiner.leave();
    await Promise.all(results);
    expect(writes.map((w) => w.map((p) => p.partition))).toEqual([[0, 1], [2], [3]]);
    failNext();
    combiner.enter();
    const failing = [combiner.submit(piece(4, 1)), combiner.submit(piece(5, 1))];
    combiner.leave();
    for (const f of failing) await expect(f).rejects.toThrow('store down');
    expect(writes.at(-1)!.map((p) => p.partition)).toEqual([4, 5]);
  });
});
