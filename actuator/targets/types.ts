/**
 * The actuation-target contract (DESIGN.md §5): one module per kind of change the actuator makes on a
 * router. A target reads its state from the router's config, renders an intent into the subtrees the
 * router must hold (the engine turns them into the minimal ops with `diffOps`), and states the effect
 * the router's dataplane must show once the change is in. The registry (index.ts) dispatches intents
 * to targets by kind; a new target is one file here plus its conformance cases.
 */
import type { Topology } from '../../core/config/topology.ts';
import { ValidationError } from '../../core/errors.ts';
import type { Intent } from '../../core/proposal.ts';
import type { ConfigJson, VyosVersion } from '../vyos/types.ts';

/** Parent subtrees read before rendering (one `/retrieve showConfig` each); the keys are persisted in `PreState`. */
export const contextPaths = {
  lbRules: ['load-balancing', 'wan', 'rule'],
  lbHealth: ['load-balancing', 'wan', 'interface-health'],
  /** Read only: VyOS has no per-rule switch, and a leaf cannot be a touched subtree (see wan.ts). */
  lbSourceNat: ['load-balancing', 'wan', 'disable-source-nat'],
  policyRoute: ['policy', 'route'],
  staticTables: ['protocols', 'static', 'table'],
  shapers: ['qos', 'policy', 'shaper'],
  qosInterfaces: ['qos', 'interface'],
  wireguard: ['interfaces', 'wireguard'],
  ipsec: ['vpn', 'ipsec'],
  vti: ['interfaces', 'vti'],
  openvpn: ['interfaces', 'openvpn'],
  pkiOpenvpn: ['pki', 'openvpn'],
  firewallForward: ['firewall', 'ipv4', 'forward', 'filter', 'rule'],
  firewallForward6: ['firewall', 'ipv6', 'forward', 'filter', 'rule'],
  firewallInput: ['firewall', 'ipv4', 'input', 'filter', 'rule'],
  firewallInput6: ['firewall', 'ipv6', 'input', 'filter', 'rule'],
  networkGroups: ['firewall', 'group', 'network-group'],
  bgp: ['protocols', 'bgp'],
  routeMaps: ['policy', 'route-map'],
  prefixLists: ['policy', 'prefix-list'],
} as const;
export type ContextName = keyof typeof contextPaths;
/**
 * The router's config under each context path before the change (null when unset), and under the paths the
 * intents name themselves (`ActuationTarget.reads`), by `pathKey`.
 */
export type PreState = Partial<Record<ContextName, ConfigJson | null>> & { paths?: Record<string, ConfigJson | null> };

export interface RenderOptions {
  topology: Topology;
  router: string;
  /** LAN interface that WAN LB rules and the pin policy take traffic from. */
  lanInterface: string;
  /** First rule number for new LB rules when the router has none. */
  firstRule?: number;
}

export interface TouchedSubtree {
  path: string[];
  /** What the subtree must be after this step (null: absent). */
  desired: ConfigJson | null;
}

/** What one render of one router shares between intents: the options, the step and the touched subtrees. */
export interface RenderContext {
  opts: RenderOptions;
  /** Rollout fraction, 0 < f ≤ 1. */
  f: number;
  /** The subtree at `path`, created from `base` (the config before the change) on first touch. */
  touch(path: string[], base: ConfigJson | null): TouchedSubtree;
}

/** One HTB class as the router builds it (rates in bits/s; `dscp`: the values it really matches). */
export interface ShaperClassView {
  id: string;
  description?: string;
  rateBps: number;
  ceilBps: number;
  dscp: number[];
}

/** One WAN load-balancing rule as the router runs it (`weights`: active interfaces only). */
export interface WanRuleView {
  rule: number;
  destinations: string[];
  sources: string[];
  weights: Record<string, number>;
  inactive: { iface: string; reason: string }[];
  exclude: boolean;
  shadowedBy?: number;
  inboundInterface?: string;
  snat: boolean;
}

/**
 * What a router does with its running config — the shape of the emulator's effective dataplane
 * (lab/vyos/dataplane.ts `effectiveDataplane`), declared here because the actuator does not import the
 * lab: whoever checks effects (the conformance suite, a real-router run) computes it and passes it in.
 */
