import { describe, expect, it } from 'vitest';
import { auc, brier, mase, pinball, precisionAtK, smape } from './metrics.ts';

describe('forecast and classifier metrics', () => {
  it('MASE scales MAE by the in-sample seasonal naive MAE', () => {
    const train = [1, 2, 3, 5, 6, 7]; // period 3: |5−1|,|6−2|,|7−3| → scale 4
    expect(mase([10, 10], [12, 6], train, 3)).toBeCloseTo(3 / 4, 9);
    expect(Number.isNaN(mase([1], [1], [2, 2, 2, 2], 2))).toBe(true);
  });
  it('sMAPE is symmetric and bounded', () => {
    expect(smape([100], [50])).toBeCloseTo((100 * 2 * 50) / 150, 9);
    expect(smape([0], [0])).toBe(0);
    expect(smape([0], [5])).toBe(200);
  });
  it('pinball loss weighs under-forecasts by q and over-forecasts by 1−q', () => {
    expect(pinball([10], [8], 0.9)).toBeCloseTo(1.8, 9);
    expect(pinball([10], [12], 0.9)).toBeCloseTo(0.2, 9);
  });
  it('AUC, Brier and precision@k on a small known case', () => {
    const y = [0, 0, 1, 1];
    expect(auc(y, [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 9);
    expect(auc(y, [0.5, 0.5, 0.5, 0.5])).toBeCloseTo(0.5, 9);
    expect(brier(y, [0, 0, 1, 0.5])).toBeCloseTo(0.0625, 9);
    expect(precisionAtK(y, [0.1, 0.4, 0.35, 0.8], 2)).toBeCloseTo(0.5, 9);
    expect(Number.isNaN(auc([1, 1], [0.2, 0.3]))).toBe(true);
  });
});
