import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { exampleConfigPath, loadConfigText, parseConfigText } from '../../core/config/load.ts';
import type { RootConfig } from '../../core/config/schema.ts';
import { labWireguardPrivateKey } from '../../lab/vyos/seed.ts';
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';
import { readAlibabaInventory } from './alibaba.ts';
import { readAwsInventory } from './aws.ts';
import { readAzureInventory } from './azure.ts';
import { diffTopology, formatDiff } from './diff.ts';
import { readGcpInventory } from './gcp.ts';
import { emptyInventory, mergeInventories, type CloudInventory } from './inventory.ts';
import { DEFAULT_CAPACITY_MBPS, proposeTopology, type CurrentConfig } from './propose.ts';
import type { RouterFacts } from './router-facts.ts';
import { editedFixture, exampleRoot, exampleRouterFacts, fixtureDir } from './testing.ts';

const sampleInventory = (dirs: Partial<Record<'aws' | 'azure' | 'gcp' | 'alibaba', string>> = {}) =>
  Promise.all([
    readAwsInventory(dirs.aws ?? fixtureDir('aws')),
    readAzureInventory(dirs.azure ?? fixtureDir('azure')),
    readGcpInventory(dirs.gcp ?? fixtureDir('gcp')),
    readAlibabaInventory(dirs.alibaba ?? fixtureDir('alibaba')),
  ]).then(mergeInventories);

let example: RootConfig;
let facts: RouterFacts[];
let inventory: CloudInventory;
let current: CurrentConfig;
beforeAll(async () => {
  example = exampleRoot();
  [facts, inventory] = await Promise.all([exampleRouterFacts(example), sampleInventory()]);
  current = { root: example, raw: parseConfigText(readFileSync(exampleConfigPath, 'utf8'), exampleConfigPath).data };
});

const propose = (over: { facts?: RouterFacts[]; inventory?: CloudInventory; current?: CurrentConfig } = {}) =>
  proposeTopology({
    routers: over.facts ?? facts,
    inventory: over.inventory ?? inventory,
    ...('current' in over ? (over.current ? { current: over.current } : {}) : {}),
    defaultClasses: example.classes,
  });

describe('proposeTopology from the lab routers and the sample exports, with no current config', () => {
  it('reproduces the example: its sites with their clouds, regions and prefixes, its links with their ids and kinds', () => {
    const { config, notes } = propose();
    const root = loadConfigText(stringify(config), 'proposed.yaml').root;
    expect(root.sites.map((s) => [s.id, s.provider, s.region, s.prefixes, s.router.vyos_version])).toEqual(
      example.sites.map((s) => [s.id, s.provider, s.region, s.prefixes, s.router.vyos_version]),
    );
    const shape = (l: RootConfig['links'][number]) => ({
      id: l.id,
      kind: l.kind,
      a: { ...l.a, if_index: 0 },
      b: { ...l.b, if_index: 0 },
    });
    expect(root.links.map(shape).sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      example.links.map(shape).sort((x, y) => x.id.localeCompare(y.id)),
    );
    // Capacities the exports report: Direct Connect and ExpressRoute bandwidth, AWS VPN tunnels; the rest unknown.
    const capacity = Object.fromEntries(root.links.map((l) => [l.id, l.capacity_mbps]));
    expect(capacity).toMatchObject({
      'nyc-use1-dx': 10000,
      'fra-euc1-dx': 10000,
      'fra-weu-er': 5000,
      'nyc-use1-vpn': 1250,
      'use1-euc1-wg': DEFAULT_CAPACITY_MBPS,
    });
    // On-prem regions come from where their widest interconnect lands, and say so.
    expect(notes).toContain('onprem-nyc: region "us-east" guessed from nyc-use1-dx into aws-use1 (us-east-1): check it');
    expect(notes).toContain('onprem-fra: region "eu-central" guessed from fra-euc1-dx into aws-euc1 (eu-central-1): check it');
    // A starting set of paths: each adjacent pair over its direct links, widest first.
    expect(root.paths.filter((p) => p.from === 'onprem-nyc' && p.to === 'aws-use1').map((p) => p.links)).toEqual([
      ['nyc-use1-dx'],
      ['nyc-use1-vpn'],
    ]);
  });

  it('a router outside every listed subnet is placed by the Cloud Router that peers with it', async () => {
    const gcp = editedFixture('gcp', 'subnets.json', '"ipCidrRange": "10.20.0.0/16"', '"ipCidrRange": "10.29.0.0/16"');
    const { config } = propose({ inventory: await sampleInventory({ gcp }) });
    expect(config.sites.find((s) => s.id === 'gcp-usc1')).toMatchObject({
      provider: 'gcp',
      region: 'us-central1',
      prefixes: ['10.20.0.0/16'],
    });
  });

  it('notes what the exports hold that is no site or no link', () => {
    const { notes } = propose();
    expect(notes.filter((n) => /not a site|not a link/.test(n))).toEqual([
      expect.stringMatching(
        /vpc-01d2e3f4a5EXAMPLE: aws us-east-1 network 172\.31\.0\.0\/16 holds no discovered router: not a site$/,
      ),
      expect.stringMatching(
        /pathpilot-vpc\/us-east4: gcp us-east4 network 10\.21\.0\.0\/20 holds no discovered router: not a site$/,
      ),
      expect.stringMatching(
        /chi-usc1-a: Cloud Interconnect \(169\.254\.40\.0\/29\) joins no two discovered routers: not a link$/,
      ),
    ]);
  });
});

