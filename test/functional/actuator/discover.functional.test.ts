/**
 * `pathpilot discover` against the lab network: one emulated router per site of the example configuration
 * (seeded as `npm start` seeds them), read over HTTP, plus the sample cloud exports of
 * test/fixtures/discover. From the routers alone it must reproduce the example topology (sites with their
 * clouds, regions and prefixes; links between the same sites, of the same kinds); against the example as
 * the current config it must find nothing different; and after a tunnel is removed from one router, the
 * diff must report that link gone (text and JSON), exiting 1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from '../../../cli/commands/discover.ts';
import { captureOutput } from '../../../cli/testing.ts';
import type { TopologyDiff } from '../../../actuator/discover/diff.ts';
import { loadConfig, type RootConfig } from '../../../core/config/index.ts';
import { Topology } from '../../../core/config/topology.ts';
import { createVyosLabForTopology, type VyosLab } from '../../../lab/vyos/index.ts';

const KEY_ENV = 'PATHPILOT_VYOS_KEY';
const KEY = 'discover-functional-key-0123456789';
const FIXTURES = 'test/fixtures/discover';
const EXPORTS = ['aws', 'azure', 'gcp', 'alibaba'].flatMap((p) => [`--${p}`, join(FIXTURES, p)]);

let example: RootConfig;
let lab: VyosLab;
let work: string;
let config: string;
let savedKey: string | undefined;

beforeAll(async () => {
  example = loadConfig('pathpilot.example.yaml', {}).root;
  lab = await createVyosLabForTopology(new Topology(example), { apiKey: KEY });
  savedKey = process.env[KEY_ENV];
  process.env[KEY_ENV] = KEY;
  const doc = parse(readFileSync('pathpilot.example.yaml', 'utf8')) as {
    sites: { id: string; router: Record<string, unknown> }[];
  };
  for (const site of doc.sites) site.router = { ...site.router, api_url: lab.urls[site.id], api_key_env: KEY_ENV };
  work = mkdtempSync(join(tmpdir(), 'discover-'));
  config = join(work, 'pathpilot.yaml');
  writeFileSync(config, stringify(doc));
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  if (savedKey === undefined) delete process.env[KEY_ENV];
  else process.env[KEY_ENV] = savedKey;
  await lab?.stop();
});

/** A link as discovery can know it, without its id: the two sites (sorted) and the kind. */
const linkShape = (l: RootConfig['links'][number]) => `${[l.a.site, l.b.site].sort().join(' ↔ ')} ${l.kind}`;

describe('pathpilot discover on the lab routers and the sample cloud exports', () => {
  it('from the routers alone, reproduces the example topology', async () => {
    const out = join(work, 'discovered.yaml');
    const routers = example.sites.flatMap((s) => ['--router', `${s.id}=${lab.urls[s.id]}`]);
    const c = captureOutput();
    expect(await run([...routers, ...EXPORTS, '-o', out])).toBe(0);
    expect(c.err.join('')).toContain(`proposed config written to ${out}`);

    const discovered = loadConfig(out, {}).root;
    const site = (s: RootConfig['sites'][number]) => [s.id, s.provider, s.region, s.prefixes, s.router.vyos_version];
    expect(discovered.sites.map(site)).toEqual(example.sites.map(site));
    expect(discovered.links.map(linkShape).sort()).toEqual(example.links.map(linkShape).sort());
    // The naming rule gives the example's own ids, and each link joins the same interfaces and addresses.
    const ends = (l: RootConfig['links'][number]) => [l.id, l.a.interface, l.a.address, l.b.interface, l.b.address];
    expect(discovered.links.map(ends).sort()).toEqual(example.links.map(ends).sort());
    // Capacities the exports report.
    const capacity = Object.fromEntries(discovered.links.map((l) => [l.id, l.capacity_mbps]));
    expect(capacity).toMatchObject({ 'nyc-use1-dx': 10000, 'fra-euc1-dx': 10000, 'fra-weu-er': 5000, 'nyc-use1-vpn': 1250 });
  });

  it('--diff against the example finds no difference in what discovery can know (exit 0)', async () => {
    const c = captureOutput();
    expect(await run(['-c', config, ...EXPORTS, '--diff'])).toBe(0);
    expect(c.out.join('')).toBe('no differences: the discovered topology matches the current config\n');
    const j = captureOutput();
    expect(await run(['-c', config, ...EXPORTS, '--json'])).toBe(0);
    expect(JSON.parse(j.out.join(''))).toMatchObject({ equal: true, links: { added: [], removed: [], changed: [] } });
  });

  it('after a tunnel is removed from one router, --diff reports the link gone (exit 1), in text and JSON', async () => {
    lab.router('aws-use1').applyCommands(['delete interfaces wireguard wg1']);
    const out = join(work, 'after.yaml');
    const c = captureOutput();
    expect(await run(['-c', config, ...EXPORTS, '--diff', '-o', out])).toBe(1);
    const text = c.out.join('');
    expect(text).toContain('links: 0 added, 1 removed, 0 changed\n  - use1-euc1-wg (wireguard, aws-use1 wg1 ↔ aws-euc1 wg1)\n');
    expect(text).toMatch(/^paths: 11 dropped \(onprem-nyc\.aws-euc1\.1, /m);
    expect(c.err.join('')).toContain('note: aws-euc1 wg1 (172.17.1.2/30): no discovered router holds the other end\n');

    // The proposal it wrote is a valid config without the link and the paths over it.
    const proposed = loadConfig(out, {}).root;
    expect(proposed.links.map((l) => l.id)).not.toContain('use1-euc1-wg');
    expect(proposed.paths.some((p) => p.links.includes('use1-euc1-wg'))).toBe(false);
    expect(proposed.links).toHaveLength(example.links.length - 1);

    const j = captureOutput();
    expect(await run(['-c', config, ...EXPORTS, '--json'])).toBe(1);
    const diff = JSON.parse(j.out.join('')) as TopologyDiff & { proposed: { links: { id: string }[] }; notes: string[] };
    expect(diff.equal).toBe(false);
    expect(diff.links.removed).toMatchObject([
      { id: 'use1-euc1-wg', kind: 'wireguard', a: { site: 'aws-use1' }, b: { site: 'aws-euc1' } },
    ]);
    expect(diff.sites).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.paths.dropped).toHaveLength(11);
    expect(diff.proposed.links.map((l) => l.id)).not.toContain('use1-euc1-wg');
  });
});
