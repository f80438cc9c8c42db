import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { CostRecord } from '../../core/records/index.ts';
import { assertUtf8File, ChunkDecoder, firstInvalidUtf8, resolveEncoding, sniffBom, type BillingEncoding } from './encoding.ts';
import { importFile } from './importer.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'billing');
const tmp = mkdtempSync(join(tmpdir(), 'pp-billing-encoding-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The Azure sample with a non-ASCII resource group on its third data row (file line 4).
const azure = readFileSync(join(fixtures, 'azure_cost_export_sample.csv'), 'utf8');
const text = azure
  .split('\n')
  .map((line, i) => (i === 3 ? line.replaceAll('rg-wan-weu', 'rg-zürich-café') : line))
  .join('\n');
const dataRows = text.trimEnd().split('\n').length - 1;

function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return le;
}

async function load(name: string, bytes: Buffer, encoding?: BillingEncoding) {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  const records: CostRecord[] = [];
  const summary = await importFile(file, { encoding, onBatch: (b) => void records.push(...b) });
  return { summary, records };
}

const resourceGroups = (records: CostRecord[]) => records.map((r) => r.resource_id ?? '').filter((id) => id.includes('rg-z'));

describe('encodings', () => {
  it('reads byte-order marks', () => {
    expect(sniffBom(Buffer.from([0xef, 0xbb, 0xbf, 0x41]))).toEqual({ encoding: 'utf8', length: 3 });
    expect(sniffBom(Buffer.from([0xff, 0xfe, 0x41, 0]))).toEqual({ encoding: 'utf16le', length: 2 });
    expect(sniffBom(Buffer.from([0xfe, 0xff, 0, 0x41]))).toEqual({ encoding: 'utf16be', length: 2 });
    expect(sniffBom(Buffer.from('Date,'))).toBeUndefined();
    expect(resolveEncoding('f.csv', 'auto', Buffer.from('Date,'))).toBe('utf8');
    expect(() => resolveEncoding('f.csv', 'latin1', Buffer.from([0xff, 0xfe, 0x41, 0]))).toThrow(
      'f.csv: declared latin1, but the file starts with a utf16le byte-order mark',
    );
  });

  it('finds the first invalid UTF-8 byte (overlongs, surrogates, stray continuations)', () => {
    expect(firstInvalidUtf8(Buffer.from('aé€😀'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe9, 0x62]))).toBe(1); // Latin-1 é
    expect(firstInvalidUtf8(Buffer.from([0xc0, 0xaf]))).toBe(0); // overlong '/'
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // surrogate
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]), false)).toBe(-1); // cut mid-character
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]), true)).toBe(1);
  });

  it('a decoder fed a character split across chunks decodes it, and names the line of a bad byte', () => {
    const d = new ChunkDecoder('f.csv', 'utf8');
    const euro = Buffer.from('a\n€\n');
    expect(d.decode(euro.subarray(0, 3)) + d.decode(euro.subarray(3), true)).toBe('a\n€\n');
    const bad = new ChunkDecoder('g.csv', 'utf8');
    bad.decode(Buffer.from('h\nx\n'));
    expect(() => bad.decode(Buffer.from([0x79, 0x0a, 0x7a, 0xe9, 0x0a]), true)).toThrow(
      /^g\.csv:4: not valid UTF-8 \(byte 0xE9\)/,
    );
  });

  it('imports UTF-8 with and without a BOM to the same records', async () => {
    const plain = await load('plain.csv', Buffer.from(text));
    const bom = await load('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    expect(plain.summary).toMatchObject({ format: 'azure', imported: dataRows, bad: 0 });
    expect(resourceGroups(plain.records)).toEqual([expect.stringContaining('rg-zürich-café')]);
    const strip = (rs: CostRecord[]) => rs.map((r) => ({ ...r, line_version: 0 }));
    expect(strip(bom.records)).toEqual(strip(plain.records));
  });

  it('decodes UTF-16 LE and BE with a byte-order mark', async () => {
    const plain = await load('ref.csv', Buffer.from(text));
    const le = await load('le.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const be = await load('be.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]));
    const declared = await load('be-declared.csv', utf16be(text), 'utf16be');
    for (const r of [le, be, declared]) {
      expect(r.summary).toMatchObject({ format: 'azure', imported: dataRows, bad: 0 });
      expect(r.records.map((x) => x.line_id)).toEqual(plain.records.map((x) => x.line_id));
      expect(resourceGroups(r.records)).toEqual(resourceGroups(plain.records));
    }
  });

  // Issue 12.4: Latin-1 bytes were decoded as U+FFFD without a word.
  it('refuses Latin-1 without the flag, naming the line of the first bad byte, and publishes nothing', async () => {
    const batches: CostRecord[][] = [];
    const file = join(tmp, 'latin1.csv');
    writeFileSync(file, Buffer.from(text, 'latin1'));
    await expect(importFile(file, { onBatch: (b) => void batches.push(b), batchSize: 1 })).rejects.toThrow(
      /latin1\.csv:4: not valid UTF-8 \(byte 0xFC\).*--encoding latin1/,
    );
    expect(batches).toEqual([]);
    await expect(assertUtf8File(file)).rejects.toThrow(/:4: /);
  });

  it('refuses a gzipped Latin-1 file while streaming, naming the line', async () => {
    const file = join(tmp, 'latin1.csv.gz');
    writeFileSync(file, gzipSync(Buffer.from(text, 'latin1')));
    await expect(importFile(file)).rejects.toThrow(/latin1\.csv\.gz:4: not valid UTF-8 \(byte 0xFC\)/);
  });

  it('reads Latin-1 when declared', async () => {
    const plain = await load('ref2.csv', Buffer.from(text));
    const latin1 = await load('declared.csv', Buffer.from(text, 'latin1'), 'latin1');
    expect(latin1.summary).toMatchObject({ imported: dataRows, bad: 0 });
    expect(resourceGroups(latin1.records)).toEqual(resourceGroups(plain.records));
    expect(latin1.records.map((r) => r.line_id)).toEqual(plain.records.map((r) => r.line_id));
  });
});
