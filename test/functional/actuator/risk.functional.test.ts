/**
 * Pre-change risk on the real services (issue 18): live conversations in ClickHouse (flows exported by
 * onprem-nyc over the last hours), the actuator's records in Redis, the routers emulated over HTTP and the
 * emulator's forward-chain model. A firewall proposal that would drop a live conversation is assessed high
 * risk, is never auto-approved, and is applied only once a second, distinct approver agrees; one that
 * drops nothing live needs one approval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../analytics/schema/index.ts';
import { createActuator, realizedDataFromStore, riskDataFromStore } from '../../../actuator/index.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { RealClock } from '../../../core/clock.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { flowRecord, probeRecord } from '../../../core/records/index.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { createStore } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { forwardVerdict } from '../../../lab/vyos/firewall-eval.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { startLab, testRoot, weightProposal, type LabRig, stopServices } from './support.ts';

const NYC = 'onprem-nyc';
const WEB = '10.10.0.20';
const CLIENT = '10.51.0.10';
const hour = 3_600_000;

describe('pre-change risk assessment', () => {
  const root = testRoot();
  const prefix = uniqueName('pp_risk');
  let rig: LabRig;
  let store: Store;
  let queue: MemoryQueue;
  let actuator: Actuator;

  beforeAll(async () => {
    rig = await startLab(root);
    store = createStore({ kind: 'server', url: requireService('clickhouse'), database: uniqueName('pp_risk'), path: '' });
    await store.start();
    await migrate(store);
    const now = Date.now();
    // A live conversation through onprem-nyc: a client of another site to the web server's 8080, every
    // 10 minutes for the last 6 hours; and a one-off to 443.
    const rows = [];
    for (let i = 0; i < 36; i++) rows.push(flow(now - 6 * hour + i * 600_000, 8080, 2_000_000, i));
    rows.push(flow(now - hour, 443, 50_000, 99));
    await store.insert('flows_raw', rows);
    // The VPN path's probes: 20 ms for three hours, 80 ms over the last ten minutes (a sudden shift).
    const probes = [];
    for (let m = 180; m >= 1; m--) {
      const t = now - m * 60_000;
      const rtt = m <= 10 ? 80 : 20;
      probes.push(
        probeRecord.toRow({
          window_start: t,
          window_end: t + 10_000,
          src_site: NYC,
          dst_site: 'aws-use1',
          path_id: 'onprem-nyc.aws-use1.2',
          class: 'bulk',
          sent: 100,
          received: 100,
          loss_ratio: 0,
          rtt_min_ms: rtt * 0.8,
          rtt_avg_ms: rtt,
          rtt_p50_ms: rtt,
          rtt_p95_ms: rtt,
          rtt_max_ms: rtt * 1.3,
          jitter_ms: 2,
        }),
      );
    }
    await store.insert('probes_raw', probes);
    queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      {
        root,
        queue,
        clock: new RealClock(),
        routerFor: rig.routerFor,
        riskData: riskDataFromStore(store),
        realizedData: realizedDataFromStore(store),
        forwardVerdict: (config, packet, at, tz) => forwardVerdict(config, packet, at, tz).action,
        env: {},
      },
      { gitops_dir: '', state: { kind: 'redis', redis_url: requireService('redis'), prefix } },
    );
    await actuator.start();
  });
  afterAll(() => stopServices({ actuator, queue, rig, redisPrefix: prefix, store }));

  function flow(t: number, port: number, bytes: number, sequence: number) {
    return flowRecord.toRow({
      time_received: t,
      exporter: '127.0.1.1',
      format: 'ipfix',
      domain_id: 1,
      sequence,
      sampling_rate: 1,
      src_addr: CLIENT,
      dst_addr: WEB,
      src_port: 40000 + (sequence % 1000),
      dst_port: port,
      protocol: 6,
      bytes,
      packets: Math.ceil(bytes / 1500),
      site: NYC,
      dst_site: NYC,
      class: 'bulk',
    });
  }

  const dropPort = (id: string, port: number): ProposalInput => ({
    id,
    created_at: Date.now(),
    kind: 'security',
    reason: `drop tcp/${port} to the web server`,
    inputs: {},
    intents: [
      {
        kind: 'firewall-rules',
        router: NYC,
        first: 10_000,
        last: 10_999,
        rules: { '10000': { action: 'drop', protocol: 'tcp', destination: { address: WEB, port: String(port) } } },
      },
    ],
    predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0.05 },
    risk: 'low',
  });

  const verdictOn = async (port: number) =>
    forwardVerdict(
      (await rig.routerFor(NYC).showConfig([])) ?? {},
      { protocol: 'tcp', source: CLIENT, destination: WEB, destinationPort: port },
      Date.now(),
    ).action;

  it('a change that would cut a live conversation is high risk and needs two distinct approvers', async () => {
    const rec = await actuator.submit(dropPort('risk-cut', 8080));
    const a = rec.proposal.assessment!;
    expect(a.level).toBe('high');
    expect(a.stated).toBe('low');
    expect(a.approvals_required).toBe(2);
    expect(a.computed).toEqual({ flows: true, reachability: true });
    expect(a.blast).toMatchObject({ flows_cut: 1, bytes_cut: 36 * 2_000_000, flows_opened: 0 });
    expect(a.cut).toEqual([{ router: NYC, flow: `${CLIENT} → ${WEB} tcp/8080`, bytes: 72_000_000, class: 'bulk' }]);
    expect(a.reasons[0]).toMatch(/^cuts 1 live conversation/);
    // Never auto-approved: it waits, and the router is untouched.
    expect(rec.proposal.status).toBe('awaiting-approval');
    expect(await verdictOn(8080)).toBe('accept');

    // The first approver is recorded; the same person again, on any channel, does not count twice.
    await actuator.approve('risk-cut', 'api:alice');
    await actuator.approve('risk-cut', 'api:alice');
    await actuator.approve('risk-cut', 'slack:alice');
    await actuator.service.idle();
    let now = (await actuator.get('risk-cut'))!.proposal;
    expect(now.status).toBe('awaiting-approval');
    expect(now.history.at(-1)!.note).toMatch(/^approval 1 of 2 \(alice\): high risk needs another approver/);
    expect(await verdictOn(8080)).toBe('accept');
    expect(actuator.changes('risk-cut').filter((e) => e.event === 'approval-recorded')).toHaveLength(3);

    // A second, distinct approver: applied; the conversation is now dropped on the router.
    await actuator.approve('risk-cut', 'api:bob');
    await actuator.service.idle();
    now = (await actuator.get('risk-cut'))!.proposal;
    expect(now.status).toBe('confirmed');
    expect(now.history.find((h) => h.status === 'approved')!.note).toMatch(/approved by alice and bob/);
    expect(await verdictOn(8080)).toBe('drop');
  });

  it('a change that cuts nothing but re-opens a dropped conversation is medium risk: one approver', async () => {
    // The block 10000–10999 is pathpilot's: this proposal replaces the 8080 drop with a 9999 one.
    const rec = await actuator.submit(dropPort('risk-reopen', 9999));
    expect(rec.proposal.assessment).toMatchObject({
      level: 'medium',
      approvals_required: 1,
      blast: { flows_cut: 0, flows_opened: 1, bytes_opened: 72_000_000 },
      opened: [{ router: NYC, flow: `${CLIENT} → ${WEB} tcp/8080`, bytes: 72_000_000, class: 'bulk' }],
      computed: { flows: true, reachability: true },
    });
    expect(rec.proposal.assessment!.reasons).toContain('newly allows 1 conversation(s) the firewall dropped');
    await actuator.approve('risk-reopen', 'api:alice');
    await actuator.service.idle();
    expect((await actuator.get('risk-reopen'))!.proposal.status).toBe('confirmed');
    expect(await verdictOn(8080)).toBe('accept');
    expect(await verdictOn(9999)).toBe('drop');
  });

  it('an assessment sent with the proposal is replaced by the actuator’s own', async () => {
    const forged = {
      ...dropPort('risk-forged', 443),
      assessment: {
        level: 'low' as const,
        stated: 'low' as const,
        approvals_required: 1,
        reasons: ['trust me'],
        blast: {
          window_h: 24,
          flows_rerouted: 0,
          bytes_rerouted: 0,
          flows_cut: 0,
          bytes_cut: 0,
          flows_opened: 0,
          bytes_opened: 0,
        },
        cut: [],
        opened: [],
        compliance: [],
        computed: { flows: true, reachability: true },
        assessed_at: 0,
      },
    };
    const rec = await actuator.submit(forged, 'api:mallory');
    expect(rec.proposal.assessment).toMatchObject({ level: 'high', approvals_required: 2 });
    expect(rec.proposal.assessment!.reasons).not.toContain('trust me');
    // Its proposer cannot be one of its two approvers, on any channel.
    await expect(actuator.approve('risk-forged', 'slack:mallory')).rejects.toThrow(
      'mallory proposed this high-risk change and cannot approve it',
    );
  });

  it('a change that moves traffic onto a path whose RTT just jumped is held for a human (route security)', async () => {
    const p = weightProposal('risk-shift', {
      scope: [
        { pair: [NYC, 'aws-use1'], class: 'bulk', paths: ['onprem-nyc.aws-use1.2'], paths_before: ['onprem-nyc.aws-use1.1'] },
      ],
    });
    const rec = await actuator.submit(p);
    expect(rec.proposal.assessment).toMatchObject({
      hold: true,
      anomalies: [{ path: 'onprem-nyc.aws-use1.2', baseline_ms: 20, recent_ms: 80 }],
    });
    expect(rec.proposal.status).toBe('awaiting-approval');
    expect(rec.proposal.history.at(-1)!.note).toBe(
      'held for approval: path onprem-nyc.aws-use1.2 RTT shifted 20 → 80 ms in the last minutes',
    );
  });
});
