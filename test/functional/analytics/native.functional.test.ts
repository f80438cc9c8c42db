import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { raw, sql, type Store } from '../../../core/store/index.ts';
import type { RawBody, RawFormat } from '../../../core/store/common.ts';
import {
  encodeRecords,
  flowRecord,
  maxTimeMs,
  recordDefinitions,
  type FieldDef,
  type FieldMap,
  type RecordDefinition,
} from '../../../core/records/index.ts';
import { MemoryBus } from '../../../core/bus/memory.ts';
import { rawTableOf } from '../../../analytics/schema/tables.ts';
import { uniqueName } from '../../support/services.ts';
import { migratedServerStore } from '../../support/store.ts';
import { rowEncoder } from '../../../analytics/sink/encode.ts';
import { NativeBlockWriter, nativeLayout } from '../../../analytics/sink/native.ts';
import { RowBinaryWriter } from '../../../analytics/sink/rowbinary.ts';
import { transcoder } from '../../../analytics/sink/transcode.ts';
import { createSink } from '../../../analytics/sink/index.ts';

/**
 * Native INSERTs on the real server: random valid records of every kind written column by column
 * (the general path's encoder, and the transcoder for flows as the collectors send them) must be
 * stored exactly as the same records written as RowBinary rows (whose rows the RowBinary
 * functional test compares with the records themselves); and the sink must pick Native for every
 * raw table on a server without LowCardinality (18.16).
 */
const fixture = migratedServerStore('native');
let store: Store;
beforeAll(() => {
  store = fixture.store;
});

function arbitraryFor(f: FieldDef): fc.Arbitrary<unknown> {
  const max: Record<string, number> = {
    uint8: 255,
    uint16: 65_535,
    uint32: 4_294_967_295,
    uint64: Number.MAX_SAFE_INTEGER,
    time: maxTimeMs,
  };
  if (f.kind === 'time') return fc.oneof(fc.integer({ min: 1_795_000_000_000, max: 1_795_100_000_000 }), fc.constant(maxTimeMs));
  if (f.kind in max) return fc.oneof(fc.integer({ min: 0, max: Math.min(max[f.kind]!, 2 ** 31) }), fc.constant(max[f.kind]!));
  if (f.kind === 'float') return fc.double({ noNaN: true, noDefaultInfinity: true });
  if (f.kind === 'enum') return fc.constantFrom(...f.values!);
  if (f.kind === 'ip') return fc.string({ maxLength: 45 });
  return fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 130, maxLength: 300 }));
}

function records(def: RecordDefinition<FieldMap>, n: number, seed: number): Record<string, unknown>[] {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, f] of Object.entries(def.fields))
    shape[name] = f.optional ? fc.option(arbitraryFor(f), { nil: undefined }) : arbitraryFor(f);
  return fc.sample(fc.record(shape), { numRuns: n, seed }) as Record<string, unknown>[];
}

async function copyOf(table: string, suffix: string): Promise<string> {
  const copy = `${table}_${suffix}`;
  await store.exec(raw(`CREATE TABLE \`${store.database}\`.\`${copy}\` AS \`${store.database}\`.\`${table}\``));
  return copy;
}

async function layoutOf(def: RecordDefinition<FieldMap>, table: string) {
  const types = await store.query<{ name: string; type: string }>(
    sql`SELECT name, type FROM system.columns WHERE database = ${store.database} AND table = ${table}`,
  );
  return nativeLayout(def, new Map(types.map((c) => [c.name, c.type])));
}

/** Every row of the table, in one order for equal contents (rows of one message share their offset). */
async function rowsOf(table: string): Promise<unknown[]> {
  const rows = await store.query(raw(`SELECT * FROM \`${store.database}\`.\`${table}\``));
  return rows
    .map((r) => JSON.stringify(r))
    .sort()
    .map((r) => JSON.parse(r) as unknown);
}

