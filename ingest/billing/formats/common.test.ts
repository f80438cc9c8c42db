import { describe, expect, it } from 'vitest';
import { costRecord } from '../../../core/records/index.ts';
import { buildRecord, daysInMonth, normalizeProvider, num, parseTime } from './common.ts';

describe('parseTime', () => {
  it.each([
    ['2024-09-18 22:00:00', Date.UTC(2024, 8, 18, 22)],
    ['2024-09-01T00:00:00Z', Date.UTC(2024, 8, 1)],
    ['2024-10-01T00:00:00.000Z', Date.UTC(2024, 9, 1)],
    ['2024-09-01 07:00:00 UTC', Date.UTC(2024, 8, 1, 7)],
    ['2024-09-02 06:12:44.123456 UTC', Date.UTC(2024, 8, 2, 6, 12, 44, 123)],
    ['2024-09-01T00:00:00+00:00', Date.UTC(2024, 8, 1)],
    ['2024-09-01T02:00:00+02:00', Date.UTC(2024, 8, 1)],
    ['2024-08-31T19:30:00-04:30', Date.UTC(2024, 8, 1)],
    ['2024-09-01', Date.UTC(2024, 8, 1)],
    ['2024-09-01T05:06', Date.UTC(2024, 8, 1, 5, 6)],
    ['09/01/2024', Date.UTC(2024, 8, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2000-02-29 00:00:00', Date.UTC(2000, 1, 29)],
  ])('%s', (text, expected) => {
    expect(parseTime(text)).toBe(expected);
  });

  it.each(['', 'yesterday', '2024-13-01 00:00:00', '2024-09-01 25:00:00', '2024-09-01T00:00:00 CET', '2024-9-01'])(
    'rejects %j',
    (text) => {
      expect(parseTime(text)).toBeNaN();
    },
  );

  // Issue 12.4: Date.UTC / Date.parse roll a day that does not exist into the next month.
  it.each([
    '2024-02-30',
    '2024-02-30 00:00:00',
    '2024-02-30T00:00:00Z',
    '2023-02-29 00:00:00 UTC',
    '1900-02-29',
    '2024-04-31T10:00:00+02:00',
    '2024-06-31 00:00:00.5',
    '02/30/2024',
    '13/01/2024',
  ])('rejects the non-existent date %j instead of rolling it over', (text) => {
    expect(parseTime(text)).toBeNaN();
  });

  it('knows the month lengths', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2023, m))).toEqual([
      31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ]);
    expect([2024, 2100, 2000].map((y) => daysInMonth(y, 2))).toEqual([29, 28, 29]);
  });
});

describe('num (strict decimals)', () => {
  it.each([
    ['1', 1],
    ['-0.25', -0.25],
    ['+3.5', 3.5],
    ['.5', 0.5],
    ['7.', 7],
    ['0.00000080000', 8e-7],
    ['4.2E-7', 4.2e-7],
    ['1e3', 1000],
  ])('reads %j', (text, expected) => {
    expect(num(text)).toBe(expected);
  });

  // Issue 12.4: Number() reads '0x10' as 16; these are not decimal amounts.
  it.each(['0x10', '0b11', '0o7', 'Infinity', '-Infinity', 'NaN', '1_000', ' 5', '5 ', '1,5', '1.2.3', 'e5', '12abc', '--1'])(
    'refuses %j',
    (text) => {
      expect(num(text)).toBeNaN();
    },
  );

  it('gives the fallback for an empty field', () => {
    expect(num('')).toBe(0);
    expect(num('', NaN)).toBeNaN();
  });
});

describe('cost records', () => {
  const parts = {
    format: 'focus' as const,
    identity: 'focus\x1fa\x1fb',
    start: Date.UTC(2024, 8, 1),
    end: Date.UTC(2024, 8, 1, 1),
    provider: 'aws',
    account: '123',
    service: 'EC2',
    region: 'us-east-1',
    transfer: { category: 'inter-region' as const, src: 'us-east-1', dst: 'eu-central-1' },
    quantity: '12.5',
    unit: 'GB',
    cost: '0.25',
    currency: 'USD',
    resource: '',
  };

  it('builds valid records and hands on the identity', () => {
    const r = buildRecord(parts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.identity).toBe(parts.identity);
    expect(costRecord.parse({ ...r.record, line_id: 'x' })).toEqual({ ...r.record, line_id: 'x' });
    expect(r.record).toMatchObject({
      src_region: 'us-east-1',
      dst_region: 'eu-central-1',
      category: 'inter-region',
      cost: 0.25,
      usage_quantity: 12.5,
    });
    expect(r.record.resource_id).toBeUndefined();
    expect(r.record.line_version).toBeUndefined();
    const versioned = buildRecord({ ...parts, version: 1_725_000_000_000, cost: '1', costAdjustment: -0.25 });
    expect(versioned.ok && versioned.record).toMatchObject({ line_version: 1_725_000_000_000, cost: 0.75 });
  });

  it('gives a reason, with the value, instead of a bad record', () => {
    expect(buildRecord({ ...parts, cost: '0x10' })).toEqual({ ok: false, reason: 'cost "0x10" is not a decimal number' });
    expect(buildRecord({ ...parts, cost: '' })).toEqual({ ok: false, reason: 'cost is empty' });
    expect(buildRecord({ ...parts, quantity: '1,5' })).toEqual({
      ok: false,
      reason: 'usage quantity "1,5" is not a decimal number',
    });
    expect(buildRecord({ ...parts, quantity: '' })).toMatchObject({ ok: true, record: { usage_quantity: 0 } });
    expect(buildRecord({ ...parts, start: parseTime('2024-02-30') })).toEqual({
      ok: false,
      reason: 'usage start is missing or not a valid timestamp',
    });
    expect(buildRecord({ ...parts, end: parts.start - 1 })).toEqual({ ok: false, reason: 'usage end is before usage start' });
    expect(buildRecord({ ...parts, currency: '' })).toEqual({ ok: false, reason: 'currency is empty' });
  });

  it('normalizes provider names', () => {
    expect(['AWS', 'Amazon Web Services', 'Microsoft', 'Google Cloud', 'Oracle'].map(normalizeProvider)).toEqual([
      'aws',
      'aws',
      'azure',
      'gcp',
      'oracle',
    ]);
  });
});
