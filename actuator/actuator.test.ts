import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../core/clock.ts';
import { loadConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/topology.ts';
import { proposalSchema, type ProposalInput } from '../core/proposal.ts';
import { diffOps, sameConfig, setLines } from './vyos/diff.ts';
import { validateOps } from './vyos/paths.ts';
import { renderRouter, shiftBetween, stepWeights, maxStepShift } from './render.ts';
import { TokenBucket, autoDecide, inFreeze } from './policy.ts';
import { parseInteraction, signSlackBody, verifySlackSignature, proposalBlocks, realizedBlocks } from './slack.ts';
import { analyzeStep, compareForClass, judge, type GuardData } from './guard/index.ts';
import type { WindowComparison } from '../analytics/queries/types.ts';

const root = loadConfig(undefined, {}).root;
const topology = new Topology(root);

describe('diff', () => {
  it('produces the minimal ops between two subtrees, exact for multi-value leaves', () => {
    const cur = { a: { b: '1', m: ['x', 'y'] }, gone: { deep: '1' }, flag: {} };
    const des = { a: { b: '2', m: ['y', 'z'] }, flag: {}, added: { c: '3' } };
    expect(diffOps(['root'], cur, des)).toEqual([
      { op: 'delete', path: ['root', 'a', 'b'], value: '1' },
      { op: 'delete', path: ['root', 'a', 'm'], value: 'x' },
      { op: 'delete', path: ['root', 'gone'] },
      { op: 'set', path: ['root', 'a', 'b'], value: '2' },
      { op: 'set', path: ['root', 'a', 'm'], value: 'z' },
      { op: 'set', path: ['root', 'added', 'c'], value: '3' },
    ]);
    expect(diffOps(['r'], cur, cur)).toEqual([]);
    expect(diffOps(['r'], cur, null)).toEqual([{ op: 'delete', path: ['r'] }]);
    expect(sameConfig(null, {})).toBe(true);
    expect(sameConfig({ m: ['a', 'b'] }, { m: ['b', 'a'] })).toBe(true);
    expect(setLines(['x'], { y: 'v', f: {} })).toEqual(["set x y 'v'", 'set x f']);
  });
});

describe('render', () => {
  const opts = { topology, router: 'onprem-nyc', lanInterface: 'eth0' };
  it('interpolates weights by traffic share and lands exactly on the target', () => {
    expect(stepWeights({ eth1: 1 }, { eth1: 30, vti1: 70 }, 0.5)).toEqual({ eth1: 65, vti1: 35 });
    expect(stepWeights({ eth1: 1 }, { eth1: 30, vti1: 70 }, 1)).toEqual({ eth1: 30, vti1: 70 });
    expect(stepWeights({ eth1: 1, vti1: 1 }, { vti1: 5 }, 0.5)).toEqual({ eth1: 25, vti1: 75 });
    expect(shiftBetween({ a: 1 }, { b: 1 })).toBe(1);
    const intents = [
      {
        kind: 'path-weights' as const,
        router: 'onprem-nyc',
        pair: ['onprem-nyc', 'aws-use1'] as [string, string],
        class: 'bulk',
        dst_prefixes: ['10.10.0.0/16'],
        weights: { 'nyc-use1-dx': 1, 'nyc-use1-vpn': 1 },
      },
    ];
    const shift = maxStepShift(
      intents,
      [0.2, 0.5, 1],
      () => ({ eth1: 1 }),
      (_r, l) => topology.linkEnd(l, 'onprem-nyc')!.interface,
    );
    // Half the traffic moves in total: 10% at 20%, 15% more at 50%, the last 25% at 100%.
    expect(shift).toBeCloseTo(0.25, 2);
  });

  it('reuses the rule that matches the prefix, allocates a new one otherwise, and every op is a valid VyOS path', () => {
    const pre = {
      lbRules: {
        '10': { destination: { address: '10.10.0.0/16' }, 'inbound-interface': 'eth0', interface: { eth1: { weight: '1' } } },
      },
    };
    const t = renderRouter(
      [
        {
          kind: 'path-weights',
          router: 'onprem-nyc',
          pair: ['onprem-nyc', 'aws-use1'],
          class: 'bulk',
          dst_prefixes: ['10.10.0.0/16', '10.99.0.0/16'],
          weights: { 'nyc-use1-vpn': 3 },
        },
        { kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 2500 },
      ],
      1,
      pre,
      opts,
    );
    expect(t.map((x) => x.path.join(' '))).toEqual([
      'load-balancing wan rule 10',
      'load-balancing wan rule 20',
      'qos policy shaper PP-nyc-use1-dx',
      'qos interface eth1',
    ]);
    for (const v of ['1.4', '1.5'] as const) for (const x of t) validateOps(v, diffOps(x.path, null, x.desired));
    expect(() =>
      renderRouter([{ kind: 'bandwidth', router: 'onprem-nyc', link: 'fra-weu-er', rate_mbps: 1 }], 1, {}, opts),
    ).toThrow(/does not touch this router/);
  });
});

describe('auto-approval policy', () => {
  const base = proposalSchema.parse({
    id: 'p1',
    created_at: 0,
    kind: 'path-weights',
    reason: 'r',
    inputs: {},
    intents: [{ kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 10 }],
    predicted: { cost_per_day: 1, max_utilization: 0.5, slo_risk: 0.1 },
    risk: 'low',
    scope: [{ pair: ['onprem-nyc', 'aws-use1'], class: 'bulk' }],
  } satisfies ProposalInput);
  const cfg = {
    ...root.actuator,
    mode: 'auto' as const,
    auto_approve_max_risk: 'low' as const,
    rate_limit: { changes_per_hour: 1, burst: 1 },
  };
  const now = Date.UTC(2026, 10, 23, 12);
  it('applies risk, shift, freeze, rate limit and cool-down guardrails', () => {
    const bucket = new TokenBucket(1, 1, now);
    const ok = autoDecide(cfg, { proposal: base, now, maxStepShift: 0.1, cooling: new Map(), bucket });
    expect(ok.approve).toBe(true);
    expect(autoDecide(cfg, { proposal: base, now, maxStepShift: 0.1, cooling: new Map(), bucket }).reason).toMatch(/rate limit/);
    expect(bucket.available(now + 3_600_000)).toBe(true);
    expect(
      autoDecide(cfg, { proposal: { ...base, risk: 'medium' }, now, maxStepShift: 0, cooling: new Map(), bucket }).reason,
    ).toMatch(/risk medium is above/);
    // A level only stated high meets the configured ceiling; high found by the assessment never goes out unattended.
    const anything = { ...cfg, auto_approve_max_risk: 'high' as const };
    expect(
      autoDecide(anything, {
        proposal: { ...base, risk: 'high' },
        now,
        maxStepShift: 0,
        cooling: new Map(),
        bucket: new TokenBucket(1, 1, now),
      }),
    ).toMatchObject({ approve: true });
    const assessed = {
      ...base,
      emergency: true,
      assessment: {
        level: 'high' as const,
        stated: 'low' as const,
        reasons: ['cuts 1 live conversation(s)'],
        approvals_required: 2,
      },
    };
    expect(
      autoDecide(
        { ...cfg, emergency_auto: true },
        { proposal: assessed as never, now, maxStepShift: 0, cooling: new Map(), bucket: new TokenBucket(1, 1, now) },
      ).reason,
    ).toBe('high risk (cuts 1 live conversation(s)): needs 2 approvers, never applied unattended');
    // A path anomaly holds a change for a human; an emergency failover off a breaking path goes out.
    const held = {
      ...base,
      emergency: false,
      assessment: {
        level: 'medium' as const,
        stated: 'low' as const,
        reasons: ['held for approval: path p RTT shifted 20 → 80 ms in the last minutes'],
        approvals_required: 1,
        hold: true,
      },
    };
    expect(
      autoDecide(
        { ...cfg, emergency_auto: true },
        { proposal: held as never, now, maxStepShift: 0, cooling: new Map(), bucket: new TokenBucket(1, 1, now) },
      ),
    ).toEqual({ approve: false, reason: 'held for approval: path p RTT shifted 20 → 80 ms in the last minutes' });
    expect(
      autoDecide(
        { ...cfg, emergency_auto: true },
        {
          proposal: { ...held, emergency: true } as never,
          now,
          maxStepShift: 0,
          cooling: new Map(),
          bucket: new TokenBucket(1, 1, now),
        },
      ).approve,
    ).toBe(true);
    // The assessment's level, not the stated one, meets the ceiling.
    expect(
      autoDecide(cfg, {
        proposal: { ...base, assessment: { ...assessed.assessment, level: 'medium', approvals_required: 1 } } as never,
        now,
        maxStepShift: 0,
        cooling: new Map(),
        bucket: new TokenBucket(1, 1, now),
      }).reason,
    ).toMatch(/risk medium is above/);
    expect(autoDecide(cfg, { proposal: base, now, maxStepShift: 0.9, cooling: new Map(), bucket }).reason).toMatch(/per step/);
    const frozen = { ...cfg, freeze_windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start_hour: 11, end_hour: 13 }] };
    expect(inFreeze(frozen, now)).toBe(true);
    expect(
      autoDecide(frozen, { proposal: base, now, maxStepShift: 0, cooling: new Map(), bucket: new TokenBucket(1, 1, now) }).reason,
    ).toMatch(/freeze/);
    const cooling = new Map([['onprem-nyc>aws-use1', now + 1000]]);
    const fresh = () => new TokenBucket(1, 1, now);
    expect(autoDecide(cfg, { proposal: base, now, maxStepShift: 0, cooling, bucket: fresh() }).reason).toMatch(/cooling/);
    // An emergency failover is not held back by the cool-down.
    expect(autoDecide(cfg, { proposal: { ...base, emergency: true }, now, maxStepShift: 0, cooling, bucket }).approve).toBe(true);
    expect(
      autoDecide(
        { ...cfg, mode: 'approval' },
        { proposal: { ...base, emergency: true }, now, maxStepShift: 1, cooling: new Map(), bucket },
      ).approve,
    ).toBe(true);
    // Unless the pair's last emergency failover was rolled back: the same move waits for a human.
    const backedOff = autoDecide(cfg, {
      proposal: { ...base, emergency: true },
      now,
      maxStepShift: 0,
      cooling: new Map(),
      emergencyCooling: cooling,
      bucket,
    });
    expect(backedOff.approve).toBe(false);
    expect(backedOff.reason).toMatch(/emergency failover rolled back/);
    const later = { proposal: { ...base, emergency: true }, now: now + 2000, maxStepShift: 0, cooling: new Map(), bucket };
    expect(autoDecide(cfg, { ...later, emergencyCooling: cooling }).approve).toBe(true);
  });
});

