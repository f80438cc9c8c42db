/**
 * The apply engine against the VyOS emulator over real HTTP: minimal diffs validated against
 * vyos-paths.json, snapshots restored exactly, transient faults retried without applying twice,
 * every intent kind accepted by 1.4 and 1.5 routers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, RouterStepError } from '../../../actuator/engine.ts';
import type { Intent } from '../../../core/proposal.ts';
import { ValidationError } from '../../../core/errors.ts';
import { validateOps } from '../../../actuator/vyos/paths.ts';
import { testRoot, startLab, running, weightProposal, SITES, type LabRig } from './support.ts';

describe('actuator engine on the VyOS emulator', () => {
  let rig: LabRig;
  let engine: Engine;
  const root = testRoot();

  beforeAll(async () => {
    rig = await startLab(root);
    engine = new Engine({
      topology: rig.topology,
      routerFor: rig.routerFor,
      lanInterface: 'eth0',
      confirmMinutes: 3,
      retry: { attempts: 5, baseMs: 10, maxMs: 100 },
    });
  });
  afterAll(async () => rig?.stop());
  afterEach(() => {
    for (const s of SITES) rig.lab.router(s).faults.reset();
  });

  const intents = () => weightProposal().intents as Intent[];
  const persistNothing = async () => {};

  it('applies each step as one minimal /configure per router, then restores the snapshots exactly', async () => {
    const before = running(rig.lab);
    const revs = Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).revision()]));
    const st = await engine.prepare(intents(), [0.2, 0.5, 1], Date.now());
    expect(st.order).toEqual(['aws-use1', 'onprem-fra', 'onprem-nyc']);
    // NYC's seeded rule for 10.10.0.0/16 (eth1 weight 1) is found, not a new one allocated.
    const seeded = Object.entries(rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule'])).find(([, r]) =>
      JSON.stringify(r).includes('10.10.0.0/16'),
    )![0];
    expect(st.routers['onprem-nyc']!.snapshots.map((s) => s.path.join(' '))).toEqual([`load-balancing wan rule ${seeded}`]);

    for (const router of st.order) await engine.applyRouter(intents(), st, router, persistNothing);
    const nycRule = rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule', seeded]);
    // Step 1 moves 20% of the shift: eth1 100% → 86%, vti1 0% → 14% (target 30/70).
    expect(nycRule['interface']).toEqual({ eth1: { weight: '86' }, vti1: { weight: '14' } });
    expect(rig.lab.router('onprem-nyc').revision()).toBe(revs['onprem-nyc']! + 1);
    // 1.5 routers are armed with commit-confirm; 1.4 is not.
    expect(rig.lab.router('onprem-nyc').pendingConfirm()?.minutes).toBe(3);
    expect(rig.lab.router('aws-use1').pendingConfirm()).toBeUndefined();
    for (const router of st.order) await engine.confirmRouter(st, router, persistNothing);
    expect(rig.lab.router('onprem-nyc').pendingConfirm()).toBeUndefined();

    st.step = 2;
    const res = await engine.applyRouter(intents(), st, 'onprem-nyc', persistNothing);
    // Minimal diff: only the weights change, the rule's other leaves are not re-sent.
    expect(res.ops.every((op) => op.path.includes('interface'))).toBe(true);
    expect(rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule', seeded])['interface']).toEqual({
      eth1: { weight: '30' },
      vti1: { weight: '70' },
    });
    // Applying the same step again sends nothing.
    const again = await engine.applyRouter(intents(), st, 'onprem-nyc', persistNothing);
    expect(again.sent).toBe(false);

    for (const router of st.order) await engine.restoreRouter(st, router, persistNothing);
    expect(running(rig.lab)).toEqual(before);
    expect(rig.lab.router('onprem-nyc').pendingConfirm()).toBeUndefined();
  });

  it('retries lock errors, 5xx and timeouts, and never applies a change twice', async () => {
    const before = running(rig.lab);
    const st = await engine.prepare(intents(), [1], Date.now());
    const nyc = rig.lab.router('onprem-nyc');
    const rev = nyc.revision();
    nyc.faults.set({ lockedCommits: 2 });
    await engine.applyRouter(intents(), st, 'onprem-nyc', persistNothing);
    expect(nyc.revision()).toBe(rev + 1);
    const fra = rig.lab.router('onprem-fra');
    const frev = fra.revision();
    fra.faults.set({ fail5xx: 2 });
    await engine.applyRouter(intents(), st, 'onprem-fra', persistNothing);
    expect(fra.revision()).toBe(frev + 1);
    const aws = rig.lab.router('aws-use1');
    const arev = aws.revision();
    aws.faults.set({ hangRequests: 1 });
    await engine.applyRouter(intents(), st, 'aws-use1', persistNothing);
    expect(aws.revision()).toBe(arev + 1);
    for (const r of st.order) await engine.restoreRouter(st, r, persistNothing);
    expect(running(rig.lab)).toEqual(before);
  });

  it('a commit that landed before its answer was lost is detected with /retrieve and not sent again', async () => {
    const before = running(rig.lab);
    const st = await engine.prepare(intents(), [1], Date.now());
    const aws = rig.lab.router('aws-use1');
    // Simulate "committed, answer lost": the change is on the router before the engine sends it.
    const desired = engine.render(
      intents().filter((i) => i.router === 'aws-use1'),
      1,
      st.routers['aws-use1']!.pre,
      'aws-use1',
    );
    const w = (desired[0]!.desired!['interface'] as Record<string, { weight: string }>) ?? {};
    aws.applyCommands([
      `delete load-balancing wan rule ${desired[0]!.path[3]} interface`,
      ...Object.entries(w).map(
        ([i, v]) => `set load-balancing wan rule ${desired[0]!.path[3]} interface ${i} weight '${v.weight}'`,
      ),
    ]);
    const rev = aws.revision();
    const res = await engine.applyRouter(intents(), st, 'aws-use1', persistNothing);
    expect(res.sent).toBe(false);
    expect(aws.revision()).toBe(rev);
    await engine.restoreRouter(st, 'aws-use1', persistNothing);
    expect(running(rig.lab)).toEqual(before);
  });

  it('a partial commit fails the router step with the router named', async () => {
    const before = running(rig.lab);
    const st = await engine.prepare(intents(), [1], Date.now());
    rig.lab.router('onprem-fra').faults.set({ partialCommit: { failPrefix: ['load-balancing'] } });
    const err = await engine.applyRouter(intents(), st, 'onprem-fra', persistNothing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterStepError);
    expect((err as RouterStepError).router).toBe('onprem-fra');
    await engine.restoreRouter(st, 'onprem-fra', persistNothing);
    expect(running(rig.lab)).toEqual(before);
  });

  it('renders class pinning, bandwidth and QoS that 1.4 and 1.5 routers accept, and restores them', async () => {
    const before = running(rig.lab);
    const extra: Intent[] = [];
    for (const router of ['onprem-nyc', 'aws-use1']) {
      const link = 'nyc-use1-vpn';
      const to = router === 'onprem-nyc' ? 'aws-use1' : 'onprem-nyc';
      const prefix = router === 'onprem-nyc' ? '10.10.0.0/16' : '10.51.0.0/16';
      extra.push(
        { kind: 'class-pin', router, pair: [router, to], class: 'realtime', dscp: [46, 34], dst_prefixes: [prefix], link },
        { kind: 'bandwidth', router, link, rate_mbps: 800 },
        {
          kind: 'qos',
          router,
          link,
          classes: [
            { class: 'realtime', dscp: [46], bandwidth_pct: 30, priority: 1 },
            { class: 'bulk', dscp: [0, 8], bandwidth_pct: 40, priority: 5 },
          ],
        },
      );
    }
    const st = await engine.prepare(extra, [1], Date.now());
    for (const r of st.order) await engine.applyRouter(extra, st, r, persistNothing);
    const nyc = rig.lab.router('onprem-nyc');
    expect(nyc.showConfig(['policy', 'route', 'PATHPILOT', 'rule'])).toMatchObject({
      '100': { destination: { address: '10.10.0.0/16' }, dscp: ['34', '46'], set: { table: expect.any(String) } },
    });
    expect(nyc.showConfig(['qos', 'interface', 'vti1'])).toEqual({ egress: 'PP-nyc-use1-vpn' });
    expect(nyc.showConfig(['qos', 'policy', 'shaper', 'PP-nyc-use1-vpn'])['bandwidth']).toBe('800mbit');
    expect(rig.lab.router('aws-use1').exists(['qos', 'policy', 'shaper', 'PP-nyc-use1-vpn', 'class', '20'])).toBe(true);
    for (const r of st.order) await engine.restoreRouter(st, r, persistNothing);
    expect(running(rig.lab)).toEqual(before);
  });

  it('refuses ops that are not valid VyOS paths before sending anything', () => {
    expect(() =>
      validateOps('1.4', [
        { op: 'set', path: ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'], value: '300' },
      ]),
    ).toThrow(ValidationError);
    expect(() => validateOps('1.5', [{ op: 'set', path: ['load-balancing', 'wan', 'rules', '10'] }])).toThrow(/no node "rules"/);
    expect(() =>
      validateOps('1.5', [{ op: 'set', path: ['qos', 'policy', 'shaper', 'PP x', 'bandwidth'], value: '1mbit' }]),
    ).toThrow(ValidationError);
    validateOps('1.4', [
      { op: 'set', path: ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'], value: '255' },
    ]);
  });
});
