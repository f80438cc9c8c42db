/**
 * What the WAN targets (weights, failover, pin) share about a router's `load-balancing wan`: one state per
 * render (rule numbers allocated, which intent owns a prefix), and the rules that make a rule do on the
 * router what it says (vyos-facts §5.3–5.4, confirmed in vyatta-wanloadbalance `lbdecision.cc`):
 * - rules are tried in number order, first match wins: a rule is placed before any rule that would take
 *   all of its traffic, or the change is refused;
 * - an interface is active only with `interface-health IF nexthop …`: every weighted interface gets one
 *   (with a ping test of the link's far end) when it has none;
 * - balanced traffic is source-NATed unless `disable-source-nat` is set; VyOS 1.4/1.5 have only the
 *   global switch, which would also stop the SNAT any internet-bound rule on the router relies on, so
 *   its absence refuses the change for a human to decide (it is also a leaf: `showConfig` of a leaf
 *   returns `{leaf: …}`, not a subtree the engine can snapshot and restore);
 * - an `exclude` rule ACCEPTs before any balancing rule marks the packet, so a pin's policy-route mark
 *   stands whatever order the two netfilter hooks run in. WAN rules cannot match DSCP, so a pinned prefix
 *   leaves WAN balancing entirely (its other classes follow the main routing table) and weights for a
 *   pinned prefix are refused.
 */
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../../core/errors.ts';
import type { ConfigJson } from '../vyos/types.ts';
import {
  child,
  contextPaths,
  isObj,
  nextNumber,
  values,
  type EffectiveView,
  type PreState,
  type RenderContext,
  type RenderOptions,
  type WanRuleView,
} from './types.ts';

/** Highest WAN rule number VyOS accepts (`load-balancing wan rule <1-9999>`). */
const maxRule = 9999;

export interface WanState {
  /** The config before the change under every context (pin reads its policy and tables from here). */
  pre: PreState;
  rules: ConfigJson | null;
  used: Set<string>;
  /** Prefix → the rule number this render gave it (weights and pin exclusions are kept apart by key). */
  allocated: Map<string, string>;
  /** Prefix → the intent that balances it: two intents for one prefix conflict. */
  owners: Map<string, string>;
  /** Prefix → the pin that excludes it from balancing in this render. */
  pinned: Map<string, string>;
  /** Prefix → the number of the exclusion an earlier pin left, which a weights intent now takes back. */
  unpinned: Map<string, string>;
}

export function readWan(pre: PreState): WanState {
  const rules = pre.lbRules ?? null;
  return {
    pre,
    rules,
    used: new Set(Object.keys(rules ?? {})),
    allocated: new Map(),
    owners: new Map(),
    pinned: new Map(),
    unpinned: new Map(),
  };
}

const pinExcludeDescription = (prefix: string) => `pathpilot pin exclude ${prefix}`;

function parse(prefix: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    return ipaddr.parseCIDR(prefix);
  } catch {
    return ipaddr.isValid(prefix) ? [ipaddr.parse(prefix), ipaddr.parse(prefix).kind() === 'ipv4' ? 32 : 128] : undefined;
  }
}

/** True when every address of `inner` is inside `outer` (unparseable or negated text never covers). */
export function prefixCovers(outer: string, inner: string): boolean {
  const o = parse(outer);
  const i = parse(inner);
  if (!o || !i || o[0].kind() !== i[0].kind() || o[1] > i[1]) return false;
  return i[0].match(o[0], o[1]);
}

/** True when the two prefixes share an address. */
function prefixesOverlap(a: string, b: string): boolean {
  return prefixCovers(a, b) || prefixCovers(b, a);
}

interface RuleMatch {
  num: number;
  destinations: string[];
  /** The rule may take traffic from the LAN with no source, port or protocol restriction. */
  unrestricted: boolean;
  /** The rule excludes or balances (it takes the traffic it matches). */
  takes: boolean;
  exclude: boolean;
}

function ruleMatches(rules: ConfigJson | null, lan: string): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const [num, rule] of Object.entries(rules ?? {})) {
    if (!isObj(rule)) continue;
    const inbound = values(rule['inbound-interface'])[0];
    if (inbound !== undefined && inbound !== lan && inbound !== 'any') continue;
    const protocol = values(rule['protocol'])[0];
    const dst = child(rule, 'destination');
    out.push({
      num: Number(num),
      destinations: values(dst?.['address']),
      unrestricted: !rule['source'] && dst?.['port'] === undefined && (protocol === undefined || protocol === 'all'),
      takes: rule['exclude'] !== undefined || Object.keys(child(rule, 'interface') ?? {}).length > 0,
      exclude: rule['exclude'] !== undefined,
    });
  }
  return out.sort((a, b) => a.num - b.num);
}

