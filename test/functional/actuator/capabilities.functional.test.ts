/**
 * Router capabilities probed, not assumed (issue 14, item 3), on the VyOS emulator over real HTTP.
 * onprem-fra runs a 1.5 image from October 2024 — it silently ignores `confirm_time` and refuses
 * `{"op":"confirm"}` (vyos-facts §1.6, §5.5) — onprem-nyc a June 2025 image with commit-confirm,
 * aws-use1 1.4. First what went wrong while commit-confirm was assumed from `vyos_version`, then the
 * rollouts with probed capabilities, then commits slower than the old 10 s request timeout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import type { Intent } from '../../../core/proposal.ts';
import { Engine } from '../../../actuator/engine.ts';
import { createActuator, type Actuator } from '../../../actuator/index.ts';
import { CapabilityCache, type ProbedRouter, type RouterCapabilities } from '../../../actuator/vyos/capabilities.ts';
import { VyosClient, VyosUnreachableError, type RouterApi } from '../../../actuator/vyos/index.ts';
import { KEY, testRoot, startLab, running, weightProposal, SITES, type LabRig, SwitchableGuardData } from './support.ts';

const OLD_IMAGE = '1.5-rolling-202410220018';
const persistNothing = async () => {};

/** The rule before this change: commit-confirm wherever pathpilot.yaml says 1.5. */
class AssumedFromVersion extends CapabilityCache {
  override async of(_router: string, api: ProbedRouter & Pick<RouterApi, 'version'>): Promise<RouterCapabilities> {
    return {
      version: '',
      train: api.version,
      via: 'show version',
      commitConfirm: api.version === '1.5',
      confirmProbe: 'assumed from vyos_version',
    };
  }
}

