import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  changeRecord,
  costRecord,
  decodeRecords,
  encodeRecords,
  flowRecord,
  ifaceRecord,
  maxTimeMs,
  probeRecord,
  type FieldMap,
  type RecordDefinition,
} from '../../core/records/index.ts';
import { rowEncoder } from './encode.ts';
import { BlockPool, RowBinaryWriter } from './rowbinary.ts';
import { type Transcoder, transcoder } from './transcode.ts';

const flows = rowEncoder(flowRecord);
const fast = transcoder(flowRecord);

/** The general path's rows for a message: decode, valid(), writeRow. */
function generalRows(body: Buffer, partition: number, low: number, high: number): { bytes: Buffer; allValid: boolean } {
  const w = new RowBinaryWriter();
  let allValid = true;
  for (const r of decodeRecords(body)) {
    if (flows.valid(r)) flows.writeRow(w, r as Record<string, unknown>, partition, low, high);
    else allValid = false;
  }
  return { bytes: Buffer.concat(w.take()), allValid };
}

function fastRows(body: Buffer, partition: number, low: number, high: number): Buffer | undefined {
  const n = fast.read(body);
  if (n < 0) return undefined;
  const w = new RowBinaryWriter();
  for (let i = 0; i < n; i++) fast.writeRow(i, w, partition, low, high);
  const rows = Buffer.concat(w.take());
  // The whole message in one call writes the same bytes.
  const whole = new RowBinaryWriter();
  fast.writeRows(whole, partition, low, high);
  expect(Buffer.concat(whole.take()).equals(rows)).toBe(true);
  return rows;
}

const columnCount = Object.keys(flowRecord.fields).length + 2;

/** Each column's bytes (Native's column data): the general path's, per decoded record. */
function generalColumns(body: Buffer, partition: number, low: number, high: number): Buffer[] {
  const columns = Array.from({ length: columnCount }, () => new RowBinaryWriter());
  for (const r of decodeRecords(body))
    if (flows.valid(r)) flows.writeColumns(columns, r as Record<string, unknown>, partition, low, high);
  return columns.map((c) => Buffer.concat(c.take()));
}

/** The same from the fast path, for a message it takes (call after fast.read). */
function fastColumns(partition: number, low: number, high: number): Buffer[] {
  const columns = Array.from({ length: columnCount }, () => new RowBinaryWriter());
  fast.writeColumns(columns, partition, low, high);
  return columns.map((c) => Buffer.concat(c.take()));
}

/**
 * Columns that `readColumns` writes into, message after message, and the bytes they should hold:
 * small blocks (a new one at almost every claim), so that a refused message's claims begin new ones.
 */
class FusedColumns {
  constructor(private readonly t: Transcoder = fast) {}

  readonly columns = Array.from({ length: columnCount }, () => new RowBinaryWriter(new BlockPool(1100)));
  private expected: Buffer[][] = Array.from({ length: columnCount }, () => []);

  /** `readColumns` on a message: it takes what `read` takes, and then writes `writeColumns`' bytes. */
  add(body: Buffer, partition: number, low: number, high: number): number {
    const lengths = this.columns.map((c) => c.length);
    const n = this.t.readColumns(body, this.columns, partition, low, high);
    expect(n).toBe(this.t.read(body));
    if (n < 0) expect(this.columns.map((c) => c.length)).toEqual(lengths);
    else {
      const columns = Array.from({ length: columnCount }, () => new RowBinaryWriter());
      this.t.writeColumns(columns, partition, low, high);
      columns.forEach((c, i) => this.expected[i]!.push(...c.take()));
    }
    return n;
  }

  /** Every column holds exactly the bytes of the messages taken, in order. */
  check(): void {
    const got = this.columns.map((c) => Buffer.concat(c.take()));
    const want = this.expected.map((parts) => Buffer.concat(parts));
    // Not toEqual: it compares large buffers byte by byte, slowly.
    got.forEach((bytes, c) => expect(bytes.equals(want[c]!), `column ${c}`).toBe(true));
    this.expected = Array.from({ length: columnCount }, () => []);
  }
}

const base = {
  time_received: Date.UTC(2026, 11, 7, 1, 2, 3, 456),
  exporter: '10.255.0.1',
  format: 'ipfix',
  domain_id: 256,
  sequence: 7,
  sampling_rate: 100,
  src_addr: '10.1.2.3',
  dst_addr: '2001:db8::1',
  protocol: 6,
  bytes: 1_500_000_000_000,
  packets: 3,
};

