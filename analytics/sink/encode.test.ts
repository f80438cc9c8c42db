import { describe, expect, it } from 'vitest';
import { timeText } from './encode.ts';

describe('timeText', () => {
  it('writes UTC calendar text, never epoch digits (18.16 misparses those under best_effort)', () => {
    expect(timeText(Date.UTC(2026, 10, 22, 8, 0, 0, 999))).toBe('2026-11-22 08:00:00');
    expect(timeText(Date.UTC(2026, 10, 22, 8, 0, 1))).toBe('2026-11-22 08:00:01');
    expect(timeText(0)).toBe('1970-01-01 00:00:00');
    expect(timeText(Date.UTC(2026, 10, 22, 8, 0, 0))).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });
});
