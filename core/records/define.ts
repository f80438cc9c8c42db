import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** The longest text a string or JSON field may hold (characters); producers clip to it (clipJson). */
export const MAX_TEXT_CHARS = 65_536;

/**
 * A JSON document that fits a `json` field (an audit detail of a large change must not make the change
 * fail): as it is when short enough; else, for an object, its largest fields are replaced one by one with
 * a note of their size until it fits (the ops of a step stay when the before-subtrees are what is large);
 * else a summary that says so and keeps the document's start.
 */
export function clipJson(value: unknown, max = MAX_TEXT_CHARS): string {
  const text = JSON.stringify(value);
  if (text.length <= max) return text;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const fields = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => [k, v, JSON.stringify(v)?.length ?? 0] as const,
    );
    const kept: Record<string, unknown> = Object.fromEntries(fields.map(([k, v]) => [k, v]));
    for (const [k, , chars] of [...fields].sort((a, b) => b[2] - a[2])) {
      kept[k] = `[omitted: ${chars} characters]`;
      const shorter = JSON.stringify(kept);
      if (shorter.length <= max) return shorter;
    }
  }
  const note = { truncated: true, chars: text.length, head: '' };
  const room = max - JSON.stringify(note).length - 16;
  note.head = text.slice(0, Math.max(0, room));
  // Escapes in the head (quotes, backslashes) grow it when re-encoded: trim until it fits.
  let clipped = JSON.stringify(note);
  while (clipped.length > max) {
    note.head = note.head.slice(0, note.head.length - (clipped.length - max) - 1);
    clipped = JSON.stringify(note);
  }
  return clipped;
}

/**
 * One declarative definition per record. From it come: the TypeScript type, the zod validator,
 * the Kafka topic and encoding, and the ClickHouse column list (`analytics/schema` maps kinds to
 * server-version-specific types and `toRow` produces insertable rows).
 */
export type FieldKind =
  | 'time' // epoch milliseconds in JS; DateTime (seconds, UTC) in ClickHouse
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64' // JS number: exact to 2^53, plenty for byte and packet counters
  | 'float'
  | 'string'
  | 'lowcard' // a string with few distinct values (site, link, class): LowCardinality where available
  | 'ip' // textual IPv4 or IPv6 address; '' when unknown
  | 'enum'
  | 'json'; // a JSON document stored as a String column

export interface FieldDef {
  kind: FieldKind;
  doc: string;
  /** May be absent in the record; ClickHouse gets the kind's default (0, '' or the first enum value). */
  optional?: boolean;
  values?: readonly string[];
}

export type FieldMap = Record<string, FieldDef>;

type KindType<F extends FieldDef> = F['kind'] extends 'string' | 'lowcard' | 'ip' | 'json'
  ? string
  : F['kind'] extends 'enum'
    ? F['values'] extends readonly (infer V)[]
      ? V
      : string
    : number;

type RequiredKeys<M extends FieldMap> = { [K in keyof M]: M[K]['optional'] extends true ? never : K }[keyof M];
type OptionalKeys<M extends FieldMap> = { [K in keyof M]: M[K]['optional'] extends true ? K : never }[keyof M];

export type RecordOf<M extends FieldMap> = { [K in RequiredKeys<M>]: KindType<M[K]> } & {
  [K in OptionalKeys<M>]?: KindType<M[K]>;
};

const uint = (max: number) => z.number().int().min(0).max(max);

/**
 * Latest time a record may carry: 2105-12-31 23:59:59.999 UTC. ClickHouse's `DateTime` (UInt32
 * seconds) ends in February 2106, but the 18.16 server's date tables stop with 2105 (it reads
 * '2106-02-07 06:28:15' as 23295), so a later time could not be stored as itself and is refused.
 */
export const maxTimeMs = 4_291_747_199_999;

function zodFor(def: FieldDef): z.ZodType {
  switch (def.kind) {
    case 'time':
      return z.number().int().min(0).max(maxTimeMs);
    case 'uint8':
      return uint(255);
    case 'uint16':
      return uint(65_535);
    case 'uint32':
      return uint(4_294_967_295);
    case 'uint64':
      return z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
    case 'float':
      return z.number().finite();
    case 'string':
    case 'lowcard':
    case 'json':
      return z.string().max(MAX_TEXT_CHARS);
    case 'ip':
      return z.string().max(45);
    case 'enum':
      return z.enum(def.values as [string, ...string[]]);
  }
}

