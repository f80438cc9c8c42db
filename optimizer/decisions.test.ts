import { describe, expect, it } from 'vitest';
import { forecastPoints, memoryDecisions, modelRow, type SeriesForecast } from './decisions.ts';

const step = 300_000;
const start = Date.UTC(2026, 0, 5, 12);

function series(key: string, model: string, p50: number[], p90: number[]): SeriesForecast {
  return { key, model, stepMs: step, startMs: start, p50, p90 };
}

describe('forecastPoints', () => {
  it('stores pair series per pair and class in bit/s, p50 as value and p90 as hi', () => {
    const points = forecastPoints([series('pair:a>b|bulk', 'holt-winters', [10, 12], [15, 18])], {
      madeAt: start - step,
      modelVersion: 'traffic-v3',
    });
    expect(points).toEqual([
      {
        made_at: start - step,
        model: 'holt-winters',
        model_version: 'traffic-v3',
        metric: 'pair_bps',
        target: 'a>b|bulk',
        t: start,
        value: 10e6,
        lo: 0,
        hi: 15e6,
      },
      {
        made_at: start - step,
        model: 'holt-winters',
        model_version: 'traffic-v3',
        metric: 'pair_bps',
        target: 'a>b|bulk',
        t: start + step,
        value: 12e6,
        lo: 0,
        hi: 18e6,
      },
    ]);
  });

  it('sums the two directions of a link into one link_bps point per step, naming both models', () => {
    const points = forecastPoints(
      [
        series('link:dx-1:site-a', 'holt-winters', [4, 5], [6, 7]),
        series('link:dx-1:site-b', 'mlp-quantile', [1, 2], [2, 3]),
        series('link:vpn-2:site-a', 'seasonal-naive', [3], [3]),
      ],
      { madeAt: start, modelVersion: 'traffic-v1' },
    );
    const dx = points.filter((p) => p.target === 'dx-1');
    expect(dx.map((p) => [p.t, p.value, p.hi])).toEqual([
      [start, 5e6, 8e6],
      [start + step, 7e6, 10e6],
    ]);
    expect(dx.every((p) => p.metric === 'link_bps' && p.model === 'holt-winters+mlp-quantile')).toBe(true);
    expect(points.filter((p) => p.target === 'vpn-2')).toHaveLength(1);
  });
});

describe('modelRow and memoryDecisions', () => {
  it('keeps the registry entry and the artifact so another instance can load the model', async () => {
    const log = memoryDecisions();
    const version = {
      kind: 'traffic' as const,
      model: 'per-series-best',
      version: 'traffic-v2',
      trained_at: start,
      metrics: { beats_naive: 0.7 },
      train_ms: 12,
    };
    await log.model(modelRow(version, { mlp: { weights: [1, 2] } }));
    expect(log.models).toHaveLength(1);
    const row = log.models[0]!;
    expect(row).toMatchObject({ name: 'traffic', version: 'traffic-v2', kind: 'per-series-best', created_at: start });
    expect(JSON.parse(row.artifact)).toEqual({ registry: version, artifact: { mlp: { weights: [1, 2] } } });
  });
});
