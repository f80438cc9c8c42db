import { describe, expect, it } from 'vitest';
import { parseChCode, parseChType, toStoreError, StoreError } from './errors.ts';
import { capabilitiesFor, parseVersion, pinnedSettings } from './version.ts';

describe('store errors', () => {
  it('parses the code from 18.16 and modern messages', () => {
    const old = "Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist., e.what() = DB::Exception\n";
    const modern = "Code: 60. DB::Exception: Unknown table expression identifier 'x' in scope SELECT * FROM x. (UNKNOWN_TABLE)";
    expect(parseChCode(old)).toBe(60);
    expect(parseChCode(modern)).toBe(60);
    expect(parseChType(old)).toBeUndefined();
    expect(parseChType(modern)).toBe('UNKNOWN_TABLE');
    const e = toStoreError(new Error(old), 'query failed', 'SELECT * FROM x');
    expect(e).toBeInstanceOf(StoreError);
    expect(e.message).toBe("query failed: Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist.");
    expect(e.chCode).toBe(60);
    expect(e.transient).toBe(false);
    expect(e.statement).toBe('SELECT * FROM x');
  });

  it('marks connection failures and overload codes transient', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    expect(toStoreError(refused, 'x').transient).toBe(true);
    expect(toStoreError(new Error('Code: 252, e.displayText() = DB::Exception: Too many parts'), 'x').transient).toBe(true);
    expect(toStoreError(new Error('Code: 62. DB::Exception: Syntax error (SYNTAX_ERROR)'), 'x').transient).toBe(false);
  });
});

describe('store versions', () => {
  it('derives capabilities and pinned settings from the version', () => {
    const old = parseVersion('18.16.1');
    expect(old).toEqual({ major: 18, minor: 16, text: '18.16.1' });
    expect(capabilitiesFor(old)).toEqual({
      ttl: false,
      lowCardinality: false,
      dateTime64: false,
      windowFunctions: false,
      queryParameters: false,
    });
    expect(pinnedSettings(old)).not.toHaveProperty('async_insert');
    const modern = parseVersion('26.7.2.1');
    expect(Object.values(capabilitiesFor(modern)).every(Boolean)).toBe(true);
    expect(pinnedSettings(modern)).toMatchObject({ async_insert: 0, output_format_json_quote_64bit_integers: 0 });
    expect(capabilitiesFor(parseVersion('19.6.2.11')).ttl).toBe(true);
    expect(() => parseVersion('garbage')).toThrow(/unrecognised/);
  });
});
