import { describe, expect, it } from 'vitest';
import { challengerWins, pathScore, violatesSlo } from './score.ts';
import { defaultClasses } from './te/synthetic.ts';

const w = { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 };
const realtime = defaultClasses[0]!;

describe('path score', () => {
  it('follows α·min(RTT/100,10) + β·loss + γ·min(jitter/10,5)', () => {
    expect(pathScore({ rtt_p95_ms: 50, loss_pct: 1, jitter_ms: 20 }, w)).toBeCloseTo(0.5 + 1 + 1, 9);
    // Caps: RTT at 10 (1000 ms), jitter at 5 (50 ms).
    expect(pathScore({ rtt_p95_ms: 5000, loss_pct: 0, jitter_ms: 400 }, w)).toBeCloseTo(10 + 2.5, 9);
  });
  it('treats loss ≥ 50% as unusable', () => {
    expect(pathScore({ rtt_p95_ms: 10, loss_pct: 50, jitter_ms: 1 }, w)).toBe(Number.POSITIVE_INFINITY);
    expect(pathScore({ rtt_p95_ms: 10, loss_pct: 49.9, jitter_ms: 1 }, w)).toBeLessThan(60);
  });
  it('adds the optional bandwidth term only when weighted', () => {
    const q = { rtt_p95_ms: 100, loss_pct: 0, jitter_ms: 0, available_mbps: 50 };
    expect(pathScore(q, w)).toBeCloseTo(1, 9);
    expect(pathScore(q, { ...w, bandwidth: 1 })).toBeCloseTo(3, 9);
  });
  it('needs a challenger to beat the current path by the factor unless the current one breaks its SLO', () => {
    const current = { rtt_p95_ms: 120, loss_pct: 0, jitter_ms: 2 };
    expect(challengerWins(current, { rtt_p95_ms: 100, loss_pct: 0, jitter_ms: 2 }, realtime, w).switch).toBe(false);
    expect(challengerWins(current, { rtt_p95_ms: 60, loss_pct: 0, jitter_ms: 2 }, realtime, w).switch).toBe(true);
    const breaking = { rtt_p95_ms: 280, loss_pct: 0, jitter_ms: 2 };
    expect(violatesSlo(breaking, realtime)).toBe(true);
    expect(challengerWins(breaking, { rtt_p95_ms: 250, loss_pct: 0, jitter_ms: 2 }, realtime, w).switch).toBe(true);
    expect(challengerWins(breaking, { rtt_p95_ms: 250, loss_pct: 60, jitter_ms: 2 }, realtime, w).switch).toBe(false);
  });
});
