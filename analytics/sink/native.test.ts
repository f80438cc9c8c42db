import { describe, expect, it } from 'vitest';
import { flowRecord, type FieldMap, type RecordDefinition } from '../../core/records/index.ts';
import { NativeBlockWriter, nativeLayout } from './native.ts';
import { BlockPool } from './rowbinary.ts';

const flows = flowRecord as unknown as RecordDefinition<FieldMap>;

/** flows_raw's columns as 18.16 reports them (`system.columns`). */
function serverTypes(): Map<string, string> {
  const types = new Map<string, string>();
  for (const [name, f] of Object.entries(flows.fields)) {
    const type: Record<string, string> = {
      time: "DateTime('UTC')",
      uint8: 'UInt8',
      uint16: 'UInt16',
      uint32: 'UInt32',
      uint64: 'UInt64',
      float: 'Float64',
    };
    types.set(name, type[f.kind] ?? 'String');
  }
  types.set('src_partition', 'UInt32');
  types.set('src_offset', 'UInt64');
  return types;
}

describe('Native blocks', () => {
  it('takes the server’s types where they are the fields’ bytes, and nothing else', () => {
    const layout = nativeLayout(flows, serverTypes());
    expect(layout?.map((c) => c.name)).toEqual([...Object.keys(flows.fields), 'src_partition', 'src_offset']);
    expect(layout?.find((c) => c.name === 'time_received')?.type).toBe("DateTime('UTC')");
    // A newer server's LowCardinality column, a wider integer, a missing column: RowBinary instead.
    expect(nativeLayout(flows, new Map([...serverTypes(), ['site', 'LowCardinality(String)']]))).toBeUndefined();
    expect(nativeLayout(flows, new Map([...serverTypes(), ['protocol', 'UInt16']]))).toBeUndefined();
    const missing = serverTypes();
    missing.delete('src_offset');
    expect(nativeLayout(flows, missing)).toBeUndefined();
  });

  it('writes the bytes ClickHouse writes for the same block', () => {
    // `SELECT toUInt32(7) AS a, 'xy' AS s, toDateTime(0, 'UTC') AS t FORMAT Native` on 18.16.1
    // (its type name for t is plain DateTime there).
    const clickhouse =
      '03 01 01 61 06 55496e743332 07000000 01 73 06 537472696e67 02 7879 01 74 08 4461746554696d65 00000000'.replace(/ /g, '');
    const block = new NativeBlockWriter(
      [
        { name: 'a', type: 'UInt32' },
        { name: 's', type: 'String' },
        { name: 't', type: 'DateTime' },
      ],
      new BlockPool(64 * 1024),
    );
    let [a, s, t] = block.columns;
    a!.room(4);
    a!.u32(7);
    s!.str('xy');
    t!.room(4);
    t!.u32(0);
    expect(Buffer.concat(block.take(1)).toString('hex')).toBe(clickhouse);
    // A block without rows is nothing to send; the next one starts from its columns' heads again.
    expect(block.take(0)).toEqual([]);
    void block.columns;
    expect(block.take(0)).toEqual([]);
    [a, s, t] = block.columns;
    a!.room(8);
    a!.u32(1);
    a!.u32(2);
    s!.str('');
    s!.str('é');
    t!.room(8);
    t!.u32(1);
    t!.u32(2);
    const two = Buffer.concat(block.take(2));
    expect(two.subarray(0, 2)).toEqual(Buffer.from([3, 2]));
    expect(two.subarray(2, 11).toString('latin1')).toBe('\x01a\x06UInt32');
    expect(two.includes(Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]))).toBe(true);
    expect(two.includes(Buffer.from([0, 2, 0xc3, 0xa9]))).toBe(true);
  });
});
