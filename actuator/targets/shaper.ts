/**
 * Shaper and QoS: `bandwidth` → `qos policy shaper PP-<link> bandwidth <rate>mbit`, bound with
 * `qos interface <if> egress`; `qos` → classes of that shaper with `match <class>-<dscp> ip dscp <d>`
 * (vyos-facts §2.6). Both kinds share the link's shaper; rate and classes apply whole at every step.
 */
import type { BandwidthIntent, QosIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import {
  check,
  child,
  contextPaths,
  ifaceOf,
  isObj,
  pairWithAlternatives,
  subtree,
  values,
  type ActuationTarget,
  type PreState,
} from './types.ts';

const shaperName = (link: string) => `PP-${link}`;

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
      sdes['bandwidth'] = `${Math.max(1, Math.round(intent.rate_mbps))}mbit`;
    } else {
      sdes['bandwidth'] ??= `${Math.round(opts.topology.link(intent.link).capacity_mbps)}mbit`;
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
  },
  effect(intent: BandwidthIntent | QosIntent, dataplane, opts) {
    const iface = ifaceOf(opts, intent.link);
    const name = shaperName(intent.link);
    const shaper = subtree(dataplane.config, [...contextPaths.shapers, name]);
    const problems: string[] = [];
    if (values(subtree(dataplane.config, [...contextPaths.qosInterfaces, iface])?.['egress'])[0] !== name)
      problems.push(`${iface} egress is not shaped by ${name}`);
    if (!shaper) return check([...problems, `no shaper ${name}`]);
    if (intent.kind === 'bandwidth') {
      const rate = `${Math.max(1, Math.round(intent.rate_mbps))}mbit`;
      if (values(shaper['bandwidth'])[0] !== rate)
        problems.push(`${name} shapes to ${values(shaper['bandwidth'])[0]}, not ${rate}`);
      return check(problems);
    }
    const classes = Object.values(child(shaper, 'class') ?? {}).filter(isObj);
    for (const c of intent.classes) {
      const held = classes.find((x) => values(x['description'])[0] === c.class);
      if (!held) {
        problems.push(`${name} has no class ${c.class}`);
        continue;
      }
      if (values(held['bandwidth'])[0] !== `${Math.round(c.bandwidth_pct)}%`)
        problems.push(`${c.class} is not guaranteed ${c.bandwidth_pct}%`);
      const marks = Object.values(child(held, 'match') ?? {})
        .map((m) => values(child(isObj(m) ? m : null, 'ip')?.['dscp'])[0])
        .filter((d): d is string => d !== undefined);
      for (const d of c.dscp) if (!marks.includes(String(d))) problems.push(`${c.class} does not match DSCP ${d}`);
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
