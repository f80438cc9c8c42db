/**
 * Semantic breaches: what in a router's running config commits fine yet does something nobody would
 * mean (vyos-facts §5). The check a reviewer runs on every router after a closed-loop run (the demo's
 * `--gitops-dir` writes the configs), as one function over the effective dataplane:
 * - a shaper class or its default capped below the shaper (no `ceiling`: HTB caps a class at its rate);
 * - a numeric QoS DSCP on an image that compares it with the whole TOS byte;
 * - a WAN rule weighting an interface that is never active, or a rule shadowed by an earlier one;
 * - site-to-site traffic source-NATed by the WAN balancer;
 * - a class pin whose packet mark the WAN balancer may overwrite.
 */
import { child, entries, values, type ConfigNodeJson } from './config-values.ts';
import { effectiveDataplane, numericQosDscpIsTos, type DataplaneOptions } from './dataplane.ts';
import type { ConfigJson } from './types.ts';

export interface Breach {
  /** What kind of harm: one of the facts of vyos-facts §5. */
  kind: 'shaper-cap' | 'numeric-dscp' | 'inactive-interface' | 'shadowed-rule' | 'site-to-site-snat' | 'mark-conflict';
  /** Where, in the config's own words. */
  where: string;
  detail: string;
}

const pct = (part: number, whole: number) => `${Math.round((part / whole) * 1000) / 10}%`;

/** Numeric `qos policy shaper P class N match M ip dscp V` values, which this image reads as a TOS byte. */
function numericDscpMatches(config: ConfigJson): Breach[] {
  const out: Breach[] = [];
  const shapers = child(child(child(config, 'qos'), 'policy'), 'shaper');
  for (const [policy, p] of entries(shapers)) {
    for (const [cls, c] of entries(child(p as ConfigNodeJson, 'class'))) {
      for (const [match, m] of entries(child(c, 'match'))) {
        for (const v of values(child(child(m, 'ip'), 'dscp'))) {
          if (/^\d+$/.test(v))
            out.push({
              kind: 'numeric-dscp',
              where: `qos policy shaper ${policy} class ${cls} match ${match}`,
              detail: `ip dscp '${v}' compares the whole TOS byte on this image; use the DSCP name`,
            });
        }
      }
    }
  }
  return out;
}

/**
 * Every semantic breach of one router's running config. `sitePrefixes` are the prefixes of the
 * network's sites: a WAN rule towards them carries site-to-site traffic, which must keep its source.
 */
export function semanticBreaches(config: ConfigJson, opts: DataplaneOptions & { sitePrefixes: string[] }): Breach[] {
  const dp = effectiveDataplane(config, opts);
  const out: Breach[] = [];
  for (const [iface, s] of Object.entries(dp.shapers)) {
    for (const c of [...s.classes, s.default]) {
      if (c.ceilBps >= s.rootBps) continue;
      out.push({
        kind: 'shaper-cap',
        where: `qos policy shaper ${s.policy} ${c.id === 'default' ? 'default' : `class ${c.id}`} (${iface})`,
        detail: `capped at ${pct(c.ceilBps, s.rootBps)} of the shaper: no ceiling lets it borrow`,
      });
    }
  }
  if (numericQosDscpIsTos(opts.version, opts.build)) out.push(...numericDscpMatches(config));
  const sites = new Set(opts.sitePrefixes);
  for (const r of dp.wan.rules) {
    const where = `load-balancing wan rule ${r.rule}`;
    if (r.shadowedBy !== undefined)
      out.push({ kind: 'shadowed-rule', where, detail: `rule ${r.shadowedBy} takes all of its traffic first` });
    for (const i of r.inactive)
      out.push({ kind: 'inactive-interface', where: `${where} interface ${i.iface}`, detail: i.reason });
    if (r.snat && !r.exclude && r.destinations.some((d) => sites.has(d)))
      out.push({ kind: 'site-to-site-snat', where, detail: 'site-to-site traffic is source-NATed (no disable-source-nat)' });
  }
  for (const m of dp.markConflicts) {
    if (m.winner === 'policy-route') continue;
    out.push({
      kind: 'mark-conflict',
      where: `policy route ${m.policy} rule ${m.rule}`,
      detail: `WAN rule ${m.wanRule} marks the same packets; the pin is not guaranteed to win`,
    });
  }
  return out;
}
