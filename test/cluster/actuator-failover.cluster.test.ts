/**
 * Active/standby actuators (issue 20 item 4): two actuator processes on one Redis and the emulated routers;
 * one leads, the other stands by. A change set for three routers is approved on the standby (the leader
 * applies it); the leader is killed with SIGKILL mid-rollout, after its first router committed and while
 * the second router's commit is in flight, before the third is touched. Then:
 *  - the standby leads within 10 s (measured from the kill), with a newer epoch, and resumes the change set
 *    (its first router write) within 10 s too: it takes the dead leader's rollout lease over at once;
 *  - a router write fenced with the dead leader's epoch is refused before it reaches the router;
 *  - the standby finishes the change set, or rolls it back when its guard fails: every router ends fully
 *    new (confirmed) or exactly as before (rolled back), and no router got any step twice (the
 *    emulator's commit log: one commit per step, or per step and its restore).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fenceRouter } from '../../actuator/lease.ts';
import { RedisStateStore } from '../../actuator/state.ts';
import { epochFence, LeadershipLostError } from '../../core/leader.ts';
import type { CommitEvent } from '../../lab/vyos/types.ts';
import { requireService, uniqueName } from '../support/services.ts';
import { runActuatorChild, type ActuatorChild, type ChildLine } from '../functional/actuator/children.ts';
import type { LeaseChildSpec } from '../functional/actuator/lease-child.ts';
import { testRoot, startLab, running, weightProposal, SITES, type LabRig } from '../functional/actuator/support.ts';

/** The default leadership (5 s TTL, renewed every 1.5 s): takeover must fit in 10 s without tuning. */
const TAKEOVER_BOUND_MS = 10_000;
/** The weights of `weightProposal()` per router, shifted by the test. */
const WEIGHTS: Record<string, number[]> = { 'onprem-nyc': [30, 70], 'aws-use1': [50, 50], 'onprem-fra': [80, 20] };

const stepEvents = (c: ActuatorChild) =>
  c.lines.filter((l) => l.event === 'step-applied' && !JSON.parse(l.detail ?? '{}').already_applied);