// Values of every shape the wire can carry, valid or not, so both paths meet the edge cases.
const anyValue = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }),
  fc.constantFrom(
    0,
    0x3f,
    0x40,
    0x7f,
    0x80,
    255,
    256,
    65_535,
    65_536,
    2 ** 32 - 1,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    maxTimeMs,
    maxTimeMs + 1,
  ),
  fc.double({ noNaN: false }),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('ipfix', 'netflow9', 'sflow5', 'IPFIX', '', 'x'.repeat(46), 'x'.repeat(45)),
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 2 }),
);

const fieldNames = Object.keys(flowRecord.fields);

/** A value the definition accepts for a field (boundaries included). */
function validValue(kind: string, values?: readonly string[]): fc.Arbitrary<unknown> {
  const max: Record<string, number> = {
    uint8: 255,
    uint16: 65_535,
    uint32: 2 ** 32 - 1,
    uint64: Number.MAX_SAFE_INTEGER,
    time: maxTimeMs,
  };
  if (kind in max)
    return fc.oneof(
      fc.integer({ min: 0, max: Math.min(max[kind]!, 2 ** 31) }),
      fc.constantFrom(0, 0x3f, 0x40, 0x7f, 0x80, max[kind]!),
    );
  if (kind === 'float') return fc.double({ noNaN: true, noDefaultInfinity: true });
  if (kind === 'enum') return fc.constantFrom(...values!);
  if (kind === 'ip') return fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(''));
  return fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 200, maxLength: 300 }));
}

const flowFields = Object.entries(flowRecord.fields as FieldMap);
const validRecord = fc.record(Object.fromEntries(flowFields.map(([name, f]) => [name, validValue(f.kind, f.values)])), {
  requiredKeys: flowFields.filter(([, f]) => !f.optional).map(([n]) => n),
});

// Mostly valid records, some with one field changed to any shape, added or dropped.
const mutatedRecord = fc.oneof(
  { weight: 3, arbitrary: validRecord },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        validRecord,
        fc.dictionary(fc.constantFrom(...fieldNames, 'extra', 'note'), anyValue, { maxKeys: 1 }),
        fc.subarray(fieldNames, { maxLength: 1 }),
      )
      .map(([valid, changes, dropped]) => {
        const r: Record<string, unknown> = { ...valid, ...changes };
        for (const f of dropped) delete r[f];
        return r;
      }),
  },
);

