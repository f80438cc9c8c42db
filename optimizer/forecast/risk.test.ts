import { describe, expect, it } from 'vitest';
import { RiskClassifier, fitPlatt, syntheticProbes } from './risk.ts';

describe('failure-risk classifier', () => {
  it('learns precursors: beats persistence on AUC with a calibrated Brier score, and reloads', async () => {
    const series = syntheticProbes(12, 4000, { seed: 21 });
    const clf = await RiskClassifier.train(series, 30, { epochs: 8 });
    const ev = clf.evaluate(series, 50);
    const m = ev.models['risk-mlp']!;
    expect(m.positives).toBeGreaterThan(0);
    expect(m.auc).toBeGreaterThan(0.7);
    expect(m.auc).toBeGreaterThan(ev.models.persistence!.auc);
    // Calibrated: Brier below the trivial "always the base rate" forecaster.
    const rate = m.positives / m.samples;
    expect(m.brier).toBeLessThan(rate * (1 - rate));
    const again = await RiskClassifier.load(JSON.parse(JSON.stringify(await clf.save())));
    const p1 = clf.predict(series.slice(0, 3));
    const p2 = again.predict(series.slice(0, 3));
    for (const [k, v] of p1) expect(p2.get(k)).toBeCloseTo(v, 5);
    clf.dispose();
    again.dispose();
  }, 90_000);

  it('Platt scaling maps logits to calibrated probabilities', () => {
    const z = Array.from({ length: 400 }, (_, i) => (i - 200) / 50);
    // True probability σ(2z − 1): labels drawn deterministically by quantile.
    const y = z.map((v, i) => (((i * 7919) % 100) / 100 < 1 / (1 + Math.exp(-(2 * v - 1))) ? 1 : 0));
    const { a, b } = fitPlatt(z, y);
    expect(a).toBeGreaterThan(1.3);
    expect(a).toBeLessThan(2.8);
    expect(b).toBeLessThan(-0.4);
  });
});
