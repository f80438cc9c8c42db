/**
 * The actuation-target conformance suite (DESIGN.md §5): every registered target, on every router the
 * fixture offers (a 1.4 and a 1.5 image), runs each of its own cases through render → apply → read →
 * effect. The effect must fail on the config before the change (the case changes something the check
 * sees) and hold after it; every op must be a valid path for the router's version; restoring the
 * snapshots must give back exactly the config the router had. A new target passes this suite unchanged.
 */
import { describe, expect, it } from 'vitest';
import type { Topology } from '../../core/config/topology.ts';
import { contextPaths, contextsFor, effectOf, renderRouter, targets, type PreState } from '../../actuator/targets/index.ts';
import { diffOps, sameConfig } from '../../actuator/vyos/diff.ts';
import { validateOps } from '../../actuator/vyos/paths.ts';
import type { ConfigJson, ConfigOp, RouterApi, VyosVersion } from '../../actuator/vyos/types.ts';

export interface ActuationTargetFixture {
  topology: Topology;
  routerFor(site: string): RouterApi;
  lanInterface: string;
}

/** The routers the suite runs on, by site, with the image version each runs (known when tests register). */
export type TargetRouters = { site: string; version: VyosVersion }[];

export function actuationTargetSuite(routers: TargetRouters, topology: Topology, fixture: () => ActuationTargetFixture): void {
  for (const { target } of targets) {
    describe(`actuation target ${target.name}`, () => {
      for (const { site, version } of routers) {
        for (const c of target.cases(topology, site)) {
          it(`${version} ${site}: ${c.name} — render, apply, read back, effect holds, restore is exact`, async () => {
            const fx = fixture();
            const api = fx.routerFor(site);
            const opts = { topology: fx.topology, router: site, lanInterface: fx.lanInterface };
            const pre: PreState = {};
            for (const name of contextsFor(c.intents)) pre[name] = await api.showConfig([...contextPaths[name]]);
            const whole = async () => (await api.showConfig([])) ?? {};
            const before = await whole();
            const dataplane = (config: ConfigJson) => ({ router: site, version, config });

            const unmet = c.intents.map((i) => effectOf(i, dataplane(before), opts)).filter((r) => !r.ok);
            expect(unmet.length, 'the case changes something its effect check sees').toBeGreaterThan(0);

            const touched = renderRouter(c.intents, 1, pre, opts);
            const snapshots: { path: string[]; before: ConfigJson | null }[] = [];
            const ops: ConfigOp[] = [];
            for (const t of touched) {
              const current = await api.showConfig(t.path);
              snapshots.push({ path: t.path, before: current });
              ops.push(...diffOps(t.path, current, t.desired));
            }
            expect(ops.length).toBeGreaterThan(0);
            validateOps(version, ops);
            await api.configure(ops);

            const after = await whole();
            for (const t of touched) expect(sameConfig(await api.showConfig(t.path), t.desired), t.path.join(' ')).toBe(true);
            for (const intent of c.intents) expect(effectOf(intent, dataplane(after), opts).problems).toEqual([]);
            // Rendering again over the changed router is a fixed point: nothing more to send.
            const again: PreState = {};
            for (const name of contextsFor(c.intents)) again[name] = await api.showConfig([...contextPaths[name]]);
            const rerun = renderRouter(c.intents, 1, again, opts);
            for (const t of rerun) expect(diffOps(t.path, await api.showConfig(t.path), t.desired)).toEqual([]);

            const restore: ConfigOp[] = [];
            for (const s of snapshots) restore.push(...diffOps(s.path, await api.showConfig(s.path), s.before));
            validateOps(version, restore);
            await api.configure(restore);
            expect(sameConfig(await whole(), before)).toBe(true);
          });
        }
      }
    });
  }
}
