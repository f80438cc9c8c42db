/**
 * The rollout lease (issue 12 item 5) with real processes: actuators on Redis state and BullMQ,
 * killed with SIGKILL and restarted, against the VyOS emulator over HTTP.
 *  - Two actuators restarted together after a kill -9: exactly one resumes the rollout (one commit
 *    per router and step, no rollback of a change that passes its guard).
 *  - An actuator down past the commit-confirm window on a 1.4 + 1.5 change set: the 1.5 router went
 *    back on its own, the 1.4 one kept the change; the restarted actuator rolls the 1.4 router back
 *    before anything else (no bake, no guard on a half-changed network).
 *  - A router someone else changed meanwhile (drift): the restarted actuator stops for a human.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../core/clock.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { runActuatorChild, type ChildLine } from './children.ts';
import type { LeaseChildSpec } from './lease-child.ts';
import { testRoot, startLab, running, weightProposal, SITES, type LabRig } from './support.ts';

function shifted(p: ProposalInput, by: number): ProposalInput {
  for (const i of p.intents)
    if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + by;
  return p;
}

function revisions(rig: LabRig): Record<string, number> {
  return Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).revision()]));
}

/** Configuration requests: commits (`/configure`) and confirms and saves (`/config-file`). */
function configureCalls(rig: LabRig): Record<string, number> {
  return Object.fromEntries(
    SITES.map((s) => {
      const counts = rig.lab.router(s).requestCounts();
      return [s, (counts['/configure'] ?? 0) + (counts['/config-file'] ?? 0)];
    }),
  );
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((s) => [s, after[s]! - before[s]!]));
}

const isFinal = (l: ChildLine) => l.final !== undefined;

