import { describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/index.ts';
import { MemoryOptimizerData } from './data.ts';
import { buildCapacityReport, capacityCsv, projectSpend, renderCapacityHtml } from './report.ts';

const { root } = loadConfig();
const day = 86_400_000;
const start = Date.UTC(2026, 10, 1);
const now = start + 21 * day;

/** A link direction whose daily peak grows by 1% of capacity per day from 50%. */
function growing(capacity: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 21 * 288; i++) {
    const d = Math.floor(i / 288);
    const hour = ((i % 288) / 288) * 24;
    const shape = 0.5 + 0.5 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
    out.push(capacity * (0.5 + 0.01 * d) * (0.4 + 0.6 * shape));
  }
  return out;
}

describe('capacity report', () => {
  it('finds days until 80% / 100%, recommends an upgrade with its cost, projects the budget', async () => {
    const cap = root.links.find((l) => l.id === 'fra-weu-er')!.capacity_mbps;
    const data = new MemoryOptimizerData({
      links: [{ link: 'fra-weu-er', from_site: 'onprem-fra', startMs: start, stepMs: 300_000, values: growing(cap) }],
      costs: Array.from({ length: 21 }, (_, i) => ({ day: start + i * day, provider: 'azure', link: 'fra-weu-er', cost: 500 })),
    });
    const r = await buildCapacityReport({ data, root, now });
    const l = r.links[0]!;
    expect(l.to_site).toBe('azure-weu');
    expect(l.growth_per_day).toBeCloseTo(0.01, 2);
    // Peak ≈ 70% now (day 20) → 80% in ≈ 10 days, 100% in ≈ 30.
    expect(l.days_to_80!).toBeGreaterThan(6);
    expect(l.days_to_80!).toBeLessThan(14);
    expect(l.days_to_100!).toBeGreaterThan(25);
    expect(l.days_to_100!).toBeLessThan(35);
    expect(l.recommendation?.new_capacity_mbps).toBe(2 * cap);
    expect(l.recommendation?.monthly_cost).toBeCloseTo(2 * 1300, 6);
    expect(l.forecast_p50).toHaveLength(7 * 24);
    // November: 21 days × $500 so far, $500/day for the 9 days left.
    const azure = r.budgets.find((b) => b.scope === 'provider azure')!;
    expect(azure.month_to_date).toBeCloseTo(10_500, 6);
    expect(azure.projected).toBeCloseTo(15_000, 6);
    expect(azure.alerts).toEqual([0.8, 1.0]);
    const html = renderCapacityHtml(r);
    expect(html).toContain('<svg');
    expect(html).toContain('upgrade within');
    expect(capacityCsv(r).split('\n')[1]).toMatch(/^fra-weu-er,onprem-fra,azure-weu,5000,/);
  });

  it('projects spend from the last week of daily cost', () => {
    const costs = [0, 1, 2].map((i) => ({ day: start + i * day, provider: 'aws', cost: 100 }));
    const p = projectSpend(costs, start + 3 * day).get('aws')!;
    expect(p.mtd).toBe(300);
    expect(p.projected).toBeCloseTo(300 + 27 * 100, 6);
  });
});
