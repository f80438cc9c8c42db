/**
 * The SLO guard over analytics/queries on a real ClickHouse server: probe windows written to
 * probes_raw, a bake on a simulated clock, verdicts against the class SLO and the pre-change baseline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../analytics/schema/index.ts';
import { SimulatedClock } from '../../../core/clock.ts';
import { loadConfig } from '../../../core/config/index.ts';
import { Topology } from '../../../core/config/topology.ts';
import { proposalSchema } from '../../../core/proposal.ts';
import { probeRecord } from '../../../core/records/index.ts';
import { createStore, ident, sql } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { analyzeStep, guardDataFromStore } from '../../../actuator/guard/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const topology = new Topology(loadConfig(undefined, {}).root);
const PATH = 'onprem-nyc.aws-use1.2';

describe('SLO guard on ClickHouse (analytics/queries compareWindows)', () => {
  let store: Store;
  beforeAll(async () => {
    store = createStore({ kind: 'server', url: requireService('clickhouse'), database: uniqueName('pp_guard'), path: '' });
    await store.start();
    await migrate(store);
  });
  afterAll(async () => {
    await store?.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
    await store?.stop();
  });

  async function probes(from: number, to: number, rtt: number, loss = 0): Promise<void> {
    const rows = [];
    for (let t = from; t < to; t += 10_000) {
      const sent = 100;
      const received = Math.round(sent * (1 - loss));
      rows.push(
        probeRecord.toRow({
          window_start: t,
          window_end: t + 10_000,
          src_site: 'onprem-nyc',
          dst_site: 'aws-use1',
          path_id: PATH,
          class: 'realtime',
          sent,
          received,
          loss_ratio: 1 - received / sent,
          rtt_min_ms: rtt * 0.8,
          rtt_avg_ms: rtt,
          rtt_p50_ms: rtt,
          rtt_p95_ms: rtt * 1.1,
          rtt_max_ms: rtt * 1.3,
          jitter_ms: 2,
        }),
      );
    }
    await store.insert('probes_raw', rows);
  }

  const proposal = proposalSchema.parse({
    id: 'guard-ch',
    created_at: 0,
    kind: 'path-weights',
    reason: 'test',
    inputs: {},
    intents: [{ kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-vpn', rate_mbps: 100 }],
    predicted: { cost_per_day: 1, max_utilization: 0.5, slo_risk: 0.1 },
    risk: 'low',
    scope: [{ pair: ['onprem-nyc', 'aws-use1'], class: 'realtime', paths: [PATH] }],
  });
  // Probe rows are written before the bake: no ingest lag to wait for.
  const config = Object.assign(
    { ...loadConfig(undefined, {}).root.actuator.guard },
    { interval_s: 60, failure_limit: 0, inconclusive_limit: 1, max_regression: 0.25, max_data_lag_s: 0 },
  );

  async function bake(clock: SimulatedClock, t0: number) {
    const run = analyzeStep({
      proposal,
      topology,
      data: guardDataFromStore(store),
      clock,
      config,
      bakeMs: 180_000,
      baseline: { from: t0 - 600_000, to: t0 },
    });
    let done = false;
    run.then(
      () => (done = true),
      () => (done = true),
    );
    // Move time one interval at a time, only once the guard sleeps again (its queries are real I/O).
    for (let i = 0; i < 2000 && !done; i++) {
      if (clock.pending() > 0) await clock.advance(60_000);
      else await new Promise((r) => setTimeout(r, 5));
    }
    return run;
  }

  it('passes while the new path holds its SLO and the baseline', async () => {
    const t0 = Date.UTC(2026, 10, 22, 1, 0);
    const clock = new SimulatedClock(t0);
    await probes(t0 - 600_000, t0, 40);
    await probes(t0, t0 + 180_000, 42);
    const v = await bake(clock, t0);
    expect(v.result).toBe('pass');
    expect(v.measurements).toHaveLength(3);
    expect(v.measurements[0]!.current?.rtt_p95_ms).toBeCloseTo(46.2, 1);
    expect(v.measurements[0]!.baseline?.rtt_p95_ms).toBeCloseTo(44, 1);
  });

  it('fails on a regression against the baseline, and missing data is inconclusive', async () => {
    const t0 = Date.UTC(2026, 10, 22, 2, 0);
    await probes(t0 - 600_000, t0, 40);
    await probes(t0, t0 + 180_000, 80); // inside the 260 ms SLO, but +100% against the baseline
    const v = await bake(new SimulatedClock(t0), t0);
    expect(v.result).toBe('fail');
    expect(v.reason).toMatch(/vs baseline/);

    const t1 = Date.UTC(2026, 10, 22, 3, 0);
    await probes(t1 - 600_000, t1, 40); // no probes after the change
    const none = await bake(new SimulatedClock(t1), t1);
    expect(none.result).toBe('inconclusive');
    expect(none.inconclusive).toBe(2);
  });
});
