import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { ValidationError } from '../../core/errors.ts';

/**
 * Text encodings of billing exports. `auto` reads a byte-order mark (UTF-8, UTF-16 LE/BE) and
 * otherwise requires valid UTF-8; Latin-1 (ISO-8859-1: every byte is a character, so it can never be
 * detected) must be declared. Nothing is decoded with replacement characters: a byte that is not
 * valid in the encoding refuses the file, naming its line.
 */
export const billingEncodings = ['auto', 'utf8', 'utf16le', 'utf16be', 'latin1'] as const;
export type BillingEncoding = (typeof billingEncodings)[number];
export type ResolvedEncoding = Exclude<BillingEncoding, 'auto'>;

const LF = 10;

/** The encoding a byte-order mark at the start of `head` declares, with the mark's length. */
export function sniffBom(head: Uint8Array): { encoding: 'utf8' | 'utf16le' | 'utf16be'; length: number } | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', length: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', length: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', length: 2 };
  return undefined;
}

/** The encoding to read a file with: its BOM's, unless the caller declared another (then a refusal). */
export function resolveEncoding(file: string, declared: BillingEncoding, head: Uint8Array): ResolvedEncoding {
  const bom = sniffBom(head);
  if (declared === 'auto') return bom?.encoding ?? 'utf8';
  if (bom && bom.encoding !== declared) {
    throw new ValidationError(`${file}: declared ${declared}, but the file starts with a ${bom.encoding} byte-order mark`);
  }
  return declared;
}

/**
 * Offset of the first byte that makes `bytes` invalid UTF-8 (overlongs, surrogates and code points
 * above U+10FFFF included), or -1. A sequence cut off by the end of `bytes` is not an error unless
 * `final` (a stream chunk may end mid-character).
 */
export function firstInvalidUtf8(bytes: Uint8Array, final = true): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return final ? i : -1;
      const c = bytes[i + k]!;
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** LF bytes in `bytes` before `end`. */
export function countLines(bytes: Uint8Array, end = bytes.length): number {
  let count = 0;
  for (let i = bytes.indexOf(LF); i !== -1 && i < end; i = bytes.indexOf(LF, i + 1)) count++;
  return count;
}

/** The refusal for a byte that is not UTF-8: names the line and the byte, and the way out. */
export function notUtf8Error(file: string, line: number, byte: number | undefined): ValidationError {
  const hex = byte === undefined ? 'a truncated character' : `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return new ValidationError(
    `${file}:${line}: not valid UTF-8 (${hex}); nothing decoded with replacement characters. ` +
      'If the export is Latin-1, import it with --encoding latin1; UTF-16 needs a byte-order mark or --encoding utf16le|utf16be',
  );
}

/** Where an incomplete UTF-8 character at the end of `bytes` starts (bytes.length when none). */
function completeUtf8End(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back]!;
    if (b < 0x80) return bytes.length;
    if (b >= 0xc0) {
      const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return len > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/**
 * Checks that an uncompressed file is valid UTF-8 before anything of it is published, so a refusal
 * leaves nothing half-imported. Reads 1 MiB at a time with the SIMD validator (`buffer.isUtf8`); the
 * slow scan runs only on the chunk that fails, to name the line.
 */
export async function assertUtf8File(file: string, skip = 0): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    let carry = 0; // bytes of an incomplete character moved to the front of `chunk`
    let position = skip;
    let lines = 0;
    for (;;) {
      const { bytesRead } = await fh.read(chunk, carry, chunk.length - carry, position);
      position += bytesRead;
      const filled = carry + bytesRead;
      const final = bytesRead === 0;
      const view = chunk.subarray(0, filled);
      const end = final ? filled : completeUtf8End(view);
      const whole = view.subarray(0, end);
      if (!isUtf8(whole)) {
        const at = firstInvalidUtf8(whole, true);
        throw notUtf8Error(file, lines + countLines(whole, at) + 1, at < whole.length ? whole[at] : undefined);
      }
      if (final) return;
      lines += countLines(whole);
      carry = filled - end;
      if (carry > 0) chunk.copy(chunk, 0, end, filled);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Decodes a file's byte chunks to text in the resolved encoding, dropping the byte-order mark.
 * UTF-8 is validated with the SIMD validator (`buffer.isUtf8`) and decoded with `toString` (about
 * twice TextDecoder's speed here), a character split across chunks carried over; UTF-16 goes
 * through TextDecoder with `fatal: true`. An invalid sequence throws naming its line.
 */
export class ChunkDecoder {
  private readonly utf16: TextDecoder | undefined;
  /** LFs in the UTF-8 text decoded so far: the line of an error in the next chunk. */
  private lines = 0;
  /** The previous chunk's incomplete last character (UTF-8). */
  private tail: Buffer = Buffer.alloc(0);
  private first = true;

  constructor(
    private readonly file: string,
    readonly encoding: ResolvedEncoding,
  ) {
    this.utf16 =
      encoding === 'utf16le' || encoding === 'utf16be'
        ? new TextDecoder(encoding === 'utf16le' ? 'utf-16le' : 'utf-16be', { fatal: true, ignoreBOM: false })
        : undefined;
  }

  decode(chunk: Buffer, final = false): string {
    // Latin-1: a BOM cannot be told from text, so none is dropped.
    if (this.encoding === 'latin1') return chunk.toString('latin1');
    if (this.utf16) {
      try {
        return this.utf16.decode(chunk, { stream: !final });
      } catch (err) {
        throw new ValidationError(`${this.file}: not valid ${this.encoding} (${(err as Error).message})`, { cause: err });
      }
    }
    let bytes = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    if (this.first) {
      this.first = false;
      if (sniffBom(bytes)?.encoding === 'utf8') bytes = bytes.subarray(3);
    }
    const end = final ? bytes.length : completeUtf8End(bytes);
    const whole = bytes.subarray(0, end);
    if (!isUtf8(whole)) {
      const at = firstInvalidUtf8(whole, true);
      throw notUtf8Error(this.file, this.lines + countLines(whole, at) + 1, at < whole.length ? whole[at] : undefined);
    }
    this.lines += countLines(whole);
    this.tail = Buffer.from(bytes.subarray(end));
    return whole.toString('utf8');
  }
}
