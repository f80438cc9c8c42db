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

  it('judges by the SLO alone without a baseline', () => {
    expect(judge(cmp(q(261), null), slo, 0.25).result).toBe('fail');
    expect(judge(cmp(q(259), null), slo, 0.25).result).toBe('pass');
    expect(judge({ current: null, baseline: null, change: null }, slo, 0.25).result).toBe('inconclusive');
  });
});
