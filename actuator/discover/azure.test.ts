import { describe, expect, it } from 'vitest';
import { readAzureInventory } from './azure.ts';
import { editedFixture, fixtureDir } from './testing.ts';

describe('readAzureInventory', () => {
  it('reads VNets, IPsec connections (not ExpressRoute ones) and ExpressRoute private peerings', async () => {
    const inv = await readAzureInventory(fixtureDir('azure'));
    expect(inv.networks).toMatchObject([
      { provider: 'azure', region: 'westeurope', name: 'pathpilot-weu-vnet', prefixes: ['10.30.0.0/16'] },
    ]);
    expect(inv.vpns.map((v) => [v.name, v.region, v.state, v.active, v.capacityMbps])).toEqual([
      ['weu-to-fra-dc', 'westeurope', 'Connected', true, undefined],
    ]);
    expect(inv.circuits).toMatchObject([
      {
        product: 'expressroute',
        name: 'fra-weu-er',
        region: 'westeurope',
        capacityMbps: 5000,
        subnets: ['169.254.30.0/30', '169.254.30.4/30'],
        active: true,
        state: 'Provisioned/Enabled',
      },
    ]);
    expect(inv.notes).toEqual([]);
  });

  it('a circuit the provider deprovisioned is inactive', async () => {
    const dir = editedFixture('azure', 'express-route-list.json', '"Provisioned"', '"Deprovisioning"');
    expect((await readAzureInventory(dir)).circuits[0]).toMatchObject({ active: false, state: 'Deprovisioning/Enabled' });
  });

  it('a malformed export fails naming the file, line, column and field', async () => {
    const dir = editedFixture('azure', 'express-route-list.json', '"bandwidthInMbps": 5000', '"bandwidthInMbps": "5 Gbps"');
    await expect(readAzureInventory(dir)).rejects.toThrow(
      /express-route-list\.json:\d+:\d+: \[0\]\.serviceProviderProperties\.bandwidthInMbps: /,
    );
  });
});
