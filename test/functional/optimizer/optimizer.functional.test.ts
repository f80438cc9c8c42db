import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../analytics/schema/index.ts';
import { SimulatedClock } from '../../../core/clock.ts';
import { loadConfig } from '../../../core/config/index.ts';
import { proposalQueueName, proposalSchema } from '../../../core/proposal.ts';
import { BullmqQueue } from '../../../core/queue/index.ts';
import { costRecord, flowRecord, ifaceRecord, probeRecord } from '../../../core/records/index.ts';
import { createStore } from '../../../core/store/index.ts';
import { ident, sql } from '../../../core/store/sql.ts';
import type { Store } from '../../../core/store/types.ts';
import { labData } from '../../../lab/twin/lab-data.ts';
import { QueriesOptimizerData } from '../../../optimizer/data-queries.ts';
import { OptimizerEngine } from '../../../optimizer/engine.ts';
import { defaultOptimizerConfig } from '../../../optimizer/config.ts';
import { createOptimizer, optimizerQueueName, storeDecisions } from '../../../optimizer/index.ts';
import { latestForecast, latestModel, readProposals } from '../../../analytics/queries/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const { root } = loadConfig();

describe('optimizer on BullMQ (real Redis)', () => {
  it('retrains as a queued job with progress and publishes proposals to the actuator queue', async () => {
    // Explicit lock/stalled intervals: BullmqQueue passes `undefined` through otherwise, which BullMQ rejects.
    const queue = new BullmqQueue({
      redisUrl: requireService('redis'),
      prefix: uniqueName('pp_opt'),
      lockDurationMs: 120_000,
      stalledIntervalMs: 30_000,
    });
    await queue.start();
    const lab = labData({ days: 5 });
    for (const p of lab.root.paths.filter((p) => p.from === 'onprem-fra' && p.priority === 2))
      lab.data.weights.set(`${p.from}>${p.to}|bulk`, { [p.id]: 1 });
    const clock = new SimulatedClock(lab.endMs);
    const optimizer = createOptimizer(
      { data: lab.data, queue, clock, root: lab.root },
      { epochs: 2, history_h: 5 * 24, interval_s: 86_400, retrain_every_s: 86_400 },
    );
    const progress: number[] = [];
    try {
      await optimizer.start();
      // No saved models: start() queued a retraining.
      const jobId = optimizer.initialTrainingJob();
      expect(jobId).toMatch(new RegExp(`^initial-retrain-${lab.endMs}-`));
      const deadline = Date.now() + 150_000;
      let state = 'unknown';
      while (Date.now() < deadline) {
        const job = await queue.getJob(optimizerQueueName, jobId!);
        state = job?.state ?? 'unknown';
        progress.push(optimizer.engine.training.progress);
        if (state === 'completed' || state === 'failed') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(state).toBe('completed');
      const job = await queue.getJob<unknown>(optimizerQueueName, jobId!);
      expect(job?.returnValue).toMatchObject({ traffic: 'traffic-v1' });
      expect(Math.max(...progress)).toBeGreaterThan(0);

      const r = await optimizer.runNow();
      expect(r.decision?.publish).toBe(true);
      const published = await queue.getJob(proposalQueueName, r.proposal!.id);
      expect(published).toBeDefined();
      const p = proposalSchema.parse(published!.data);
      expect(p.id).toBe(r.proposal!.id);
      expect(p.intents.length).toBeGreaterThan(0);
      expect((await queue.counts(proposalQueueName)).waiting).toBe(1);
    } finally {
      await optimizer.stop();
      await queue.obliterate(proposalQueueName).catch(() => undefined);
      await queue.obliterate(optimizerQueueName).catch(() => undefined);
      await queue.stop();
    }
  }, 200_000);
});

describe('optimizer data through analytics/queries (real ClickHouse server)', () => {
  let store: Store;
  const hour = 3_600_000;
  const minute = 60_000;
  const base = Math.floor(Date.now() / hour) * hour - 3 * hour;
  const bytesPerMinute = 75_000_000; // 10 Mbit/s from onprem-nyc to aws-use1, bulk

  beforeAll(async () => {
    store = createStore({ kind: 'server', url: requireService('clickhouse'), database: uniqueName('pp_opt'), path: '' });
    await store.start();
    await migrate(store);
    const flows = [];
    const probes = [];
    const iface = [];
    for (let m = 0; m < 180; m++) {
      const t = base + m * minute;
      flows.push(
        flowRecord.toRow({
          time_received: t + 5_000,
          exporter: '127.0.1.1',
          format: 'ipfix',
          domain_id: 1,
          sequence: m,
          sampling_rate: 1,
          src_addr: '10.51.0.1',
          dst_addr: '10.10.0.1',
          protocol: 6,
          bytes: bytesPerMinute,
          packets: 50_000,
          site: 'onprem-nyc',
          dst_site: 'aws-use1',
          link: 'nyc-use1-dx',
          class: 'bulk',
        }),
      );
      for (const [path, rtt] of [
        ['onprem-nyc.aws-use1.1', 12],
        ['onprem-nyc.aws-use1.2', 30],
      ] as const)
        probes.push(
          probeRecord.toRow({
            window_start: t,
            window_end: t + 10_000,
            src_site: 'onprem-nyc',
            dst_site: 'aws-use1',
            path_id: path,
            class: 'bulk',
            sent: 10,
            received: 10,
            loss_ratio: 0,
            rtt_min_ms: rtt - 2,
            rtt_avg_ms: rtt,
            rtt_p50_ms: rtt,
            rtt_p95_ms: rtt + 3,
            rtt_max_ms: rtt + 5,
            jitter_ms: 1,
          }),
        );
      iface.push(
        ifaceRecord.toRow({
          time: t + 30_000,
          router: 'onprem-nyc',
          interface: 'eth1',
          link: 'nyc-use1-dx',
          in_octets: 0,
          out_octets: 1_000_000 + m * bytesPerMinute,
          speed_bps: 10_000_000_000,
          source: 'twin',
        }),
      );
    }
    await store.insert('flows_raw', flows);
    await store.insert('probes_raw', probes);
    await store.insert('iface_raw', iface);
    const day0 = Math.floor(base / (24 * hour)) * 24 * hour;
    await store.insert(
      'costs_raw',
      [1, 2, 3].map((d) =>
        costRecord.toRow({
          line_id: `l${d}`,
          usage_start: day0 - d * 24 * hour,
          usage_end: day0 - (d - 1) * 24 * hour,
          provider: 'aws',
          category: 'interconnect',
          usage_quantity: 100,
          cost: 10 * d,
          currency: 'USD',
          link: 'nyc-use1-dx',
          source_format: 'twin',
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await store?.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
    await store?.stop();
  });

  it('reads pair × class traffic, per-direction link traffic, probe windows and daily cost as series', async () => {
    const data = new QueriesOptimizerData(store, root);
    const range = { from: base, to: base + 3 * hour, stepMs: 5 * minute };
    const pairs = await data.pairTraffic(range);
    const nycUse1 = pairs.find((p) => p.from === 'onprem-nyc' && p.to === 'aws-use1' && p.class === 'bulk')!;
    expect(nycUse1.values).toHaveLength(36);
    for (const v of nycUse1.values) expect(v).toBeCloseTo(10, 3);
    const links = await data.linkTraffic(range);
    const dx = links.find((l) => l.link === 'nyc-use1-dx' && l.from_site === 'onprem-nyc')!;
    expect(dx).toBeDefined();
    const steady = dx.values.slice(1, -1);
    expect(steady.length).toBeGreaterThan(20);
    for (const v of steady) expect(v).toBeCloseTo(10, 0);
    const probes = await data.pathProbes({ from: base, to: base + 3 * hour });
    const p1 = probes.find((p) => p.path === 'onprem-nyc.aws-use1.1')!;
    expect(p1.windows).toHaveLength(36);
    expect(p1.windows[0]!.rtt_p95_ms).toBeCloseTo(15, 0);
    const costs = await data.dailyCost({ from: base - 5 * 24 * hour, to: base + 3 * hour });
    expect(costs.reduce((a, c) => a + c.cost, 0)).toBeCloseTo(60, 6);
    expect(costs.every((c) => c.provider === 'aws' && c.link === 'nyc-use1-dx')).toBe(true);
  }, 60_000);

  it('runs the optimizer end to end on that data', async () => {
    const data = new QueriesOptimizerData(store, root);
    const engine = new OptimizerEngine(
      { data, root, clock: new SimulatedClock(base + 3 * hour) },
      { ...defaultOptimizerConfig, history_h: 3, learned: false },
    );
    const r = await engine.run();
    expect(r.plan?.status).toBe('optimal');
    const split = r.plan!.splits.find((s) => s.from === 'onprem-nyc' && s.to === 'aws-use1' && s.class === 'bulk')!;
    expect(split.mbps).toBeGreaterThan(9);
    // The interconnect is cheaper and faster: all of it stays there.
    expect(split.fractions['onprem-nyc.aws-use1.1']).toBeCloseTo(1, 6);
    engine.dispose();
  }, 60_000);

  it('records its forecasts, model versions and proposals in ClickHouse, where the query library reads them', async () => {
    const data = new QueriesOptimizerData(store, root);
    const now = base + 3 * hour;
    const engine = new OptimizerEngine(
      { data, root, clock: new SimulatedClock(now), decisions: storeDecisions(store) },
      { ...defaultOptimizerConfig, history_h: 3, learned: false },
    );
    try {
      const { traffic } = await engine.train();
      const model = await latestModel(store, 'traffic');
      expect(model).toMatchObject({ version: traffic.version, kind: 'per-series-best', status: 'active' });
      expect(JSON.parse(model!.artifact)).toMatchObject({ registry: { version: traffic.version } });

      await engine.forecast();
      const pair = await latestForecast(store, { metric: 'pair_bps', targets: ['onprem-nyc>aws-use1|bulk'] });
      expect(pair.length).toBeGreaterThan(0);
      expect(pair.every((p) => p.made_at === now && p.model_version === traffic.version)).toBe(true);
      // 10 Mbit/s of bulk traffic, stored in bit/s like link_util_1m.
      expect(pair[0]!.value).toBeGreaterThan(5e6);
      expect(pair[0]!.value).toBeLessThan(15e6);
      const link = await latestForecast(store, { metric: 'link_bps', targets: ['nyc-use1-dx'] });
      expect(link.length).toBe(pair.length);
      for (const p of link) expect(p.hi).toBeGreaterThanOrEqual(p.value);

      // A proposal, when the run publishes one, is in the proposals table with its status.
      const published = await engine.run();
      const stored = await readProposals(store);
      if (published.proposal) expect(stored.map((p) => p.id)).toContain(published.proposal.id);
      else expect(stored).toEqual([]);
    } finally {
      engine.dispose();
    }
  }, 60_000);
});
