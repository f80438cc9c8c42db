/**
 * The realized-effect pass on in-process fakes: a confirmed proposal's window after the change against the
 * window before it, priced over every link of the path taken, SLO pair-class minutes judged per minute, the
 * figures stored once on the record, counted, posted to Slack, and a failed measurement retried.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../core/clock.ts';
import { Topology } from '../core/config/topology.ts';
import { createRegistry } from '../core/metrics.ts';
import { proposalSchema } from '../core/proposal.ts';
import { MemoryQueue } from '../core/queue/index.ts';
import type { FirstHopMinute, PathMinuteQuality, TimeRange } from '../analytics/queries/types.ts';
import { actuatorConfigSchema, createActuator } from './index.ts';
import { MemoryStateStore } from './state.ts';
import { sloPairClassMinutes, transferPerDay, type RealizedData } from './realized-measure.ts';
import { realizedWindows } from './realized.ts';
import { testRoot, weightProposal } from './testing.ts';
import type { Actuator } from './types.ts';

const root = testRoot();
const topology = new Topology(root);
const minute = 60_000;
const hour = 3_600_000;
const t0 = Date.UTC(2026, 0, 5, 10, 0);
const NYC = 'onprem-nyc';
const USE1 = 'aws-use1';
const [DX_PATH, VPN_PATH] = topology.pathsFor(NYC, USE1).map((p) => p.id) as [string, string];
const bulkSlo = topology.classes.get('bulk')!.slo;

const q = (t: number, path_id: string, cls: string, bad: 'rtt' | 'loss' | null): PathMinuteQuality => ({
  t,
  path_id,
  class: cls,
  rtt_p95_max_ms: bad === 'rtt' ? bulkSlo.rtt_p95_ms + 1 : 20,
  loss_ratio: bad === 'loss' ? (bulkSlo.loss_pct + 1) / 100 : 0,
  jitter_ms: 1,
  windows: 6,
  sent: 600,
});

/**
 * Before the change (ends at t0): NYC → AWS on the VPN (0.09 $/GB), whose probes break the bulk SLO in the
 * first 10 minutes. After: 99 % on the DX (0.02 $/GB; probed with realtime only, so any class stands in),
 * broken for 3 minutes, and 1 % left on the always broken VPN (under the 2 % share that counts); plus
 * 10 GB NYC → AWS Frankfurt over the two-hop DX + WireGuard path (0.02 + 0.02 $/GB).
 */
class FakeRealizedData implements RealizedData {
  failNext = false;
  calls = 0;
  private after = (range: TimeRange) => range.from >= t0;
  async volume(range: TimeRange) {
    this.calls++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('clickhouse is down');
    }
    const rows = this.after(range)
      ? [
          { src_site: NYC, dst_site: USE1, link: 'nyc-use1-dx', class: 'bulk', bytes: 50e9 },
          { src_site: NYC, dst_site: 'aws-euc1', link: 'nyc-use1-dx', class: 'bulk', bytes: 10e9 },
        ]
      : [{ src_site: NYC, dst_site: USE1, link: 'nyc-use1-vpn', class: 'bulk', bytes: 50e9 }];
    return { from: range.from, to: range.to, rows };
  }
  async minutes(x: { range: TimeRange }): Promise<FirstHopMinute[]> {
    const out: FirstHopMinute[] = [];
    for (let t = x.range.from; t < x.range.to; t += minute) {
      const row = { t, src_site: NYC, dst_site: USE1, class: 'bulk' };
      if (this.after(x.range))
        out.push({ ...row, link: 'nyc-use1-dx', bytes: 99e6 }, { ...row, link: 'nyc-use1-vpn', bytes: 1e6 });
      else out.push({ ...row, link: 'nyc-use1-vpn', bytes: 100e6 });
    }
    return out;
  }
  async quality(x: { range: TimeRange }): Promise<PathMinuteQuality[]> {
    const out: PathMinuteQuality[] = [];
    for (let t = x.range.from, i = 0; t < x.range.to; t += minute, i++) {
      if (this.after(x.range)) out.push(q(t, DX_PATH, 'realtime', i < 3 ? 'loss' : null), q(t, VPN_PATH, 'bulk', 'rtt'));
      else out.push(q(t, VPN_PATH, 'bulk', i < 10 ? 'rtt' : null));
    }
    return out;
  }
}