/** Waits (bounded) until `cond` holds. */
async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('router capabilities on the VyOS emulator', () => {
  let rig: LabRig;
  const root = testRoot();
  const fraOnly = () => weightProposal().intents.filter((i) => i.router === 'onprem-fra') as Intent[];

  beforeAll(async () => {
    rig = await startLab(root, new RealClock(), 2000, { images: { 'onprem-fra': OLD_IMAGE } });
  });
  afterAll(async () => rig?.stop());
  afterEach(() => {
    for (const s of SITES) rig.lab.router(s).faults.reset();
  });

  it('failing first: assumed from the version, the old image arms no timer, its confirm is refused and the restore fails', async () => {
    const engine = new Engine({
      topology: rig.topology,
      routerFor: rig.routerFor,
      lanInterface: 'eth0',
      confirmMinutes: 3,
      retry: { attempts: 2, baseMs: 10, maxMs: 10 },
      capabilities: new AssumedFromVersion(),
    });
    const fra = rig.lab.router('onprem-fra');
    const before = fra.runningCommands();
    const st = await engine.prepare(fraOnly(), [1], Date.now());
    await engine.applyRouter(fraOnly(), st, 'onprem-fra', persistNothing);
    // The engine believes a timer guards the change; the router took the commit and armed nothing.
    expect(st.routers['onprem-fra']!.confirmPending).toBe(true);
    expect(fra.pendingConfirm()).toBeUndefined();
    expect(fra.runningCommands()).not.toEqual(before);
    // The guard passed: the confirm is refused, so the rollout rolls back…
    await expect(engine.confirmRouter(st, 'onprem-fra', persistNothing)).rejects.toThrow(/'confirm' is not a valid operation/);
    // …and the restore, though it put the config back, fails on the same refused confirm.
    await expect(engine.restoreRouter(st, 'onprem-fra', persistNothing)).rejects.toThrow(/'confirm' is not a valid operation/);
    expect(fra.runningCommands()).toEqual(before);
    expect(st.routers['onprem-fra']!.applied).toBe(0);
  });

  describe('rollouts through the pipeline, capabilities probed', () => {
    let actuator: Actuator;
    let queue: MemoryQueue;
    const guard = new SwitchableGuardData();
    const registry = createRegistry();

    beforeAll(async () => {
      queue = new MemoryQueue();
      await queue.start();
      actuator = createActuator(
        { root, queue, clock: new RealClock(), routerFor: rig.routerFor, guardData: guard, registry },
        { gitops_dir: '', retry: { attempts: 3, base_ms: 10, max_ms: 50 } },
      );
      await actuator.start();
    });
    afterAll(async () => {
      await actuator?.stop();
      await queue?.stop();
    });
    afterEach(() => {
      guard.bad = false;
    });

    it('arms commit-confirm on the new 1.5 image only; the old image and 1.4 bake on their snapshots; confirmed', async () => {
      const p = weightProposal();
      await actuator.submit(p);
      const armedAtBake: Record<string, number | undefined>[] = [];
      actuator.events.on('change', function onChange(e: { event: string; proposal_id: string }) {
        if (e.proposal_id !== p.id) return;
        if (e.event === 'baking')
          armedAtBake.push(Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).pendingConfirm()?.minutes])));
        if (e.event === 'confirmed') actuator.events.off('change', onChange);
      });
      const fra = rig.lab.router('onprem-fra');
      const fraBefore = { ...fra.requestCounts() };
      const fraDelta = (endpoint: string) => (fra.requestCounts()[endpoint] ?? 0) - (fraBefore[endpoint] ?? 0);
      await actuator.approve(p.id, 'api:alice');
      await actuator.service.idle();
      expect((await actuator.get(p.id))?.proposal.status).toBe('confirmed');
      // Three steps; at each bake only onprem-nyc had a timer, of bake + margin (1 s bake → 3 min).
      expect(armedAtBake).toEqual(Array(3).fill({ 'onprem-nyc': 3, 'aws-use1': undefined, 'onprem-fra': undefined }));
      // onprem-fra: three commits; on /config-file the one refused probe and the final save — never a
      // confirm after a commit.
      expect([fraDelta('/configure'), fraDelta('/config-file')]).toEqual([3, 2]);
      for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
      const m = await metricValues(registry);
      const cap = (router: string, capability: string) =>
        m[`pathpilot_actuator_router_capability{router="${router}",capability="${capability}"}`];
      expect([
        cap('onprem-nyc', 'commit_confirm'),
        cap('onprem-fra', 'commit_confirm'),
        cap('aws-use1', 'commit_confirm'),
      ]).toEqual([1, 0, 0]);
      // The new image's timer action is the default reboot: flagged.
      expect(cap('onprem-nyc', 'confirm_action_reboot')).toBe(1);
    });

    it('on the old image a failing guard restores the router exactly, with no timer involved', async () => {
      const before = running(rig.lab);
      const p = weightProposal();
      p.intents = p.intents.filter((i) => i.router === 'onprem-fra');
      for (const i of p.intents) if (i.kind === 'path-weights') i.weights = { 'fra-euc1-dx': 35, 'fra-weu-er': 65 };
      await actuator.submit(p);
      actuator.events.on('change', function onChange(e: { event: string; proposal_id: string }) {
        if (e.proposal_id !== p.id || e.event !== 'baking') return;
        actuator.events.off('change', onChange);
        guard.bad = true;
      });
      await actuator.approve(p.id, 'api:alice');
      await actuator.service.idle();
      const rec = await actuator.get(p.id);
      expect(rec?.proposal.status).toBe('rolled-back');
      expect(rec?.error).toMatch(/guard fail at step 1/);
      expect(running(rig.lab)).toEqual(before);
      expect(rig.lab.router('onprem-fra').pendingConfirm()).toBeUndefined();
    });
  });

  describe('commits slower than the old 10 s request timeout', () => {
    const SLOW_MS = 12_000;
    const clients: VyosClient[] = [];
    const client = (o: { timeoutMs?: number; commitTimeoutMs?: number } = {}) => {
      const c = new VyosClient({ url: rig.lab.urls['onprem-nyc']!, apiKey: KEY, version: '1.5', ...o });
      clients.push(c);
      return c;
    };
    afterAll(async () => {
      for (const c of clients) await c.close();
    });
    const TABLE = ['protocols', 'static', 'table', '151'];

    it('one 10 s timeout for everything gives up on a 12 s commit that then lands anyway', async () => {
      const nyc = rig.lab.router('onprem-nyc');
      nyc.faults.set({ slowCommitMs: SLOW_MS });
      const rev = nyc.revision();
      const t0 = Date.now();
      const err = await client({ timeoutMs: 10_000, commitTimeoutMs: 10_000 })
        .configure([{ op: 'set', path: [...TABLE, 'description'], value: 'slow' }])
        .catch((e: unknown) => e);
      const gaveUpAfter = Date.now() - t0;
      expect(err).toBeInstanceOf(VyosUnreachableError);
      expect((err as VyosUnreachableError).timedOut).toBe(true);
      expect(gaveUpAfter).toBeGreaterThanOrEqual(9_900);
      expect(nyc.revision()).toBe(rev);
      await until('the abandoned commit', () => nyc.revision() === rev + 1, 5_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(SLOW_MS);
      nyc.faults.reset();
      await client().configure([{ op: 'delete', path: TABLE }]);
    }, 30_000);

    it('with the commit timeout (60 s) a step of 12 s commits applies, arms its timer and restores; reads stay fast', async () => {
      const slowClient = client({ timeoutMs: 10_000 });
      expect(slowClient.timeouts).toEqual({ readMs: 10_000, commitMs: 60_000 });
      const engine = new Engine({
        topology: rig.topology,
        routerFor: (site) => (site === 'onprem-nyc' ? slowClient : rig.routerFor(site)),
        lanInterface: 'eth0',
        confirmMinutes: 3,
        commitTimeoutMs: 60_000,
        retry: { attempts: 2, baseMs: 10, maxMs: 10 },
      });
      const nyc = rig.lab.router('onprem-nyc');
      const before = nyc.runningCommands();
      const mine = weightProposal().intents.filter((i) => i.router === 'onprem-nyc') as Intent[];
      // Weights no earlier test left on the router, so the step has something to commit.
      for (const i of mine) if (i.kind === 'path-weights') i.weights = { 'nyc-use1-dx': 55, 'nyc-use1-vpn': 45 };
      const st = await engine.prepare(mine, [1], Date.now());
      nyc.faults.set({ slowCommitMs: SLOW_MS });
      const t0 = Date.now();
      const applying = engine.applyRouter(mine, st, 'onprem-nyc', persistNothing);
      // A read while the commit holds the config lock is answered at once (reads take no lock).
      await new Promise((r) => setTimeout(r, 1_000));
      const r0 = Date.now();
      await slowClient.exists(['load-balancing', 'wan']);
      expect(Date.now() - r0).toBeLessThan(1_000);
      const { sent } = await applying;
      const applyMs = Date.now() - t0;
      expect(sent).toBe(true);
      expect(applyMs).toBeGreaterThanOrEqual(SLOW_MS);
      expect(applyMs).toBeLessThan(SLOW_MS + 5_000);
      expect(nyc.pendingConfirm()?.minutes).toBe(3);
      nyc.faults.reset();
      await engine.restoreRouter(st, 'onprem-nyc', persistNothing);
      expect(nyc.runningCommands()).toEqual(before);
      expect(nyc.pendingConfirm()).toBeUndefined();
    }, 40_000);
  });
});
