import type { FieldMap, RecordDefinition } from '../../core/records/index.ts';
import { defaultFor, encodeRecords } from '../../core/records/index.ts';
import { binaryByKind, maxByKind } from './encode.ts';
import { ROW_FIXED_MAX, RowBinaryWriter } from './rowbinary.ts';

/**
 * MessagePack record batch → RowBinary rows, without a JavaScript object or string per value.
 *
 * The sink's general path (`decodeRecords`, `valid`, `writeRow`) turns every record into an object
 * and every string into a JS string, only to turn them back into bytes. Here a message is read once
 * into slots — per record and field: where a string's bytes are, or a number — by a reader compiled
 * for each record structure (the key order msgpackr's `useRecords` announces once per message and
 * that repeats in every message), with the same checks as `valid()`; rows are then written from the
 * slots, strings copied byte for byte.
 *
 * It reads what `encodeRecords` writes: a record definition `d4 72 <id> [keys…]` then the values,
 * later records as one id byte then the values. Whatever else it meets — a plain map, a value
 * encoded in a rarer way, a non-ASCII string, a value the definition refuses, a key twice —
 * makes `read()` return -1 and the caller takes the general path for that message, which decodes
 * it, keeps its valid records and says why the others are not. So the fast path never decides what
 * the general path would decide otherwise; the property test compares both byte for byte.
 */
export interface Transcoder {
  /** Reads a message: the number of records (all valid, ready to write), or -1 (use the general path). */
  read(body: Buffer): number;
  /** Writes record `i` of the message last read as one RowBinary row with the Kafka source columns. */
  writeRow(i: number, w: RowBinaryWriter, partition: number, offsetLow: number, offsetHigh: number): void;
  /**
   * Writes every record of the message last read as rows, in order (one shard: no row goes
   * elsewhere). The loop stays here, so the sink's batch handler never becomes hot itself: V8 then
   * does not optimize, and re-optimize after every deopt, that large function (a third of the JIT
   * compiler's time per million rows before).
   */
  writeRows(w: RowBinaryWriter, partition: number, offsetLow: number, offsetHigh: number): void;
  /**
   * Writes every record of the message last read column by column (Native, native.ts): field `f`
   * of each record to `columns[f]`, then the partition and the offset to the two columns after them.
   */
  writeColumns(columns: readonly RowBinaryWriter[], partition: number, offsetLow: number, offsetHigh: number): void;
  /**
   * `read` then `writeColumns` in one pass (Native, one shard): reads a message and writes each value
   * of its records straight into its column, then the partition and the offset. The number of records,
   * or -1 (use the general path) with every column's bytes as they were before the call: the same
   * messages as `read` refuses, the same bytes as `writeColumns` writes. It leaves no message read
   * (`writeRow`, `text` are for `read`'s).
   */
  readColumns(
    body: Buffer,
    columns: readonly RowBinaryWriter[],
    partition: number,
    offsetLow: number,
    offsetHigh: number,
  ): number;
  /** String field `field` of record `i` of the message last read ('' when absent, as `String(r[field] ?? '')`). */
  text(i: number, field: string): string;
}

/** Slot markers: no value (absent, or msgpackr's undefined), or a number (in `N`). */
const ABSENT = -1;
const NUMBER = -2;
/** Structures whose records `readColumns` counts, to unroll the most used one. */
const USES = 256;
/** `readColumns`' generated function: a string column's room claimed for the message is short. */
const SHORT = -2;

/** Reads one record's values into the slots from `pos`: the position after it, or -1. */
type Reader = (buf: Buffer, pos: number, S: Int32Array, N: Float64Array, base: number) => number;
/** Writes one row into `b` from position `p` (room already claimed): the position after it. */
type RowWriter = (
  b: Buffer,
  p: number,
  src: Buffer,
  S: Int32Array,
  N: Float64Array,
  base: number,
  partition: number,
  offsetLow: number,
  offsetHigh: number,
) => number;

