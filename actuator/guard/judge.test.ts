import { describe, expect, it } from 'vitest';
import type { WindowQuality } from '../../analytics/queries/types.ts';
import { judge } from './index.ts';

const slo = { rtt_p95_ms: 260, loss_pct: 1, jitter_ms: 30 };
const q = (rtt: number, loss = 0, jitter = 5): WindowQuality => ({
  rtt_p50_ms: rtt * 0.8,
  rtt_p95_ms: rtt,
  loss_ratio: loss,
  jitter_ms: jitter,
  windows: 6,
  sent: 600,
});
const cmp = (current: WindowQuality, baseline: WindowQuality | null) => ({
  current,
  baseline,
  change: baseline
    ? {
        rtt_p50: (current.rtt_p50_ms - baseline.rtt_p50_ms) / baseline.rtt_p50_ms,
        rtt_p95: (current.rtt_p95_ms - baseline.rtt_p95_ms) / baseline.rtt_p95_ms,
        loss: current.loss_ratio - baseline.loss_ratio,
        jitter: (current.jitter_ms - baseline.jitter_ms) / baseline.jitter_ms,
      }
    : null,
});

describe('SLO guard judgement', () => {
  it('fails a break the baseline did not have', () => {
    const j = judge(cmp(q(280), q(240)), slo, 0.25);
    expect(j.result).toBe('fail');
    expect(j.reasons).toEqual(['p95 RTT 280.0 ms > SLO 260 ms']);
    expect(j.broken).toEqual(['rtt_p95']);
  });

  it('passes a change that relieves a pair already out of SLO (a surge, an incident), still naming the break', () => {
    // Before: the traffic's old path congested (320 ms, 40 % loss); now 290 ms and 5 % loss: better, still broken.
    const j = judge(cmp(q(290, 0.05), q(320, 0.4)), slo, 0.25);
    expect(j.result).toBe('pass');
    expect(j.broken).toEqual(['rtt_p95', 'loss']);
  });

  it('fails a change that makes an already broken pair worse beyond the allowed regression', () => {
    const j = judge(cmp(q(420, 0.1), q(300, 0.02)), slo, 0.25);
    expect(j.result).toBe('fail');
    expect(j.reasons).toEqual(['p95 RTT +40% vs baseline 300.0 ms', 'loss +8.00 pts vs baseline']);
  });

  it("a move between paths: judged against the new paths' own past and what the traffic had before", () => {
    // Onto a slower, cheaper path within the bulk SLO: the path is as it always was, so no regression.
    const bulk = { rtt_p95_ms: 600, loss_pct: 5, jitter_ms: 200 };
    expect(judge(cmp(q(290), q(288)), bulk, 0.25, q(220)).result).toBe('pass');
    // Relief onto a backup that slows under the load (+35 % on its own past) but beats the congested primary.
    const relief = judge(cmp(q(270), q(200)), slo, 0.25, q(320, 0.4));
    expect(relief.result).toBe('pass');
    expect(relief.broken).toEqual(['rtt_p95']);
    // The new path degrades while baking: worse than its past and than what the traffic had.
    const degraded = judge(cmp(q(330, 0.03), q(50)), slo, 0.25, q(60));
    expect(degraded.result).toBe('fail');
    expect(degraded.reasons).toEqual([
      'p95 RTT 330.0 ms > SLO 260 ms',
      'loss 3.00% > SLO 1%',
      'p95 RTT +560% vs baseline 50.0 ms',
      'loss +3.00 pts vs baseline',
    ]);
    // The previous paths had no data: the new paths' own past stands in.
    expect(judge(cmp(q(280), q(240)), slo, 0.25, null).result).toBe('fail');
  });

  it('judges by the SLO alone without a baseline', () => {
    expect(judge(cmp(q(261), null), slo, 0.25).result).toBe('fail');
    expect(judge(cmp(q(259), null), slo, 0.25).result).toBe('pass');
    expect(judge({ current: null, baseline: null, change: null }, slo, 0.25).result).toBe('inconclusive');
  });

  it('counts a rise as a regression only when it is a real share of the SLO, not noise on a quiet path', () => {
    const interactive = { rtt_p95_ms: 320, loss_pct: 2, jitter_ms: 60 };
    // Jitter 1.9 → 4.0 ms (+109 %) and p95 RTT 121 → 134 ms: far inside the SLO, no regression.
    expect(judge(cmp(q(134, 0, 4.0), q(121, 0, 1.9)), interactive, 0.25).result).toBe('pass');
    // Jitter 5 → 12 ms (+140 %, 7 ms > 6 ms: a tenth of the SLO) is one.
    const jitter = judge(cmp(q(134, 0, 12), q(121, 0, 5)), interactive, 0.25);
    expect(jitter.result).toBe('fail');
    expect(jitter.reasons).toEqual(['jitter +140% vs baseline']);
    // p95 RTT 20 → 30 ms is +50 % but 10 ms against a 320 ms SLO: no regression; 20 → 60 ms is one.
    expect(judge(cmp(q(30), q(20)), interactive, 0.25).result).toBe('pass');
    expect(judge(cmp(q(60), q(20)), interactive, 0.25).reasons).toEqual(['p95 RTT +200% vs baseline 20.0 ms']);
  });
});
