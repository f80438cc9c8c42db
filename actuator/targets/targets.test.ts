import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import type { Intent } from '../../core/proposal.ts';
import { contextsFor, effectOf, renderRouter, targetFor, targets } from './index.ts';
import type { ConfigJson } from '../vyos/types.ts';

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

/** The router's config after applying the render at f = 1 to an empty router. */
function applied(intents: Intent[]): ConfigJson {
  const config: ConfigJson = {};
  for (const t of renderRouter(intents, 1, {}, opts)) {
    let node = config;
    for (const k of t.path.slice(0, -1)) node = (node[k] ??= {}) as ConfigJson;
    if (t.desired) node[t.path.at(-1)!] = t.desired;
  }
  return config;
}
const dataplane = (config: ConfigJson) => ({ router: 'onprem-nyc', version: '1.5' as const, config });

describe('actuation targets', () => {
  it('dispatches each intent to one target; a failover (class *) is the failover target', () => {
    expect(targetFor(weights).name).toBe('weights');
    expect(targetFor(failover).name).toBe('failover');
    expect(targetFor({ kind: 'qos', router: 'x', link: 'l', classes: [] } as never).name).toBe('shaper');
    expect(contextsFor([weights, failover])).toEqual(['lbRules']);
    expect(targets.map((t) => t.target.name)).toEqual(['failover', 'weights', 'pin', 'shaper']);
  });

  it('gives failover and weights one set of WAN rules in a render (no rule number twice)', () => {
    const paths = renderRouter([weights, failover], 1, {}, opts).map((t) => t.path.join(' '));
    expect(paths).toEqual(['load-balancing wan rule 10', 'load-balancing wan rule 20']);
  });

  it('checks effects that can fail: weights, shaper rate and pin DSCP', () => {
    const config = applied([weights, failover]);
    expect(effectOf(weights, dataplane(config), opts)).toEqual({ ok: true, problems: [] });
    expect(effectOf(failover, dataplane(config), opts).ok).toBe(true);
    const other = { ...weights, weights: { 'nyc-use1-dx': 50, 'nyc-use1-vpn': 50 } };
    expect(effectOf(other, dataplane(config), opts).problems[0]).toMatch(/10\.10\.0\.0\/16 is balanced/);

    const shaped: Intent = { kind: 'bandwidth', router: 'onprem-nyc', link: 'nyc-use1-dx', rate_mbps: 1000 };
    const shaperConfig = applied([shaped]);
    expect(effectOf(shaped, dataplane(shaperConfig), opts).ok).toBe(true);
    expect(effectOf({ ...shaped, rate_mbps: 100 }, dataplane(shaperConfig), opts).problems).toEqual([
      'PP-nyc-use1-dx shapes to 1000mbit, not 100mbit',
    ]);

    const pin: Intent = {
      kind: 'class-pin',
      router: 'onprem-nyc',
      pair: ['onprem-nyc', 'aws-use1'],
      class: 'voice',
      dscp: [46],
      dst_prefixes: ['10.10.0.0/16'],
      link: 'nyc-use1-vpn',
    };
    const pinned = applied([pin]);
    expect(effectOf(pin, dataplane(pinned), opts).ok).toBe(true);
    expect(effectOf({ ...pin, dscp: [34] }, dataplane(pinned), opts).problems.join()).toMatch(/matches DSCP 46, not 34/);
    expect(effectOf(pin, dataplane({}), opts).ok).toBe(false);
  });

  it('offers conformance cases on every router with a two-hop destination', () => {
    for (const { target } of targets) expect(target.cases(topology, 'aws-use1').length).toBeGreaterThan(0);
  });
});