describe('actuator failover: kill -9 the leader mid-rollout', () => {
  let rig: LabRig;
  let redis: Redis;
  const redisUrl = () => requireService('redis');
  const prefixes: string[] = [];
  const children: ActuatorChild[] = [];

  beforeAll(async () => {
    rig = await startLab(testRoot());
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) await c.kill9();
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length) await redis.del(...keys);
    }
    await redis?.quit();
    await rig?.stop();
  });

  it.each([
    { outcome: 'confirmed', guard: 'good', shift: 13 },
    { outcome: 'rolled-back', guard: 'bad', shift: 17 },
  ] as const)(
    'the standby leads within 10 s and the change set ends $outcome, each step committed once',
    async ({ outcome, guard, shift }) => {
      const prefix = uniqueName('ppfailover');
      const queuePrefix = uniqueName('ppfailoverq');
      prefixes.push(prefix, queuePrefix);
      const spec = (g: 'good' | 'bad'): LeaseChildSpec => ({
        urls: rig.lab.urls,
        redisUrl: redisUrl(),
        prefix,
        queuePrefix,
        guard: g,
        bakeS: 1,
        leaseTtlMs: 10_000,
      });
      const before = running(rig.lab);
      const commits: Record<string, CommitEvent[]> = Object.fromEntries(SITES.map((s) => [s, []]));
      const unsubscribe = SITES.map((s) => rig.lab.router(s).onCommit((e) => commits[s]!.push(e)));
      try {
        // The first process leads; the second, started after it, stands by.
        const a = runActuatorChild(spec('good'));
        children.push(a);
        const aLead = await a.waitFor((l) => l.leader === true, 30_000);
        await a.waitFor((l) => l.ready === true, 30_000);
        const b = runActuatorChild(spec(guard));
        children.push(b);
        await b.waitFor((l) => l.ready === true, 30_000);
        expect(b.lines.some((l) => l.leader === true)).toBe(false);

        // The second router of the order commits slowly: the kill lands while its commit is in flight.
        rig.lab.router('onprem-fra').faults.set({ slowCommitMs: 1500 });
        const p = weightProposal();
        for (const i of p.intents)
          if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + shift;
        // Decided on the standby (it records and queues the approval); the leader applies it.
        b.send({ submit: p });
        await a.waitFor((l) => l.event === 'step-applied' && l.router === 'aws-use1', 30_000);
        const killedAt = Date.now();
        await a.kill9();
        rig.lab.router('onprem-fra').faults.reset();
        const atKill = running(rig.lab);
        const changed = SITES.filter((s) => JSON.stringify(atKill[s]) !== JSON.stringify(before[s]));
        // Half-changed: aws-use1 moved, onprem-nyc untouched (onprem-fra's commit may land any moment).
        expect(changed).toContain('aws-use1');
        expect(changed).not.toContain('onprem-nyc');
        expect(stepEvents(b)).toEqual([]);

        const bLead = await b.waitFor((l) => l.leader === true, 2 * TAKEOVER_BOUND_MS);
        const takeoverMs = Date.now() - killedAt;
        console.log(`actuator failover (${outcome}): standby leads ${takeoverMs} ms after the kill`);
        expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
        expect(bLead.epoch).toBeGreaterThan(aLead.epoch!);

        // A step fenced with the dead leader's epoch is refused before it reaches the router.
        const store = new RedisStateStore(redisUrl(), prefix);
        await store.start();
        try {
          const fra = rig.lab.router('onprem-fra');
          const calls = fra.requestCounts()['/configure'] ?? 0;
          const stale = fenceRouter(rig.routerFor('onprem-fra'), epochFence(store, 'actuator', aLead.epoch!, 5000));
          await expect(
            stale.configure([{ op: 'set', path: ['system', 'host-name'], value: 'stale-leader' }]),
          ).rejects.toBeInstanceOf(LeadershipLostError);
          expect(fra.requestCounts()['/configure'] ?? 0).toBe(calls);
        } finally {
          await store.stop();
        }

        // Taking over means acting: the standby's first router write of the change set, resumed where it was left.
        await b.waitFor((l) => l.event === 'step-applied', 2 * TAKEOVER_BOUND_MS);
        const resumedMs = Date.now() - killedAt;
        console.log(`actuator failover (${outcome}): change set resumed ${resumedMs} ms after the kill`);
        expect(resumedMs).toBeLessThan(TAKEOVER_BOUND_MS);

        const fin = await b.waitFor((l) => l.final !== undefined, 60_000);
        await b.exited;
        expect(fin.final?.find((f) => f.id === p.id)?.status).toBe(outcome);
        // The standby applied nothing before it led.
        const led = b.lines.findIndex((l) => l.leader === true);
        expect(b.lines.findIndex((l: ChildLine) => l.event === 'step-applied')).toBeGreaterThan(led);

        // No step sent twice, across both processes.
        const sent = [...stepEvents(a), ...stepEvents(b)].map((e) => `${e.router}@${e.step}`);
        expect(sent.length).toBe(new Set(sent).size);
        for (const s of SITES) {
          const log = commits[s]!;
          expect(
            log.every((c) => c.reason === 'configure'),
            s,
          ).toBe(true);
          // Consecutive commits always change something: nothing was committed twice.
          for (let i = 1; i < log.length; i++) expect(log[i]!.commands, `${s} commit ${i}`).not.toEqual(log[i - 1]!.commands);
          expect(rig.lab.router(s).pendingConfirm(), s).toBeUndefined();
        }
        const after = running(rig.lab);
        if (outcome === 'confirmed') {
          // Three steps, one commit each, on every router; every router at the target weights.
          for (const s of SITES) {
            expect(commits[s]!.length, s).toBe(3);
            expect(after[s], s).toEqual(commits[s]!.at(-1)!.commands);
            const rules = JSON.stringify(rig.lab.router(s).showConfig(['load-balancing', 'wan', 'rule']));
            for (const w of WEIGHTS[s]!) expect(rules, s).toContain(`"weight":"${w + shift}"`);
          }
        } else {
          // Every router exactly as before; each one that took the step got it once and one restore.
          expect(after).toEqual(before);
          for (const s of SITES) expect(commits[s]!.length, s).toBeLessThanOrEqual(2);
          expect(commits['aws-use1']!.length).toBe(2);
        }
      } finally {
        for (const u of unsubscribe) u();
        rig.lab.router('onprem-fra').faults.reset();
      }
    },
    120_000,
  );
});