describe('Native INSERTs on the ClickHouse server', () => {
  for (const [name, definition] of Object.entries(recordDefinitions)) {
    const def = definition as unknown as RecordDefinition<FieldMap>;
    const table = rawTableOf[name as keyof typeof rawTableOf];
    it(`${name}: records written column by column are stored as the same records written as rows`, async () => {
      const nativeTable = await copyOf(table, 'native');
      const rowTable = await copyOf(table, 'rows');
      const layout = await layoutOf(def, nativeTable);
      if (!store.capabilities().lowCardinality) expect(layout).toBeDefined();
      if (!layout) return;
      const encoder = rowEncoder(def);
      const block = new NativeBlockWriter(layout);
      const rows = new RowBinaryWriter();
      const sample = records(def, 300, 11);
      const base = 2 ** 40;
      sample.forEach((r, i) => {
        expect(def.check(r).ok).toBe(true);
        const offset = base + i;
        encoder.writeColumns(block.columns, r, 2, offset % 2 ** 32, Math.floor(offset / 2 ** 32));
        encoder.writeRow(rows, r, 2, offset % 2 ** 32, Math.floor(offset / 2 ** 32));
      });
      await store.insertRaw!(nativeTable, 'Native', block.take(sample.length), encoder.columns);
      await store.insertRaw!(rowTable, 'RowBinary', rows.take(), encoder.columns);
      const stored = await rowsOf(nativeTable);
      expect(stored).toHaveLength(sample.length);
      expect(stored).toEqual(await rowsOf(rowTable));
    });
  }

  it('flow messages as the collectors send them: the transcoder’s columns, several messages in one block', async () => {
    const def = flowRecord as unknown as RecordDefinition<FieldMap>;
    const nativeTable = await copyOf('flows_raw', 'transcoded');
    const rowTable = await copyOf('flows_raw', 'transcoded_rows');
    const layout = await layoutOf(def, nativeTable);
    if (!layout) return;
    const fast = transcoder(def);
    const encoder = rowEncoder(def);
    const block = new NativeBlockWriter(layout);
    const rows = new RowBinaryWriter();
    let total = 0;
    for (let m = 0; m < 5; m++) {
      const ascii = records(def, 200, 100 + m).map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, 'x') : v])),
      );
      const n = fast.read(encodeRecords(ascii));
      expect(n).toBe(ascii.length);
      fast.writeColumns(block.columns, 1, 1000 + m, 0);
      fast.writeRows(rows, 1, 1000 + m, 0);
      total += n;
    }
    await store.insertRaw!(nativeTable, 'Native', block.take(total), encoder.columns);
    await store.insertRaw!(rowTable, 'RowBinary', rows.take(), encoder.columns);
    const stored = await rowsOf(nativeTable);
    expect(stored).toHaveLength(total);
    expect(stored).toEqual(await rowsOf(rowTable));
    // One block: one part (per day partition) in one INSERT, as the exactly-once scheme needs.
    const [parts] = await store.query<{ n: number; d: number }>(
      sql`SELECT count() AS n, uniqExact(partition) AS d FROM system.parts WHERE database = ${store.database} AND table = ${nativeTable} AND active`,
    );
    expect(parts!.n).toBe(parts!.d);
  });

  it('several Native blocks in one INSERT (the sink’s joined batches) are stored as one block: one part, every row', async () => {
    const def = flowRecord as unknown as RecordDefinition<FieldMap>;
    const joined = await copyOf('flows_raw', 'joined');
    const apart = await copyOf('flows_raw', 'apart');
    const layout = await layoutOf(def, joined);
    if (!layout) return;
    const encoder = rowEncoder(def);
    // Rows of one day, so one block is one part.
    const day = (r: Record<string, unknown>) => ({
      ...r,
      time_received: 1_795_000_000_000,
      flow_start: undefined,
      flow_end: undefined,
    });
    const bodies = [0, 1, 2].map((b) => {
      const block = new NativeBlockWriter(layout);
      const sample = records(def, 100 + b, 40 + b).map(day);
      sample.forEach((r, i) => encoder.writeColumns(block.columns, r, b, 5000 + i, 0));
      return { pieces: block.take(sample.length), rows: sample.length };
    });
    const body = bodies.flatMap((b) => b.pieces);
    const total = bodies.reduce((n, b) => n + b.rows, 0);
    await store.insertRaw!(joined, 'Native', body, encoder.columns, { severalBlocks: true });
    await store.insertRaw!(apart, 'Native', body, encoder.columns);
    const parts = async (table: string) =>
      (
        await store.query<{ n: number; rows: number }>(
          sql`SELECT count() AS n, sum(rows) AS rows FROM system.parts WHERE database = ${store.database} AND table = ${table} AND active`,
        )
      )[0]!;
    expect(await parts(joined)).toEqual({ n: 1, rows: total });
    // Without the flag each block is its own part: not all-or-nothing, so the sink never sends that.
    expect(await parts(apart)).toEqual({ n: 3, rows: total });
  });

  it('is what the sink writes to this server', async () => {
    const formats: RawFormat[] = [];
    // The store itself, its raw inserts noted.
    const watched = Object.assign(Object.create(store) as Store, {
      insertRaw: (t: string, f: RawFormat, body: RawBody, columns?: readonly string[]) => {
        formats.push(f);
        return store.insertRaw!(t, f, body, columns);
      },
    });
    const bus = new MemoryBus();
    await bus.start();
    const topic = uniqueName('native-flows');
    const sink = createSink({ bus, store: watched }, { topics: { flow: topic }, records: ['flow'], migrate: false });
    await sink.start();
    try {
      const flows = records(flowRecord as unknown as RecordDefinition<FieldMap>, 50, 3);
      await bus.publish(topic, [{ value: encodeRecords(flows) }]);
      for (let i = 0; i < 100 && (sink.stored().flows_raw ?? 0) < flows.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(sink.stored().flows_raw).toBe(flows.length);
      expect(formats).toEqual([store.capabilities().lowCardinality ? 'RowBinary' : 'Native']);
    } finally {
      await sink.stop();
      await bus.stop();
    }
  });
});
