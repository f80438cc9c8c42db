import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { raw, type Store } from '../../../core/store/index.ts';
import {
  defaultFor,
  maxTimeMs,
  recordDefinitions,
  type FieldDef,
  type FieldMap,
  type RecordDefinition,
} from '../../../core/records/index.ts';
import { rawTableOf } from '../../../analytics/schema/tables.ts';
import { rowEncoder } from '../../../analytics/sink/encode.ts';
import { RowBinaryWriter } from '../../../analytics/sink/rowbinary.ts';
import { migratedServerStore } from '../../support/store.ts';

/**
 * The sink writes RowBinary to the ClickHouse server and TabSeparated to chDB. Both encoders are
 * generated from the record definitions; here random valid records of every kind (non-ASCII, tabs,
 * newlines and NUL in strings, strings long enough for multi-byte lengths, absent optional fields,
 * extreme integers and times) go through each into the real server, and what the server stored
 * must be the records themselves: exactly for RowBinary, and the same through TSV.
 */
const fixture = migratedServerStore('rowbinary');
let store: Store;
beforeAll(() => {
  store = fixture.store;
});

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '\t', '\n', '\\', '\0', '€', '𝄞'), minLength: 40, maxLength: 400 }),
);

function arbitraryFor(f: FieldDef): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'time':
      // Mostly within a few days (each day is a partition, and a part per partition per INSERT is
      // slow on 18.16), and the ends of the range.
      return fc.oneof(
        { arbitrary: fc.integer({ min: 1_795_000_000_000, max: 1_795_300_000_000 }), weight: 8 },
        { arbitrary: fc.constantFrom(0, maxTimeMs), weight: 1 },
        { arbitrary: fc.integer({ min: 0, max: maxTimeMs }), weight: 1 },
      );
    case 'uint8':
      return fc.integer({ min: 0, max: 255 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65_535 });
    case 'uint32':
      return fc.integer({ min: 0, max: 4_294_967_295 });
    case 'uint64':
      return fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(2 ** 32, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER));
    case 'float':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'enum':
      return fc.constantFrom(...f.values!);
    case 'ip':
      return fc.string({ maxLength: 45 });
    default:
      return text;
  }
}

function recordArbitrary(def: RecordDefinition<FieldMap>): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, f] of Object.entries(def.fields))
    shape[name] = f.optional ? fc.option(arbitraryFor(f), { nil: undefined }) : arbitraryFor(f);
  return fc.record(shape) as fc.Arbitrary<Record<string, unknown>>;
}

/** What the table should hold for a record: times in seconds, absent fields as their defaults. */
function expected(def: RecordDefinition<FieldMap>, r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(def.fields)) {
    const v = r[name] ?? defaultFor(f);
    out[name] = f.kind === 'time' ? Math.floor((v as number) / 1000) : v;
  }
  return out;
}

async function stored(def: RecordDefinition<FieldMap>, table: string): Promise<Record<string, unknown>[]> {
  const columns = Object.entries(def.fields).map(([name, f]) =>
    f.kind === 'time' ? `toUInt32(\`${name}\`) AS \`${name}\`` : `\`${name}\``,
  );
  return store.query<Record<string, unknown>>(
    raw(`SELECT ${columns.join(', ')}, src_partition, src_offset FROM \`${store.database}\`.\`${table}\` ORDER BY src_offset`),
  );
}

describe('RowBinary and TabSeparated rows on the ClickHouse server', () => {
  for (const [name, definition] of Object.entries(recordDefinitions)) {
    const def = definition as unknown as RecordDefinition<FieldMap>;
    const table = rawTableOf[name as keyof typeof rawTableOf];
    it(`${name}: random valid records are stored as themselves through both encoders`, async () => {
      const encoder = rowEncoder(def);
      const records = fc.sample(recordArbitrary(def), { numRuns: 300, seed: 7 });
      // Copies of the raw table without its materialized views: the rows, not the rollups, are compared here.
      const binaryTable = `${table}_rowbinary`;
      const tsvTable = `${table}_tsv`;
      for (const copy of [binaryTable, tsvTable])
        await store.exec(raw(`CREATE TABLE \`${store.database}\`.\`${copy}\` AS \`${store.database}\`.\`${table}\``));

      // Offsets above 2^32 exercise both halves of src_offset; partition 3 for every row.
      const base = 2 ** 40;
      const writer = new RowBinaryWriter();
      let tsv = '';
      records.forEach((r, i) => {
        expect(def.check(r).ok).toBe(true);
        const offset = BigInt(base + i);
        encoder.writeRow(writer, r, 3, Number(offset & 0xffffffffn), Number(offset >> 32n));
        tsv += encoder.encode(r, 3, offset.toString());
      });
      await store.insertRaw!(binaryTable, 'RowBinary', writer.take(), encoder.columns);
      await store.insertRaw!(tsvTable, 'TabSeparated', tsv, encoder.columns);

      const want = records.map((r, i) => ({ ...expected(def, r), src_partition: 3, src_offset: base + i }));
      const binaryRows = await stored(def, binaryTable);
      expect(binaryRows).toEqual(want);
      const tsvRows = await stored(def, tsvTable);
      expect(tsvRows).toHaveLength(want.length);
      tsvRows.forEach((row, i) => {
        for (const [field, f] of Object.entries(def.fields)) {
          // Text floats may be parsed to a neighbouring double; everything else must be exact.
          if (f.kind === 'float') {
            const a = row[field] as number;
            const b = binaryRows[i]![field] as number;
            expect(Math.abs(a - b), `${name}.${field} row ${i}: ${a} vs ${b}`).toBeLessThanOrEqual(
              1e-12 * Math.max(1, Math.abs(b)),
            );
          } else expect(row[field], `${name}.${field} row ${i}`).toEqual(binaryRows[i]![field]);
        }
      });
    });
  }
});