export interface EffectiveView {
  shapers: Record<string, { policy: string; rootBps: number; classes: ShaperClassView[]; default: ShaperClassView }>;
  wan: { rules: WanRuleView[] };
  policy: {
    rules: { policy: string; rule: number; dscp?: number[]; destinations: string[]; table?: number; interfaces: string[] }[];
  };
  tables: Record<string, { prefix: string; nextHops: string[]; interfaces: string[] }[]>;
  markConflicts: { policy: string; rule: number; wanRule: number; winner: string }[];
}

/** The dataplane a target's effect is checked against: the running config and what the router does with it. */
export interface Dataplane {
  router: string;
  version: VyosVersion;
  /** The router's whole running config (`/retrieve showConfig []`): where the target finds its own rules. */
  config: ConfigJson;
  /** The router's effective dataplane for `config`: what the effect is judged by. */
  effective: EffectiveView;
}

export interface EffectCheck {
  ok: boolean;
  /** What the dataplane lacks, one sentence each (empty when ok). */
  problems: string[];
}

export interface ActuationTarget<K extends Intent['kind'] = Intent['kind'], S = unknown> {
  /** The target's name (docs, conformance reports). */
  readonly name: string;
  /** The intent kinds it renders. */
  readonly kinds: readonly K[];
  /** The context subtrees it reads before rendering. */
  readonly contexts: readonly ContextName[];
  /**
   * Subtrees the intent itself names, read before rendering besides `contexts` (into `PreState.paths`): for a
   * target whose paths are not known before the intent (config-subtrees). Absent: none.
   */
  reads?(intent: Intent & { kind: K }): string[][];
  /** Its state on one router from the config before the change; fresh per render (it may keep render bookkeeping). */
  read(pre: PreState): S;
  /** Touches the subtrees `intent` needs at fraction `ctx.f` (throws ValidationError on an impossible intent). */
  render(intent: Intent & { kind: K }, state: S, ctx: RenderContext): void;
  /** Whether the dataplane shows the intent fully applied (f = 1). */
  effect(intent: Intent & { kind: K }, dataplane: Dataplane, opts: RenderOptions): EffectCheck;
  /**
   * Conformance cases on `router` of `topology` (test/conformance/actuation-targets.ts runs them on 1.4 and
   * 1.5 images): each one a set of intents that changes the router, so its effect fails before and holds after.
   */
  cases(topology: Topology, router: string): ConformanceCase[];
}

export interface ConformanceCase {
  name: string;
  intents: Intent[];
}

/** A destination of `router` with two candidate paths on different first hops (conformance cases). */
export function pairWithAlternatives(
  topology: Topology,
  router: string,
): { to: string; prefixes: string[]; primary: string; alternative: string } {
  for (const [from, to] of topology.pairs()) {
    if (from !== router) continue;
    const hops = [...new Set(topology.pathsFor(from, to).map((p) => p.links[0]!))];
    if (hops.length >= 2) return { to, prefixes: topology.site(to).prefixes, primary: hops[0]!, alternative: hops[1]! };
  }
  throw new ValidationError(`router ${router} has no destination with two first hops`);
}

export const isObj = (v: unknown): v is ConfigJson => typeof v === 'object' && v !== null && !Array.isArray(v);
export const child = (c: ConfigJson | null | undefined, k: string): ConfigJson | null => {
  const v = c?.[k];
  return isObj(v) ? v : null;
};
export const values = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
/** The subtree at `path` under `config` (null when absent). */
export const subtree = (config: ConfigJson | null, path: readonly string[]): ConfigJson | null =>
  path.reduce<ConfigJson | null>((node, k) => child(node, k), config);

export function nextNumber(used: Iterable<string>, first: number, step = 10): string {
  let max = 0;
  for (const u of used) if (Number(u) > max) max = Number(u);
  return String(max === 0 ? first : Math.ceil((max + 1) / step) * step);
}

/** The router's interface on `link`; a ValidationError when the link is unknown or does not touch the router. */
export function ifaceOf(opts: RenderOptions, link: string): string {
  let end;
  try {
    end = opts.topology.linkEnd(link, opts.router);
  } catch {
    throw new ValidationError(`intent for router ${opts.router}: unknown link "${link}"`);
  }
  if (!end) throw new ValidationError(`intent for router ${opts.router}: link "${link}" does not touch this router`);
  return end.interface;
}

export function check(problems: string[]): EffectCheck {
  return { ok: problems.length === 0, problems };
}
