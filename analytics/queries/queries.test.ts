import { describe, expect, it } from 'vitest';
import { queriesConformance } from '../../test/conformance/analytics-queries.ts';
import { uniqueName } from '../../test/support/services.ts';
import { createStore } from '../../core/store/index.ts';
import { pickResolution, rollupSlices } from './index.ts';

queriesConformance('chdb', () => createStore({ kind: 'chdb', url: '', path: '', database: uniqueName('queries') }));

describe('resolution', () => {
  it('uses hourly rollups for aligned or long ranges and minutes otherwise', () => {
    const h = 3_600_000;
    expect(pickResolution({ from: 0, to: 2 * h }).stepMs).toBe(h);
    expect(pickResolution({ from: 60_000, to: 2 * h })).toEqual({ stepMs: 60_000, from: 60_000, to: 2 * h });
    expect(pickResolution({ from: 90_000, to: 3 * 24 * h + 5 })).toEqual({ stepMs: h, from: 0, to: 3 * 24 * h + h });
  });

  it('reads whole days from the daily rollup and the edges from the hourly one', () => {
    const h = 3_600_000;
    const d = 24 * h;
    const tables = { minute: 'm', hour: 'h', day: 'd' };
    expect(rollupSlices({ from: 5 * h, to: 30 * d + 7 * h }, tables).slices).toEqual([
      { table: 'h', from: 5 * h, to: d },
      { table: 'd', from: d, to: 30 * d },
      { table: 'h', from: 30 * d, to: 30 * d + 7 * h },
    ]);
    expect(rollupSlices({ from: 0, to: 2 * d }, tables).slices).toEqual([{ table: 'd', from: 0, to: 2 * d }]);
    expect(rollupSlices({ from: 5 * h, to: 9 * h }, tables).slices).toEqual([{ table: 'h', from: 5 * h, to: 9 * h }]);
    expect(rollupSlices({ from: 60_000, to: 2 * h }, tables).slices).toEqual([{ table: 'm', from: 60_000, to: 2 * h }]);
  });
});