export function defaultFor(def: FieldDef): string | number {
  if (def.kind === 'enum') return def.values![0]!;
  return def.kind === 'string' || def.kind === 'lowcard' || def.kind === 'ip' || def.kind === 'json' ? '' : 0;
}

export interface RecordDefinition<M extends FieldMap> {
  readonly name: string;
  readonly version: number;
  /** Kafka topic: `pathpilot.<name>.v<version>`. */
  readonly topic: string;
  readonly fields: M;
  readonly fieldNames: readonly (keyof M & string)[];
  /** The field whose value keys Kafka partitioning (order matters per key). */
  readonly keyField: keyof M & string;
  /** The record's event time, used for partitioning and retention. */
  readonly timeField: keyof M & string;
  readonly schema: z.ZodType<RecordOf<M>>;
  /** Validates one record; throws ValidationError naming the bad field. */
  parse(value: unknown): RecordOf<M>;
  /** Non-throwing variant for hot paths: the record, or a reason. */
  check(value: unknown): { ok: true; record: RecordOf<M> } | { ok: false; reason: string };
  /** Converts a valid record to a ClickHouse row (every column present, times in seconds). */
  toRow(record: RecordOf<M>): Record<string, string | number>;
  /** Inverse of toRow for rows read back from ClickHouse (times back to milliseconds). */
  fromRow(row: Record<string, unknown>): RecordOf<M>;
  keyOf(record: RecordOf<M>): string;
}

export function defineRecord<M extends FieldMap>(spec: {
  name: string;
  version: number;
  fields: M;
  keyField: keyof M & string;
  timeField: keyof M & string;
}): RecordDefinition<M> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, def] of Object.entries(spec.fields)) {
    shape[name] = def.optional ? zodFor(def).optional() : zodFor(def);
  }
  // Unknown keys are stripped, not rejected: newer producers may add fields (forward compatible).
  const schema = z.object(shape) as unknown as z.ZodType<RecordOf<M>>;
  const fieldEntries = Object.entries(spec.fields);
  const describe = (issues: z.core.$ZodIssue[]) =>
    issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
      .join('; ');

  return {
    name: spec.name,
    version: spec.version,
    topic: `pathpilot.${spec.name}.v${spec.version}`,
    fields: spec.fields,
    fieldNames: Object.keys(spec.fields) as (keyof M & string)[],
    keyField: spec.keyField,
    timeField: spec.timeField,
    schema,
    parse(value) {
      const r = schema.safeParse(value);
      if (!r.success) throw new ValidationError(`invalid ${spec.name} record: ${describe(r.error.issues)}`);
      return r.data;
    },
    check(value) {
      const r = schema.safeParse(value);
      return r.success
        ? { ok: true, record: r.data }
        : { ok: false, reason: `invalid ${spec.name} record: ${describe(r.error.issues)}` };
    },
    toRow(record) {
      const row: Record<string, string | number> = {};
      const src = record as Record<string, unknown>;
      for (const [name, def] of fieldEntries) {
        const v = src[name];
        if (v === undefined) row[name] = defaultFor(def);
        else if (def.kind === 'time') row[name] = Math.floor((v as number) / 1000);
        else row[name] = v as string | number;
      }
      return row;
    },
    fromRow(row) {
      const out: Record<string, unknown> = {};
      for (const [name, def] of fieldEntries) {
        const v = row[name];
        if (v === undefined || v === null) continue;
        if (def.kind === 'time') out[name] = typeof v === 'number' ? v * 1000 : Date.parse(`${String(v).replace(' ', 'T')}Z`);
        else if (
          def.kind === 'string' ||
          def.kind === 'lowcard' ||
          def.kind === 'ip' ||
          def.kind === 'json' ||
          def.kind === 'enum'
        )
          out[name] = String(v);
        else out[name] = Number(v);
      }
      return out as RecordOf<M>;
    },
    keyOf(record) {
      return String((record as Record<string, unknown>)[spec.keyField] ?? '');
    },
  };
}
