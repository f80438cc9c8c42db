import { bgpLabRoot } from '../../lab/vyos/testing.ts';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { ValidationError } from '../../core/errors.ts';
import type { Intent } from '../../core/proposal.ts';
import { effectiveDataplane } from '../../lab/vyos/dataplane.ts';
import { validateOps } from '../vyos/paths.ts';
import type { ConfigJson, VyosVersion } from '../vyos/types.ts';
import { hasQosDscpName, qosDscpValue } from './dscp.ts';
import { contextsFor, effectOf, renderRouter, targetFor, targets, type PreState } from './index.ts';

const topology = new Topology(loadConfig(undefined, {}).root);
const opts = { topology, router: 'onprem-nyc', lanInterface: 'eth0' };
const weights: Intent = {
  kind: 'path-weights',
  router: 'onprem-nyc',
  pair: ['onprem-nyc', 'aws-use1'],
  class: 'bulk',
  dst_prefixes: ['10.10.0.0/16'],
  weights: { 'nyc-use1-dx': 30, 'nyc-use1-vpn': 70 },
};
const failover: Intent = { ...weights, class: '*', dst_prefixes: ['10.99.0.0/16'], weights: { 'nyc-use1-vpn': 1 } };
const pin: Intent = {
  kind: 'class-pin',
  router: 'onprem-nyc',
  pair: ['onprem-nyc', 'aws-use1'],
  class: 'voice',
  dscp: [46],
  dst_prefixes: ['10.10.0.0/16'],
  link: 'nyc-use1-vpn',
};
/** A router with WAN balancing's global `disable-source-nat`, as the lab seeds it. */
const noSnat = (): ConfigJson => ({ 'load-balancing': { wan: { 'disable-source-nat': {} } } });

/** `config` after applying the render of `intents` at f = 1 (pre read from `config`). */
function applied(intents: Intent[], config: ConfigJson = noSnat()): ConfigJson {
  const out = JSON.parse(JSON.stringify(config)) as ConfigJson;
  const wan = (out['load-balancing'] as ConfigJson | undefined)?.['wan'] as ConfigJson | undefined;
  const pre: PreState = {
    lbRules: (wan?.['rule'] as ConfigJson | undefined) ?? null,
    lbHealth: (wan?.['interface-health'] as ConfigJson | undefined) ?? null,
  };
  for (const t of renderRouter(intents, 1, pre, opts)) {
    let node = out;
    for (const k of t.path.slice(0, -1)) node = (node[k] ??= {}) as ConfigJson;
    if (t.desired) node[t.path.at(-1)!] = t.desired;
    else delete node[t.path.at(-1)!];
  }
  return out;
}
const dataplane = (config: ConfigJson, version: VyosVersion = '1.5') => ({
  router: 'onprem-nyc',
  version,
  config,
  effective: effectiveDataplane(config, { version, speedBps: () => 10e9 }),
});