/** A rule that takes every packet to `prefix` from the LAN (no destination, or one covering it). */
const coversPrefix = (r: RuleMatch, prefix: string) =>
  r.takes && r.unrestricted && (r.destinations.length === 0 || r.destinations.some((d) => prefixCovers(d, prefix)));

/** The free rule number a new rule gets: after every rule when nothing is in the way, else the highest free one below `before`. */
function freeNumber(state: WanState, opts: RenderOptions, before: number | undefined, what: string): string {
  if (before === undefined) return nextNumber(state.used, opts.firstRule ?? 10);
  for (let n = Math.min(before, maxRule + 1) - 1; n >= 1; n--) if (!state.used.has(String(n))) return String(n);
  throw new ValidationError(
    `router ${opts.router}: no free load-balancing wan rule number below ${before} for ${what} (rule ${before} would shadow it)`,
  );
}

/**
 * The number of the balancing rule for `prefix`: its existing rule (refused when an earlier rule takes
 * all its traffic) or a new one numbered before the first rule that would (vyos-facts §5.3).
 */
export function ruleNumberFor(state: WanState, prefix: string, existing: string | undefined, opts: RenderOptions): string {
  const allocated = state.allocated.get(prefix);
  if (allocated !== undefined) return allocated;
  const matches = ruleMatches(state.rules, opts.lanInterface);
  if (existing !== undefined) {
    const shadow = matches.find((r) => r.num < Number(existing) && coversPrefix(r, prefix));
    if (shadow)
      throw new ValidationError(
        `router ${opts.router}: load-balancing wan rule ${existing} for ${prefix} is shadowed by rule ${shadow.num}` +
          `${shadow.exclude ? ' (an exclude)' : ''}, which takes all its traffic first; renumber one of them by hand`,
      );
    return existing;
  }
  const first = matches.find((r) => coversPrefix(r, prefix))?.num;
  const num = freeNumber(state, opts, first, prefix);
  state.used.add(num);
  state.allocated.set(prefix, num);
  return num;
}

/** Refuses a render that would leave site-to-site traffic source-NATed (only when the context was read). */
export function requireNoSourceNat(state: WanState, opts: RenderOptions): void {
  if (state.pre.lbSourceNat !== null) return; // undefined: not read (intake renders against {}); present: fine
  throw new ValidationError(
    `router ${opts.router}: WAN load balancing would source-NAT site-to-site traffic (no "load-balancing wan ` +
      `disable-source-nat"); VyOS has only this global switch, which also changes internet-bound rules, so set ` +
      `it by hand if that is intended, then retry`,
  );
}

/** Ensures `iface` has an interface-health with a nexthop (and a ping test) to the far end of `link`. */
export function ensureHealth(state: WanState, iface: string, ctx: RenderContext): void {
  const { opts } = ctx;
  // Not read: an intake check against {}, or a rollout prepared before this context existed (its
  // snapshots lack these paths, so touching them now could not be rolled back).
  if (state.pre.lbHealth === undefined) return;
  const base = child(state.pre.lbHealth, iface);
  if (base && values(base['nexthop']).length > 0) return;
  const link = opts.topology.linkForInterface(opts.router, iface);
  const l = link === undefined ? undefined : opts.topology.link(link);
  const far = l === undefined ? undefined : l.a.site === opts.router ? l.b : l.a;
  if (!far?.address)
    throw new ValidationError(
      `router ${opts.router}: ${iface} has no load-balancing wan interface-health and no far-end address to check`,
    );
  const t = ctx.touch([...contextPaths.lbHealth, iface], base);
  const desired: ConfigJson = t.desired ?? {};
  desired['nexthop'] = far.address;
  if (!child(desired, 'test')) desired['test'] = { '10': { type: 'ping', target: far.address } };
  t.desired = desired;
}

/**
 * Claims `prefix` for a balancing intent: refused when a pin of this render excludes it; an earlier pin's
 * exclusion is taken back (the newer intent wins: the prefix is balanced again and its pins go, see
 * pin.ts `removePins`).
 */
