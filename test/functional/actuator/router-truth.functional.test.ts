/**
 * Router truth (issue 14): changes the actuator renders must do on the router what the intent means,
 * judged by the emulator's effective dataplane (lab/vyos/dataplane.ts), not by syntax. Each case drives
 * the engine against the VyOS emulator over HTTP, reads the router's running config back and checks
 * what the router really shapes, matches, balances, NATs and marks. Written failing-first: every case
 * failed against the renderer before the fixes (docs/notes/actuator.md, "Rendering for what the router does").
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../actuator/engine.ts';
import type { Intent } from '../../../core/proposal.ts';
import { classFor, wanRuleFor, type EffectiveDataplane } from '../../../lab/vyos/dataplane.ts';
import { effectiveOf } from '../../conformance/actuation-targets.ts';
import { startLab, testRoot, type LabRig } from './support.ts';

const NYC = 'onprem-nyc';
const NYC_LAN = '10.51.0.0/16';
const USE1 = 'aws-use1';

describe('router truth: what the rendered config does on the router', () => {
  let rig: LabRig;
  let engine: Engine;
  /** Undo for the last case: the engine's restore, then the set-up edits made by hand. */
  let undo: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    rig = await startLab(testRoot());
    engine = new Engine({
      topology: rig.topology,
      routerFor: rig.routerFor,
      lanInterface: 'eth0',
      confirmMinutes: 0,
      retry: { attempts: 2, baseMs: 10, maxMs: 50 },
    });
  });
  afterAll(async () => rig?.stop());
  afterEach(async () => {
    for (const u of undo.reverse()) await u();
    undo = [];
  });

  /** Applies `intents` in one step, registering its restore; rejects as the engine does. */
  async function apply(intents: Intent[]): Promise<void> {
    const state = await engine.prepare(intents, [1], Date.now());
    undo.push(async () => {
      for (const r of state.order) await engine.restoreRouter(state, r, async () => {});
    });
    for (const r of state.order) await engine.applyRouter(intents, state, r, async () => {});
  }
  /** An operator's edit before the change, undone after the case. */
  function edit(site: string, lines: string[], back: string[]): void {
    rig.lab.router(site).applyCommands(lines);
    undo.push(async () => rig.lab.router(site).applyCommands(back));
  }
  const effective = (site: string): Promise<EffectiveDataplane> =>
    effectiveOf(rig.routerFor(site), rig.topology, site, rig.topology.site(site).router.vyos_version);

  it('a bandwidth-only intent lets the whole rate through (the default class is not held at 10 %)', async () => {
    const rate = 2500;
    await apply([{ kind: 'bandwidth', router: NYC, link: 'nyc-use1-dx', rate_mbps: rate }]);
    const shaper = (await effective(NYC)).shapers['eth1']!;
    expect(shaper.rootBps).toBe(rate * 1e6);
    // Every packet may use the full rate: the default class and every class may borrow up to the root.
    expect(shaper.default.ceilBps).toBeGreaterThanOrEqual(rate * 1e6);
    for (const c of shaper.classes) expect(c.ceilBps, `class ${c.id}`).toBeGreaterThanOrEqual(rate * 1e6);
  });

  it('QoS classes borrow up to the link rate and EF lands in the voice class on a 1.4 router', async () => {
    const link = 'nyc-use1-vpn';
    await apply([
      {
        kind: 'qos',
        router: USE1,
        link,
        classes: [
          { class: 'voice', dscp: [46], bandwidth_pct: 20, priority: 1 },
          { class: 'video', dscp: [34, 36], bandwidth_pct: 30, priority: 2 },
        ],
      },
    ]);
    const shaper = (await effective(USE1)).shapers['vti1']!;
    expect(classFor(shaper, 46).description).toBe('voice');
    expect(classFor(shaper, 34).description).toBe('video');
    expect(classFor(shaper, 36).description).toBe('video');
    expect(shaper.default.ceilBps).toBe(shaper.rootBps);
    for (const c of shaper.classes) expect(c.ceilBps, `class ${c.description}`).toBeGreaterThanOrEqual(shaper.rootBps);
  });

  it('weights on an interface without interface-health get a health check, so the weight moves traffic', async () => {
    const health = rig.lab.router(NYC).runningCommands(['load-balancing', 'wan', 'interface-health', 'vti1']);
    expect(health.length).toBeGreaterThan(0);
    edit(NYC, ['delete load-balancing wan interface-health vti1'], health);
    await apply([
      {
        kind: 'path-weights',
        router: NYC,
        pair: [NYC, USE1],
        class: 'bulk',
        dst_prefixes: ['10.10.0.0/16'],
        weights: { 'nyc-use1-dx': 40, 'nyc-use1-vpn': 60 },
      },
    ]);
    const rule = wanRuleFor(await effective(NYC), NYC_LAN, '10.10.0.0/16');
    expect(rule?.inactive).toEqual([]);
    expect(rule?.weights).toEqual({ eth1: 40, vti1: 60 });
  });

  it('a new rule is numbered before an existing catch-all, not shadowed by it', async () => {
    const catchAll = 'load-balancing wan rule 50';
    edit(NYC, [`set ${catchAll} inbound-interface 'eth0'`, `set ${catchAll} interface eth1 weight '1'`], [`delete ${catchAll}`]);
    const prefix = '10.99.0.0/16';
    await apply([
      {
        kind: 'path-weights',
        router: NYC,
        pair: [NYC, USE1],
        class: 'bulk',
        dst_prefixes: [prefix],
        weights: { 'nyc-use1-dx': 1, 'nyc-use1-vpn': 3 },
      },
    ]);
    const dp = await effective(NYC);
    const rule = wanRuleFor(dp, NYC_LAN, prefix);
    expect(rule?.rule, `rules: ${JSON.stringify(dp.wan.rules.map((r) => [r.rule, r.shadowedBy]))}`).toBeLessThan(50);
    expect(rule?.weights).toEqual({ eth1: 1, vti1: 3 });
  });

  it('site-to-site balancing is never source-NATed: without disable-source-nat the change is refused', async () => {
    edit(NYC, ['delete load-balancing wan disable-source-nat'], ['set load-balancing wan disable-source-nat']);
    const outcome = await apply([
      {
        kind: 'path-weights',
        router: NYC,
        pair: [NYC, USE1],
        class: 'bulk',
        dst_prefixes: ['10.10.0.0/16'],
        weights: { 'nyc-use1-dx': 50, 'nyc-use1-vpn': 50 },
      },
    ]).then(
      () => 'applied',
      (err: unknown) => String(err),
    );
    const rule = wanRuleFor(await effective(NYC), NYC_LAN, '10.10.0.0/16');
    expect({ outcome, snatOfWhatWasApplied: outcome === 'applied' ? rule?.snat : false }).toEqual({
      outcome: expect.stringMatching(/disable-source-nat/),
      snatOfWhatWasApplied: false,
    });
  });

  it('a class pin on traffic a WAN rule balances wins by construction (no mark conflict)', async () => {
    await apply([
      {
        kind: 'class-pin',
        router: NYC,
        pair: [NYC, USE1],
        class: 'realtime',
        dscp: [46, 34],
        dst_prefixes: ['10.10.0.0/16'],
        link: 'nyc-use1-vpn',
      },
    ]);
    const dp = await effective(NYC);
    expect(dp.policy.rules.some((r) => r.table !== undefined && r.dscp?.includes(46))).toBe(true);
    expect(dp.markConflicts).toEqual([]);
    // WAN rules cannot match DSCP: a later weights intent for the pinned prefix balances it again and takes
    // its pins away, so the two never mark the same packets.
    await apply([
      {
        kind: 'path-weights',
        router: NYC,
        pair: [NYC, USE1],
        class: '*',
        dst_prefixes: ['10.10.0.0/16'],
        weights: { 'nyc-use1-dx': 1, 'nyc-use1-vpn': 1 },
      },
    ]);
    const after = await effective(NYC);
    expect(after.markConflicts).toEqual([]);
    expect(after.policy.rules.some((r) => r.destinations.includes('10.10.0.0/16'))).toBe(false);
    expect(Object.keys(wanRuleFor(after, NYC_LAN, '10.10.0.0/16')?.weights ?? {}).sort()).toEqual(['eth1', 'vti1']);
    expect(after.wan.rules.filter((r) => r.shadowedBy !== undefined)).toEqual([]);
  });
});
