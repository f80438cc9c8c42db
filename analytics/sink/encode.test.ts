import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxTimeMs } from '../../core/records/index.ts';
import { timeText } from './encode.ts';

const reference = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');

describe('timeText', () => {
  it('writes UTC calendar text, never epoch digits (18.16 misparses those under best_effort)', () => {
    expect(timeText(Date.UTC(2026, 10, 22, 8, 0, 0, 999))).toBe('2026-11-22 08:00:00');
    expect(timeText(Date.UTC(2026, 10, 22, 8, 0, 1))).toBe('2026-11-22 08:00:01');
    expect(timeText(Date.UTC(2026, 10, 22, 23, 59, 59, 500))).toBe('2026-11-22 23:59:59');
    expect(timeText(Date.UTC(2026, 10, 23, 0, 0, 0))).toBe('2026-11-23 00:00:00');
    expect(timeText(0)).toBe('1970-01-01 00:00:00');
  });

  it('agrees with Date#toISOString for any time the columns hold, in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: maxTimeMs }), { minLength: 1, maxLength: 20 }), (times) => {
        for (const ms of times) expect(timeText(ms)).toBe(reference(ms));
      }),
      { numRuns: 300 },
    );
  });
});