describe('actuation targets', () => {
  it('dispatches each intent to one target; a failover (class *) is the failover target', () => {
    expect(targetFor(weights).name).toBe('weights');
    expect(targetFor(failover).name).toBe('failover');
    expect(targetFor({ kind: 'qos', router: 'x', link: 'l', classes: [] } as never).name).toBe('shaper');
    expect(contextsFor([weights, failover])).toEqual(['lbRules', 'lbHealth', 'lbSourceNat', 'policyRoute']);
    expect(targets.map((t) => t.target.name)).toEqual([
      'failover',
      'weights',
      'pin',
      'shaper',
      'wireguard-peers',
      'ipsec-peer',
      'openvpn-site',
      'firewall-rules',
      'firewall-rules ipv4 input',
      'firewall-rules ipv6 forward',
      'firewall-rules ipv6 input',
      'firewall-group',
      'bgp-policy',
      'config-subtrees',
    ]);
    // Firewall rules go to the target of their chain.
    const fw = { kind: 'firewall-rules', router: 'x', first: 1, last: 9, rules: {} } as const;
    expect(targetFor(fw).name).toBe('firewall-rules');
    expect(targetFor({ ...fw, family: 'ipv6' }).name).toBe('firewall-rules ipv6 forward');
    expect(targetFor({ ...fw, chain: 'input' }).name).toBe('firewall-rules ipv4 input');
    expect(contextsFor([{ ...fw, family: 'ipv6', chain: 'input' }])).toEqual(['firewallInput6']);
  });

  it('gives failover and weights one set of WAN rules, and a health check to each interface they weight', () => {
    const paths = renderRouter([weights, failover], 1, { lbHealth: null }, opts).map((t) => t.path.join(' '));
    expect(paths).toEqual([
      'load-balancing wan interface-health eth1',
      'load-balancing wan interface-health vti1',
      'load-balancing wan rule 10',
      'load-balancing wan rule 20',
    ]);
    const health = renderRouter([failover], 1, { lbHealth: null }, opts)[0]!;
    // The far end of nyc-use1-vpn, pinged: without it the interface is never active.
    expect(health.desired).toEqual({ nexthop: '172.16.1.2', test: { '10': { type: 'ping', target: '172.16.1.2' } } });
    // Not read (intake's check against {}, or a rollout prepared before): nothing it could not roll back.
    expect(renderRouter([failover], 1, {}, opts).map((t) => t.path.join(' '))).toEqual(['load-balancing wan rule 10']);
  });

  it('checks weights on the effective dataplane: shares, active interfaces, SNAT', () => {
    const config = applied([weights, failover]);
    expect(effectOf(weights, dataplane(config), opts)).toEqual({ ok: true, problems: [] });
    expect(effectOf(failover, dataplane(config), opts).ok).toBe(true);
    const other = { ...weights, weights: { 'nyc-use1-dx': 50, 'nyc-use1-vpn': 50 } };
    expect(effectOf(other, dataplane(config), opts).problems[0]).toMatch(/10\.10\.0\.0\/16 is balanced/);
    const unhealthy = JSON.parse(JSON.stringify(config)) as ConfigJson;
    delete ((unhealthy['load-balancing'] as ConfigJson)['wan'] as ConfigJson)['interface-health'];
    expect(effectOf(weights, dataplane(unhealthy), opts).problems.join()).toMatch(/never uses eth1/);
    const snat = JSON.parse(JSON.stringify(config)) as ConfigJson;
    delete ((snat['load-balancing'] as ConfigJson)['wan'] as ConfigJson)['disable-source-nat'];
    expect(effectOf(weights, dataplane(snat), opts).problems.join()).toMatch(/source-NATs/);
  });

  it('numbers a new rule before a catch-all; refuses a shadowed rule and a full gap', () => {
    const catchAll = { 'inbound-interface': 'eth0', interface: { eth1: { weight: '1' } } };
    const config = applied([weights], { 'load-balancing': { wan: { 'disable-source-nat': {}, rule: { '50': catchAll } } } });
    const rules = ((config['load-balancing'] as ConfigJson)['wan'] as ConfigJson)['rule'] as ConfigJson;
    expect(Object.keys(rules).sort()).toEqual(['49', '50']);
    expect(effectOf(weights, dataplane(config), opts).ok).toBe(true);

    const shadowed = { '5': catchAll, '10': { 'inbound-interface': 'eth0', destination: { address: '10.10.0.0/16' } } };
    expect(() => renderRouter([weights], 1, { lbRules: shadowed }, opts)).toThrow(
      /rule 10 for 10\.10\.0\.0\/16 is shadowed by rule 5/,
    );
    expect(() => renderRouter([weights], 1, { lbRules: { '1': catchAll } }, opts)).toThrow(
      /no free load-balancing wan rule number below 1/,
    );
  });

  it('refuses balancing that would be source-NATed, only when the router was read', () => {
    expect(() => renderRouter([weights], 1, { lbSourceNat: null }, opts)).toThrow(ValidationError);
    expect(() => renderRouter([weights], 1, { lbSourceNat: null }, opts)).toThrow(/disable-source-nat/);
    expect(renderRouter([weights], 1, { lbSourceNat: { 'disable-source-nat': {} } }, opts).length).toBeGreaterThan(0);
  });

  it('makes a pin win by construction: the balancing rule of the prefix becomes its exclusion, weights on it refused', () => {
    const seeded = {
      '20': { 'inbound-interface': 'eth0', destination: { address: '10.10.0.0/16' }, interface: { eth1: { weight: '1' } } },
    };
    const health = { eth1: { nexthop: '169.254.10.2' } };
    const base: ConfigJson = {
      'load-balancing': { wan: { 'disable-source-nat': {}, 'interface-health': health, rule: seeded } },
    };
    expect(effectOf(pin, dataplane(applied([], base)), opts).ok).toBe(false);
    const config = applied([pin], base);
    const rules = ((config['load-balancing'] as ConfigJson)['wan'] as ConfigJson)['rule'] as ConfigJson;
    // Rule 20 balanced exactly the pinned prefix: it now excludes it (left beside an exclusion it would be
    // dead config, shadowed), and no rule is shadowed.
    expect(rules['20']).toEqual({
      description: 'pathpilot pin exclude 10.10.0.0/16',
      'inbound-interface': 'eth0',
      destination: { address: '10.10.0.0/16' },
      exclude: {},
    });
    expect(dataplane(config).effective.markConflicts).toEqual([]);
    expect(dataplane(config).effective.wan.rules.filter((r) => r.shadowedBy !== undefined)).toEqual([]);
    expect(effectOf(pin, dataplane(config), opts)).toEqual({ ok: true, problems: [] });
    expect(effectOf({ ...pin, dscp: [34] }, dataplane(config), opts).problems.join()).toMatch(/matches DSCP 46, not 34/);
    // A balancing rule for a covering prefix stays, and the exclusion goes ahead of it.
    const covering = { '20': { ...seeded['20'], destination: { address: '10.0.0.0/8' } } };
    const ahead = applied([pin], {
      'load-balancing': { wan: { 'disable-source-nat': {}, 'interface-health': health, rule: covering } },
    });
    const aheadRules = ((ahead['load-balancing'] as ConfigJson)['wan'] as ConfigJson)['rule'] as ConfigJson;
    expect(aheadRules['19']).toMatchObject({ exclude: {}, destination: { address: '10.10.0.0/16' } });
    expect(effectOf(pin, dataplane(ahead), opts).problems).toEqual([]);
    // Without the exclude, the WAN rule marks the same packets.
    delete aheadRules['19'];
    expect(effectOf(pin, dataplane(ahead), opts).problems.join()).toMatch(/WAN rule 20 also marks/);

    expect(() => renderRouter([weights, pin], 1, { lbRules: seeded }, opts)).toThrow(/either balanced or pinned/);
    expect(() => renderRouter([pin, weights], 1, { lbRules: seeded }, opts)).toThrow(/is pinned by voice/);
  });

  it('shapes with ceilings: a bandwidth-only shaper passes its whole rate, classes borrow up to it', () => {
    const shaped: Intent = { kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 1000 };
    const config = applied([shaped]);
    const shaper = ((config['qos'] as ConfigJson)['policy'] as ConfigJson)['shaper'] as ConfigJson;
    expect(shaper['PP-nyc-use1-dx']).toEqual({ bandwidth: '1000mbit', default: { bandwidth: '100%', ceiling: '100%' } });
    expect(effectOf(shaped, dataplane(config), opts).ok).toBe(true);
    expect(effectOf({ ...shaped, rate_mbps: 100 }, dataplane(config), opts).problems).toEqual([
      'PP-nyc-use1-dx shapes to 1000 Mbit/s, not 100',
    ]);
    // The pre-fix render (default 10 %, no class) is caught: with no class the default IS the root class
    // 1:1 (trafficshaper.py: default_minor_id = 1), so even a ceiling cannot lift it.
    for (const def of [{ bandwidth: '10%' }, { bandwidth: '10%', ceiling: '100%' }] as ConfigJson[]) {
      (shaper['PP-nyc-use1-dx'] as ConfigJson)['default'] = def;
      expect(effectOf(shaped, dataplane(config), opts).problems).toEqual(['PP-nyc-use1-dx shapes to 100 Mbit/s, not 1000']);
    }
    // Beside a class, a default without ceiling is held at its own rate.
    const qos: Intent = {
      kind: 'qos',
      router: 'onprem-nyc',
      link: 'nyc-use1-dx',
      classes: [{ class: 'voice', dscp: [46], bandwidth_pct: 20, priority: 1 }],
    };
    const classed = applied([shaped, qos]);
    expect(effectOf(qos, dataplane(classed), opts).ok).toBe(true);
    const policies = (classed['qos'] as ConfigJson)['policy'] as ConfigJson;
    ((policies['shaper'] as ConfigJson)['PP-nyc-use1-dx'] as ConfigJson)['default'] = { bandwidth: '80%' };
    expect(effectOf(qos, dataplane(classed), opts).problems).toEqual([
      'PP-nyc-use1-dx class default is capped at 800 Mbit/s of 1000',
    ]);
  });

  it('renders QoS DSCP by name, so a 1.4 router matches what was meant', () => {
    const qos: Intent = {
      kind: 'qos',
      router: 'onprem-nyc',
      link: 'nyc-use1-dx',
      classes: [
        { class: 'voice', dscp: [46], bandwidth_pct: 20, priority: 1 },
        { class: 'odd', dscp: [5], bandwidth_pct: 10, priority: 3 },
      ],
    };
    const config = applied([qos]);
    const shaper = (((config['qos'] as ConfigJson)['policy'] as ConfigJson)['shaper'] as ConfigJson)[
      'PP-nyc-use1-dx'
    ] as ConfigJson;
    expect(shaper['class']).toMatchObject({
      '10': { ceiling: '10000mbit', match: { 'voice-46': { ip: { dscp: 'EF' } } } },
      '20': { ceiling: '10000mbit', match: { 'odd-5': { ip: { dscp: '5' } } } },
    });
    expect(shaper['default']).toEqual({ bandwidth: '70%', ceiling: '100%' });
    const voiceOnly = { ...qos, classes: qos.classes.slice(0, 1) } as Intent;
    expect(effectOf(voiceOnly, dataplane(config, '1.4'), opts).ok).toBe(true);
    // DSCP 5 has no name: its number is a TOS byte on 1.4 (matches nothing there), right on current 1.5.
    expect(effectOf(qos, dataplane(config, '1.4'), opts).problems).toEqual(['odd really matches DSCP [], not [5]']);
    expect(effectOf(qos, dataplane(config, '1.5'), opts).ok).toBe(true);
  });

  it('names every DSCP VyOS has a name for, each valid on 1.4 and 1.5 and meaning that DSCP there', () => {
    const named = Array.from({ length: 64 }, (_, d) => d).filter(hasQosDscpName);
    expect(named).toEqual([0, 1, 2, 4, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56]);
    for (const version of ['1.4', '1.5'] as const) {
      for (const d of named) {
        const path = ['qos', 'policy', 'shaper', 'S', 'class', '10', 'match', 'm', 'ip', 'dscp'];
        validateOps(version, [{ op: 'set', path, value: qosDscpValue(d) }]);
        const config: ConfigJson = {
          qos: {
            interface: { eth1: { egress: 'S' } },
            policy: {
              shaper: {
                S: {
                  bandwidth: '100mbit',
                  default: { bandwidth: '10%' },
                  class: { '10': { bandwidth: '10%', match: { m: { ip: { dscp: qosDscpValue(d) } } } } },
                },
              },
            },
          },
        };
        expect(dataplane(config, version).effective.shapers['eth1']!.classes[0]!.dscp, `${version} ${qosDscpValue(d)}`).toEqual([
          d,
        ]);
      }
    }
  });

  it('offers conformance cases on every router with a two-hop destination (BGP policy where the router speaks BGP)', () => {
    for (const { target } of targets)
      if (target.name !== 'bgp-policy') expect(target.cases(topology, 'aws-use1').length, target.name).toBeGreaterThan(0);
    const bgp = targets.find((t) => t.target.name === 'bgp-policy')!.target;
    expect(bgp.cases(topology, 'aws-use1')).toEqual([]);
    expect(bgp.cases(new Topology(bgpLabRoot(topology.config)), 'aws-use1').length).toBe(2);
  });
});
