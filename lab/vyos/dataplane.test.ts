/**
 * The effective dataplane against the facts: each row is a config, what the router really does with
 * it, and where that fact comes from (shared/reference/vyos-facts.md §5 and the vyos-1x /
 * vyatta-wanloadbalance file it names).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { createVyosLabForTopology } from './index.ts';
import { classFor, effectiveDataplane, numericQosDscpIsTos, wanRuleFor, type EffectiveDataplane } from './dataplane.ts';
import type { ConfigJson, VyosVersion } from './types.ts';

const GBIT = 1e9;
const BUILD_2025_06 = '1.5-rolling-202506020019';
const BUILD_2024_12 = '1.5-rolling-202412100007';

function dp(config: ConfigJson, version: VyosVersion = '1.4', build?: string): EffectiveDataplane {
  return effectiveDataplane(config, { version, ...(build ? { build } : {}), speedBps: () => GBIT });
}

function shaperConfig(policy: ConfigJson): ConfigJson {
  return { qos: { interface: { eth1: { egress: 'WAN' } }, policy: { shaper: { WAN: policy } } } };
}

const dscpClass = (dscp: string): ConfigJson =>
  shaperConfig({
    bandwidth: '1gbit',
    class: { '10': { bandwidth: '30%', ceiling: '100%', match: { rt: { ip: { dscp } } } } },
    default: { bandwidth: '70%', ceiling: '100%' },
  });

interface ShaperRow {
  fact: string;
  config: ConfigJson;
  version?: VyosVersion;
  build?: string;
  dscp: number;
  /** The class the packet lands in, and its rate and ceiling (bits/s). */
  want: { cls: string; rateBps: number; ceilBps: number; rootBps: number };
}

const shaperRows: ShaperRow[] = [
  {
    fact: '§5.1 trafficshaper.py: no ceiling ⇒ HTB ceil = rate; bandwidth-only + default 10 % runs the interface at 10 %',
    config: shaperConfig({ bandwidth: '2500mbit', default: { bandwidth: '10%' } }),
    dscp: 0,
    want: { cls: 'default', rateBps: 250e6, ceilBps: 250e6, rootBps: 250e6 },
  },
  {
    fact: "§5.1 trafficshaper.py (notes/vyos.md row 4): with no class the default IS root 1:1; a ceiling '100%' cannot borrow",
    config: shaperConfig({ bandwidth: '2500mbit', default: { bandwidth: '10%', ceiling: '100%' } }),
    dscp: 0,
    want: { cls: 'default', rateBps: 250e6, ceilBps: 250e6, rootBps: 250e6 },
  },
  {
    fact: '§5.1 trafficshaper.py: a bandwidth-only shaper runs at its bandwidth with default 100%',
    config: shaperConfig({ bandwidth: '2500mbit', default: { bandwidth: '100%' } }),
    dscp: 0,
    want: { cls: 'default', rateBps: 2500e6, ceilBps: 2500e6, rootBps: 2500e6 },
  },
  {
    fact: "§5.1 trafficshaper.py: beside a class, a default with ceiling '100%' (of the shaper bandwidth) borrows up to the root",
    config: shaperConfig({
      bandwidth: '2500mbit',
      class: { '10': { bandwidth: '20%', ceiling: '2500mbit', match: { rt: { ip: { dscp: 'EF' } } } } },
      default: { bandwidth: '10%', ceiling: '100%' },
    }),
    dscp: 0,
    want: { cls: 'default', rateBps: 250e6, ceilBps: 2500e6, rootBps: 2500e6 },
  },
  {
    fact: '§5.1 trafficshaper.py T5296: class bandwidth N% is of the shaper bandwidth; no ceiling caps it there',
    config: shaperConfig({
      bandwidth: '500mbit',
      class: { '10': { bandwidth: '20%', match: { rt: { ip: { dscp: 'EF' } } } } },
      default: { bandwidth: '80%', ceiling: '100%' },
    }),
    dscp: 46,
    want: { cls: '10', rateBps: 100e6, ceilBps: 100e6, rootBps: 500e6 },
  },
  {
    fact: "§5.1 base.py _rate_convert: a class ceiling '100%' is of the interface speed",
    config: shaperConfig({
      bandwidth: '500mbit',
      class: { '10': { bandwidth: '20%', ceiling: '100%', match: { rt: { ip: { dscp: 'EF' } } } } },
      default: { bandwidth: '80%' },
    }),
    dscp: 46,
    want: { cls: '10', rateBps: 100e6, ceilBps: GBIT, rootBps: 500e6 },
  },
  {
    fact: "§5.2 base.py `dsfield {N} 0xff`: numeric '46' on 1.4 compares TOS 0x2e, so EF traffic goes to default",
    config: dscpClass('46'),
    version: '1.4',
    dscp: 46,
    want: { cls: 'default', rateBps: 700e6, ceilBps: GBIT, rootBps: GBIT },
  },
  {
    fact: '§5.2 PR #4302 (2025-01-13): a 1.5 build from 2024-12 still compares the TOS byte',
    config: dscpClass('46'),
    version: '1.5',
    build: BUILD_2024_12,
    dscp: 46,
    want: { cls: 'default', rateBps: 700e6, ceilBps: GBIT, rootBps: GBIT },
  },
  {
    fact: '§5.2 PR #4302: on a 2025-06 1.5 build numeric 46 is DSCP 46 (EF)',
    config: dscpClass('46'),
    version: '1.5',
    build: BUILD_2025_06,
    dscp: 46,
    want: { cls: '10', rateBps: 300e6, ceilBps: GBIT, rootBps: GBIT },
  },
  {
    fact: '§5.2 base.py _dsfields EF = 0xb8: the name matches DSCP 46 on 1.4',
    config: dscpClass('EF'),
    version: '1.4',
    dscp: 46,
    want: { cls: '10', rateBps: 300e6, ceilBps: GBIT, rootBps: GBIT },
  },
  {
    fact: '§5.2 base.py _dsfields: the name EF matches DSCP 46 on a 2025-06 1.5 build too',
    config: dscpClass('EF'),
    version: '1.5',
    build: BUILD_2025_06,
    dscp: 46,
    want: { cls: '10', rateBps: 300e6, ceilBps: GBIT, rootBps: GBIT },
  },
  {
    fact: "§5.2 base.py `dsfield {N} 0xff`: numeric '40' on 1.4 is TOS 0x28 = AF11 (DSCP 10)",
    config: dscpClass('40'),
    version: '1.4',
    dscp: 10,
    want: { cls: '10', rateBps: 300e6, ceilBps: GBIT, rootBps: GBIT },
  },
];

