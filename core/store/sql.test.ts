import { describe, expect, it } from 'vitest';
import { sql, ident, list, raw, joinSql, dateTimeMs } from './sql.ts';

describe('sql template', () => {
  it('escapes quotes and backslashes in strings', () => {
    expect(sql`SELECT ${"it's \\ here"}`.text).toBe("SELECT 'it\\'s \\\\ here'");
    expect(sql`x = ${"'; DROP TABLE t; --"}`.text).toBe("x = '\\'; DROP TABLE t; --'");
  });

  it('renders numbers, booleans, null, arrays, lists and times', () => {
    expect(sql`${1.5}, ${true}, ${null}, ${[1, 'a']}, ${list(['a', 'b'])}, ${list([])}`.text).toBe(
      "1.5, 1, NULL, [1, 'a'], ('a', 'b'), (NULL)",
    );
    expect(dateTimeMs(1_767_571_200_999).text).toBe('toDateTime(1767571200)');
    expect(() => sql`${Number.NaN}`).toThrow(/non-finite/);
  });

  it('accepts only plain identifiers', () => {
    expect(sql`SELECT * FROM ${ident('flows_raw')}`.text).toBe('SELECT * FROM `flows_raw`');
    expect(() => ident('flows`; DROP')).toThrow(/invalid SQL identifier/);
  });

  it('nests fragments without escaping them again', () => {
    const where = joinSql([sql`a = ${1}`, sql`b = ${'x'}`], ' AND ');
    expect(sql`SELECT 1 WHERE ${where} ${raw('LIMIT 1')}`.text).toBe("SELECT 1 WHERE a = 1 AND b = 'x' LIMIT 1");
  });
});