function confirmed(id: string) {
  const p = proposalSchema.parse({ ...weightProposal(id), created_at: t0 - 5 * minute });
  p.status = 'confirmed';
  p.history = [
    { status: 'approved', at: t0 - minute },
    { status: 'applying', at: t0 + 30_000 },
    { status: 'baking', at: t0 + minute },
    { status: 'confirmed', at: t0 + 10 * minute + 15_000 },
  ];
  return p;
}

describe('realized config', () => {
  it('takes whole minutes up to a week, one hour by default; a bad value names the key', () => {
    expect(actuatorConfigSchema.parse({})).toMatchObject({ realized_window_s: 3600, realized_interval_s: 300 });
    expect(actuatorConfigSchema.parse({ realized_window_s: 7200 }).realized_window_s).toBe(7200);
    for (const bad of [90, 30, 8 * 86_400, 'x'])
      expect(() =>
        createActuator(
          {
            root,
            queue: new MemoryQueue(),
            clock: new SimulatedClock(),
            routerFor: () => {
              throw new Error('x');
            },
            env: {},
          },
          { realized_window_s: bad },
        ),
      ).toThrow(/realized_window_s/);
  });
});

describe('realized windows', () => {
  it('end the before window at the minute the apply started and start the after window at the confirmation', () => {
    expect(realizedWindows(confirmed('w'), hour)).toEqual({
      before: { from: t0 - hour, to: t0 },
      after: { from: t0 + 11 * minute, to: t0 + 11 * minute + hour },
    });
    expect(realizedWindows({ ...confirmed('w'), status: 'rolled-back' }, hour)).toBeUndefined();
  });
});

describe('realized measures', () => {
  it('prices bytes over every link of the path they took; GB per day is what the sites sent', async () => {
    const data = new FakeRealizedData();
    const range = { from: t0 + hour, to: t0 + 2 * hour };
    const got = transferPerDay(await data.volume(range), topology);
    expect(got.gb_per_day).toBeCloseTo(60 * 24, 9);
    expect(got.cost_per_day).toBeCloseTo((50 * 0.02 + 10 * (0.02 + 0.02)) * 24, 9);
  });

  it('counts a pair-class minute once when a path carrying ≥ 2 % of it breaks the SLO', () => {
    const scope = [{ pair: [NYC, USE1] as [string, string], class: 'bulk' }];
    const m = (t: number, link: string, bytes: number): FirstHopMinute => ({
      t,
      src_site: NYC,
      dst_site: USE1,
      class: 'bulk',
      link,
      bytes,
    });
    const traffic = [m(t0, 'nyc-use1-dx', 50), m(t0, 'nyc-use1-vpn', 50), m(t0 + minute, 'nyc-use1-dx', 100)];
    // Both paths broken at t0: one minute, not two; t0+1 min has no probes of its path: no breach.
    expect(sloPairClassMinutes(scope, traffic, [q(t0, DX_PATH, 'bulk', 'rtt'), q(t0, VPN_PATH, 'bulk', 'loss')], topology)).toBe(
      1,
    );
    // The class's own probes win over other classes' once the path has any in the range.
    const own = [q(t0, DX_PATH, 'bulk', null), q(t0, DX_PATH, 'realtime', 'rtt'), q(t0 + minute, DX_PATH, 'realtime', 'rtt')];
    expect(sloPairClassMinutes(scope, traffic, own, topology)).toBe(0);
    expect(sloPairClassMinutes(scope, traffic, [q(t0 + minute, DX_PATH, 'realtime', 'rtt')], topology)).toBe(1);
    // Another class's traffic is not the scope's.
    expect(sloPairClassMinutes([{ pair: [NYC, USE1], class: 'realtime' }], traffic, own, topology)).toBe(0);
  });
});

