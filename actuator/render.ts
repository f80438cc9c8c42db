/**
 * Intents → desired VyOS subtrees for one router (DESIGN.md §5, vyos-facts §2.4–2.6):
 * - path-weights → `load-balancing wan rule N` (destination prefix, `interface <if> weight 1–255`);
 *   the rule for a prefix is found in the router's config (the seed's one-rule-per-prefix layout) or
 *   allocated after the highest rule number;
 * - class-pin → `policy route PATHPILOT rule N` (DSCP + destination → `set table T`) and
 *   `protocols static table T route <prefix> next-hop <peer>`; the policy is bound to the LAN interface;
 * - bandwidth → `qos policy shaper PP-<link> bandwidth <rate>mbit`, bound with `qos interface <if> egress`;
 * - qos → classes of that shaper with `match <class>-<dscp> ip dscp <d>`.
 *
 * Rendering is pure: a function of the intents, the rollout fraction and the router's config before
 * the change (`PreState`), so every step and every restart renders the same rule numbers. The actuator
 * turns the desired subtrees into the minimal ops with `diffOps` against what `/retrieve` returns.
 */
import type { Topology } from '../core/config/topology.ts';
import { ValidationError } from '../core/errors.ts';
import type { Intent } from '../core/proposal.ts';
import { cloneConfig, pathKey } from './vyos/diff.ts';
import type { ConfigJson } from './vyos/types.ts';

/** Parent subtrees read before rendering (one `/retrieve showConfig` each). */
export const contextPaths = {
  lbRules: ['load-balancing', 'wan', 'rule'],
  policyRoute: ['policy', 'route'],
  staticTables: ['protocols', 'static', 'table'],
  shapers: ['qos', 'policy', 'shaper'],
  qosInterfaces: ['qos', 'interface'],
} as const;
export type ContextName = keyof typeof contextPaths;
/** The router's config under each context path before the change (null when unset). */
export type PreState = Partial<Record<ContextName, ConfigJson | null>>;

export const pinPolicyName = 'PATHPILOT';

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

/** Which context subtrees the intents need. */
export function contextsFor(intents: readonly Intent[]): ContextName[] {
  const need = new Set<ContextName>();
  for (const i of intents) {
    if (i.kind === 'path-weights') need.add('lbRules');
    if (i.kind === 'class-pin') need.add('policyRoute').add('staticTables');
    if (i.kind === 'bandwidth' || i.kind === 'qos') need.add('shapers').add('qosInterfaces');
  }
  return [...need];
}

const isObj = (v: unknown): v is ConfigJson => typeof v === 'object' && v !== null && !Array.isArray(v);
const child = (c: ConfigJson | null | undefined, k: string): ConfigJson | null => {
  const v = c?.[k];
  return isObj(v) ? v : null;
};
const values = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

function ifaceOf(opts: RenderOptions, link: string): string {
  let end;
  try {
    end = opts.topology.linkEnd(link, opts.router);
  } catch {
    throw new ValidationError(`intent for router ${opts.router}: unknown link "${link}"`);
  }
  if (!end) throw new ValidationError(`intent for router ${opts.router}: link "${link}" does not touch this router`);
  return end.interface;
}

/** Traffic shares of a weight map (sum 1), by interface. */
export function shares(weights: Record<string, number>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  if (total <= 0) return out;
  for (const [k, w] of Object.entries(weights)) out[k] = w / total;
  return out;
}

/** Fraction of traffic that moves between two weight maps (½ Σ |Δshare|). */
export function shiftBetween(a: Record<string, number>, b: Record<string, number>): number {
  const sa = shares(a);
  const sb = shares(b);
  let sum = 0;
  for (const k of new Set([...Object.keys(sa), ...Object.keys(sb)])) sum += Math.abs((sa[k] ?? 0) - (sb[k] ?? 0));
  return sum / 2;
}

/**
 * Weights for a rollout fraction `f` between `before` and `after` (integers 1–255). At f = 1 the
 * target weights exactly; before that, interpolated shares scaled to 100, an interface keeps weight
 * ≥ 1 while its share is above 0.
 */
