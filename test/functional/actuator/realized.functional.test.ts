/**
 * The realized effect end to end: a weight shift approved and rolled out on the VyOS emulator (proposal
 * records in Redis), flows and probe windows written to ClickHouse for the hour before its apply and the
 * hour after its confirmation (and a burst in between that neither window may count), then the actuator's
 * own periodic pass measures it: cost priced from known bytes × each path's links, GB per day, and SLO
 * pair-class minutes from the probes, stored on the Redis record and in ClickHouse's proposals table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../analytics/schema/index.ts';
import { readProposals } from '../../../analytics/queries/index.ts';
import { RealClock, type Clock } from '../../../core/clock.ts';
import { flowRecord, probeRecord } from '../../../core/records/index.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { createStore } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { createActuator, realizedDataFromStore, storeProposalRecorder, type Actuator } from '../../../actuator/index.ts';
import { realizedWindows } from '../../../actuator/realized.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { SwitchableGuardData, startLab, testRoot, weightProposal, type LabRig, stopServices } from './support.ts';

/** Real time, moved forward on demand: the hour after the change passes without waiting an hour. */
class ShiftedClock implements Clock {
  offset = 0;
  private readonly real = new RealClock();
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.real.sleep(ms, signal);
  }
}

const minute = 60_000;
const hour = 3_600_000;
const GB = 1e9;

describe('realized effect on ClickHouse and Redis', () => {
  const root = testRoot();
  const clock = new ShiftedClock();
  const prefix = uniqueName('pp_realized');
  let rig: LabRig;
  let store: Store;
  let queue: MemoryQueue;
  let actuator: Actuator;

  beforeAll(async () => {
    rig = await startLab(root);
    store = createStore({ kind: 'server', url: requireService('clickhouse'), database: uniqueName('pp_realized'), path: '' });
    await store.start();
    await migrate(store);
    queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      {
        root,
        queue,
        clock,
        routerFor: rig.routerFor,
        guardData: new SwitchableGuardData(),
        realizedData: realizedDataFromStore(store),
        recorder: storeProposalRecorder(store),
        env: {},
      },
      {
        gitops_dir: '',
        state: { kind: 'redis', redis_url: requireService('redis'), prefix },
        realized_window_s: 3600,
        realized_interval_s: 1,
      },
    );
    await actuator.start();
  });
  afterAll(() => stopServices({ actuator, queue, rig, redisPrefix: prefix, store }));

  let seq = 0;
  const flow = (t: number, dst: string, link: string, bytes: number) =>
    flowRecord.toRow({
      time_received: t,
      exporter: '127.0.1.1',
      format: 'ipfix',
      domain_id: 1,
      sequence: seq++,
      sampling_rate: 1,
      src_addr: '10.51.0.10',
      dst_addr: '10.10.0.10',
      protocol: 6,
      bytes,
      packets: Math.ceil(bytes / 1500),
      site: 'onprem-nyc',
      dst_site: dst,
      link,
      class: 'bulk',
    });
  const probe = (t: number, path: string, rtt: number, loss: number) =>
    probeRecord.toRow({
      window_start: t,
      window_end: t + 10_000,
      src_site: 'onprem-nyc',
      dst_site: 'aws-use1',
      path_id: path,
      class: 'bulk',
      sent: 100,
      received: 100 - loss,
      loss_ratio: loss / 100,
      rtt_min_ms: rtt * 0.8,
      rtt_avg_ms: rtt,
      rtt_p50_ms: rtt,
      rtt_p95_ms: rtt * 1.1,
      rtt_max_ms: rtt * 1.3,
      jitter_ms: 2,
    });

  it('measures the hour after the change against the hour before its apply, with the actuator’s own pass', async () => {
    const p = weightProposal(`realized-${Date.now()}`);
    await actuator.submit(p);
    await actuator.approve(p.id, 'api:alice');
    await actuator.service.idle();
    const applied = (await actuator.get(p.id))!;
    expect(applied.proposal.status).toBe('confirmed');
    // The weights really changed on the emulated router: NYC → AWS now mostly over the VPN.
    expect(JSON.stringify(rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule']))).toContain(
      '"vti1":{"weight":"70"}',
    );
    const w = realizedWindows(applied.proposal, hour)!;
    expect(w.before.to).toBeLessThanOrEqual(applied.proposal.history.find((h) => h.status === 'applying')!.at);

    // What the network did: 1 GB a minute NYC → AWS, on the DX before (0.02 $/GB), 30 % DX / 70 % VPN
    // (0.09 $/GB) after, as the new weights say; after, also 0.5 GB a minute NYC → Frankfurt over the
    // two-hop DX + WireGuard path (0.02 + 0.02 $/GB). The rollout's own minutes carry a 1 TB burst.
    const flows = [];
    const probes = [];
    const [dx, vpn] = ['onprem-nyc.aws-use1.1', 'onprem-nyc.aws-use1.2'];
    for (let i = 0; i < 60; i++) {
      const b = w.before.from + i * minute + 7_000;
      const a = w.after.from + i * minute + 7_000;
      flows.push(flow(b, 'aws-use1', 'nyc-use1-dx', GB));
      flows.push(flow(a, 'aws-use1', 'nyc-use1-dx', 0.3 * GB), flow(a, 'aws-use1', 'nyc-use1-vpn', 0.7 * GB));
      flows.push(flow(a, 'aws-euc1', 'nyc-use1-dx', 0.5 * GB));
      // Before: the DX breaks the bulk SLO (p95 RTT over 600 ms) for 7 minutes. After: the DX is healthy
      // and the VPN loses 8 % (over the 5 % SLO) for 4 minutes.
      probes.push(probe(b, dx, i < 7 ? 700 : 40, 0), probe(b, vpn, 60, 0));
      probes.push(probe(a, dx, 40, 0), probe(a, vpn, 60, i >= 20 && i < 24 ? 8 : 0));
    }
    flows.push(flow(w.before.to + 1000, 'aws-use1', 'nyc-use1-vpn', 1000 * GB));
    await store.insert('flows_raw', flows);
    await store.insert('probes_raw', probes);

    // The window has not ended yet: the periodic pass leaves the proposal alone.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await actuator.get(p.id))!.proposal.realized).toBeUndefined();

    clock.offset = w.after.to - Date.now() + 1000;
    await expect
      .poll(async () => (await actuator.get(p.id))!.proposal.realized, { timeout: 15_000, interval: 200 })
      .toBeDefined();
    const r = (await actuator.get(p.id))!.proposal.realized!;
    expect(r.before).toEqual(w.before);
    expect(r.after).toEqual(w.after);
    expect(r.gb_per_day_before).toBeCloseTo(60 * 24, 6);
    expect(r.gb_per_day).toBeCloseTo(90 * 24, 6);
    expect(r.cost_per_day_before).toBeCloseTo(60 * 24 * 0.02, 6);
    expect(r.cost_per_day).toBeCloseTo(24 * (60 * 0.3 * 0.02 + 60 * 0.7 * 0.09 + 30 * (0.02 + 0.02)), 6);
    expect([r.slo_pair_class_minutes_before, r.slo_pair_class_minutes]).toEqual([7, 4]);
    expect(r.measured_at).toBeGreaterThanOrEqual(w.after.to);

    // Measured once, and recorded where a console without the actuator role reads proposals.
    // (The store is written right after the Redis record: read until it shows, under a loaded CI too.)
    await expect
      .poll(async () => (await readProposals(store, { ids: [p.id] }))[0]?.realized, { timeout: 15_000, interval: 200 })
      .toEqual(r);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await actuator.get(p.id))!.proposal.realized).toEqual(r);
  });
});