/** Skips the value of a key that is no field (the object path strips it): scalars, arrays, maps; else -1. */
function skip(buf: Buffer, pos: number): number {
  const t = buf[pos]!;
  if (t <= 0x3f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return pos + 1;
  if (t >= 0xa0 && t <= 0xbf) return pos + 1 + (t - 0xa0);
  switch (t) {
    case 0xd9:
      return pos + 2 + buf[pos + 1]!;
    case 0xda:
      return pos + 3 + buf.readUInt16BE(pos + 1);
    case 0xdb:
      return pos + 5 + buf.readUInt32BE(pos + 1);
    case 0xcc:
    case 0xd0:
      return pos + 2;
    case 0xcd:
    case 0xd1:
      return pos + 3;
    case 0xce:
    case 0xd2:
    case 0xca:
      return pos + 5;
    case 0xcf:
    case 0xd3:
    case 0xcb:
      return pos + 9;
  }
  let items: number;
  if (t >= 0x90 && t <= 0x9f) {
    items = t - 0x90;
    pos += 1;
  } else if (t === 0xdc) {
    items = buf.readUInt16BE(pos + 1);
    pos += 3;
  } else if (t >= 0x80 && t <= 0x8f) {
    items = 2 * (t - 0x80);
    pos += 1;
  } else if (t === 0xde) {
    items = 2 * buf.readUInt16BE(pos + 1);
    pos += 3;
  } else return -1; // records, extensions, binaries: the general path
  for (let i = 0; i < items && pos >= 0; i++) pos = skip(buf, pos);
  return pos;
}

/** A msgpack array header at `pos`: [length, position after it], or undefined. */
function arrayHeader(buf: Buffer, pos: number): [number, number] | undefined {
  const t = buf[pos]!;
  if (t >= 0x90 && t <= 0x9f) return [t - 0x90, pos + 1];
  if (t === 0xdc) return [buf.readUInt16BE(pos + 1), pos + 3];
  if (t === 0xdd) return [buf.readUInt32BE(pos + 1), pos + 5];
  return undefined;
}

/** A record definition's key array at `pos`: [keys, position after it], or undefined. */
function recordKeys(buf: Buffer, pos: number): [string[], number] | undefined {
  const head = arrayHeader(buf, pos);
  if (!head) return undefined;
  pos = head[1];
  const keys: string[] = [];
  for (let k = 0; k < head[0]; k++) {
    const t = buf[pos]!;
    let len: number;
    if (t >= 0xa0 && t <= 0xbf) {
      len = t - 0xa0;
      pos += 1;
    } else if (t === 0xd9) {
      len = buf[pos + 1]!;
      pos += 2;
    } else return undefined;
    keys.push(buf.toString('utf8', pos, pos + len));
    pos += len;
  }
  return [keys, pos];
}

/** Where a record definition's key array at `pos` ends (the keys as `recordKeys` takes them), or -1. */
function keysEnd(buf: Buffer, pos: number): number {
  const head = arrayHeader(buf, pos);
  if (!head) return -1;
  pos = head[1];
  for (let k = 0; k < head[0]; k++) {
    const t = buf[pos]!;
    if (t >= 0xa0 && t <= 0xbf) pos += 1 + (t - 0xa0);
    else if (t === 0xd9) pos += 2 + buf[pos + 1]!;
    else return -1;
  }
  return pos;
}

export function transcoder<M extends FieldMap>(def: RecordDefinition<M>): Transcoder {
  const fields = Object.entries(def.fields);
  const width = fields.length;
  const index = new Map(fields.map(([name], i) => [name, i]));
  const enumBytes = fields.map(([, f]) => (f.values ?? []).map((v) => Buffer.from(v, 'utf8')));
  const defaults = fields.map(([, f]) => {
    const d = defaultFor(f);
    return typeof d === 'number' ? d : Buffer.from(d, 'utf8');
  });
  const isString = fields.map(([, f]) => binaryByKind[f.kind]!.call === 'str');

  // The encodings msgpackr picks for our values (positive fixint, uint8/16/32, float64 above 2^32,
  // undefined as fixext1 0/0); any other one is left to the general path.
  const numberCode = (slot: string, kind: string): string => `
    t = buf[pos];
    if (t <= 0x3f) { v = t; pos += 1; }
    else if (t === 0xcc) { v = buf[pos + 1]; pos += 2; }
    else if (t === 0xcd) { v = (buf[pos + 1] << 8) | buf[pos + 2]; pos += 3; }
    else if (t === 0xce) { v = buf.readUInt32BE(pos + 1); pos += 5; }
    else if (t === 0xcb) { v = buf.readDoubleBE(pos + 1); pos += 9; }
    else if (t === 0xd4 && buf[pos + 1] === 0 && buf[pos + 2] === 0) { v = -1; pos += 3; }
    else return -1;
    if (v === -1 && t === 0xd4) S[${slot}] = ${ABSENT};
    else {
      if (!(${kind === 'float' ? 'Number.isFinite(v)' : `Number.isInteger(v) && v >= 0 && v <= ${maxByKind[kind]}`})) return -1;
      S[${slot}] = ${NUMBER}; N[${slot}] = v;
    }`;

  // ASCII only: then a byte is a UTF-16 unit, so the length limits valid() sets in characters hold
  // in bytes, and the bytes are what the general path would write for the decoded string.
  const stringCode = (slot: string, f: number, kind: string): string => {
    // An enum value compared byte by byte in the generated code: no subarray per record.
    const sameBytes = (v: Buffer): string =>
      [`n === ${v.length}`, ...[...v].map((byte, k) => `buf[pos + ${k}] === ${byte}`)].join(' && ');
    const enumCheck =
      kind === 'enum' ? `if (!(${enumBytes[f]!.map((v) => `(${sameBytes(v)})`).join(' || ') || 'false'})) return -1;` : '';
    return `
    t = buf[pos];
    if (t >= 0xa0 && t <= 0xbf) { n = t - 0xa0; pos += 1; }
    else if (t === 0xd9) { n = buf[pos + 1]; pos += 2; }
    else if (t === 0xda) { n = (buf[pos + 1] << 8) | buf[pos + 2]; pos += 3; }
    else if (t === 0xd4 && buf[pos + 1] === 0 && buf[pos + 2] === 0) { n = -1; pos += 3; }
    else return -1;
    if (n < 0) S[${slot}] = ${ABSENT};
    else {
      end = pos + n;
      if (n > ${kind === 'ip' ? 45 : 65_536} || end > buf.length) return -1;
      for (let i = pos; i < end; i++) if (buf[i] > 0x7f) return -1;
      ${enumCheck}
      S[${slot}] = pos; N[${slot}] = n; pos = end;
    }`;
  };

  const compile = (keys: readonly string[]): Reader => {
    const seen = new Set<number>();
    const code: string[] = ['let t, n, v, end;'];
    for (const key of keys) {
      const f = index.get(key);
      if (f !== undefined && seen.has(f)) return () => -1; // a key twice: the general path decides
      if (f === undefined) {
        code.push('pos = skip(buf, pos); if (pos < 0) return -1;');
        continue;
      }
      seen.add(f);
      const [, field] = fields[f]!;
      code.push(isString[f] ? stringCode(`base + ${f}`, f, field.kind) : numberCode(`base + ${f}`, field.kind));
    }
    for (let f = 0; f < width; f++) {
      const optional = fields[f]![1].optional === true;
      if (!seen.has(f)) code.push(optional ? `S[base + ${f}] = ${ABSENT};` : 'return -1;');
      else if (!optional) code.push(`if (S[base + ${f}] === ${ABSENT}) return -1;`);
    }
    code.push('return pos > buf.length ? -1 : pos;');
    return new Function('skip', `return function read(buf, pos, S, N, base) { ${code.join('\n')} };`)(skip) as Reader;
  };

  // The row writer: every byte written inline into the writer's block (no call per value), into
  // room claimed beforehand (a row's most bytes: fixed widths, plus each string's length and 5 for
  // its LEB128). It never touches the writer itself: the rare new block stays out of its optimized
  // code, whose every deopt (and re-optimization, tens of ms for a function this size) it caused.
  let fixedWidth = 4 + 8;
  // Each field's code writes into buffer `b` at position `p` (variable names: the row writer has
  // one pair, the column writer one per column).
  const u32 = (v: string, b = 'b', p = 'p'): string =>
    `t = ${v}; ${b}[${p}] = t & 255; ${b}[${p} + 1] = (t >>> 8) & 255; ${b}[${p} + 2] = (t >>> 16) & 255; ${b}[${p} + 3] = t >>> 24; ${p} += 4;`;
  const copy = (from: string, start: string, n: string, b: string, p: string): string =>
    `n = ${n}; if (n < 128) ${b}[${p}++] = n; else { t = n; while (t >= 128) { ${b}[${p}++] = (t & 127) | 128; t >>>= 7; } ${b}[${p}++] = t; }
     if (n < 32) { for (let i = ${start}, e = ${start} + n; i < e; i++) ${b}[${p}++] = ${from}[i]; } else { ${b}.set(${from}.subarray(${start}, ${start} + n), ${p}); ${p} += n; }`;
  // (A number field's value is read from the slots, or given: `readColumns` has it in a variable.)
  const fieldCode = (i: number, b: string, p: string, given?: string): string => {
    const [, f] = fields[i]!;
    const slot = `base + ${i}`;
    if (isString[i]) {
      return `s = S[${slot}]; if (s === ${ABSENT}) { ${copy(`D[${i}]`, '0', `D[${i}].length`, b, p)} } else { ${copy('src', 's', `N[${slot}]`, b, p)} }`;
    }
    const value = given ?? `(S[${slot}] === ${ABSENT} ? ${defaults[i] as number} : N[${slot}])`;
    switch (f.kind) {
      case 'time':
        return u32(`Math.floor(${value} / 1000)`, b, p);
      case 'uint8':
        return `${b}[${p}++] = ${value};`;
      case 'uint16':
        return `t = ${value}; ${b}[${p}] = t & 255; ${b}[${p} + 1] = t >>> 8; ${p} += 2;`;
      case 'uint32':
        return u32(value, b, p);
      case 'uint64':
        return `v = ${value}; ${u32('v >>> 0', b, p)} ${u32('Math.floor(v / 4294967296)', b, p)}`;
      default:
        return `${p} = ${b}.writeDoubleLE(${value}, ${p});`;
    }
  };
  for (const [, f] of fields) fixedWidth += binaryByKind[f.kind]!.width;
  const writes = fields.map((_, i) => fieldCode(i, 'b', 'p'));
  if (fixedWidth > ROW_FIXED_MAX) throw new Error(`${def.name}: ${fixedWidth} fixed-width bytes per row exceed ${ROW_FIXED_MAX}`);
  // A string's most bytes: its own (or its default's) plus 5 for the length.
  const strings = fields.flatMap((_, i) => (isString[i] ? [i] : []));
  const most = strings.map((i) => `(S[base + ${i}] === ${ABSENT} ? D[${i}].length : N[base + ${i}]) + 5`).join(' + ');
  const rowMost = new Function('D', `return function rowMost(S, N, base) { return ${fixedWidth} + ${most || '0'}; };`)(
    defaults,
  ) as (S: Int32Array, N: Float64Array, base: number) => number;
  // A whole message's most bytes without a pass over its rows: its strings' bytes all come from
  // distinct ranges of the message (so at most its length in all), or are defaults.
  const defaultBytes = strings.reduce((sum, i) => sum + (defaults[i] as Buffer).length, 0);
  const perRowMost = fixedWidth + 5 * strings.length + defaultBytes;
  const write = new Function(
    'D',
    `return function write(b, p, src, S, N, base, partition, lo, hi) {
      let s, t, v, n;
      ${writes.join('\n')}
      ${u32('partition')} ${u32('lo')} ${u32('hi')}
      return p;
    };`,
  )(defaults) as RowWriter;

  // The column writer (Native): one loop over the message's records, as the row writer's, each
  // field's bytes going to its own column's block. Each column claims its room once per message:
  // the fixed widths, and for a string column the exact bytes (a first pass adds up the lengths).
  const columnVars = fields.map((_, i) => [`b${i}`, `p${i}`] as const);
  // The end of both column writers (`writeColumns`, the fused `readColumns`): each field's column
  // committed, then the partition and the offset columns written for the message's `count` rows.
  const commitColumns = `${fields.map((_, i) => `w${i}.commit(p${i});`).join(' ')}
      w = C[${width}]; let pp = w.claim(4 * count); const bp = w.block;
      for (let r = 0; r < count; r++) { ${u32('partition', 'bp', 'pp')} }
      w.commit(pp);
      w = C[${width + 1}]; let po = w.claim(8 * count); const bo = w.block;
      for (let r = 0; r < count; r++) { ${u32('lo', 'bo', 'po')} ${u32('hi', 'bo', 'po')} }
      w.commit(po);`;
  const columnCode = `return function writeColumns(C, src, S, N, count, partition, lo, hi) {
      let s, t, v, n, base, w;
      ${strings.map((i) => `let m${i} = 0;`).join(' ')}
      base = 0;
      for (let r = 0; r < count; r++, base += ${width}) {
        ${strings.map((i) => `m${i} += (S[base + ${i}] === ${ABSENT} ? D[${i}].length : N[base + ${i}]) + 5;`).join('\n')}
      }
      ${fields
        .map((_, i) => {
          const [b, p] = columnVars[i]!;
          const claim = isString[i] ? `m${i}` : `count * ${binaryByKind[fields[i]![1].kind]!.width}`;
          return `const w${i} = C[${i}]; let ${p} = w${i}.claim(${claim}); const ${b} = w${i}.block;`;
        })
        .join('\n')}
      base = 0;
      for (let r = 0; r < count; r++, base += ${width}) {
        ${fields.map((_, i) => fieldCode(i, columnVars[i]![0], columnVars[i]![1])).join('\n')}
      }
      ${commitColumns}
    };`;
  const writeColumns = new Function('D', columnCode)(defaults) as (
    C: readonly RowBinaryWriter[],
    src: Buffer,
    S: Int32Array,
    N: Float64Array,
    n: number,
    partition: number,
    lo: number,
    hi: number,
  ) => void;

  // The fused reader-writer (Native, `readColumns`): one pass over a message, each value checked as
  // `read` checks it and written at once into its column's block, strings copied as they are checked.
  // No slots: a value is read once, and its bytes once. A record's values come in its structure's key
  // order, so each field's code is a case of a switch, run for the structure's keys in turn (a
  // structure is a list of field indices, -1 for a key that is no field, and the fields it lacks);
  // one function for every structure, compiled once (and once more with the most used structure's
  // cases unrolled). It commits nothing before the whole message is read: a refused message leaves each
  // column's bytes as they were (its claim may have begun a new block, as any claim does). Nor does
  // it call the writers in between (a path first taken late would deopt this large function): each
  // string column claims room beforehand, from its bytes per record so far, and the rare message
  // whose strings do not fit is read again with room for the most it can take.
  const fusedRoom = (i: number, n: string): string => `if (p${i} + ${n} > e${i}) return ${SHORT};`;
  /** The code writing field `i`'s default (an optional field absent, or undefined). */
  const fusedDefault = (i: number): string => {
    if (!isString[i]) {
      const [b, p] = columnVars[i]!;
      return fieldCode(i, b, p, String(defaults[i]));
    }
    const d = defaults[i] as Buffer;
    const bytes = [...d];
    let n = d.length;
    const leb: number[] = [];
    while (n >= 0x80) {
      leb.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    leb.push(n);
    if (bytes.length > 64)
      return `${fusedRoom(i, String(d.length))} ${leb.map((v) => `b${i}[p${i}++] = ${v};`).join(' ')} b${i}.set(D[${i}], p${i}); p${i} += ${d.length};`;
    const all = [...leb, ...bytes];
    return `${fusedRoom(i, String(d.length))} ${all.map((v, k) => `b${i}[p${i} + ${k}] = ${v};`).join(' ')} p${i} += ${all.length};`;
  };
  const fusedValue = (i: number): string => {
    const [, f] = fields[i]!;
    const optional = f.optional === true;
    if (!isString[i]) {
      const check = f.kind === 'float' ? 'Number.isFinite(v)' : `Number.isInteger(v) && v >= 0 && v <= ${maxByKind[f.kind]}`;
      return `
        t = buf[pos];
        if (t <= 0x3f) { v = t; pos += 1; }
        else if (t === 0xcc) { v = buf[pos + 1]; pos += 2; }
        else if (t === 0xcd) { v = (buf[pos + 1] << 8) | buf[pos + 2]; pos += 3; }
        else if (t === 0xce) { v = V.getUint32(pos + 1); pos += 5; }
        else if (t === 0xcb) { v = V.getFloat64(pos + 1); pos += 9; }
        else if (t === 0xd4 && buf[pos + 1] === 0 && buf[pos + 2] === 0) { ${optional ? `v = ${defaults[i] as number}; pos += 3;` : 'return -1;'} }
        else return -1;
        if (!(${check})) return -1;
        ${fieldCode(i, `b${i}`, `p${i}`, 'v')}`;
    }
    // An enum value compared byte by byte: no subarray per record.
    const sameBytes = (v: Buffer): string =>
      [`n === ${v.length}`, ...[...v].map((byte, k) => `buf[pos + ${k}] === ${byte}`)].join(' && ');
    const enumCheck =
      f.kind === 'enum' ? `if (!(${enumBytes[i]!.map((v) => `(${sameBytes(v)})`).join(' || ') || 'false'})) return -1;` : '';
    return `
        t = buf[pos];
        if (t === 0xd4 && buf[pos + 1] === 0 && buf[pos + 2] === 0) { ${optional ? `pos += 3; ${fusedDefault(i)}` : 'return -1;'} }
        else {
          if (t >= 0xa0 && t <= 0xbf) { n = t - 0xa0; pos += 1; }
          else if (t === 0xd9) { n = buf[pos + 1]; pos += 2; }
          else if (t === 0xda) { n = (buf[pos + 1] << 8) | buf[pos + 2]; pos += 3; }
          else return -1;
          end = pos + n;
          if (!(end <= len) || n > ${f.kind === 'ip' ? 45 : 65_536}) return -1;
          ${enumCheck}
          ${fusedRoom(i, 'n')}
          if (n < 128) b${i}[p${i}++] = n; else { t = n; while (t >= 128) { b${i}[p${i}++] = (t & 127) | 128; t >>>= 7; } b${i}[p${i}++] = t; }
          c = 0;
          if (n < 64) {
            let i = pos;
            for (; i + 4 <= end; i += 4) { t = V.getInt32(i, true); c |= t; d${i}.setInt32(p${i}, t, true); p${i} += 4; }
            for (; i < end; i++) { t = buf[i]; c |= t; b${i}[p${i}++] = t; }
          }
          else { for (let i = pos; i < end; i++) c |= buf[i]; b${i}.set(buf.subarray(pos, end), p${i}); p${i} += n; }
          if ((c & 0x80808080) !== 0) return -1;
          pos = end;
        }`;
  };
  const skipCode = 'pos = skip(buf, pos); if (pos < 0) return -1;';
  /**
   * The fused function; with the code of the structure `primary` unrolled (its keys' cases in order,
   * no switch per value): the one of most records in the first message taken, usually every record's.
   */
  const compileFused = (primary?: { index: number; keys: Int16Array; lacks: Int16Array }): FusedReader => {
    const fusedCode = `return function readColumns(buf, pos, count, C, R, T, KEYS, LACKS, U, define, at, partition, lo, hi) {
      const len = buf.length;
      // Reads and copies a word at a time, a float64 in one read (past the end: a RangeError).
      const V = new DataView(buf.buffer, buf.byteOffset, len);
      let t, n, v, end, c, k, j, keys, lacks, w;
      ${fields
        .map((_, i) =>
          isString[i]
            ? `const w${i} = C[${i}]; let p${i} = w${i}.claim(R[${i}]); const b${i} = w${i}.block, s${i} = p${i}, e${i} = p${i} + R[${i}] - 5, d${i} = new DataView(b${i}.buffer, b${i}.byteOffset, b${i}.length);`
            : `const w${i} = C[${i}]; let p${i} = w${i}.claim(count * ${binaryByKind[fields[i]![1].kind]!.width}); const b${i} = w${i}.block;`,
        )
        .join('\n')}
      for (let r = 0; r < count; r++) {
        if (!(pos < len)) return -1;
        t = buf[pos];
        if (t === 0xd4 && buf[pos + 1] === 0x72) { k = define(buf, pos); if (k < 0) return -1; pos = at[0]; }
        else if (t >= 0x40 && t <= 0x7f) { k = T[t - 0x40]; if (k < 0) return -1; pos += 1; }
        else return -1;
        ${
          primary === undefined
            ? ''
            : `if (k === ${primary.index}) {
          ${[...primary.keys].map((i) => (i < 0 ? skipCode : `{${fusedValue(i)}\n}`)).join('\n')}
          ${[...primary.lacks].map((i) => `{ ${fusedDefault(i)} }`).join('\n')}
        } else {`
        }
        if (k < ${USES}) U[k]++;
        keys = KEYS[k];
        for (j = 0; j < keys.length; j++) {
          switch (keys[j]) {
            ${fields.map((_, i) => `case ${i}: {${fusedValue(i)}\n} break;`).join('\n')}
            default: ${skipCode}
          }
        }
        lacks = LACKS[k];
        for (j = 0; j < lacks.length; j++) {
          switch (lacks[j]) {
            ${fields.map((_, i) => `case ${i}: { ${fusedDefault(i)} } break;`).join('\n')}
          }
        }
        ${primary === undefined ? '' : '}'}
        if (!(pos <= len)) return -1;
      }
      if (pos !== len) return -1;
      ${strings.map((i) => `R[${i}] = p${i} - s${i};`).join(' ')}
      ${commitColumns}
      return count;
    };`;
    return new Function('D', 'skip', fusedCode)(defaults, skip) as FusedReader;
  };
  type FusedReader = (
    buf: Buffer,
    pos: number,
    count: number,
    C: readonly RowBinaryWriter[],
    R: Int32Array,
    T: Int32Array,
    KEYS: readonly Int16Array[],
    LACKS: readonly Int16Array[],
    U: Int32Array,
    define: (buf: Buffer, pos: number) => number,
    at: Float64Array,
    partition: number,
    lo: number,
    hi: number,
  ) => number;
  let fused = compileFused();
  /** The structure unrolled in `fused` (-1: none yet). */
  let primary = -1;
  /** Structures by key list (index into `structureKeys`, or -1 when `read` refuses any record of it). */
  const structureIndex = new Map<string, number>();
  /** Per structure: its keys' field indices (-1: no field), and the fields it lacks (all optional). */
  const structureKeys: Int16Array[] = [];
  const structureLacks: Int16Array[] = [];
  /** Per structure: its keys as written (`warm` writes records in that order). */
  const structureNames: (readonly string[])[] = [];
  /** This message's record ids (0x40–0x7f) → structures (-1: none yet). */
  const ids = new Int32Array(64);
  /** Records per structure read by the switch (the first `USES` structures): which one to unroll. */
  const uses = new Int32Array(USES);
  /**
   * Per string column: the bytes it claims for a message (in), then the bytes it took (out); and its
   * bytes per record lately, from which the next message's claim is made.
   */
  const room = new Int32Array(width);
  const rowBytes = new Float64Array(width);
  /** The most bytes string column `i` takes for `n` records of a message of `length` bytes. */
  const mostBytes = (i: number, n: number, length: number): number =>
    n * (5 + (defaults[i] as Buffer).length) + Math.min(length, n * (fields[i]![1].kind === 'ip' ? 45 : 65_536));
  /** Where the record after a definition's keys starts (`define`'s second result). */
  const at = new Float64Array(1);
  const structure = (keys: readonly string[]): number => {
    const seen = new Set<number>();
    const list: number[] = [];
    for (const key of keys) {
      const f = index.get(key);
      if (f !== undefined && seen.has(f)) return -1; // a key twice: the general path decides
      if (f !== undefined) seen.add(f);
      list.push(f ?? -1);
    }
    const lacks: number[] = [];
    for (let f = 0; f < width; f++) {
      if (seen.has(f)) continue;
      if (fields[f]![1].optional !== true) return -1;
      lacks.push(f);
    }
    structureKeys.push(Int16Array.from(list));
    structureLacks.push(Int16Array.from(lacks));
    structureNames.push(keys);
    return structureKeys.length - 1;
  };
  /**
   * Type feedback for every value encoding before V8 optimizes the fused reader: a branch first
   * taken after that (a sequence number passing 65,535, the first long or str16 string, the first
   * absent optional value) deoptimizes it, and each recompile costs 60–100 ms of the JIT's time
   * (`--trace-deopt`: "Insufficient type feedback"). Runs it over one record per variant in
   * structure `k`'s own key order — each number field once per encoding msgpackr picks (positive
   * fixint, uint8, uint16, uint32, float64), each string short, 40, 70 and 300 bytes long (within
   * its kind's limit), each optional field absent — into scratch columns. A variant a field refuses
   * (out of range) only ends that record early; nothing of the transcoder's state changes.
   */
  const warm = (reader: FusedReader, k: number): void => {
    const names = structureNames[k]!;
    const numbers = [1, 200, 60_000, 100_000, 2 ** 40, 1.5];
    const texts = [1, 40, 70, 300];
    const scratch = Array.from({ length: width + 2 }, () => new RowBinaryWriter());
    const scratchRoom = new Int32Array(width);
    const scratchUses = new Int32Array(USES);
    // Twice: V8 gives a function its feedback vector only once it has run a little (lazy feedback
    // allocation), so the first call records nothing (one round left the deopt in place).
    for (let round = 0; round < 2; round++)
      for (let variant = 0; variant <= numbers.length; variant++) {
        const record: Record<string, unknown> = {};
        for (const name of names) {
          const f = index.get(name);
          if (f === undefined) {
            record[name] = 0;
            continue;
          }
          const [, field] = fields[f]!;
          if (variant === numbers.length) record[name] = field.optional ? undefined : defaultFor(field);
          else if (!isString[f]) {
            const v = numbers[variant]!;
            record[name] = field.kind === 'float' ? v : Math.min(Math.floor(v), maxByKind[field.kind] ?? v);
          } else if (field.kind === 'enum') record[name] = field.values?.[0] ?? '';
          else record[name] = 'a'.repeat(Math.min(texts[variant % texts.length]!, field.kind === 'ip' ? 45 : 65_536));
        }
        const body = encodeRecords([record]);
        const head = arrayHeader(body, 0);
        if (!head) continue;
        for (const i of strings) scratchRoom[i] = mostBytes(i, 1, body.length);
        ids.fill(-1);
        try {
          reader(body, head[1], 1, scratch, scratchRoom, ids, structureKeys, structureLacks, scratchUses, define, at, 0, 0, 0);
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
        }
      }
  };
  /** The fused reader with structure `k` unrolled, its branches given feedback. */
  const compileWarm = (k: number): FusedReader => {
    const reader = compileFused({ index: k, keys: structureKeys[k]!, lacks: structureLacks[k]! });
    warm(reader, k);
    return reader;
  };
  /** A record definition (`d4 72 <id> [keys…]`) at `pos`: its structure (and `at[0]`), or -1. */
  const define = (buf: Buffer, pos: number): number => {
    const id = buf[pos + 2]!;
    if (!(id >= 0x40 && id <= 0x7f)) return -1;
    // Known by its bytes: one string per definition rather than one per key (half the cost of a
    // one-record message). A key list cut by the end of the body: `read` refuses the message too.
    const end = keysEnd(buf, pos + 3);
    if (!(end >= 0 && end <= buf.length)) return -1;
    const signature = buf.toString('latin1', pos + 3, end);
    let k = structureIndex.get(signature);
    if (k === undefined) {
      const keys = recordKeys(buf, pos + 3);
      structureIndex.set(signature, (k = keys ? structure(keys[0]) : -1));
    }
    if (k < 0) return -1;
    ids[id - 0x40] = k;
    at[0] = end;
    return k;
  };

  /** Readers by key list: structures repeat in every message, so each is compiled once. */
  const readers = new Map<string, Reader>();
  /** This message's record ids (0x40–0x7f) → readers. */
  const structures: (Reader | undefined)[] = new Array<Reader | undefined>(64);
  let S = new Int32Array(1024 * width);
  let N = new Float64Array(1024 * width);
  let src: Buffer = Buffer.alloc(0);
  let records = 0;

  const readRecords = (body: Buffer, n: number, pos: number): number => {
    for (let i = 0; i < n; i++) {
      if (pos >= body.length) return -1;
      const t = body[pos]!;
      let reader: Reader | undefined;
      if (t === 0xd4 && body[pos + 1] === 0x72) {
        const id = body[pos + 2]!;
        const keys = id >= 0x40 && id <= 0x7f ? recordKeys(body, pos + 3) : undefined;
        if (!keys) return -1;
        const signature = keys[0].join('\u0000');
        reader = readers.get(signature);
        if (!reader) {
          // Bounded: a producer that invents key sets per message cannot grow it without end.
          if (readers.size >= 256) readers.clear();
          readers.set(signature, (reader = compile(keys[0])));
        }
        structures[id - 0x40] = reader;
        pos = keys[1];
      } else if (t >= 0x40 && t <= 0x7f) {
        reader = structures[t - 0x40];
        if (!reader) return -1;
        pos += 1;
      } else return -1;
      pos = reader(body, pos, S, N, i * width);
      if (pos < 0) return -1;
    }
    return pos;
  };

  return {
    read(body) {
      records = 0;
      src = body;
      if (body.length === 0) return -1;
      const head = arrayHeader(body, 0);
      if (!head) return -1;
      const [n, first] = head;
      if (S.length < n * width) {
        S = new Int32Array(n * width * 2);
        N = new Float64Array(n * width * 2);
      }
      structures.fill(undefined);
      let end: number;
      try {
        end = readRecords(body, n, first);
      } catch (err) {
        // Reads past the end of a truncated body.
        if (err instanceof RangeError) return -1;
        throw err;
      }
      if (end !== body.length) return -1;
      records = n;
      return n;
    },

    writeRow(i, w, partition, offsetLow, offsetHigh) {
      if (i < 0 || i >= records) throw new RangeError(`record ${i} of ${records}`);
      const p = w.claim(rowMost(S, N, i * width));
      w.commit(write(w.block, p, src, S, N, i * width, partition, offsetLow, offsetHigh));
    },

    writeColumns(columns, partition, offsetLow, offsetHigh) {
      writeColumns(columns, src, S, N, records, partition, offsetLow, offsetHigh);
    },

    readColumns(body, columns, partition, offsetLow, offsetHigh) {
      // The message last `read` is not at hand any more.
      records = 0;
      if (body.length === 0) return -1;
      let head: [number, number] | undefined;
      try {
        head = arrayHeader(body, 0);
      } catch (err) {
        if (err instanceof RangeError) return -1;
        throw err;
      }
      if (!head) return -1;
      const [n, first] = head;
      // Every record takes a byte at least: `read` refuses more records than bytes too.
      if (n > body.length) return -1;
      // Bounded: a producer that invents key sets per message cannot grow them without end.
      if (structureKeys.length >= 256 || structureIndex.size >= 1024) {
        structureIndex.clear();
        structureKeys.length = 0;
        structureLacks.length = 0;
        structureNames.length = 0;
        fused = compileFused();
        primary = -1;
        uses.fill(0);
      }
      // The first message's first record structure is unrolled before anything runs, so the
      // generic function never gets hot (each TurboFan compile of it is 60–100 ms); when that record
      // is no definition, the one of most records in the first message taken is, after it.
      if (primary < 0 && n > 0 && body[first] === 0xd4 && body[first + 1] === 0x72) {
        let k = -1;
        try {
          k = define(body, first);
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
        }
        if (k >= 0) {
          primary = k;
          fused = compileWarm(k);
        }
      }
      let count = -1;
      try {
        // Each string column claims room for its bytes per row so far (and some); when that is
        // short, the message again with room for the most it can take: every record's string, or
        // default, with its length, the strings' bytes all from distinct ranges of the message.
        for (let attempt = 0; attempt < 2; attempt++) {
          for (const i of strings)
            room[i] =
              attempt === 0 ? Math.ceil(n * rowBytes[i]! * 1.25) + 64 : Math.min(mostBytes(i, n, body.length), 2 ** 31 - 1);
          ids.fill(-1);
          count = fused(
            body,
            first,
            n,
            columns,
            room,
            ids,
            structureKeys,
            structureLacks,
            uses,
            define,
            at,
            partition,
            offsetLow,
            offsetHigh,
          );
          if (count !== SHORT) break;
        }
      } catch (err) {
        // Reads past the end of a truncated body.
        if (err instanceof RangeError) return -1;
        throw err;
      }
      if (count < 0) count = -1;
      else if (n > 0) for (const i of strings) rowBytes[i] = Math.max(room[i]! / n, rowBytes[i]! * 0.95);
      // Structures repeat in every message: when the first record was no definition, the one of most
      // records in the first message taken is unrolled, once.
      if (primary < 0 && count > 0) {
        primary = uses.indexOf(Math.max(...uses));
        fused = compileWarm(primary);
      }
      return count;
    },

    writeRows(w, partition, offsetLow, offsetHigh) {
      let p = w.claim(records * perRowMost + src.length);
      const b = w.block;
      for (let i = 0; i < records; i++) p = write(b, p, src, S, N, i * width, partition, offsetLow, offsetHigh);
      w.commit(p);
    },

    text(i, field) {
      const f = index.get(field);
      if (f === undefined || !isString[f]) throw new Error(`${def.name} has no string field ${field}`);
      if (i < 0 || i >= records) throw new RangeError(`record ${i} of ${records}`);
      const start = S[i * width + f]!;
      if (start === ABSENT) return '';
      return src.toString('latin1', start, start + N[i * width + f]!);
    },
  };
}