export function stepWeights(before: Record<string, number>, after: Record<string, number>, f: number): Record<string, number> {
  if (f >= 1 || Object.keys(before).length === 0) return { ...after };
  const sa = shares(before);
  const sb = shares(after);
  const out: Record<string, number> = {};
  for (const k of [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort()) {
    const s = (sa[k] ?? 0) + f * ((sb[k] ?? 0) - (sa[k] ?? 0));
    if (s > 1e-9) out[k] = Math.min(255, Math.max(1, Math.round(s * 100)));
  }
  return out;
}

function ruleWeights(rule: ConfigJson | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [iface, opts] of Object.entries(child(rule, 'interface') ?? {})) {
    const w = Number(values(isObj(opts) ? opts['weight'] : undefined)[0] ?? '1');
    out[iface] = Number.isFinite(w) && w >= 1 ? w : 1;
  }
  return out;
}

/** Finds the LB rule whose destination is exactly `prefix` (and nothing narrower: no source/port match). */
function findRule(rules: ConfigJson | null, prefix: string): string | undefined {
  for (const [num, rule] of Object.entries(rules ?? {})) {
    if (!isObj(rule)) continue;
    const dst = values(child(rule, 'destination')?.['address']);
    if (dst.length === 1 && dst[0] === prefix && !rule['source'] && !child(rule, 'destination')?.['port']) return num;
  }
  return undefined;
}

function nextNumber(used: Iterable<string>, first: number, step = 10): string {
  let max = 0;
  for (const u of used) if (Number(u) > max) max = Number(u);
  return String(max === 0 ? first : Math.ceil((max + 1) / step) * step);
}

/**
 * Desired subtrees for one router's intents at rollout fraction `f` (0 < f ≤ 1). Weight intents
 * interpolate from the pre-change weights; other intents apply whole at every step.
 */
