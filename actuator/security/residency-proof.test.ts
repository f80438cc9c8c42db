import { describe, expect, it } from 'vitest';
import type { ResidencyRule } from '../../core/config/residency.ts';
import { proveResidency, regionsSeen, type ExportedBytes } from './residency-proof.ts';

/** Two EU regions, one US relay between them, and a second eu-west site. */
const sites = [
  { id: 'fra', region: 'eu-central', prefixes: ['10.1.0.0/16'] },
  { id: 'par', region: 'eu-west', prefixes: ['10.2.0.0/16'] },
  { id: 'nyc', region: 'us-east', prefixes: ['10.3.0.0/16'] },
  { id: 'dub', region: 'eu-west', prefixes: ['10.4.0.0/16'] },
];
const link = (id: string, a: string, b: string) => ({ id, a: { site: a }, b: { site: b } });
const links = [
  link('fra-par', 'fra', 'par'),
  link('fra-nyc', 'fra', 'nyc'),
  link('nyc-par', 'nyc', 'par'),
  link('par-dub', 'par', 'dub'),
];
const rule = (r: Partial<ResidencyRule> & Pick<ResidencyRule, 'name' | 'regions'>): ResidencyRule => ({
  classes: [],
  dst_prefixes: [],
  ...r,
});
const rootWith = (...residency: ResidencyRule[]) => ({ sites, links, policy: { residency } });
const euRealtime = rule({ name: 'eu-realtime', classes: ['realtime'], regions: ['eu-*'] });
const flow = (src_site: string, dst_site: string, via: string, cls: string, bytes: number): ExportedBytes => ({
  src_site,
  dst_site,
  link: via,
  class: cls,
  bytes,
});

describe('data-residency proof from flow bytes', () => {
  it('proven: every bound byte stayed in allowed regions; bytes within one region count once there', () => {
    const [proof] = proveResidency(rootWith(euRealtime), [
      flow('fra', 'par', 'fra-par', 'realtime', 5e9),
      // Both ends eu-west: 2 GB in eu-west, not 4.
      flow('par', 'dub', 'par-dub', 'realtime', 2e9),
    ]);
    expect(proof).toEqual({
      rule: 'eu-realtime',
      classes: ['realtime'],
      dst_prefixes: [],
      regions: ['eu-*'],
      verdict: 'proven',
      bytes_inside: 7e9,
      bytes_outside: 0,
      crossed: [
        { class: 'realtime', region: 'eu-west', bytes: 7e9, allowed: true },
        { class: 'realtime', region: 'eu-central', bytes: 5e9, allowed: true },
      ],
      breaches: [],
    });
    expect(regionsSeen(proof!)).toEqual(['eu-west', 'eu-central']);
  });

  it('violated: traffic relayed through another region is caught at the exporter and at the relay', () => {
    const [proof] = proveResidency(rootWith(euRealtime), [
      flow('fra', 'par', 'fra-par', 'realtime', 1e9),
      // fra → nyc → par: fra exports its hop to nyc, the relay nyc exports its hop to par.
      flow('fra', 'par', 'fra-nyc', 'realtime', 3e9),
      flow('nyc', 'par', 'nyc-par', 'realtime', 2e9),
    ]);
    expect(proof).toMatchObject({ verdict: 'violated', bytes_inside: 1e9, bytes_outside: 5e9 });
    expect(proof!.breaches).toEqual([
      { class: 'realtime', src_site: 'fra', link: 'fra-nyc', region: 'us-east', bytes: 3e9 },
      { class: 'realtime', src_site: 'nyc', link: 'nyc-par', region: 'us-east', bytes: 2e9 },
    ]);
    expect(proof!.crossed).toContainEqual({ class: 'realtime', region: 'us-east', bytes: 5e9, allowed: false });
    expect(proof!.crossed).toContainEqual({ class: 'realtime', region: 'eu-central', bytes: 4e9, allowed: true });
  });

  it('no-traffic: nothing bound in the window, and classes the rule does not bind are ignored', () => {
    const bulkOverUs = flow('fra', 'par', 'fra-nyc', 'bulk', 9e9);
    expect(proveResidency(rootWith(euRealtime), [bulkOverUs])).toEqual([
      {
        rule: 'eu-realtime',
        classes: ['realtime'],
        dst_prefixes: [],
        regions: ['eu-*'],
        verdict: 'no-traffic',
        bytes_inside: 0,
        bytes_outside: 0,
        crossed: [],
        breaches: [],
      },
    ]);
    const [mixed] = proveResidency(rootWith(euRealtime), [bulkOverUs, flow('fra', 'par', 'fra-par', 'realtime', 1e9)]);
    expect(mixed).toMatchObject({ verdict: 'proven', bytes_inside: 1e9, bytes_outside: 0 });
    expect(mixed!.crossed.map((c) => c.class)).toEqual(['realtime', 'realtime']);
  });

  it("a hop that cannot be placed is region '?', outside even a rule allowing every region", () => {
    const anywhere = rule({ name: 'anywhere', regions: ['*'] });
    const [eu, any] = proveResidency(rootWith(euRealtime, anywhere), [
      flow('fra', 'par', 'gone-link', 'realtime', 1e9),
      // An exporter that is no end of the link it names: where the bytes went cannot be told either.
      flow('fra', 'dub', 'par-dub', 'realtime', 2e9),
    ]);
    for (const proof of [eu!, any!]) {
      expect(proof).toMatchObject({ verdict: 'violated', bytes_inside: 0, bytes_outside: 3e9 });
      expect(proof.breaches).toEqual([
        { class: 'realtime', src_site: 'fra', link: 'par-dub', region: '?', bytes: 2e9 },
        { class: 'realtime', src_site: 'fra', link: 'gone-link', region: '?', bytes: 1e9 },
      ]);
      expect(proof.crossed).toContainEqual({ class: 'realtime', region: '?', bytes: 3e9, allowed: false });
      expect(proof.crossed).toContainEqual({ class: 'realtime', region: 'eu-central', bytes: 3e9, allowed: true });
    }
  });

  it('a rule bound by destination prefixes only binds every class towards the sites holding them', () => {
    const toPar = rule({ name: 'to-par', dst_prefixes: ['10.2.5.0/24'], regions: ['eu-*'] });
    const [proof] = proveResidency(rootWith(toPar), [
      flow('fra', 'par', 'fra-par', 'realtime', 1e9),
      flow('fra', 'par', 'fra-nyc', 'bulk', 4e9),
      // Towards dub: not bound, though it crosses the US.
      flow('fra', 'dub', 'fra-nyc', 'bulk', 8e9),
    ]);
    expect(proof).toMatchObject({ verdict: 'violated', bytes_inside: 1e9, bytes_outside: 4e9 });
    expect(proof!.breaches).toEqual([{ class: 'bulk', src_site: 'fra', link: 'fra-nyc', region: 'us-east', bytes: 4e9 }]);
  });

  it('one proof per rule in the config order; none without rules', () => {
    const usOk = rule({ name: 'us-ok', classes: ['realtime'], regions: ['eu-*', 'us-*'] });
    const rows = [flow('fra', 'par', 'fra-nyc', 'realtime', 1e9)];
    expect(proveResidency(rootWith(euRealtime, usOk), rows).map((p) => [p.rule, p.verdict])).toEqual([
      ['eu-realtime', 'violated'],
      ['us-ok', 'proven'],
    ]);
    expect(proveResidency(rootWith(), rows)).toEqual([]);
  });
});
