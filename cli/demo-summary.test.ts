import { describe, expect, it } from 'vitest';
import { renderSummary } from './commands/demo.ts';

describe('demo summary', () => {
  it('names the SLO unit (pair-class minutes) and keeps the figures in their columns', () => {
    const text = renderSummary({
      scenario: 'cost-pressure',
      seed: 7,
      simulated_hours: 12,
      flows_ingested: 123_456,
      rows_stored: {},
      proposals: 3,
      applied: 2,
      rolled_back: 1,
      egress_cost_usd: { pathpilot: 900, static: 1000, oracle: 800 },
      egress_gb: { pathpilot: 10_000, static: 11_000, oracle: 12_000 },
      slo_violation_pair_class_minutes: { pathpilot: 1440, static: 1500, oracle: 0 },
      slo_infeasible_pair_class_minutes: { pathpilot: 60, static: 60, oracle: 60 },
      wall_s: 72,
    });
    const lines = text.split('\n');
    const slo = lines.find((l) => l.startsWith('SLO-violation pair-class minutes'))!;
    expect(slo).toMatch(/1,440\s+1,500\s+0\s+-4\.0%$/);
    // Minutes no routing could avoid are their own row, beside (not inside) the violations.
    expect(lines.find((l) => l.startsWith('SLO-infeasible pair-class minutes'))).toMatch(/\s60\s+60\s+60\s+-0\.0%$/);
    // Every figure ends in the column its heading ends in.
    const header = lines.find((l) => l.trim().startsWith('pathpilot'))!;
    const end = header.indexOf('pathpilot') + 'pathpilot'.length;
    for (const l of lines.filter((x) => /^(egress|SLO)/.test(x))) expect(l[end - 1]).toMatch(/\d/);
    expect(lines.find((l) => l.startsWith('egress cost'))!.slice(34)).toMatch(/^\s+900\.00\s+1,000\.00\s+800\.00\s+-10\.0%$/);
    expect(lines.find((l) => l.startsWith('proposals'))).toMatch(/3 \(applied 2, rolled back 1\)$/);
    // Saved 100 of the oracle's 200.
    expect(lines.find((l) => l.startsWith('share of the oracle saving'))).toMatch(/50%$/);
  });
});
