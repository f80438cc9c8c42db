import { describe, expect, it } from 'vitest';
import { exampleConfigPath, loadConfig, type RootConfig } from '../../core/config/index.ts';
import { describeInfeasible, infeasibleSlos } from './feasibility.ts';
import { TwinEngine } from './model.ts';
import { builtinScenarios, loadScenario, parseScenario } from './scenario.ts';

/**
 * SLO minutes are charged to routing only when routing could have met the SLO: a pair whose every path
 * is slower than its class SLO counts infeasible minutes, not violations. Measured on the example
 * topology: aws-use1 → ali-hk is ~290 ms p95 through eu-central-1 (the primary) and ~219 ms through
 * us-central1.
 */
const example = loadConfig(exampleConfigPath, {}).root;
const quiet = parseScenario('name: quiet\nseed: 1\ndemand: { base_mbps: 20, noise: 0 }\n');

/** The example with the realtime p95 RTT bound set to `rtt` ms. */
function withRealtimeRtt(rtt: number): RootConfig {
  return {
    ...example,
    classes: example.classes.map((c) => (c.id === 'realtime' ? { ...c, slo: { ...c.slo, rtt_p95_ms: rtt } } : c)),
  };
}

function run(root: RootConfig, ticks: number) {
  const engine = new TwinEngine({ root, scenario: quiet, startMs: Date.UTC(2026, 0, 5), tickMs: 60_000 });
  for (let i = 0; i < ticks; i++) engine.step();
  return engine.state();
}

describe('SLO accounting: violation or infeasible', () => {
  it('a pair whose every path is above the SLO counts no violation minute and one infeasible minute per tick', () => {
    // 200 ms: neither the ~290 ms primary nor the ~219 ms backup can meet it.
    const s = run(withRealtimeRtt(200), 30);
    expect(s.slo_violation_minutes['aws-use1>ali-hk']!.realtime).toBe(0);
    expect(s.slo_infeasible_minutes['aws-use1>ali-hk']!.realtime).toBe(30);
    expect(s.slo_infeasible_minutes['ali-hk>aws-use1']!.realtime).toBe(30);
    // The other classes of the pair are within reach and uncounted.
    expect(s.slo_infeasible_minutes['aws-use1>ali-hk']!.interactive).toBe(0);
    expect(s.slo_violation_minutes['aws-use1>ali-hk']!.interactive).toBe(0);
    // A pair with a path that meets 200 ms is not infeasible.
    expect(s.slo_infeasible_minutes['onprem-nyc>aws-use1']!.realtime).toBe(0);
  });

  it('a pair with one good path counts violations when routed over the bad one', () => {
    // Static routing (no router config: primary paths) sends realtime over the ~290 ms primary while
    // the ~219 ms backup meets 260 ms: a routing breach, every minute.
    const s = run(example, 30);
    expect(s.paths['aws-use1.ali-hk.1']!.share.realtime).toBe(1);
    expect(s.paths['aws-use1.ali-hk.1']!.quality.realtime!.rttP95Ms).toBeGreaterThan(260);
    expect(s.paths['aws-use1.ali-hk.2']!.quality.realtime!.rttP95Ms).toBeLessThan(260);
    expect(s.slo_violation_minutes['aws-use1>ali-hk']!.realtime).toBe(30);
    expect(s.slo_infeasible_minutes['aws-use1>ali-hk']!.realtime).toBe(0);
  });
});

describe('infeasibleSlos (config check)', () => {
  it('the example config asks no pair for an SLO none of its paths can meet, under any bundled scenario', () => {
    for (const name of builtinScenarios) expect(infeasibleSlos(example, loadScenario(name).scenario), name).toEqual([]);
  });

  it('names each infeasible (pair, class) once with its best path and figure', () => {
    const found = infeasibleSlos(withRealtimeRtt(200), quiet)!;
    const lines = found.map(describeInfeasible);
    expect(lines).toContain('SLO infeasible: aws-use1→ali-hk realtime: best path aws-use1.ali-hk.2 p95 ~219 ms vs SLO 200 ms');
    expect(lines).toContain('SLO infeasible: ali-hk→aws-use1 realtime: best path ali-hk.aws-use1.2 p95 ~219 ms vs SLO 200 ms');
    expect(new Set(found.map((x) => `${x.from}>${x.to}|${x.cls}`)).size).toBe(found.length);
    expect(found.every((x) => x.cls === 'realtime')).toBe(true);
  });

  it('quotes the jitter when it is what no path meets', () => {
    const root: RootConfig = {
      ...example,
      classes: example.classes.map((c) => (c.id === 'bulk' ? { ...c, slo: { ...c.slo, jitter_ms: 0.2 } } : c)),
    };
    const line = infeasibleSlos(root, quiet)!
      .map(describeInfeasible)
      .find((l) => l.includes('onprem-nyc→aws-use1 bulk'));
    expect(line).toMatch(/best path onprem-nyc\.aws-use1\.1 jitter ~0\.3 ms vs SLO 0\.2 ms$/);
  });

  it('says nothing when the twin cannot place a site (no lab data)', () => {
    const root: RootConfig = {
      ...example,
      sites: example.sites.map((s) => (s.id === 'onprem-nyc' ? { ...s, region: 'somewhere-else' } : s)),
    };
    expect(infeasibleSlos(root, quiet)).toBeUndefined();
  });
});
