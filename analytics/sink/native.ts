import type { FieldMap, RecordDefinition } from '../../core/records/index.ts';
import { type BlockPool, RowBinaryWriter } from './rowbinary.ts';

/**
 * ClickHouse's Native format for the sink's INSERTs into one server: one block, column after column
 * (its column and row counts, then per column its name, its type and every row's value, each value
 * encoded as in RowBinary). The server reads a column in one bulk call, where RowBinary costs a call
 * per value and a column grown row by row: half its user CPU per flow row (0.45–0.50 against
 * 0.90–1.00 CPU-s per million rows in 250k-row INSERTs with the four rollups, 18.16.1). One block
 * per INSERT, however many rows, so it is stored entirely or not at all, as a RowBinary INSERT below
 * max_insert_block_size is.
 *
 * The types written are the table's own (`system.columns`), and only where each is the type a
 * field's bytes are (`nativeLayout`); anything else (LowCardinality on newer servers, a column the
 * sink does not know) keeps the sink on RowBinary.
 */
export interface NativeColumn {
  name: string;
  type: string;
}

/** The server types whose Native bytes are what the sink writes for a field kind. */
const typesOfKind: Record<string, RegExp> = {
  time: /^DateTime(\('[^']*'\))?$/,
  uint8: /^UInt8$/,
  uint16: /^UInt16$/,
  uint32: /^UInt32$/,
  uint64: /^UInt64$/,
  float: /^Float64$/,
  string: /^String$/,
  lowcard: /^String$/,
  ip: /^String$/,
  json: /^String$/,
  enum: /^String$/,
};

/**
 * The Native columns of a raw table (its record's fields, then `src_partition` UInt32 and
 * `src_offset` UInt64) with the types the server has for them, or undefined when a column is
 * missing or of another type than its field's bytes.
 */
export function nativeLayout<M extends FieldMap>(
  def: RecordDefinition<M>,
  serverTypes: ReadonlyMap<string, string>,
): NativeColumn[] | undefined {
  const kinds: [string, string][] = [
    ...Object.entries(def.fields as FieldMap).map(([name, f]): [string, string] => [name, f.kind]),
    ['src_partition', 'uint32'],
    ['src_offset', 'uint64'],
  ];
  const layout: NativeColumn[] = [];
  for (const [name, kind] of kinds) {
    const type = serverTypes.get(name);
    if (type === undefined || !typesOfKind[kind]?.test(type)) return undefined;
    layout.push({ name, type });
  }
  return layout;
}

/** A LEB128 unsigned integer (Native's counts and string lengths). */
function varUInt(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function nativeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([varUInt(bytes.length), bytes]);
}

/**
 * One Native block being written: a RowBinaryWriter per column (`columns`, in layout order), whose
 * values the transcoder and the encoder write column by column; `take` hands over the block.
 */
export class NativeBlockWriter {
  private readonly writers: RowBinaryWriter[];
  /** Per column: its name and type, encoded once. */
  private readonly heads: Buffer[];
  /** Whether the block being written has its columns' heads yet. */
  private open = false;

  constructor(
    private readonly layout: readonly NativeColumn[],
    pool?: BlockPool,
  ) {
    this.writers = layout.map(() => new RowBinaryWriter(pool));
    this.heads = layout.map((c) => Buffer.concat([nativeString(c.name), nativeString(c.type)]));
  }

  /**
   * The column writers, each starting with its column's name and type: a column is then one run of
   * pieces, and the body has a piece per block rather than two more per column.
   */
  get columns(): readonly RowBinaryWriter[] {
    if (!this.open) {
      this.writers.forEach((w, c) => w.raw(this.heads[c]!));
      this.open = true;
    }
    return this.writers;
  }

  /**
   * The block of the `rows` rows written since the last call, as pieces (views of the column
   * writers' blocks, not copied); empty when there are none.
   */
  take(rows: number): Buffer[] {
    if (!this.open) return [];
    this.open = false;
    const pieces: Buffer[] = [Buffer.concat([varUInt(this.layout.length), varUInt(rows)])];
    for (const w of this.writers) pieces.push(...w.take());
    return rows === 0 ? [] : pieces;
  }
}
