import { describe, expect, it } from 'vitest';
import { queriesConformance } from '../../test/conformance/analytics-queries.ts';
import { uniqueName } from '../../test/support/services.ts';
import { createStore } from '../../core/store/index.ts';
import { pickResolution } from './index.ts';

queriesConformance('chdb', () => createStore({ kind: 'chdb', url: '', path: '', database: uniqueName('queries') }));

describe('resolution', () => {
  it('uses hourly rollups for aligned or long ranges and minutes otherwise', () => {
    const h = 3_600_000;
    expect(pickResolution({ from: 0, to: 2 * h }).stepMs).toBe(h);
    expect(pickResolution({ from: 60_000, to: 2 * h })).toEqual({ stepMs: 60_000, from: 60_000, to: 2 * h });
    expect(pickResolution({ from: 90_000, to: 3 * 24 * h + 5 })).toEqual({ stepMs: h, from: 0, to: 3 * 24 * h + h });
  });
});