export function claimBalanced(state: WanState, prefix: string, owner: string, opts: RenderOptions): void {
  const prev = state.owners.get(prefix);
  if (prev !== undefined && prev !== owner)
    throw new ValidationError(`router ${opts.router}: two path-weights intents for prefix ${prefix} (${prev}, ${owner})`);
  const earlier = state.pinned.has(prefix) ? undefined : findPinExclude(state.rules, prefix);
  if (earlier !== undefined) state.unpinned.set(prefix, earlier);
  const pin = state.pinned.get(prefix);
  if (pin !== undefined)
    throw new ValidationError(
      `router ${opts.router}: ${prefix} is pinned by ${pin}; WAN load balancing cannot match DSCP, so a pinned ` +
        `prefix is excluded from balancing and cannot also be weighted (vyos-facts §5.4)`,
    );
  state.owners.set(prefix, owner);
}

function findPinExclude(rules: ConfigJson | null, prefix: string): string | undefined {
  return Object.entries(rules ?? {}).find(
    ([, r]) => isObj(r) && values(r['description'])[0] === pinExcludeDescription(prefix) && r['exclude'] !== undefined,
  )?.[0];
}

/**
 * Renders the `exclude` rule that keeps WAN balancing off a pinned prefix, numbered before every rule
 * whose destination overlaps it (they would mark the pinned packets first).
 */
export function renderPinExclude(state: WanState, prefix: string, pin: string, ctx: RenderContext): void {
  const { opts } = ctx;
  const owner = state.owners.get(prefix);
  if (owner !== undefined)
    throw new ValidationError(
      `router ${opts.router}: ${prefix} is weighted by ${owner} and pinned by ${pin}; WAN load balancing cannot ` +
        `match DSCP, so one prefix is either balanced or pinned (vyos-facts §5.4)`,
    );
  state.pinned.set(prefix, pin);
  const key = `exclude ${prefix}`;
  let num = state.allocated.get(key) ?? findPinExclude(state.rules, prefix);
  // The rule that balanced exactly this prefix becomes its exclusion: left beside it, it would be dead
  // config shadowed by the exclusion (and a reader would think the prefix is still balanced).
  num ??= ruleMatches(state.rules, opts.lanInterface)
    .find((r) => r.takes && !r.exclude && r.unrestricted && r.destinations.length === 1 && r.destinations[0] === prefix)
    ?.num.toString();
  if (num !== undefined && !state.allocated.has(key)) {
    // Taken over only if nothing before it balances the prefix already (it would then stay shadowed).
    const earlier = ruleMatches(state.rules, opts.lanInterface).find(
      (r) =>
        r.num < Number(num) && r.takes && (r.destinations.length === 0 || r.destinations.some((d) => prefixesOverlap(d, prefix))),
    );
    if (earlier !== undefined && findPinExclude(state.rules, prefix) !== num) num = undefined;
  }
  if (num !== undefined) state.allocated.set(key, num);
  if (num === undefined) {
    const first = ruleMatches(state.rules, opts.lanInterface).find(
      (r) => r.takes && (r.destinations.length === 0 || r.destinations.some((d) => prefixesOverlap(d, prefix))),
    )?.num;
    num = freeNumber(state, opts, first, `the pin exclusion of ${prefix}`);
    state.used.add(num);
    state.allocated.set(key, num);
  }
  const t = ctx.touch([...contextPaths.lbRules, num], child(state.rules, num));
  t.desired = {
    description: pinExcludeDescription(prefix),
    'inbound-interface': opts.lanInterface,
    destination: { address: prefix },
    exclude: {},
  };
}

/**
 * The WAN rule that takes LAN traffic to `prefix` on the router: the first rule in number order, not
 * shadowed, that excludes or balances over an active interface and matches every packet to the prefix.
 */
export function effectiveRuleFor(view: EffectiveView, prefix: string, lan: string): WanRuleView | undefined {
  return view.wan.rules
    .filter((r) => r.shadowedBy === undefined)
    .sort((a, b) => a.rule - b.rule)
    .find(
      (r) =>
        (r.exclude || Object.keys(r.weights).length > 0) &&
        r.sources.length === 0 &&
        (r.inboundInterface === undefined || r.inboundInterface === lan || r.inboundInterface === 'any') &&
        (r.destinations.length === 0 || r.destinations.some((d) => prefixCovers(d, prefix))),
    );
}
