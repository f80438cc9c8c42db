/**
 * Shaper and QoS: `bandwidth` → `qos policy shaper PP-<link> bandwidth <rate>mbit`, bound with
 * `qos interface <if> egress`; `qos` → classes of that shaper with `match <class>-<dscp> ip dscp <NAME>`
 * (vyos-facts §2.6). Both kinds share the link's shaper; rate and classes apply whole at every step.
 *
 * Rendered for what HTB does (vyos-facts §5.1–5.2, vyos-1x `python/vyos/qos/trafficshaper.py`): a class
 * without `ceiling` is capped at its own rate, so every class gets `ceiling` = the shaper's rate in
 * absolute units (a class's `N%` ceiling is of the interface speed, not of the shaper) and the default
 * gets `ceiling '100%'` (of the shaper's rate); a bandwidth-only shaper has no classes and its default
 * guarantees 100 % (with no class the default replaces the root class 1:1, `default_minor_id` = 1, so
 * a ceiling could not lift it there). DSCP values are rendered by name (dscp.ts): numbers match the whole TOS byte on 1.4.
 */
import type { BandwidthIntent, QosIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { qosDscpValue } from './dscp.ts';
import {
  check,
  child,
  contextPaths,
  ifaceOf,
  isObj,
  pairWithAlternatives,
  values,
  type ActuationTarget,
  type PreState,
} from './types.ts';

const shaperName = (link: string) => `PP-${link}`;
const mbit = (rate: number) => Math.max(1, Math.round(rate));
/** Rounding the effect tolerates: rates are rendered in whole mbit and whole percent. */
const toleranceBps = 1e6;

/** Guarantees, ceilings and the default of a shaper whose rate is `rateMbit` (rewritten on every render). */
function settle(shaper: ConfigJson, rateMbit: number): void {
  const classes = Object.values(child(shaper, 'class') ?? {}).filter(isObj);
  let guaranteed = 0;
  for (const c of classes) {
    c['ceiling'] = `${rateMbit}mbit`;
    guaranteed += Number.parseInt(values(c['bandwidth'])[0] ?? '0', 10) || 0;
  }
  // The default guarantees what the classes leave (at least 1 %: 0 % fails at commit) and may borrow it all.
  const rest = classes.length === 0 ? 100 : Math.min(100, Math.max(1, 100 - guaranteed));
  shaper['default'] = { bandwidth: `${rest}%`, ceiling: '100%' };
}

export const shaperTarget: ActuationTarget<'bandwidth' | 'qos', PreState> = {
  name: 'shaper',
  kinds: ['bandwidth', 'qos'],
  contexts: ['shapers', 'qosInterfaces'],
  read: (pre) => pre,
  render(intent, pre, { opts, touch }) {
    const iface = ifaceOf(opts, intent.link);
    const name = shaperName(intent.link);
    const st = touch([...contextPaths.shapers, name], child(pre.shapers ?? null, name));
    const sdes: ConfigJson = st.desired ?? {};
    if (intent.kind === 'bandwidth') {
      sdes['bandwidth'] = `${mbit(intent.rate_mbps)}mbit`;
    } else {
      sdes['bandwidth'] ??= `${mbit(opts.topology.link(intent.link).capacity_mbps)}mbit`;
      const classes: ConfigJson = {};
      intent.classes.forEach((c, i) => {
        const match: ConfigJson = {};
        for (const d of [...new Set(c.dscp)].sort((a, b) => a - b)) match[`${c.class}-${d}`] = { ip: { dscp: qosDscpValue(d) } };
        classes[String(10 * (i + 1))] = {
          description: c.class,
          bandwidth: `${Math.round(c.bandwidth_pct)}%`,
          priority: String(c.priority),
          ...(Object.keys(match).length > 0 ? { match } : {}),
        };
      });
      sdes['class'] = classes;
    }
    // The shaper's rate in mbit as rendered here; anything else (an operator's `auto`) counts as the link's capacity.
    const rate = /^(\d+)mbit$/.exec(values(sdes['bandwidth'])[0] ?? '')?.[1];
    settle(sdes, rate !== undefined ? Number(rate) : mbit(opts.topology.link(intent.link).capacity_mbps));
    st.desired = sdes;
    const it = touch([...contextPaths.qosInterfaces, iface], child(pre.qosInterfaces ?? null, iface));
    it.desired = { ...(it.desired ?? {}), egress: name };
  },
  effect(intent: BandwidthIntent | QosIntent, dataplane, opts) {
    const iface = ifaceOf(opts, intent.link);
    const name = shaperName(intent.link);
    const shaper = dataplane.effective.shapers[iface];
    if (!shaper || shaper.policy !== name) return check([`${iface} egress is not shaped by ${name}`]);
    const problems: string[] = [];
    const root = shaper.rootBps;
    const rateOk = (bps: number, want: number) => Math.abs(bps - want) <= toleranceBps;
    // Nothing throttles below the shaper's rate: every class, and the default, may borrow all of it.
    for (const c of [...shaper.classes, shaper.default])
      if (c.ceilBps + toleranceBps < root)
        problems.push(`${name} class ${c.description ?? c.id} is capped at ${c.ceilBps / 1e6} Mbit/s of ${root / 1e6}`);
    if (intent.kind === 'bandwidth') {
      if (!rateOk(root, mbit(intent.rate_mbps) * 1e6))
        problems.push(`${name} shapes to ${root / 1e6} Mbit/s, not ${mbit(intent.rate_mbps)}`);
      return check(problems);
    }
    for (const c of intent.classes) {
      const held = shaper.classes.find((x) => x.description === c.class);
      if (!held) {
        problems.push(`${name} has no class ${c.class}`);
        continue;
      }
      if (!rateOk(held.rateBps, (root * Math.round(c.bandwidth_pct)) / 100))
        problems.push(`${c.class} is guaranteed ${held.rateBps / 1e6} Mbit/s, not ${c.bandwidth_pct}% of ${root / 1e6}`);
      // What the class really matches on this image (a number is a TOS byte on 1.4): the intent's set exactly.
      const want = [...new Set(c.dscp)].sort((a, b) => a - b);
      if (held.dscp.join(',') !== want.join(','))
        problems.push(`${c.class} really matches DSCP [${held.dscp.join(',')}], not [${want.join(',')}]`);
    }
    return check(problems);
  },
  cases(topology, router) {
    const { primary } = pairWithAlternatives(topology, router);
    const capacity = topology.link(primary).capacity_mbps;
    return [
      { name: 'shape a link to 37 %', intents: [{ kind: 'bandwidth', router, link: primary, rate_mbps: capacity * 0.37 }] },
      {
        name: 'rate and classes on one shaper',
        intents: [
          { kind: 'bandwidth', router, link: primary, rate_mbps: capacity * 0.5 },
          {
            kind: 'qos',
            router,
            link: primary,
            classes: [
              { class: 'voice', dscp: [46], bandwidth_pct: 20, priority: 7 },
              { class: 'bulk', dscp: [10, 12], bandwidth_pct: 50, priority: 1 },
            ],
          },
        ],
      },
    ];
  },
};
