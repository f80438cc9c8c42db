/**
 * The registry of actuation targets: which target renders an intent, which context subtrees a set of
 * intents needs, and the one render of a router's intents (a function of the intents, the rollout
 * fraction and the router's config before the change, so every step and every restart renders the same
 * rule numbers). To add a target: one file beside these, one line in `targets`, its conformance cases
 * (test/conformance/actuation-targets.ts) — see docs/contributing.md.
 */
import { ValidationError } from '../../core/errors.ts';
import type { Intent } from '../../core/proposal.ts';
import { cloneConfig, pathKey } from '../vyos/diff.ts';
import { failoverTarget, isFailover } from './failover.ts';
import { pinTarget } from './pin.ts';
import { shaperTarget } from './shaper.ts';
import type { ActuationTarget, ContextName, Dataplane, EffectCheck, PreState, RenderOptions, TouchedSubtree } from './types.ts';
import { weightsTarget } from './weights.ts';
import { wireguardTarget } from './wireguard.ts';
import { ipsecTarget } from './ipsec.ts';
import { openvpnTarget } from './openvpn.ts';
import { firewallTargets } from './firewall.ts';
import { firewallGroupTarget } from './firewall-group.ts';
import { bgpTarget } from './bgp.ts';
import { configSubtreesTarget } from './config-subtrees.ts';

export * from './types.ts';
export { carryingLinks, isFailover, allClasses } from './failover.ts';
export { excludedFromBalancing, pinnedLinks } from './pin.ts';
export { pinPolicyName } from './pin.ts';
export { shares, shiftBetween, stepWeights, weightsForPrefix } from './weights.ts';

type AnyTarget = ActuationTarget<Intent['kind'], unknown>;

/** Every registered target, each with the intents it claims (the first that claims an intent renders it). */
export const targets: readonly { target: AnyTarget; claims: (intent: Intent) => boolean }[] = [
  { target: failoverTarget as AnyTarget, claims: isFailover },
  { target: weightsTarget as AnyTarget, claims: (i) => i.kind === 'path-weights' },
  { target: pinTarget as AnyTarget, claims: (i) => i.kind === 'class-pin' },
  { target: shaperTarget as AnyTarget, claims: (i) => i.kind === 'bandwidth' || i.kind === 'qos' },
  { target: wireguardTarget as AnyTarget, claims: (i) => i.kind === 'wireguard-peers' },
  { target: ipsecTarget as AnyTarget, claims: (i) => i.kind === 'ipsec-peer' },
  { target: openvpnTarget as AnyTarget, claims: (i) => i.kind === 'openvpn-site' },
  ...firewallTargets.map(({ target, claims }) => ({
    target: target as AnyTarget,
    claims: (i: Intent) => i.kind === 'firewall-rules' && claims(i),
  })),
  { target: firewallGroupTarget as AnyTarget, claims: (i) => i.kind === 'firewall-group' },
  { target: bgpTarget as AnyTarget, claims: (i) => i.kind === 'bgp-policy' },
  { target: configSubtreesTarget as AnyTarget, claims: (i) => i.kind === 'config-subtrees' },
];

export function targetFor(intent: Intent): AnyTarget {
  const found = targets.find((t) => t.claims(intent));
  if (!found) throw new ValidationError(`no actuation target renders "${intent.kind}" intents`);
  return found.target;
}

/** Which context subtrees the intents need. */
export function contextsFor(intents: readonly Intent[]): ContextName[] {
  return [...new Set(intents.flatMap((i) => targetFor(i).contexts))];
}

/** The subtrees the intents name themselves (their targets' `reads`), each once: read into `PreState.paths`. */
export function pathsFor(intents: readonly Intent[]): string[][] {
  const out = new Map<string, string[]>();
  for (const i of intents) for (const p of targetFor(i).reads?.(i) ?? []) out.set(pathKey(p), p);
  return [...out.values()];
}

/**
 * Desired subtrees for one router's intents at rollout fraction `f` (0 < f ≤ 1), in intent order. Weight
 * intents interpolate from the pre-change weights; other intents apply whole at every step. Targets that
 * share a `read` share its state within the render (failover and weights own the same WAN rules).
 */
export function renderRouter(intents: readonly Intent[], f: number, pre: PreState, opts: RenderOptions): TouchedSubtree[] {
  const out = new Map<string, TouchedSubtree>();
  const touch = (path: string[], base: TouchedSubtree['desired']): TouchedSubtree => {
    const key = pathKey(path);
    let t = out.get(key);
    if (!t) out.set(key, (t = { path, desired: cloneConfig(base) }));
    return t;
  };
  const states = new Map<unknown, unknown>();
  for (const intent of intents) {
    if (intent.router !== opts.router) continue;
    const target = targetFor(intent);
    if (!states.has(target.read)) states.set(target.read, target.read(pre));
    target.render(intent, states.get(target.read), { opts, f, touch });
  }
  return [...out.values()];
}

/** Whether the router's dataplane shows `intent` applied, checked by the intent's target. */
export function effectOf(intent: Intent, dataplane: Dataplane, opts: RenderOptions): EffectCheck {
  return targetFor(intent).effect(intent, dataplane, opts);
}
