import type { FieldMap, RecordDefinition } from '../../core/records/index.ts';
import { defaultFor } from '../../core/records/index.ts';

/**
 * Encodes validated records as TabSeparated rows for one raw table: the record's fields in
 * definition order, then the Kafka source columns. TSV is cheaper than JSON to build here and to
 * parse in ClickHouse; strings are escaped the way ClickHouse's TSV reader expects.
 */
export interface RowEncoder {
  readonly columns: readonly string[];
  /** Appends one record's row (with its source partition and offset) to `out`. */
  encode(record: Record<string, unknown>, partition: number, offset: string): string;
}

const needsEscape = /[\\\t\n\r\0]/;
function escapeTsv(s: string): string {
  if (!needsEscape.test(s)) return s;
  return s.replace(/[\\\t\n\r\0]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\0',
  );
}

/** Epoch ms → what both servers parse as DateTime: 10-digit epoch seconds, or text for early dates. */
function timeText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 1_000_000_000 ? String(s) : new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function rowEncoder<M extends FieldMap>(def: RecordDefinition<M>): RowEncoder {
  const fields = Object.entries(def.fields).map(([name, f]) => ({
    name,
    time: f.kind === 'time',
    text: f.kind === 'string' || f.kind === 'lowcard' || f.kind === 'ip' || f.kind === 'json' || f.kind === 'enum',
    fallback: f.kind === 'time' ? '1970-01-01 00:00:00' : String(defaultFor(f)),
  }));
  return {
    columns: [...fields.map((f) => f.name), 'src_partition', 'src_offset'],
    encode(record, partition, offset) {
      let line = '';
      for (const f of fields) {
        const v = record[f.name];
        if (v === undefined) line += f.fallback;
        else if (f.time) line += timeText(v as number);
        else if (f.text) line += escapeTsv(v as string);
        else line += v as number;
        line += '\t';
      }
      return `${line}${partition}\t${offset}\n`;
    },
  };
}