describe('effective dataplane: QoS shaper (HTB) — vyos-facts §5.1, §5.2', () => {
  it.each(shaperRows)('$fact', (row) => {
    const shaper = dp(row.config, row.version, row.build).shapers['eth1']!;
    expect(shaper.rootBps).toBeCloseTo(row.want.rootBps, 0);
    const cls = classFor(shaper, row.dscp);
    expect(cls.id).toBe(row.want.cls);
    expect(cls.rateBps).toBeCloseTo(row.want.rateBps, 0);
    expect(cls.ceilBps).toBeCloseTo(row.want.ceilBps, 0);
  });

  it('numeric 46 on 1.4 matches no DSCP at all (TOS 0x2e has an ECN bit set)', () => {
    expect(dp(dscpClass('46'), '1.4').shapers['eth1']!.classes[0]!.dscp).toEqual([]);
    expect(dp(dscpClass('46'), '1.5', BUILD_2025_06).shapers['eth1']!.classes[0]!.dscp).toEqual([46]);
  });

  it('the default class holds exactly the DSCP values no class matches', () => {
    const shaper = dp(dscpClass('EF'), '1.4').shapers['eth1']!;
    expect(shaper.default.dscp).toHaveLength(63);
    expect(shaper.default.dscp).not.toContain(46);
  });

  it('knows which images compare the TOS byte', () => {
    expect(numericQosDscpIsTos('1.4', '1.4.0')).toBe(true);
    expect(numericQosDscpIsTos('1.5', '1.5-rolling-202501120000')).toBe(true);
    expect(numericQosDscpIsTos('1.5', '1.5-rolling-202501130000')).toBe(false);
    expect(numericQosDscpIsTos('1.5', undefined)).toBe(false);
  });

  it('an interface without an egress shaper has no shaper', () => {
    expect(dp(shaperConfig({ bandwidth: '1gbit', default: { bandwidth: '10%' } })).shapers['eth2']).toBeUndefined();
  });
});

const health = (...ifaces: string[]): ConfigJson =>
  Object.fromEntries(ifaces.map((i) => [i, { nexthop: '192.0.2.1', test: { '10': { type: 'ping' } } }]));

