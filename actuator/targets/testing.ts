/**
 * Intents applied to an emulated router the way the rollout engine applies them — every context its
 * targets read, one render, the minimal diff, one commit per intent — for unit tests of targets and of
 * what the lab makes of their configs. Nothing in the product imports this file.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { Intent } from '../../core/proposal.ts';
import type { EmulatedRouter } from '../../lab/vyos/router.ts';
import type { ConfigJson } from '../../lab/vyos/types.ts';
import { diffOps, pathKey } from '../vyos/diff.ts';
import { contextPaths, contextsFor, pathsFor, renderRouter, type PreState } from './index.ts';

/** The router's subtree at `path`, null when it is empty (the API answers an error there). */
export function configAt(router: EmulatedRouter, path: readonly string[]): ConfigJson | null {
  try {
    return (router.showConfig([...path]) as ConfigJson) ?? null;
  } catch {
    return null;
  }
}

export function applyIntents(router: EmulatedRouter, intents: readonly Intent[], topology = {} as Topology): void {
  const opts = { topology, router: router.name, lanInterface: 'eth0' };
  for (const intent of intents) {
    const pre: PreState = {};
    for (const c of contextsFor([intent])) pre[c] = configAt(router, contextPaths[c]);
    for (const p of pathsFor([intent])) (pre.paths ??= {})[pathKey(p)] = configAt(router, p);
    const ops = renderRouter([intent], 1, pre, opts).flatMap((t) => diffOps(t.path, configAt(router, t.path), t.desired));
    if (ops.length) router.configure(ops.map((o) => ({ ...o, op: o.op as 'set' | 'delete' })));
  }
}
