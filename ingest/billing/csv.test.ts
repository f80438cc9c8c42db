import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvSplitter, type CsvRow } from './csv.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'billing');

/** Splits `text` fed in pieces of `step` characters. */
function split(text: string, step = text.length || 1): CsvRow[] {
  const rows: CsvRow[] = [];
  const s = new CsvSplitter();
  for (let i = 0; i < text.length; i += step) s.push(text.slice(i, i + step), (r) => rows.push(r));
  s.end((r) => rows.push(r));
  return rows;
}

describe('CsvSplitter', () => {
  it.each([
    'focus_1.0_sample_1000rows.csv',
    'focus_1.1_sample.csv',
    'aws_cur_legacy_sample.csv',
    'aws_cur2_sample.csv',
    'gcp_billing_export_sample.csv',
    'azure_cost_export_sample.csv',
  ])('agrees with csv-parse on %s, whatever the chunking', (name) => {
    const text = readFileSync(join(fixtures, name), 'utf8');
    const expected = parse(text, { relax_column_count: true }) as string[][];
    for (const step of [text.length, 65_536, 4093, 97]) {
      expect(split(text, step).map((r) => r.fields)).toEqual(expected);
    }
  });

  it('handles quotes, doubled quotes, embedded newlines, CRLF, a BOM and a missing final newline', () => {
    const text = '\uFEFFa,b,c\r\n1,"x, ""y""\r\nz",3\r\n\r\n"",,"last"';
    const expected = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    for (let step = 1; step <= text.length; step++) {
      const rows = split(text, step);
      expect(rows.map((r) => r.fields)).toEqual(expected);
      expect(rows.map((r) => r.line)).toEqual([1, 2, 5]);
    }
  });

  it('keeps a short row apart from the next one and reports the lines', () => {
    const rows = split('a,b,c\n1,2\n3,4,5\n6,"7"x,8\n9,"unterminated\n');
    expect(rows.map((r) => [r.line, r.fields.length, r.error ?? ''])).toEqual([
      [1, 3, ''],
      [2, 2, ''],
      [3, 3, ''],
      [4, 3, 'unexpected text after a closing quote'],
      [5, 2, 'unterminated quoted field'],
    ]);
    expect(rows[2]!.fields).toEqual(['3', '4', '5']);
  });

  it('counts lines across quoted newlines for the rows after them', () => {
    const rows = split('h1,h2\n"a\nb\nc",1\nnext,2\n');
    expect(rows.map((r) => r.line)).toEqual([1, 2, 5]);
  });
});

describe('CsvSplitter column projection', () => {
  it('materializes only the kept columns, still counting every field and line', () => {
    const s = new CsvSplitter();
    s.setKeep([true, false, true]);
    const rows: CsvRow[] = [];
    s.push('1,"skip ""me""",3\n4,"x\ny",6\n7,8\n', (r) => rows.push(r));
    s.end((r) => rows.push(r));
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [1, ['1', '', '3']],
      [2, ['4', '', '6']],
      [4, ['7', '']],
    ]);
  });
});
