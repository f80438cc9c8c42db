/**
 * The semantic-breach check: the lab's seed configs are clean on every router of the example topology,
 * and each kind of harm in vyos-facts §5 is named with where it is.
 */
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../core/clock.ts';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { semanticBreaches } from './breaches.ts';
import { EmulatedRouter } from './router.ts';
import { initialRouterConfig } from './seed.ts';
import type { ConfigJson, VyosVersion } from './types.ts';

const root = loadConfig(undefined, {}).root;
const topology = new Topology(root);
const sitePrefixes = root.sites.flatMap((s) => s.prefixes);
const opts = (version: VyosVersion = '1.4') => ({ version, speedBps: () => 1e9, sitePrefixes });

describe('semantic breaches', () => {
  it('finds none in the seed config of any lab router', () => {
    for (const site of root.sites) {
      const router = new EmulatedRouter(
        { name: site.id, version: site.router.vyos_version, apiKey: 'k', seed: initialRouterConfig(topology, site.id) },
        new RealClock(),
      );
      expect(semanticBreaches(router.showConfig([]), opts(site.router.vyos_version)), site.id).toEqual([]);
    }
  });

  it('names a shaper capped by its default, a numeric DSCP on 1.4, an inactive interface, a shadowed rule and SNAT', () => {
    const site = sitePrefixes[1]!;
    const config: ConfigJson = {
      qos: {
        interface: { eth1: { egress: 'PP' } },
        policy: {
          shaper: {
            PP: {
              bandwidth: '2500mbit',
              class: { '10': { bandwidth: '20%', ceiling: '100%', match: { v: { ip: { dscp: '46' } } } } },
              default: { bandwidth: '10%' },
            },
          },
        },
      },
      'load-balancing': {
        wan: {
          'interface-health': { eth1: { nexthop: '169.254.10.2' } },
          rule: {
            '10': { 'inbound-interface': 'eth0', interface: { eth1: { weight: '1' } } },
            '20': { 'inbound-interface': 'eth0', destination: { address: site }, interface: { eth1: { weight: '1' } } },
            '30': {
              'inbound-interface': 'eth0',
              destination: { address: sitePrefixes[2]! },
              interface: { eth1: { weight: '1' }, vti1: { weight: '3' } },
            },
          },
        },
      },
    };
    const kinds = semanticBreaches(config, opts('1.4')).map((b) => `${b.kind} @ ${b.where}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'shaper-cap @ qos policy shaper PP default (eth1)',
        'numeric-dscp @ qos policy shaper PP class 10 match v',
        'shadowed-rule @ load-balancing wan rule 20',
        'inactive-interface @ load-balancing wan rule 30 interface vti1',
        'site-to-site-snat @ load-balancing wan rule 30',
      ]),
    );
    // The same numeric DSCP is right on a 1.5 build after the fix (vyos-1x PR #4302).
    expect(semanticBreaches(config, opts('1.5')).some((b) => b.kind === 'numeric-dscp')).toBe(false);
  });
});