describe('slack', () => {
  it('verifies HMAC-SHA256 signatures within a 5-minute window', () => {
    const body = 'payload=%7B%7D';
    const ts = 1_795_000_000;
    const sig = signSlackBody('s3cret', ts, body);
    expect(verifySlackSignature('s3cret', { timestamp: String(ts), signature: sig }, body, ts * 1000 + 299_000).ok).toBe(true);
    expect(verifySlackSignature('s3cret', { timestamp: String(ts), signature: sig }, body, ts * 1000 + 301_000).ok).toBe(false);
    expect(verifySlackSignature('other', { timestamp: String(ts), signature: sig }, body, ts * 1000).ok).toBe(false);
    expect(verifySlackSignature('s3cret', { timestamp: String(ts), signature: sig }, `${body}x`, ts * 1000).ok).toBe(false);
    expect(verifySlackSignature('s3cret', { timestamp: String(ts) }, body, ts * 1000).ok).toBe(false);
  });
  it('builds a Block Kit message with buttons and parses block_actions', () => {
    const p = proposalSchema.parse({
      id: 'p9',
      created_at: 0,
      kind: 'qos',
      reason: 'why',
      inputs: {},
      intents: [{ kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 10 }],
      predicted: { cost_per_day: 1, max_utilization: 0.5, slo_risk: 0.1 },
      risk: 'medium',
    } satisfies ProposalInput);
    const m = proposalBlocks(p);
    expect(JSON.stringify(m.blocks)).toContain('"action_id":"approve"');
    expect(JSON.stringify(proposalBlocks(p, { status: 'approved', actor: 'slack:bo' }).blocks)).not.toContain('"actions"');
    const raw = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { username: 'bo' }, actions: [{ action_id: 'approve', value: 'p9' }] }))}`;
    expect(parseInteraction(raw)).toEqual({ action: 'approve', proposalId: 'p9', user: 'bo' });
    expect(parseInteraction('payload=notjson')).toBeUndefined();
  });
  it('shows the pre-change assessment: the level that decides, the stated one, approvers and what it would cut', () => {
    const p = proposalSchema.parse({
      id: 'p11',
      created_at: 0,
      kind: 'security',
      reason: 'drop tcp/8080',
      inputs: {},
      intents: [{ kind: 'firewall-rules', router: 'onprem-nyc', first: 10000, last: 10999, rules: {} }],
      predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0 },
      risk: 'low',
      assessment: {
        level: 'high',
        stated: 'low',
        approvals_required: 2,
        reasons: ['cuts 1 live conversation(s) (72000000 bytes in 24 h), e.g. 10.51.0.10 → 10.10.0.20 tcp/8080'],
        blast: {
          window_h: 24,
          flows_rerouted: 0,
          bytes_rerouted: 0,
          flows_cut: 1,
          bytes_cut: 72e6,
          flows_opened: 0,
          bytes_opened: 0,
        },
        cut: [{ router: 'onprem-nyc', flow: '10.51.0.10 → 10.10.0.20 tcp/8080', bytes: 72e6, class: 'bulk' }],
        opened: [],
        compliance: [],
        computed: { flows: true, reachability: true },
        assessed_at: 0,
      },
    });
    const text = JSON.stringify(proposalBlocks(p).blocks);
    expect(text).toContain('*Risk:* high (stated low) (needs 2 approvers)');
    expect(text).toContain('*Would cut:* onprem-nyc 10.51.0.10 → 10.10.0.20 tcp/8080');
  });
  it('follows up with the realized effect beside the prediction', () => {
    const p = proposalSchema.parse({
      id: 'p10',
      created_at: 0,
      kind: 'path-weights',
      reason: 'why',
      inputs: {},
      intents: [{ kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 10 }],
      predicted: { cost_per_day: 120, cost_per_day_before: 140, max_utilization: 0.5, slo_risk: 0.1 },
      risk: 'low',
    } satisfies ProposalInput);
    expect(realizedBlocks(p)).toBeUndefined();
    const m = realizedBlocks({
      ...p,
      realized: {
        before: { from: 0, to: 3_600_000 },
        after: { from: 4_200_000, to: 7_800_000 },
        cost_per_day: 126,
        cost_per_day_before: 150,
        gb_per_day: 1000,
        gb_per_day_before: 1000,
        slo_pair_class_minutes: 0,
        slo_pair_class_minutes_before: 12,
        measured_at: 7_800_000,
      },
    })!;
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('predicted 140.00 → 120.00 · realized 150.00 → 126.00 (-16%)');
    expect(text).toContain('*SLO pair-class minutes:*\\n12 → 0');
    expect(text).toContain('1000.0 → 1000.0 (+0%)');
    expect(text).toContain('Measured over 1 h after');
    expect(text).not.toContain('"actions"');
    expect(m.text).toContain('SLO pair-class minutes 12 → 0');
  });
});

describe('SLO guard', () => {
  const slo = { rtt_p95_ms: 100, loss_pct: 1, jitter_ms: 10 };
  const q = (rtt: number, loss = 0) => ({
    rtt_p50_ms: rtt / 2,
    rtt_p95_ms: rtt,
    loss_ratio: loss,
    jitter_ms: 2,
    windows: 5,
    sent: 100,
  });
  const cmp = (cur: ReturnType<typeof q> | null, base = q(50)): WindowComparison => ({
    current: cur,
    baseline: base,
    change: cur
      ? {
          rtt_p50: 0,
          rtt_p95: (cur.rtt_p95_ms - base.rtt_p95_ms) / base.rtt_p95_ms,
          loss: cur.loss_ratio - base.loss_ratio,
          jitter: 0,
        }
      : null,
  });
  it('judges against the SLO and the baseline; missing data is inconclusive', () => {
    expect(judge(cmp(q(55)), slo, 0.25).result).toBe('pass');
    expect(judge(cmp(q(120)), slo, 0.25).reasons[0]).toMatch(/SLO 100/);
    expect(judge(cmp(q(70)), slo, 0.25).reasons[0]).toMatch(/baseline/);
    expect(judge(cmp(q(50, 0.02)), slo, 0.25).result).toBe('fail');
    expect(judge(cmp(null), slo, 0.25).result).toBe('inconclusive');
  });
  it('counts failures and inconclusive measurements against their limits on the clock', async () => {
    const clock = new SimulatedClock();
    let n = 0;
    const data: GuardData = { compare: async () => (n++ >= 1 ? cmp(null) : cmp(q(40))) };
    const proposal = proposalSchema.parse({
      id: 'g',
      created_at: 0,
      kind: 'path-weights',
      reason: 'r',
      inputs: {},
      intents: [{ kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 10 }],
      predicted: { cost_per_day: 1, max_utilization: 0.5, slo_risk: 0.1 },
      risk: 'low',
      scope: [{ pair: ['onprem-nyc', 'aws-use1'], class: 'bulk' }],
    } satisfies ProposalInput);
    const run = analyzeStep({
      proposal,
      topology,
      data,
      clock,
      bakeMs: 300_000,
      baseline: { from: 0, to: 1 },
      config: { interval_s: 60, failure_limit: 1, inconclusive_limit: 1, max_regression: 0.25, max_data_lag_s: 0 },
    });
    for (let i = 0; i < 5; i++) await clock.advance(60_000);
    const v = await run;
    expect(v.result).toBe('inconclusive');
    expect(v.measurements.map((m) => m.result)).toEqual(['pass', 'inconclusive', 'inconclusive']);
  });

  it('waits up to max_data_lag_s for an interval whose probe data is still arriving', async () => {
    const clock = new SimulatedClock(0);
    // Windows appear in the store 90 s after their interval ends (ingest lag).
    const data: GuardData = {
      compare: async (q2) => (clock.now() >= q2.current.to + 90_000 ? cmp(q(45)) : cmp(null)),
    };
    const proposal = proposalSchema.parse({
      id: 'lag',
      created_at: 0,
      kind: 'path-weights',
      reason: 'r',
      inputs: {},
      intents: [{ kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 10 }],
      predicted: { cost_per_day: 1, max_utilization: 0.5, slo_risk: 0.1 },
      risk: 'low',
      scope: [{ pair: ['onprem-nyc', 'aws-use1'], class: 'bulk' }],
    } satisfies ProposalInput);
    const analyze = (lagS: number) =>
      analyzeStep({
        proposal,
        topology,
        data,
        clock,
        bakeMs: 120_000,
        baseline: { from: 0, to: 1 },
        config: { interval_s: 60, failure_limit: 0, inconclusive_limit: 0, max_regression: 0.25, max_data_lag_s: lagS },
      });
    const startedAt = clock.now();
    let doneAt = Number.NaN;
    const patient = analyze(120);
    void patient.then(() => (doneAt = clock.now()));
    for (let i = 0; i < 20; i++) await clock.advance(15_000);
    const v = await patient;
    // Waiting for one interval's data does not push the next interval back: bake + one lag at most.
    expect(doneAt - startedAt).toBeLessThanOrEqual(120_000 + 120_000);
    expect(v.result).toBe('pass');
    expect(v.measurements.map((m) => m.result)).toEqual(['pass', 'pass']);
    // With no allowance for lag the same data is judged inconclusive.
    const hasty = analyze(0);
    for (let i = 0; i < 20; i++) await clock.advance(15_000);
    expect((await hasty).result).toBe('inconclusive');
  });
});

describe('compareForClass', () => {
  const window = (windows: number) => ({
    rtt_p50_ms: 10,
    rtt_p95_ms: 12,
    loss_ratio: 0,
    jitter_ms: 1,
    windows,
    sent: windows * 60,
  });
  it("falls back to the path's probes of any class only when the class has none of its own", async () => {
    const asked: (string | undefined)[] = [];
    const data: GuardData = {
      compare: async (q) => {
        asked.push(q.class);
        const any = q.class === undefined || q.class === 'realtime';
        return { current: any ? window(3) : null, baseline: any ? window(30) : null, change: null };
      },
    };
    const range = { from: 0, to: 60_000 };
    const bulk = await compareForClass(data, { pathIds: ['p'], class: 'bulk', current: range, baseline: range });
    expect(bulk.current?.windows).toBe(3);
    expect(asked).toEqual(['bulk', undefined]);
    asked.length = 0;
    await compareForClass(data, { pathIds: ['p'], class: 'realtime', current: range, baseline: range });
    expect(asked).toEqual(['realtime']);
  });
});