describe('proposeTopology against the current config', () => {
  it('finds no difference in what discovery can know, and keeps the rest of the file as written', () => {
    const { config, droppedPaths } = propose({ current });
    expect(diffTopology(example, config, droppedPaths).equal).toBe(true);
    // What discovery cannot know is the file's: names, exporter addresses, if_index, prices, paths, policy.
    const root = loadConfigText(stringify(config), 'proposed.yaml').root;
    expect(root.links).toEqual(example.links);
    expect(root.paths).toEqual(example.paths);
    expect(root.policy).toEqual(example.policy);
    expect(root.sites.map((s) => [s.name, s.router])).toEqual(example.sites.map((s) => [s.name, s.router]));
  });

  it('without any export, kinds and places the routers cannot show stay as configured', () => {
    const { config } = propose({ current, inventory: emptyInventory() });
    expect(diffTopology(example, config).equal).toBe(true);
  });

  it('a deprovisioned ExpressRoute circuit takes its link and the paths over it away', async () => {
    const azure = editedFixture('azure', 'express-route-list.json', '"Provisioned"', '"Deprovisioning"');
    const { config, droppedPaths, notes } = propose({ current, inventory: await sampleInventory({ azure }) });
    const diff = diffTopology(example, config, droppedPaths);
    expect(diff.links.removed.map((l) => l.id)).toEqual(['fra-weu-er']);
    expect(diff.paths.dropped).toContain('onprem-fra.azure-weu.1');
    expect(notes).toContain(
      `fra-weu-er: gone, its ExpressRoute /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/pathpilot-weu/providers/Microsoft.Network/expressRouteCircuits/fra-weu-er is Deprovisioning/Enabled`,
    );
    expect(() => loadConfigText(stringify(config), 'proposed.yaml')).not.toThrow();
  });

  it('a deleted AWS VPN connection takes the IPsec link to its site away', async () => {
    const aws = editedFixture('aws', 'us-east-1/describe-vpn-connections.json', '"State": "available"', '"State": "deleted"');
    const { config, droppedPaths } = propose({ current, inventory: await sampleInventory({ aws }) });
    expect(diffTopology(example, config, droppedPaths).links.removed.map((l) => l.id)).toEqual(['nyc-use1-vpn']);
  });

  it('a new tunnel is proposed as a new link, named by the rule, with the defaults to review', async () => {
    const [nyc, usc1] = [labWireguardPrivateKey('onprem-nyc', 'wg9'), labWireguardPrivateKey('gcp-usc1', 'wg9')];
    const tunnel = (own: string, peer: string, address: string) => [
      `set interfaces wireguard wg9 address '${address}'`,
      `set interfaces wireguard wg9 private-key '${own}'`,
      `set interfaces wireguard wg9 peer far public-key '${wireguardPublicKey(peer)}'`,
      "set interfaces wireguard wg9 peer far allowed-ips '172.17.9.0/30'",
    ];
    const changed = await exampleRouterFacts(example, {
      'onprem-nyc': tunnel(nyc, usc1, '172.17.9.1/30'),
      'gcp-usc1': tunnel(usc1, nyc, '172.17.9.2/30'),
    });
    const { config, droppedPaths, notes } = propose({ facts: changed, current });
    const diff = diffTopology(example, config, droppedPaths);
    expect(diff.links.added).toEqual([
      {
        id: 'nyc-usc1-wg',
        kind: 'wireguard',
        a: { site: 'onprem-nyc', interface: 'wg9', address: '172.17.9.1' },
        b: { site: 'gcp-usc1', interface: 'wg9', address: '172.17.9.2' },
        capacity_mbps: DEFAULT_CAPACITY_MBPS,
        cost_per_gb: 0,
      },
    ]);
    expect(diff.links.removed).toEqual([]);
    expect(notes).toContain(
      `new links whose capacity nothing reports, set to ${DEFAULT_CAPACITY_MBPS} Mbps: nyc-usc1-wg (capacity_mbps)`,
    );
    expect(formatDiff(diff)).toBe(
      [
        'sites: 0 added, 0 removed, 0 changed',
        'links: 1 added, 0 removed, 0 changed',
        '  + nyc-usc1-wg (wireguard, onprem-nyc wg9 ↔ gcp-usc1 wg9, 1000 Mbps)',
        '',
      ].join('\n'),
    );
  });
});

describe('diffTopology', () => {
  it('reports changed fields of sites and links, prefixes compared as sets', () => {
    const site = {
      id: 's',
      provider: 'aws',
      region: 'us-east-1',
      prefixes: ['10.0.0.0/16', '10.1.0.0/16'],
      router: { vyos_version: '1.4' },
    };
    const link = {
      id: 'l',
      kind: 'ipsec',
      a: { site: 's', interface: 'vti1', address: '172.16.0.1' },
      b: { site: 't', interface: 'vti1', address: '172.16.0.2' },
      capacity_mbps: 1250,
    };
    const diff = diffTopology(
      { sites: [site], links: [link] },
      {
        sites: [{ ...site, region: 'us-east-2', prefixes: ['10.1.0.0/16', '10.0.0.0/16'] }],
        links: [{ ...link, kind: 'internet', b: { ...link.b, address: '172.16.0.6' } }],
      },
    );
    expect(diff.equal).toBe(false);
    expect(formatDiff(diff)).toBe(
      [
        'sites: 0 added, 0 removed, 1 changed',
        '  ~ s: region us-east-1 → us-east-2',
        'links: 0 added, 0 removed, 1 changed',
        '  ~ l: kind ipsec → internet',
        '  ~ l: b.address 172.16.0.2 → 172.16.0.6',
        '',
      ].join('\n'),
    );
  });
});