describe('rollout lease: restarts and the commit-confirm window', () => {
  let redis: Redis;
  const redisUrl = () => requireService('redis');
  const prefixes: string[] = [];

  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length) await redis.del(...keys);
    }
    await redis?.quit();
  });

  function spec(rig: LabRig, extra: Partial<LeaseChildSpec> & { prefix: string; queuePrefix: string }): LeaseChildSpec {
    return { urls: rig.lab.urls, redisUrl: redisUrl(), guard: 'good', bakeS: 1, leaseTtlMs: 1500, confirmMinutes: 1, ...extra };
  }

  it('two actuators restarted together after a kill -9: one drives the rollout, one commit per router and step', async () => {
    const rig = await startLab(testRoot());
    try {
      const prefix = uniqueName('pplease');
      const queuePrefix = uniqueName('ppleaseq');
      prefixes.push(prefix, queuePrefix);
      const p = shifted(weightProposal(), 33);
      const start = revisions(rig);
      const first = runActuatorChild(spec(rig, { prefix, queuePrefix, proposal: p, bakeS: 30 }));
      await first.waitFor((l) => l.event === 'baking' && l.step === 0);
      await first.kill9();
      // Step 1 of 3 committed on every router; the first actuator's lease is still live for ≤ 1.5 s.
      expect(delta(revisions(rig), start)).toEqual({ 'onprem-nyc': 1, 'aws-use1': 1, 'onprem-fra': 1 });
      const atKill = revisions(rig);
      const callsAtKill = configureCalls(rig);
      const a = runActuatorChild(spec(rig, { prefix, queuePrefix }));
      const b = runActuatorChild(spec(rig, { prefix, queuePrefix }));
      const [finA, finB] = await Promise.all([a.waitFor(isFinal, 90_000), b.waitFor(isFinal, 90_000)]);
      await Promise.all([a.exited, b.exited]);
      for (const fin of [finA, finB]) expect(fin.final?.find((f) => f.id === p.id)?.status).toBe('confirmed');
      // The two remaining steps, once each: without the lease both resumed (16 calls, one rolled back).
      expect(delta(revisions(rig), atKill)).toEqual({ 'onprem-nyc': 2, 'aws-use1': 2, 'onprem-fra': 2 });
      // Configuration requests: the two steps, plus one confirm per step on the 1.5 routers for the
      // resumed bake and the two new steps, plus the driver's one capability probe per router
      // (`{"op":"confirm"}` with nothing pending) and the final save. Two drivers send more and roll back.
      expect(delta(configureCalls(rig), callsAtKill)).toEqual({ 'onprem-nyc': 7, 'aws-use1': 4, 'onprem-fra': 7 });
      const drove = [a, b].filter((c) => c.lines.some((l) => l.event === 'step-applied'));
      expect(drove).toHaveLength(1);
      for (const c of [a, b]) expect(c.lines.filter((l) => l.event === 'rolled-back' || l.event === 'failed')).toEqual([]);
      expect(JSON.stringify(rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule']))).toContain(
        '"vti1":{"weight":"103"}',
      );
      for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
    } finally {
      await rig.stop();
    }
  }, 120_000);

  it('down past the commit-confirm window (1.5 reverted itself, 1.4 kept the change): rolled back at once on restart', async () => {
    // The routers' time is the lab's: the test moves it past the 1-minute confirm window.
    const clock = new SimulatedClock(Date.now());
    const rig = await startLab(testRoot(), clock);
    try {
      const prefix = uniqueName('pplease');
      const queuePrefix = uniqueName('ppleaseq');
      prefixes.push(prefix, queuePrefix);
      const p = shifted(weightProposal(), 44);
      p.intents = p.intents.filter((i) => i.router === 'onprem-nyc' || i.router === 'aws-use1');
      const before = running(rig.lab);
      const first = runActuatorChild(spec(rig, { prefix, queuePrefix, proposal: p, bakeS: 30 }));
      await first.waitFor((l) => l.event === 'baking' && l.step === 0);
      await first.kill9();
      const pending = rig.lab.router('onprem-nyc').pendingConfirm();
      expect(pending).toBeDefined();
      // The timer covers the bake plus margin (the configured minute is raised to that): move past it.
      await clock.advance(pending!.deadline - clock.now() + 1000);
      // Half-changed while no actuator runs: the 1.5 router went back, the 1.4 router did not.
      expect(rig.lab.router('onprem-nyc').runningCommands()).toEqual(before['onprem-nyc']);
      expect(rig.lab.router('aws-use1').runningCommands()).not.toEqual(before['aws-use1']);
      const atRestart = revisions(rig);
      const second = runActuatorChild(spec(rig, { prefix, queuePrefix }));
      const fin = await second.waitFor(isFinal, 90_000);
      await second.exited;
      expect(fin.final?.find((f) => f.id === p.id)?.status).toBe('rolled-back');
      expect(running(rig.lab)).toEqual(before);
      // Only the 1.4 router is written (its restore); nothing is baked or judged on a half-changed network.
      expect(delta(revisions(rig), atRestart)).toEqual({ 'onprem-nyc': 0, 'aws-use1': 1, 'onprem-fra': 0 });
      expect(second.lines.filter((l) => ['baking', 'guard-pass', 'guard-fail', 'step-applied'].includes(l.event ?? ''))).toEqual(
        [],
      );
      const why = second.lines.find((l) => l.event === 'failed');
      expect(why?.detail).toContain('"reverted":["onprem-nyc"]');
      for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
    } finally {
      await rig.stop();
    }
  }, 120_000);
  it('a router changed by someone else while the actuator was down: drift stops the rollout, nothing overwritten', async () => {
    const rig = await startLab(testRoot());
    try {
      const prefix = uniqueName('pplease');
      const queuePrefix = uniqueName('ppleaseq');
      prefixes.push(prefix, queuePrefix);
      const p = shifted(weightProposal(), 66);
      const before = running(rig.lab);
      const first = runActuatorChild(spec(rig, { prefix, queuePrefix, proposal: p, bakeS: 30 }));
      await first.waitFor((l) => l.event === 'baking' && l.step === 0);
      await first.kill9();
      // An operator edits a weight the rollout wrote on aws-use1.
      const aws = rig.lab.router('aws-use1');
      const ours = aws.runningCommands().find((l) => !before['aws-use1']!.includes(l) && / weight '\d+'$/.test(l));
      expect(ours).toBeDefined();
      const theirs = ours!.replace(/'\d+'$/, "'7'");
      aws.applyCommands([theirs]);
      const atRestart = revisions(rig);
      const second = runActuatorChild(spec(rig, { prefix, queuePrefix }));
      const fin = await second.waitFor(isFinal, 90_000);
      await second.exited;
      const mine = fin.final?.find((f) => f.id === p.id);
      expect(mine?.status).toBe('drifted');
      expect(mine?.error).toMatch(/drift on resume: aws-use1/);
      expect(aws.runningCommands()).toContain(theirs);
      expect(delta(revisions(rig), atRestart)).toEqual({ 'onprem-nyc': 0, 'aws-use1': 0, 'onprem-fra': 0 });
      expect(second.lines.filter((l) => ['baking', 'step-applied', 'rolled-back'].includes(l.event ?? ''))).toEqual([]);
    } finally {
      await rig.stop();
    }
  }, 120_000);
});
