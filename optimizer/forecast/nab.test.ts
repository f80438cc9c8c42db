import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/twin/rng.ts';
import { defaultDetectors, nabEvaluate, probation, scaledSigmoid, scoreFile, type NabFile } from './nab.ts';

const step = 300_000;
const t0 = Date.UTC(2026, 0, 1);

/** Noise with a level jump of `jump` sd at `at` inside a labelled window around it. */
function file(name: string, n: number, at: number, jump: number, seed: number): NabFile {
  const rng = new Rng(seed, name);
  const values = Array.from(
    { length: n },
    (_, i) => 50 + 5 * Math.sin((2 * Math.PI * i) / 288) + rng.normal() + (i >= at ? jump : 0),
  );
  const times = values.map((_, i) => t0 + i * step);
  return { name, times, values, windows: [[times[at - 20]!, times[at + 20]!]], labels: [times[at]!] };
}

describe('NAB scoring (standard profile)', () => {
  it('weights a detection by its place in the window and charges false alarms and misses', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866, 4);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(5)).toBe(-1);
    const f = file('a', 2000, 1500, 10, 1);
    const at = (idx: number[]) => {
      const s = new Float64Array(f.values.length);
      for (const i of idx) s[i] = 1;
      return s;
    };
    // At the window's first point: the full weight; one detection per window counts.
    const first = scoreFile(f, at([1480, 1490]), 1);
    expect(first.raw).toBeCloseTo(scaledSigmoid(-1), 6);
    expect([first.tp, first.fp, first.fn]).toEqual([1, 0, 0]);
    expect(first.leads).toEqual([100]);
    // Before any window a false alarm costs 0.11; the window missed costs 1.
    const wrong = scoreFile(f, at([1000]), 1);
    expect(wrong.raw).toBeCloseTo(-0.11 - 1, 6);
    // In the probationary period nothing counts.
    expect(probation(2000)).toBe(300);
    expect(scoreFile(f, at([10]), 1).fp).toBe(0);
    // A refractory period holds back the same incident's repeated alarms: one false alarm, not three.
    expect(scoreFile(f, at([1000, 1001, 1002]), 1).fp).toBe(3);
    expect(scoreFile(f, at([1000, 1001, 1002]), 1, undefined, 3_600_000).fp).toBe(1);
  });

  it('normalises to 0 for detecting nothing and ~100 for every window at its start; the refractory detector beats the baselines on level shifts in noise', () => {
    const files = [file('a', 3000, 2000, 25, 1), file('b', 3000, 2500, 30, 2), file('c', 3000, 1800, 20, 3)];
    const results = defaultDetectors().map((d) => nabEvaluate(files, d));
    for (const r of results) {
      expect(r.score).toBeGreaterThan(-100);
      expect(r.score).toBeLessThanOrEqual(100);
    }
    const [z, , mine] = results;
    expect(mine!.detector).toBe('pathpilot-refractory-z');
    expect(mine!.score).toBeGreaterThanOrEqual(z!.score);
    expect(mine!.fp).toBeLessThanOrEqual(z!.fp);
    expect(mine!.tp).toBe(3);
    // Shifts of 6–8 sd are caught within minutes of the labelled instant.
    expect(Math.abs(mine!.median_lead_min)).toBeLessThan(30);
  });
});
