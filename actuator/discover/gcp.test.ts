import { describe, expect, it } from 'vitest';
import { readGcpInventory } from './gcp.ts';
import { editedFixture, fixtureDir } from './testing.ts';

describe('readGcpInventory', () => {
  it('groups subnets per network and region, reads Cloud Router peers and Interconnect VLAN attachments', async () => {
    const inv = await readGcpInventory(fixtureDir('gcp'));
    expect(inv.networks.map((n) => [n.id, n.region, n.prefixes])).toEqual([
      ['pathpilot-vpc/us-central1', 'us-central1', ['10.20.0.0/16']],
      ['pathpilot-vpc/us-east4', 'us-east4', ['10.21.0.0/20']],
    ]);
    expect(inv.routerPeers.map((p) => [p.region, p.name, p.address])).toEqual([
      ['us-central1', 'cr-usc1', '10.20.0.1'],
      ['us-central1', 'cr-usc1', '169.254.40.2'],
    ]);
    expect(inv.circuits).toMatchObject([
      {
        product: 'interconnect',
        id: 'chi-usc1-a',
        region: 'us-central1',
        capacityMbps: 10000,
        subnets: ['169.254.40.0/29'],
        active: true,
      },
    ]);
    expect(inv.notes).toEqual([]);
  });

  it('an attachment on an interconnect that is no longer active is inactive', async () => {
    const dir = editedFixture('gcp', 'interconnects.json', '"state": "ACTIVE"', '"state": "UNPROVISIONED"');
    expect((await readGcpInventory(dir)).circuits[0]).toMatchObject({ active: false });
  });

  it('a malformed export fails naming the file, line, column and field', async () => {
    const dir = editedFixture('gcp', 'interconnect-attachments.json', '"BPS_10G"', '"10G"');
    await expect(readGcpInventory(dir)).rejects.toThrow(
      /interconnect-attachments\.json:4:18: \[0\]\.bandwidth: expected a bandwidth such as BPS_10G/,
    );
  });
});