function wanConfig(rules: ConfigJson, wan: ConfigJson = {}): ConfigJson {
  return { 'load-balancing': { wan: { ...wan, rule: rules } } };
}

describe('effective dataplane: WAN load balancing — vyos-facts §5.3', () => {
  it('§5.3 lbdata.cc is_active: a weight on an interface without interface-health is inactive', () => {
    const d = dp(
      wanConfig(
        { '10': { destination: { address: '10.30.0.0/16' }, interface: { eth1: { weight: '3' }, eth2: { weight: '1' } } } },
        { 'interface-health': health('eth2') },
      ),
    );
    const rule = d.wan.rules[0]!;
    expect(rule.weights).toEqual({ eth2: 1 });
    expect(rule.inactive).toEqual([{ iface: 'eth1', reason: expect.stringContaining('interface-health eth1') }]);
  });

  it('§5.3 lbdata.cc is_active: interface-health without a nexthop is inactive too', () => {
    const d = dp(
      wanConfig({ '10': { interface: { eth1: { weight: '2' } } } }, { 'interface-health': { eth1: { 'failure-count': '3' } } }),
    );
    expect(d.wan.rules[0]!.weights).toEqual({});
    expect(d.wan.rules[0]!.inactive[0]!.reason).toContain('nexthop');
  });

  it('§5.3 first match wins: a rule numbered after a catch-all is shadowed', () => {
    const d = dp(
      wanConfig(
        {
          '10': { interface: { eth1: {} } },
          '20': { destination: { address: '10.30.0.0/16' }, interface: { eth2: { weight: '5' } } },
        },
        { 'interface-health': health('eth1', 'eth2') },
      ),
    );
    expect(d.wan.rules.map((r) => r.shadowedBy)).toEqual([undefined, 10]);
    expect(wanRuleFor(d, '10.10.0.0/16', '10.30.1.0/24')!.rule).toBe(10);
  });

  it('§5.3 first match wins: a covering prefix shadows a narrower later rule, a disjoint one does not', () => {
    const d = dp(
      wanConfig(
        {
          '10': { destination: { address: '10.0.0.0/8' }, interface: { eth1: {} } },
          '20': { destination: { address: '10.30.0.0/16' }, interface: { eth2: {} } },
          '30': { destination: { address: '192.168.0.0/16' }, interface: { eth2: {} } },
        },
        { 'interface-health': health('eth1', 'eth2') },
      ),
    );
    expect(d.wan.rules.map((r) => r.shadowedBy)).toEqual([undefined, 10, undefined]);
  });

  it('§5.3 a rule with no active interface takes no traffic: it shadows nothing and the next rule matches', () => {
    const d = dp(
      wanConfig(
        {
          '10': { interface: { eth1: {} } },
          '20': { destination: { address: '10.30.0.0/16' }, interface: { eth2: {} } },
        },
        { 'interface-health': health('eth2') },
      ),
    );
    expect(d.wan.rules[1]!.shadowedBy).toBeUndefined();
    expect(wanRuleFor(d, '10.10.0.0/16', '10.30.0.0/24')!.rule).toBe(20);
    expect(wanRuleFor(d, '10.10.0.0/16', '10.40.0.0/24')).toBeUndefined();
  });

  it('§5.3 load-balancing_wan.xml.in (notes/vyos.md row 21): SNAT unless the global disable-source-nat', () => {
    const rules = {
      '10': { destination: { address: '10.30.0.0/16' }, interface: { eth1: {} } },
      '20': { destination: { address: '10.40.0.0/16' }, interface: { eth1: {} }, exclude: {} },
    };
    const snat = dp(wanConfig(rules, { 'interface-health': health('eth1') }));
    expect(snat.wan.rules.map((r) => r.snat)).toEqual([true, false]);
    const global = dp(wanConfig(rules, { 'interface-health': health('eth1'), 'disable-source-nat': {} }));
    expect(global.wan.rules.map((r) => r.snat)).toEqual([false, false]);
  });

  it('§5.3 a per-rule disable-source-nat does not exist in VyOS: it is reported and changes nothing', () => {
    const d = dp(
      wanConfig({ '10': { interface: { eth1: {} }, 'disable-source-nat': {} } }, { 'interface-health': health('eth1') }),
    );
    expect(d.wan.rules[0]!.snat).toBe(true);
    expect(d.ignored.join('\n')).toContain('rule 10 disable-source-nat');
  });
});

