import { describe, expect, it } from 'vitest';
import { costRecord } from '../../../core/records/index.ts';
import { buildRecord, lineId, normalizeProvider, parseTime } from './common.ts';

describe('parseTime', () => {
  it.each([
    ['2024-09-18 22:00:00', Date.UTC(2024, 8, 18, 22)],
    ['2024-09-01T00:00:00Z', Date.UTC(2024, 8, 1)],
    ['2024-10-01T00:00:00.000Z', Date.UTC(2024, 9, 1)],
    ['2024-09-01 07:00:00 UTC', Date.UTC(2024, 8, 1, 7)],
    ['2024-09-02 06:12:44.123456 UTC', Date.UTC(2024, 8, 2, 6, 12, 44, 123)],
    ['2024-09-01T00:00:00+00:00', Date.UTC(2024, 8, 1)],
    ['2024-09-01T02:00:00+02:00', Date.UTC(2024, 8, 1)],
    ['2024-09-01', Date.UTC(2024, 8, 1)],
    ['09/01/2024', Date.UTC(2024, 8, 1)],
  ])('%s', (text, expected) => {
    expect(parseTime(text)).toBe(expected);
  });

  it.each(['', 'yesterday', '2024-13-01 00:00:00', '2024-09-01 25:00:00', '2024-09-01T00:00:00 CET'])('rejects %j', (text) => {
    expect(parseTime(text)).toBeNaN();
  });
});

describe('cost records', () => {
  const parts = {
    format: 'focus' as const,
    raw: 'a,b,c',
    start: Date.UTC(2024, 8, 1),
    end: Date.UTC(2024, 8, 1, 1),
    provider: 'aws',
    account: '123',
    service: 'EC2',
    region: 'us-east-1',
    transfer: { category: 'inter-region' as const, src: 'us-east-1', dst: 'eu-central-1' },
    quantity: 12.5,
    unit: 'GB',
    cost: 0.25,
    currency: 'USD',
    resource: '',
  };

  it('builds valid records with deterministic ids', () => {
    const r = buildRecord(parts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(costRecord.parse(r.record)).toEqual(r.record);
    expect(r.record).toMatchObject({ src_region: 'us-east-1', dst_region: 'eu-central-1', category: 'inter-region' });
    expect(r.record.resource_id).toBeUndefined();
    expect(r.record.line_id).toBe(lineId('a,b,c'));
    expect(r.record.line_id).toMatch(/^[0-9a-f]{32}$/);
    expect(lineId('a,b,d')).not.toBe(r.record.line_id);
  });

  it('gives a reason instead of a bad record', () => {
    expect(buildRecord({ ...parts, cost: NaN })).toEqual({ ok: false, reason: 'cost is not a number' });
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
