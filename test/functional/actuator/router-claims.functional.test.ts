/**
 * One rollout per router at a time, on the VyOS emulator over real HTTP. A 1.5 router has one
 * commit-confirm timer: two rollouts interleaved on it collide ("Another confirm is pending") and
 * the loser's rollback stops the winner's timer. Rollouts that share a router run one after the
 * other; an emergency failover preempts a routine change baking on its router.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/clock.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { createActuator, type Actuator } from '../../../actuator/index.ts';
import { semanticBreaches } from '../../../lab/vyos/breaches.ts';
import { testRoot, startLab, weightProposal, SITES, type LabRig, SwitchableGuardData } from './support.ts';
import { until } from '../../support/until.ts';

describe('rollouts that share a router', () => {
  let rig: LabRig;
  let actuator: Actuator;
  let queue: MemoryQueue;
  const guard = new SwitchableGuardData();
  // Two-second bakes: long enough to see one rollout wait for another, short enough for a test.
  const root = testRoot({ bake_time_s: 2, rollout_steps: [0.5, 1] });

  beforeAll(async () => {
    rig = await startLab(root);
    queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      { root, queue, clock: new RealClock(), routerFor: rig.routerFor, guardData: guard, env: {} },
      { gitops_dir: '', retry: { attempts: 3, base_ms: 10, max_ms: 50 } },
    );
    await actuator.start();
  });
  afterAll(async () => {
    await actuator?.stop();
    await queue?.stop();
    await rig?.stop();
  });

  const status = async (id: string) => (await actuator.get(id))?.proposal.status;

  it('a second change on the same routers waits for the first and both are confirmed', async () => {
    expect(rig.lab.router('onprem-nyc').version).toBe('1.5');
    const first = weightProposal();
    const second = weightProposal();
    for (const i of second.intents)
      if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 7;
    // From people: a newer optimizer plan would supersede the first while it waits.
    await actuator.submit(first, 'api:alice');
    await actuator.submit(second, 'api:alice');
    await actuator.approve(first.id, 'api:alice');
    expect(await until(async () => (await status(first.id)) === 'baking', 10_000, 20)).toBe(true);
    await actuator.approve(second.id, 'api:alice');
    // While the first holds the routers the second stays approved and touches nothing.
    await new Promise((r) => setTimeout(r, 500));
    expect(await status(second.id)).toBe('approved');
    expect(await status(first.id)).toBe('baking');
    expect(await until(async () => (await status(second.id)) === 'confirmed', 30_000, 20)).toBe(true);
    expect(await status(first.id)).toBe('confirmed');
    const secondEvents = actuator.changes(second.id);
    const firstConfirmed = actuator.changes(first.id).find((e) => e.event === 'confirmed')!.time;
    expect(secondEvents.find((e) => e.event === 'applying')!.time).toBeGreaterThanOrEqual(firstConfirmed);
    expect(secondEvents.map((e) => e.event)).not.toContain('failed');
    for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
  }, 60_000);

  it('an emergency failover preempts a routine change baking on its router', async () => {
    // Judged on another pair than the failover's, so its own guard stays healthy.
    const routine = weightProposal(undefined, { scope: [{ pair: ['onprem-fra', 'aws-euc1'], class: 'bulk', paths: [] }] });
    for (const i of routine.intents)
      if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 11;
    await actuator.submit(routine);
    await actuator.approve(routine.id, 'api:alice');
    expect(await until(async () => (await status(routine.id)) === 'baking', 10_000, 20)).toBe(true);
    guard.badPaths.add('onprem-nyc.aws-use1.1');
    const made = await actuator.service.heal(guard, 60_000);
    const failover = made.find((r) => r.proposal.scope[0]?.pair.join('>') === 'onprem-nyc>aws-use1');
    expect(failover?.proposal.emergency).toBe(true);
    const fid = failover!.proposal.id;
    expect(await until(async () => (await status(fid)) === 'confirmed', 30_000, 20)).toBe(true);
    const rec = await actuator.get(routine.id);
    expect(rec?.proposal.status).toBe('rolled-back');
    expect(rec?.error).toMatch(new RegExp(`preempted by emergency ${fid}`));
    // The routine change never failed a guard: it gave its routers back.
    expect(actuator.changes(routine.id).map((e) => e.event)).not.toContain('guard-fail');
    const rules = rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule']);
    const rule = Object.values(rules).find((r) => JSON.stringify(r).includes('10.10.0.0/16')) as Record<string, unknown>;
    expect(rule['interface']).toEqual({ vti1: { weight: '1' } });
    for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
  }, 60_000);

  it('a pinned pair fails over by re-pinning its classes, and the router keeps no shadowed rule or mark conflict', async () => {
    guard.badPaths.clear();
    const prefixes = root.sites.find((s) => s.id === 'aws-use1')!.prefixes;
    const pinAll = weightProposal(undefined, {
      kind: 'path-weights',
      intents: root.classes.map((c) => ({
        kind: 'class-pin' as const,
        router: 'onprem-nyc',
        pair: ['onprem-nyc', 'aws-use1'] as [string, string],
        class: c.id,
        dscp: c.dscp,
        dst_prefixes: prefixes,
        link: 'nyc-use1-dx',
      })),
      scope: [{ pair: ['onprem-fra', 'aws-euc1'], class: 'bulk', paths: [] }],
    });
    await actuator.submit(pinAll);
    await actuator.approve(pinAll.id, 'api:alice');
    expect(await until(async () => (await status(pinAll.id)) === 'confirmed', 20_000, 20)).toBe(true);
    guard.badPaths.add('onprem-nyc.aws-use1.1');
    const made = await actuator.service.heal(guard, 60_000);
    const failover = made.find((r) => r.proposal.scope[0]?.pair.join('>') === 'onprem-nyc>aws-use1')!;
    // A pinned prefix cannot also be balanced (vyos-facts §5.4): the failover pins every class anew.
    expect(failover.proposal.intents.map((i) => i.kind)).toEqual(root.classes.map(() => 'class-pin'));
    expect(await until(async () => (await status(failover.proposal.id)) === 'confirmed', 20_000, 20)).toBe(true);
    expect(await actuator.service.carryingPaths('onprem-nyc', 'aws-use1')).toEqual(new Set(['onprem-nyc.aws-use1.2']));
    const router = rig.lab.router('onprem-nyc');
    const breaches = semanticBreaches(router.showConfig([]), {
      version: router.version,
      speedBps: () => 1e9,
      sitePrefixes: root.sites.flatMap((s) => s.prefixes),
    });
    expect(breaches).toEqual([]);
    guard.badPaths.clear();
  }, 60_000);
});
