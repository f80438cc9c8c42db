import { describe, expect, it } from 'vitest';
import { renderSummary } from './commands/demo.ts';

describe('demo summary', () => {
  it('names the SLO unit (pair-class minutes) and keeps the figures in their columns', () => {
    const text = renderSummary({
      scenario: 'cost-pressure',
      seed: 7,
      simulated_hours: 12,
      egress_cost: 900,
      egress_gb: 10_000,
      slo_violation_minutes: 1440,
      flows_ingested: 123_456,
      rows_stored: {},
      proposals: 3,
      applied: 2,
      rolled_back: 1,
      baseline: { simulated_hours: 12, egress_cost: 1000, egress_gb: 11_000, slo_violation_minutes: 1500 },
      wall_seconds: 72,
    });
    const lines = text.split('\n');
    const slo = lines.find((l) => l.startsWith('SLO-violation pair-class minutes'))!;
    expect(slo).toMatch(/1,440\s+1,500$/);
    // Every figure starts in the same column as the "pathpilot" heading.
    const column = lines.find((l) => l.trim().startsWith('pathpilot'))!.indexOf('pathpilot');
    for (const l of lines.filter((x) => /^(egress|SLO)/.test(x))) expect(l.slice(0, column).trim().length).toBeLessThan(column);
    expect(lines.find((l) => l.startsWith('egress cost'))!.slice(column)).toMatch(/^900\.00\s+1,000\.00\s+-10\.0%$/);
    expect(lines.find((l) => l.startsWith('proposals'))).toMatch(/3 \(applied 2, rolled back 1\)$/);
  });
});