describe('effective dataplane: policy route and WAN marks — vyos-facts §5.2, §5.4', () => {
  const pinAndWan = (pinDst: string, interfaces: string | undefined): ConfigJson => ({
    policy: {
      route: {
        PIN: {
          ...(interfaces ? { interface: interfaces } : {}),
          rule: { '10': { dscp: '46', destination: { address: pinDst }, set: { table: '20' } } },
        },
      },
    },
    ...wanConfig(
      { '10': { 'inbound-interface': 'eth0', destination: { address: '10.30.0.0/16' }, interface: { eth1: {} } } },
      { 'interface-health': health('eth1') },
    ),
  });

  it('§5.2 nftables dscp: a policy route matches numeric DSCP as DSCP on 1.4 and 1.5', () => {
    for (const version of ['1.4', '1.5'] as const) {
      expect(dp(pinAndWan('10.30.0.0/16', 'eth0'), version).policy.rules[0]!.dscp).toEqual([46]);
    }
  });

  it('§5.4 same hook, same priority: a bound pin overlapping a WAN rule is a conflict nobody is sure to win', () => {
    expect(dp(pinAndWan('10.30.5.0/24', 'eth0')).markConflicts).toEqual([
      { policy: 'PIN', rule: 10, wanRule: 10, winner: 'undetermined' },
    ]);
  });

  it('§5.4 no conflict without overlap, or when the pin is bound to no interface', () => {
    expect(dp(pinAndWan('10.40.0.0/16', 'eth0')).markConflicts).toEqual([]);
    expect(dp(pinAndWan('10.30.0.0/16', undefined)).markConflicts).toEqual([]);
    expect(dp(pinAndWan('10.30.0.0/16', 'eth3')).markConflicts).toEqual([]);
  });

  it('§5.4 vyatta-wanloadbalance accepts excluded packets before marking: an earlier exclusion of the pin ends the conflict', () => {
    const config = pinAndWan('10.30.5.0/24', 'eth0');
    const rules = ((config['load-balancing'] as ConfigJson)['wan'] as ConfigJson)['rule'] as ConfigJson;
    rules['5'] = { 'inbound-interface': 'eth0', destination: { address: '10.30.5.0/24' }, exclude: {} };
    expect(dp(config).markConflicts).toEqual([]);
    // An exclusion of only part of the pinned traffic leaves the conflict.
    rules['5'] = { 'inbound-interface': 'eth0', destination: { address: '10.30.5.0/25' }, exclude: {} };
    expect(dp(config).markConflicts).toEqual([{ policy: 'PIN', rule: 10, wanRule: 10, winner: 'undetermined' }]);
  });
});

describe('effective dataplane: tolerance', () => {
  it('an empty config has no shapers, rules or conflicts, and unreadable values are reported', () => {
    const empty = dp({});
    expect(empty.shapers).toEqual({});
    expect(empty.wan.rules).toEqual([]);
    expect(empty.markConflicts).toEqual([]);
    const odd = dp(wanConfig({ '10': { destination: { address: '2001:db8::/32' }, interface: { eth1: {} } } }));
    expect(odd.ignored.join('\n')).toContain('2001:db8::/32');
  });
});

describe('effective dataplane of the lab seed', () => {
  it('every WAN rule of every seeded router balances on active interfaces, none shadowed, none SNATed', async () => {
    const topology = new Topology(loadConfig().root);
    const lab = await createVyosLabForTopology(topology, { apiKey: 'dataplane-test-key', clock: new SimulatedClock() });
    try {
      for (const site of topology.sites.values()) {
        const router = lab.router(site.id);
        const d = effectiveDataplane(router.showConfig([]), { version: router.version, speedBps: () => GBIT });
        expect(d.wan.rules.length, site.id).toBeGreaterThan(0);
        for (const rule of d.wan.rules) {
          expect(rule.inactive, `${site.id} rule ${rule.rule}`).toEqual([]);
          expect(Object.keys(rule.weights).length, `${site.id} rule ${rule.rule}`).toBeGreaterThan(0);
          expect(rule.shadowedBy, `${site.id} rule ${rule.rule}`).toBeUndefined();
          expect(rule.snat, `${site.id} rule ${rule.rule}`).toBe(false);
        }
      }
    } finally {
      await lab.stop();
    }
  });
});
