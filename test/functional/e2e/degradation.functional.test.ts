/**
 * Issue 8's degradation proof on real Kafka, ClickHouse server and Redis: a change that moves a pair onto
 * an interconnect is baking when that interconnect degrades (RTT step + loss, from the built-in
 * degradation-and-failover scenario, brought forward to hour 3): the SLO guard fails it within its bake
 * window and the router is restored exactly; self-healing then fails the degraded pair over to the IPsec
 * backup and its SLO-violation minutes stop growing, while static routing keeps violating.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startDemo, runBaselineState, type DemoRuntime } from '../../../app/demo.ts';
import { createLogger } from '../../../core/log.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { disposeDemo, isolatedDemoEnv } from '../../support/demo.ts';
import { uniqueName } from '../../support/services.ts';
import { until } from '../../support/until.ts';

const log = createLogger({ level: process.env.PATHPILOT_LOG_LEVEL ?? 'silent' });
const HOUR = 3_600_000;
const INCIDENT_H = 3;
const PRECURSOR_MIN = 45;
const BAKE_S = 2700;

/** The built-in scenario with its interconnect incident at hour 3 and nothing else happening. */
function scenarioFile(): string {
  const builtin = parse(readFileSync(new URL('../../../lab/scenarios/degradation-and-failover.yaml', import.meta.url), 'utf8'));
  const incidents = (builtin.incidents as { target: { link?: string } }[])
    .filter((i) => i.target.link === 'fra-weu-er')
    .map((i) => ({ ...i, at_h: INCIDENT_H, precursor_min: PRECURSOR_MIN }));
  expect(incidents).toHaveLength(2);
  const file = join(mkdtempSync(join(tmpdir(), 'pp-e2e-')), 'degradation-e2e.yaml');
  writeFileSync(
    file,
    stringify({ ...builtin, name: 'degradation-e2e', duration_days: 1, incidents, random_incidents: { per_week: 0 } }),
  );
  return file;
}

const minutesFor = (state: { slo_violation_minutes: Record<string, Record<string, number>> }, pair: string) =>
  Object.values(state.slo_violation_minutes[pair] ?? {}).reduce((a, b) => a + b, 0);

describe('degradation and failover on real Kafka, ClickHouse and Redis', () => {
  let demo: DemoRuntime | undefined;
  afterAll(() => disposeDemo(demo));

  it('a change baking onto a degrading link is rolled back within its guard window; the failover restores the SLO', async () => {
    const scenario = scenarioFile();
    demo = await startDemo({
      scenario,
      auto: false,
      speedup: 400,
      apiPort: 0,
      log,
      env: {
        ...isolatedDemoEnv('e2e_degr'),
        PATHPILOT__ACTUATOR__BAKE_TIME_S: String(BAKE_S),
        // Keep the optimizer's own proposals out of this test's way: it is about the guard and self-healing.
        PATHPILOT__OPTIMIZER__INTERVAL_S: '86400',
      },
    });
    const { shared, actuator, lab } = demo;
    const start = shared.clock.now();
    const incidentAt = start + INCIDENT_H * HOUR;
    const fra = lab.router('onprem-fra');

    // Shortly before the precursors, move onprem-fra → ali-hk onto its path over the interconnect.
    // Wall-time bounds are generous: the clock moves in lockstep with the work, so a loaded machine only runs slower.
    expect(await until(() => shared.clock.now() >= incidentAt - 70 * 60_000, 300_000)).toBe(true);
    const before = JSON.stringify(fra.showConfig(['load-balancing']));
    const id = uniqueName('move-hk');
    const change: ProposalInput = {
      id,
      created_at: shared.clock.now(),
      kind: 'path-weights',
      reason: 'e2e: move onprem-fra → ali-hk onto the ExpressRoute path',
      inputs: {},
      intents: [
        {
          kind: 'path-weights',
          router: 'onprem-fra',
          pair: ['onprem-fra', 'ali-hk'],
          class: '*',
          dst_prefixes: ['10.40.0.0/16'],
          weights: { 'fra-weu-er': 255 },
        },
      ],
      predicted: { cost_per_day: 0, max_utilization: 0.5, slo_risk: 0.1 },
      risk: 'low',
      scope: [{ pair: ['onprem-fra', 'ali-hk'], class: 'realtime', paths: ['onprem-fra.ali-hk.2'] }],
    };
    await actuator.actuator.submit(change, 'e2e');
    await actuator.approve(id, 'e2e:operator');
    expect(await until(async () => JSON.stringify(fra.showConfig(['load-balancing'])) !== before, 60_000)).toBe(true);

    // The degradation hits while the change bakes: the guard fails it and the router is restored exactly.
    expect(
      await until(
        async () => ['rolled-back', 'failed', 'confirmed'].includes((await actuator.actuator.get(id))?.proposal.status ?? ''),
        240_000,
      ),
    ).toBe(true);
    const rec = (await actuator.actuator.get(id))!;
    const events = (await actuator.events(10_000)).filter((e) => e.proposal_id === id);
    const verdicts = events.filter((e) => e.event.startsWith('guard-'));
    expect(rec.proposal.status, JSON.stringify(verdicts).slice(0, 3000)).toBe('rolled-back');
    expect(
      events.map((e) => e.event),
      JSON.stringify(verdicts).slice(0, 2000),
    ).toContain('guard-fail');
    const rolledBackAt = events.find((e) => e.event === 'rolled-back')!.time;
    const precursorsFrom = incidentAt - PRECURSOR_MIN * 60_000;
    expect(rolledBackAt).toBeGreaterThan(precursorsFrom);
    // Within the guard window: the bake of one step (plus its allowance for late data) after the degradation.
    expect(rolledBackAt - incidentAt).toBeLessThanOrEqual((BAKE_S + shared.config.root.actuator.guard.max_data_lag_s) * 1000);
    expect(JSON.stringify(fra.showConfig(['load-balancing']))).toBe(before);

    // Self-healing moves onprem-fra → azure-weu off the degraded interconnect.
    const failover = async () =>
      (await actuator.list()).find(
        (p) => p.emergency && p.status === 'confirmed' && p.scope.some((s) => s.pair.join('>') === 'onprem-fra>azure-weu'),
      );
    const healed = await until(async () => (await failover()) !== undefined, 240_000);
    const emergencies = (await actuator.list())
      .filter((p) => p.emergency)
      .map((p) => ({ id: p.id, status: p.status, scope: p.scope.map((x) => x.pair.join('>')), history: p.history }));
    expect(healed, JSON.stringify(emergencies).slice(0, 3000)).toBe(true);
    const rule = JSON.stringify(fra.showConfig(['load-balancing']));
    expect(rule).toContain('vti2');

    // After the failover the pair's SLO-violation minutes stop growing; static routing keeps violating.
    const pair = 'onprem-fra>azure-weu';
    const atFailover = minutesFor(demo.twin.state(), pair);
    const t1 = shared.clock.now();
    expect(await until(() => shared.clock.now() >= t1 + 2 * HOUR, 300_000)).toBe(true);
    const after = minutesFor(demo.twin.state(), pair) - atFailover;
    const elapsed = shared.clock.now() - start;
    const baseline = await runBaselineState(shared.config, scenario, undefined, elapsed, start);
    expect(after).toBeLessThan(10);
    expect(minutesFor(demo.twin.state(), pair)).toBeLessThan(minutesFor(baseline, pair));
  }, 1_200_000);
});