export function renderRouter(intents: readonly Intent[], f: number, pre: PreState, opts: RenderOptions): TouchedSubtree[] {
  const out = new Map<string, TouchedSubtree>();
  const touch = (path: string[], base: ConfigJson | null): TouchedSubtree => {
    const key = pathKey(path);
    let t = out.get(key);
    if (!t) out.set(key, (t = { path, desired: cloneConfig(base) }));
    return t;
  };
  const lbRules = pre.lbRules ?? null;
  const allocated = new Map<string, string>();
  const usedRules = new Set(Object.keys(lbRules ?? {}));
  const seenPrefix = new Map<string, string>();

  for (const intent of intents) {
    if (intent.router !== opts.router) continue;
    switch (intent.kind) {
      case 'path-weights': {
        const after: Record<string, number> = {};
        for (const [link, w] of Object.entries(intent.weights)) after[ifaceOf(opts, link)] = w;
        if (Object.keys(after).length === 0) throw new ValidationError(`path-weights for ${intent.pair.join('→')}: no weights`);
        for (const prefix of intent.dst_prefixes) {
          const owner = `${intent.pair.join('>')}/${intent.class}`;
          const prev = seenPrefix.get(prefix);
          if (prev !== undefined && prev !== owner)
            throw new ValidationError(`router ${opts.router}: two path-weights intents for prefix ${prefix} (${prev}, ${owner})`);
          seenPrefix.set(prefix, owner);
          let num = findRule(lbRules, prefix) ?? allocated.get(prefix);
          if (num === undefined) {
            num = nextNumber(usedRules, opts.firstRule ?? 10);
            usedRules.add(num);
            allocated.set(prefix, num);
          }
          const base = child(lbRules, num);
          const t = touch([...contextPaths.lbRules, num], base);
          const rule: ConfigJson = t.desired ?? {
            description: `pathpilot ${intent.pair[0]} to ${intent.pair[1]}`,
            'inbound-interface': opts.lanInterface,
            destination: { address: prefix },
          };
          const weights = stepWeights(ruleWeights(base), after, f);
          const ifaces: ConfigJson = {};
          for (const [iface, w] of Object.entries(weights)) ifaces[iface] = { weight: String(w) };
          rule['interface'] = ifaces;
          t.desired = rule;
        }
        break;
      }
      case 'class-pin': {
        const iface = ifaceOf(opts, intent.link);
        const link = opts.topology.link(intent.link);
        const peer = link.a.site === opts.router ? link.b : link.a;
        if (!peer.address) throw new ValidationError(`class-pin over ${intent.link}: the peer end has no address`);
        // One table per first-hop link, numbered by the link's place among this router's links.
        const mine = [...opts.topology.links.values()].filter((l) => l.a.site === opts.router || l.b.site === opts.router);
        const table = String(101 + mine.findIndex((l) => l.id === intent.link));
        const tablePre = child(pre.staticTables ?? null, table);
        const tt = touch([...contextPaths.staticTables, table], tablePre);
        const tdes: ConfigJson = tt.desired ?? {};
        tdes['description'] = `pathpilot pin via ${intent.link}`;
        const routes: ConfigJson = child(tdes, 'route') ?? {};
        for (const prefix of intent.dst_prefixes) {
          routes[prefix] = { 'next-hop': { [peer.address]: { interface: iface } } };
        }
        tdes['route'] = routes;
        tt.desired = tdes;

        const policyPre = child(pre.policyRoute ?? null, pinPolicyName);
        const pt = touch([...contextPaths.policyRoute, pinPolicyName], policyPre);
        const pdes: ConfigJson = pt.desired ?? {};
        const ifaces = new Set(values(pdes['interface']));
        ifaces.add(opts.lanInterface);
        pdes['interface'] = ifaces.size === 1 ? [...ifaces][0]! : [...ifaces];
        const rules: ConfigJson = child(pdes, 'rule') ?? {};
        for (const prefix of intent.dst_prefixes) {
          const desc = `pathpilot pin ${intent.class} ${intent.pair[0]} to ${intent.pair[1]} ${prefix}`;
          const existing = Object.entries(rules).find(([, r]) => isObj(r) && r['description'] === desc)?.[0];
          const num = existing ?? nextNumber(Object.keys(rules), 100);
          const dscp = [...new Set(intent.dscp)].sort((a, b) => a - b).map(String);
          rules[num] = {
            description: desc,
            destination: { address: prefix },
            dscp: dscp.length === 1 ? dscp[0]! : dscp,
            set: { table },
          };
        }
        pdes['rule'] = rules;
        pt.desired = pdes;
        break;
      }
      case 'bandwidth':
      case 'qos': {
        const iface = ifaceOf(opts, intent.link);
        const name = `PP-${intent.link}`;
        const shaperPre = child(pre.shapers ?? null, name);
        const st = touch([...contextPaths.shapers, name], shaperPre);
        const sdes: ConfigJson = st.desired ?? {};
        const capacity = opts.topology.link(intent.link).capacity_mbps;
        if (intent.kind === 'bandwidth') {
          const rate = Math.max(1, Math.round(intent.rate_mbps));
          sdes['bandwidth'] = `${rate}mbit`;
        } else {
          sdes['bandwidth'] ??= `${Math.round(capacity)}mbit`;
          const classes: ConfigJson = {};
          intent.classes.forEach((c, i) => {
            const match: ConfigJson = {};
            for (const d of [...new Set(c.dscp)].sort((a, b) => a - b)) match[`${c.class}-${d}`] = { ip: { dscp: String(d) } };
            classes[String(10 * (i + 1))] = {
              description: c.class,
              bandwidth: `${Math.round(c.bandwidth_pct)}%`,
              priority: String(c.priority),
              ...(Object.keys(match).length > 0 ? { match } : {}),
            };
          });
          sdes['class'] = classes;
        }
        sdes['default'] ??= { bandwidth: '10%' };
        st.desired = sdes;
        const it = touch([...contextPaths.qosInterfaces, iface], child(pre.qosInterfaces ?? null, iface));
        it.desired = { ...(it.desired ?? {}), egress: name };
        break;
      }
    }
  }
  return [...out.values()];
}

/** Largest traffic shift any step moves, over every weight intent of a proposal. */
export function maxStepShift(
  intents: readonly Intent[],
  steps: readonly number[],
  preWeights: (intent: Intent & { kind: 'path-weights' }, prefix: string) => Record<string, number>,
  ifaceFor: (router: string, link: string) => string,
): number {
  let max = 0;
  for (const intent of intents) {
    if (intent.kind !== 'path-weights') continue;
    const after: Record<string, number> = {};
    for (const [link, w] of Object.entries(intent.weights)) after[ifaceFor(intent.router, link)] = w;
    for (const prefix of intent.dst_prefixes) {
      const before = preWeights(intent, prefix);
      let prev = before;
      for (const f of steps) {
        const w = stepWeights(before, after, f);
        if (Object.keys(prev).length > 0) max = Math.max(max, shiftBetween(prev, w));
        prev = w;
      }
    }
  }
  return max;
}

/** Current LB weights for a prefix from a `load-balancing wan rule` subtree ({} when no rule). */
export function weightsForPrefix(lbRules: ConfigJson | null, prefix: string): Record<string, number> {
  const num = findRule(lbRules, prefix);
  return num === undefined ? {} : ruleWeights(child(lbRules, num));
}