describe('realized-effect pass', () => {
  let actuator: Actuator;
  let queue: MemoryQueue;
  let slack: Server;
  const posts: { text: string; blocks: unknown[] }[] = [];
  const state = new MemoryStateStore();
  const data = new FakeRealizedData();
  const clock = new SimulatedClock(t0 + 30 * minute);
  const registry = createRegistry();

  beforeAll(async () => {
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body) as { text: string; blocks: unknown[] });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      {
        root,
        queue,
        clock,
        state,
        registry,
        realizedData: data,
        routerFor: () => {
          throw new Error('no router here');
        },
        env: { [root.slack.webhook_url_env]: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook` },
      },
      { gitops_dir: '', realized_interval_s: 0 },
    );
    await actuator.start();
  });
  afterAll(async () => {
    await actuator?.stop();
    await queue?.stop();
    await new Promise((r) => slack?.close(r));
  });

  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];

  it('waits for the after window, then stores before/after figures once, counts them and posts a follow-up', async () => {
    await state.put({ proposal: confirmed('r-1'), updatedAt: t0 + 10 * minute });
    await state.put({ proposal: { ...confirmed('r-open'), status: 'baking' }, updatedAt: t0 });
    // The after window [t0+11 min, t0+71 min) has not ended.
    expect(await actuator.service.measureRealized()).toEqual([]);
    expect(data.calls).toBe(0);

    await clock.advanceTo(t0 + 71 * minute);
    const [rec, ...more] = await actuator.service.measureRealized();
    expect(more).toEqual([]);
    const r = rec!.proposal.realized!;
    expect(r.before).toEqual({ from: t0 - hour, to: t0 });
    expect(r.after).toEqual({ from: t0 + 11 * minute, to: t0 + 71 * minute });
    expect(r.cost_per_day_before).toBeCloseTo(50 * 0.09 * 24, 9);
    expect(r.cost_per_day).toBeCloseTo((50 * 0.02 + 10 * 0.04) * 24, 9);
    expect([r.gb_per_day_before, r.gb_per_day]).toEqual([1200, 1440]);
    expect([r.slo_pair_class_minutes_before, r.slo_pair_class_minutes]).toEqual([10, 3]);
    expect(r.measured_at).toBe(t0 + 71 * minute);
    expect((await state.get('r-1'))!.proposal.realized).toEqual(r);
    expect((await state.get('r-open'))!.proposal.realized).toBeUndefined();

    // Measured once: the next pass finds nothing to do.
    const calls = data.calls;
    expect(await actuator.service.measureRealized()).toEqual([]);
    expect(data.calls).toBe(calls);

    expect(await metric('pathpilot_actuator_realized_total')).toEqual([{ labels: { result: 'measured' }, value: 1 }]);
    const ratio = (await metric('pathpilot_actuator_realized_cost_ratio')).find((v) =>
      (v as { metricName?: string }).metricName?.endsWith('_sum'),
    );
    expect(ratio!.value).toBeCloseTo(r.cost_per_day / 120, 9);

    await expect.poll(() => posts.length).toBe(1);
    expect(posts[0]!.text).toContain('Realized effect of path-weights proposal r-1');
    expect(JSON.stringify(posts[0]!.blocks)).toContain('*SLO pair-class minutes:*\\n10 → 3');
  });

  it('logs and counts a failed measurement, stores nothing and measures it at the next pass', async () => {
    await state.put({ proposal: confirmed('r-2'), updatedAt: t0 + 10 * minute });
    data.failNext = true;
    expect(await actuator.service.measureRealized()).toEqual([]);
    expect((await state.get('r-2'))!.proposal.realized).toBeUndefined();
    expect(await metric('pathpilot_actuator_realized_total')).toContainEqual({ labels: { result: 'error' }, value: 1 });
    const [rec] = await actuator.service.measureRealized();
    expect(rec!.proposal.id).toBe('r-2');
    expect(rec!.proposal.realized!.slo_pair_class_minutes).toBe(3);
  });
});
