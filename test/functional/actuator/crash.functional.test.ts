/**
 * Crash safety: the actuator runs in a child process (Redis state, BullMQ), is killed with SIGKILL
 * mid-rollout, and restarted: it finishes the rollout, or rolls back when the guard fails — no
 * router is left half-changed.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService, uniqueName } from '../../support/services.ts';
import { runActuatorChild } from './children.ts';
import type { LeaseChildSpec } from './lease-child.ts';
import { testRoot, startLab, running, weightProposal, SITES, type LabRig } from './support.ts';

/** The killed process's rollout lease frees up this soon for the restarted one. */
const leaseTtlMs = 2000;
const runChild = (spec: Omit<LeaseChildSpec, 'leaseTtlMs'>) => runActuatorChild({ leaseTtlMs, ...spec });

describe('actuator crash safety (kill -9 mid-rollout)', () => {
  let rig: LabRig;
  let redis: Redis;
  const redisUrl = () => requireService('redis');

  beforeAll(async () => {
    rig = await startLab(testRoot());
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await rig?.stop();
    await redis?.quit();
  });

  async function cleanup(prefix: string, queuePrefix: string) {
    const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`${queuePrefix}:*`))];
    if (keys.length) await redis.del(...keys);
  }

  it('killed between two routers of a step, restarted: finishes the rollout, every router at the target', async () => {
    const prefix = uniqueName('ppcrash');
    const queuePrefix = uniqueName('ppcrashq');
    const before = running(rig.lab);
    const p = weightProposal();
    for (const i of p.intents)
      if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 11;
    // The second router answers slowly, so the kill lands while its request is in flight.
    rig.lab.router('onprem-fra').faults.set({ latencyMs: 1500 });
    const first = runChild({
      urls: rig.lab.urls,
      redisUrl: redisUrl(),
      prefix,
      queuePrefix,
      proposal: p,
      guard: 'good',
      bakeS: 1,
    });
    await first.waitFor((l) => l.event === 'step-applied' && l.router === 'aws-use1');
    first.child.kill('SIGKILL');
    await first.exited;
    rig.lab.router('onprem-fra').faults.reset();
    // Half-changed right now: aws-use1 moved, onprem-nyc did not.
    expect(rig.lab.router('aws-use1').runningCommands()).not.toEqual(before['aws-use1']);
    expect(rig.lab.router('onprem-nyc').runningCommands()).toEqual(before['onprem-nyc']);
    const second = runChild({ urls: rig.lab.urls, redisUrl: redisUrl(), prefix, queuePrefix, guard: 'good', bakeS: 1 });
    const fin = await second.waitFor((l) => l.final !== undefined, 90_000);
    await second.exited;
    expect(fin.final?.find((f) => f.id === p.id)?.status).toBe('confirmed');
    const nycRules = JSON.stringify(rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule']));
    expect(nycRules).toContain('"vti1":{"weight":"81"}');
    expect(JSON.stringify(rig.lab.router('aws-use1').showConfig(['load-balancing', 'wan', 'rule']))).toContain(
      '"vti1":{"weight":"61"}',
    );
    for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
    await cleanup(prefix, queuePrefix);
  });

  it('killed during a bake, restarted with a failing guard: every router restored exactly', async () => {
    const prefix = uniqueName('ppcrash');
    const queuePrefix = uniqueName('ppcrashq');
    const before = running(rig.lab);
    const p = weightProposal();
    for (const i of p.intents)
      if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 22;
    const first = runChild({
      urls: rig.lab.urls,
      redisUrl: redisUrl(),
      prefix,
      queuePrefix,
      proposal: p,
      guard: 'good',
      bakeS: 30,
    });
    await first.waitFor((l) => l.event === 'baking');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(running(rig.lab)).not.toEqual(before);
    const second = runChild({ urls: rig.lab.urls, redisUrl: redisUrl(), prefix, queuePrefix, guard: 'bad', bakeS: 1 });
    const fin = await second.waitFor((l) => l.final !== undefined, 90_000);
    await second.exited;
    expect(fin.final?.find((f) => f.id === p.id)?.status).toBe('rolled-back');
    expect(running(rig.lab)).toEqual(before);
    for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
    await cleanup(prefix, queuePrefix);
  });
});
