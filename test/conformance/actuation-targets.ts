/**
 * The actuation-target conformance suite (DESIGN.md §5, issue 14 item 5): every registered target, on every
 * router the fixture offers (a 1.4 and a 1.5 image), with and without commit-confirm, runs each of its own
 * cases through the rollout engine: render → apply (ops validated for the version) → confirm → read the
 * running config → the router's EFFECTIVE dataplane (lab/vyos/dataplane.ts: what it shapes, matches,
 * balances, NATs and marks) equals the intent within rounding. The effect must fail before the change (the
 * case changes something the check sees); applying again sends nothing; restoring the snapshots gives back
 * exactly the config the router had. A new target passes this suite unchanged.
 */
import { describe, expect, it } from 'vitest';
import type { Topology } from '../../core/config/topology.ts';
import { Engine } from '../../actuator/engine.ts';
import { effectOf, targets, type Dataplane } from '../../actuator/targets/index.ts';
import { sameConfig } from '../../actuator/vyos/diff.ts';
import type { RouterApi, VyosVersion } from '../../actuator/vyos/types.ts';
import { effectiveDataplane, type EffectiveDataplane } from '../../lab/vyos/dataplane.ts';

/** Speed of a router's interfaces: a link's capacity, 1 Gbit/s for the LAN and anything else. */
export function interfaceSpeeds(topology: Topology, site: string): (iface: string) => number {
  return (iface) => {
    const link = topology.linkForInterface(site, iface);
    return link === undefined ? 1e9 : topology.link(link).capacity_mbps * 1e6;
  };
}

/** What `site`'s router does with its running config now (the emulator's effective dataplane). */
export async function effectiveOf(
  api: RouterApi,
  topology: Topology,
  site: string,
  version: VyosVersion,
  build?: string,
): Promise<EffectiveDataplane> {
  const config = (await api.showConfig([])) ?? {};
  return effectiveDataplane(config, { version, ...(build ? { build } : {}), speedBps: interfaceSpeeds(topology, site) });
}

/**
 * Image builds each version's effect must also hold on: a 1.5 rolling build from before vyos-1x PR #4302
 * (2025-01-13), where a numeric QoS DSCP is still a TOS byte as on 1.4 (vyos-facts §5.2).
 */
const olderBuilds: Record<VyosVersion, string[]> = { '1.4': [], '1.5': ['1.5-rolling-202412010000'] };

export interface ActuationTargetFixture {
  topology: Topology;
  routerFor(site: string): RouterApi;
  lanInterface: string;
}

/** The routers the suite runs on, by site, with the image version each runs (known when tests register). */
export type TargetRouters = { site: string; version: VyosVersion }[];

/** Commit-confirm minutes the engine arms (1.5 images only): without, and with a timer confirmed after the check. */
const confirmModes = [0, 3] as const;

export function actuationTargetSuite(routers: TargetRouters, topology: Topology, fixture: () => ActuationTargetFixture): void {
  for (const { target } of targets) {
    // A target with no case on this network (bgp-policy where no router speaks BGP) runs on another one.
    if (routers.every(({ site }) => target.cases(topology, site).length === 0)) continue;
    describe(`actuation target ${target.name}`, () => {
      for (const { site, version } of routers) {
        for (const c of target.cases(topology, site)) {
          for (const confirmMinutes of confirmModes) {
            const mode = confirmMinutes > 0 ? `commit-confirm ${confirmMinutes} min` : 'plain commit';
            it(`${version} ${site}, ${mode}: ${c.name} — the effective dataplane shows the intent; restore is exact`, async () => {
              const fx = fixture();
              const api = fx.routerFor(site);
              const opts = { topology: fx.topology, router: site, lanInterface: fx.lanInterface };
              const engine = new Engine({
                topology: fx.topology,
                routerFor: (s) => fx.routerFor(s),
                lanInterface: fx.lanInterface,
                confirmMinutes,
                retry: { attempts: 2, baseMs: 10, maxMs: 50 },
              });
              const persist = async () => {};
              const dataplane = async (): Promise<Dataplane> => {
                const config = (await api.showConfig([])) ?? {};
                return { router: site, version, config, effective: await effectiveOf(api, fx.topology, site, version) };
              };
              const before = await dataplane();
              const unmet = c.intents.map((i) => effectOf(i, before, opts)).filter((r) => !r.ok);
              expect(unmet.length, 'the case changes something its effect check sees').toBeGreaterThan(0);

              const state = await engine.prepare(c.intents, [1], Date.now());
              expect(state.order).toEqual([site]);
              const applied = await engine.applyRouter(c.intents, state, site, persist);
              expect(applied.sent).toBe(true);
              expect(state.routers[site]!.confirmPending).toBe(confirmMinutes > 0 && version === '1.5');
              await engine.confirmRouter(state, site, persist);
              expect(state.routers[site]!.confirmPending).toBe(false);

              const after = await dataplane();
              for (const intent of c.intents) expect(effectOf(intent, after, opts).problems, intent.kind).toEqual([]);
              for (const build of olderBuilds[version]) {
                const older = { ...after, effective: await effectiveOf(api, fx.topology, site, version, build) };
                for (const intent of c.intents) expect(effectOf(intent, older, opts).problems, build).toEqual([]);
              }
              // Applying again over the changed router is a fixed point: nothing more to send.
              const again = await engine.prepare(c.intents, [1], Date.now());
              expect((await engine.applyRouter(c.intents, again, site, persist)).sent).toBe(false);

              await engine.restoreRouter(state, site, persist);
              expect(sameConfig(await api.showConfig([]), before.config)).toBe(true);
            });
          }
        }
      }
    });
  }
}