describe('transcoder (MessagePack records → RowBinary)', () => {
  it('takes what the collectors send and writes exactly the general path’s bytes', () => {
    const records = Array.from({ length: 500 }, (_, i) => ({
      ...base,
      sequence: i,
      src_port: 1024 + i,
      dst_port: 443,
      dscp: 46,
      flow_start: base.time_received - 1000,
      flow_end: base.time_received,
      site: `site-${i % 7}`,
      dst_site: `site-${(i + 3) % 7}`,
      link: `link-${i % 11}`,
      class: ['voice', 'video', 'business', 'bulk'][i % 4],
      // Optional fields present in some records only: several record structures in one message.
      ...(i % 3 === 0 ? { next_hop: '172.16.1.2', src_as: 64512 } : {}),
    }));
    const body = encodeRecords(records);
    const fastBytes = fastRows(body, 3, 0x1234, 5);
    expect(fastBytes).toBeDefined();
    expect(fastBytes!.equals(generalRows(body, 3, 0x1234, 5).bytes)).toBe(true);
    const columns = fastColumns(3, 0x1234, 5);
    expect(columns).toEqual(generalColumns(body, 3, 0x1234, 5));
    // Column by column, the same values: the partition column is 500 × UInt32 3.
    expect(columns[columnCount - 2]!.equals(Buffer.alloc(4 * 500, Buffer.from([3, 0, 0, 0])))).toBe(true);
    // In one pass, the same columns.
    const fused = Array.from({ length: columnCount }, () => new RowBinaryWriter());
    expect(fast.readColumns(body, fused, 3, 0x1234, 5)).toBe(500);
    expect(fused.map((c) => Buffer.concat(c.take()))).toEqual(columns);
    fast.read(body);
    expect(fast.text(4, 'site')).toBe('site-4');
    expect(fast.text(0, 'next_hop')).toBe('172.16.1.2');
    expect(fast.text(1, 'next_hop')).toBe('');
  });

  it('never accepts a message the general path would not store whole, and agrees byte for byte when it does', () => {
    let accepted = 0;
    let wholeValid = 0;
    fc.assert(
      fc.property(fc.array(mutatedRecord, { minLength: 1, maxLength: 4 }), fc.boolean(), (records, plainMaps) => {
        const body = plainMaps ? new Packr({ useRecords: false }).pack(records) : encodeRecords(records);
        const general = generalRows(body, 1, 99, 0);
        const fastBytes = fastRows(body, 1, 99, 0);
        if (general.allValid && !plainMaps) wholeValid++;
        if (fastBytes === undefined) return;
        accepted++;
        expect(general.allValid).toBe(true);
        expect(fastBytes.equals(general.bytes)).toBe(true);
        expect(fastColumns(1, 99, 0)).toEqual(generalColumns(body, 1, 99, 0));
      }),
      { numRuns: 2_000, seed: 20261207 },
    );
    // The comparison means something only if the fast path took a good share of the valid messages.
    expect(accepted).toBeGreaterThan(wholeValid / 3);
    expect(accepted).toBeGreaterThan(100);
  });

  it('reads and writes columns in one pass exactly as read and writeColumns, taking back a message it refuses', () => {
    let accepted = 0;
    let refused = 0;
    const fused = new FusedColumns();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(mutatedRecord, { minLength: 0, maxLength: 6 }), fc.boolean(), fc.nat({ max: 99 })), {
          minLength: 1,
          maxLength: 5,
        }),
        (messages) => {
          // Several messages into the same columns: those after a refused one land where it did not.
          for (const [records, plainMaps, cut] of messages) {
            let body = plainMaps ? new Packr({ useRecords: false }).pack(records) : encodeRecords(records);
            // Now and then a message cut short, or with a byte more.
            if (cut === 0) body = body.subarray(0, Math.floor(body.length / 2));
            if (cut === 1) body = Buffer.concat([body, Buffer.from([0x40])]);
            if (fused.add(body, cut, 99 + cut, 1) < 0) refused++;
            else accepted++;
          }
          fused.check();
        },
      ),
      { numRuns: 500, seed: 20261208 },
    );
    expect(accepted).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(200);
  });

  it('takes back every column when a record fails mid-way through a message', () => {
    // A new transcoder, whose unrolled structure is these records', and the one of every test.
    for (const t of [transcoder(flowRecord), fast]) takeBack(new FusedColumns(t));
  });

  function takeBack(fused: FusedColumns): void {
    const record = (i: number): Record<string, unknown> => ({ ...base, sequence: i, site: `site-${i}`, link: 'l'.repeat(i) });
    expect(fused.add(encodeRecords([record(1), record(2)]), 0, 1, 0)).toBe(2);
    const before = fused.columns.map((c) => c.length);
    // Three good records written, then the fourth refused: protocol, enum, a non-ASCII (in a string's
    // first word, its last bytes, a long one) or an over-long string, a negative number.
    const bads = [
      { protocol: 256 },
      { format: 'nope' },
      { site: 'zürich' },
      { link: 'abcdé' },
      { dst_site: `${'x'.repeat(70)}é` },
      { src_addr: 'x'.repeat(46) },
      { bytes: -1 },
    ];
    for (const bad of bads) {
      const records = [record(3), record(4), record(5), { ...record(6), ...bad }, record(7)];
      expect(fused.add(encodeRecords(records), 0, 2, 0)).toBe(-1);
      expect(fused.columns.map((c) => c.length)).toEqual(before);
    }
    // Strings far longer than the columns' claims so far: the message is read again with room enough.
    const long = Array.from({ length: 50 }, (_, i) => ({
      ...record(i),
      site: 's'.repeat(1000 + i),
      dst_site: 'd'.repeat(65_000),
    }));
    expect(fused.add(encodeRecords(long), 0, 3, 0)).toBe(50);
    long[49]!.dst_site = 'd'.repeat(70_000); // over 65,536 characters
    expect(fused.add(encodeRecords(long), 0, 3, 0)).toBe(-1);
    expect(fused.add(encodeRecords([record(8)]), 0, 4, 0)).toBe(1);
    expect(fused.add(encodeRecords([]), 0, 5, 0)).toBe(0);
    fused.check();
  }

  it('refuses in one pass what read refuses', () => {
    const columns = Array.from({ length: columnCount }, () => new RowBinaryWriter());
    const refuse = (body: Buffer): void => {
      expect(fast.readColumns(body, columns, 0, 0, 0)).toBe(-1);
      expect(columns.every((c) => c.length === 0)).toBe(true);
    };
    refuse(Buffer.alloc(0));
    refuse(Buffer.from([0xdc]));
    refuse(Buffer.from([0x91, 0xc1]));
    refuse(Buffer.from([0x92, 0xd4, 0x72, 0x40, 0x91, 0xa1, 0x78])); // a key list, then nothing
    refuse(new Packr({ useRecords: false }).pack([base]));
    refuse(encodeRecords([{ ...base, extra: { nested: 1 } }]));
    const { protocol: _dropped, ...missing } = base;
    refuse(encodeRecords([missing]));
    const body = encodeRecords([base, base]);
    refuse(body.subarray(0, body.length - 1));
    refuse(Buffer.concat([body, Buffer.from([0x40])]));
    expect(fast.readColumns(encodeRecords([{ ...base, extra: [1, 'two', [3.5, null]] }]), columns, 0, 0, 0)).toBe(1);
  });

  it('never accepts a message the general path would not store whole (again)', () => {
    let accepted = 0;
    let wholeValid = 0;
    fc.assert(
      fc.property(fc.array(mutatedRecord, { minLength: 1, maxLength: 4 }), (records) => {
        const body = encodeRecords(records);
        const general = generalRows(body, 1, 99, 0);
        if (general.allValid) wholeValid++;
        const columns = Array.from({ length: columnCount }, () => new RowBinaryWriter());
        if (fast.readColumns(body, columns, 1, 99, 0) < 0) return;
        accepted++;
        expect(general.allValid).toBe(true);
        expect(columns.map((c) => Buffer.concat(c.take()))).toEqual(generalColumns(body, 1, 99, 0));
      }),
      { numRuns: 500, seed: 20261209 },
    );
    // The comparison means something only if the fast path took a good share of the valid messages.
    expect(accepted).toBeGreaterThan(wholeValid / 3);
    expect(accepted).toBeGreaterThan(100);
  });

  it('hands over to the general path what it does not handle', () => {
    expect(fast.read(Buffer.alloc(0))).toBe(-1);
    expect(fast.read(encodeRecords([{ ...base, format: 'nope' }]))).toBe(-1); // not an enum value
    expect(fast.read(encodeRecords([{ ...base, site: 'zürich' }]))).toBe(-1); // non-ASCII: decoded there
    expect(fast.read(encodeRecords([{ ...base, protocol: 256 }]))).toBe(-1);
    const { protocol: _dropped, ...missing } = base;
    expect(fast.read(encodeRecords([missing]))).toBe(-1);
    expect(fast.read(Buffer.from([0x91, 0xc1]))).toBe(-1); // truncated / reserved byte
    expect(fast.read(new Packr({ useRecords: false }).pack([base]))).toBe(-1); // plain maps: the general path
    const body = encodeRecords([base, base]);
    expect(fast.read(body.subarray(0, body.length - 1))).toBe(-1);
    // An extra key is skipped, as the object path strips it; a nested record is left to that path.
    expect(fast.read(encodeRecords([{ ...base, extra: [1, 'two', [3.5, null]] }]))).toBe(1);
    expect(fast.read(encodeRecords([{ ...base, extra: { nested: 1 } }]))).toBe(-1);
  });

  it('builds for every record kind the sink stores', () => {
    const defs = [flowRecord, probeRecord, ifaceRecord, costRecord, changeRecord] as unknown as RecordDefinition<FieldMap>[];
    for (const def of defs) {
      const t = transcoder(def);
      expect(t.read(encodeRecords([{}]))).toBe(-1);
      const columns = Array.from({ length: Object.keys(def.fields).length + 2 }, () => new RowBinaryWriter());
      expect(t.readColumns(encodeRecords([{}]), columns, 0, 0, 0)).toBe(-1);
    }
  });
});
