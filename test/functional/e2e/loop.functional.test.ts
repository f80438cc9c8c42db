/**
 * The end-to-end proof (issue 8) on real Kafka, ClickHouse server and Redis: twin → NetFlow/probes/billing
 * → collector → Kafka → sink → ClickHouse → optimizer → proposal → auto-approval → emulated routers change
 * → twin traffic shifts → guard passes; and the comparison against static routing for the same scenario.
 */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { semanticBreaches } from '../../../lab/vyos/breaches.ts';
import { startDemo, runBaselineState, type DemoRuntime } from '../../../app/demo.ts';
import { sloPairClassMinutes } from '../../../app/outcome/summary.ts';
import { createLogger } from '../../../core/log.ts';
import { sql, ident } from '../../../core/store/sql.ts';
import { disposeDemo, isolatedDemoEnv } from '../../support/demo.ts';
import { until } from '../../support/until.ts';

const log = createLogger({ level: process.env.PATHPILOT_LOG_LEVEL ?? 'silent' });

/** Waits (wall-bounded) until `done()` holds, polling every 500 ms. */
describe('closed loop on real Kafka, ClickHouse and Redis', () => {
  let demo: DemoRuntime | undefined;
  const gitopsDir = mkdtempSync(join(tmpdir(), 'pp-e2e-gitops-'));
  afterAll(() => disposeDemo(demo));

  it('cost-pressure: the optimizer moves traffic, routers change, egress cost falls with no more SLO minutes', async () => {
    demo = await startDemo({
      scenario: 'cost-pressure',
      auto: true,
      speedup: 600,
      apiPort: 0,
      log,
      env: isolatedDemoEnv('e2e_cost'),
      gitopsDir,
    });
    const { shared, actuator } = demo;
    expect(shared.bus.kind).toBe('kafka');
    expect(shared.store.kind).toBe('server');
    expect(shared.queue.kind).toBe('bullmq');
    const start = shared.clock.now();

    // Data reaches ClickHouse through Kafka.
    const flowsTable = sql`SELECT count() AS n FROM ${ident(shared.store.database)}.${ident('flows_raw')}`;
    expect(
      await until(async () => Number((await shared.store.query<{ n: number }>(flowsTable))[0]?.n ?? 0) > 1000, 120_000, 500),
    ).toBe(true);

    // Event times survive the trip (ClickHouse 18.16 misreads epoch digits as dates under best_effort).
    const times = await shared.store.query<{ lo: string; hi: string }>(
      sql`SELECT toString(min(time_received)) AS lo, toString(max(time_received)) AS hi FROM ${ident(shared.store.database)}.${ident('flows_raw')}`,
    );
    const toMs = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`);
    expect(toMs(times[0]!.lo)).toBeGreaterThanOrEqual(start - 60_000);
    expect(toMs(times[0]!.hi)).toBeLessThanOrEqual(shared.clock.now() + 60_000);

    // A proposal is made, auto-approved, rolled out in steps and confirmed after the guard passed.
    expect(await until(() => actuator.counts().applied >= 1, 240_000, 500)).toBe(true);
    const events = await actuator.events(10_000);
    const confirmed = (await actuator.list()).find((p) => p.status === 'confirmed')!;
    expect(confirmed).toBeDefined();
    const mine = events.filter((e) => e.proposal_id === confirmed.id).map((e) => e.event);
    expect(mine).toEqual(expect.arrayContaining(['proposed', 'approved', 'guard-pass', 'confirmed']));

    // The emulated routers changed, and the twin's traffic follows them.
    const touched = [...new Set(confirmed.intents.map((i) => i.router))];
    const applied = events.filter((e) => e.proposal_id === confirmed.id && e.event === 'step-applied');
    for (const site of touched) {
      const ops = applied.filter((e) => e.router === site).flatMap((e) => (e.detail as { ops?: unknown[] }).ops ?? []);
      expect(ops.length, `router ${site} received no ops`).toBeGreaterThan(0);
    }

    // Let the new split run for a while, then compare with static routing over the same simulated time.
    const t1 = shared.clock.now();
    await until(() => shared.clock.now() >= t1 + 6 * 3_600_000, 120_000, 500);
    const optimized = demo.twin.state();
    const twinStart = demo.twin.engine.startMs;
    const baseline = await runBaselineState(shared.config, 'cost-pressure', undefined, optimized.time - twinStart, twinStart);
    expect(optimized.egress.cost_total).toBeLessThan(baseline.egress.cost_total);
    expect(sloPairClassMinutes(optimized)).toBeLessThanOrEqual(sloPairClassMinutes(baseline));

    // `--gitops-dir`: when the demo stops, every router's final running config is there as `set` lines.
    await demo.stop();
    // And no router holds a config that commits fine yet does what nobody meant (vyos-facts §5).
    const sitePrefixes = shared.config.root.sites.flatMap((s) => s.prefixes);
    for (const site of shared.config.root.sites) {
      const text = await readFile(join(gitopsDir, `${site.id}.conf`), 'utf8');
      const router = demo.lab.router(site.id);
      expect(text.trimEnd().split('\n'), site.id).toEqual(router.runningCommands());
      const version = site.router.vyos_version;
      // An interface runs at its link's capacity (the LAN side is never shaped by pathpilot).
      const speedBps = (iface: string) => {
        const link = shared.topology.linkForInterface(site.id, iface);
        return (link ? shared.topology.link(link).capacity_mbps : 1000) * 1e6;
      };
      expect(semanticBreaches(router.showConfig([]), { version, speedBps, sitePrefixes }), site.id).toEqual([]);
    }
  }, 600_000);
});
