import { describe, expect, it } from 'vitest';
import { readAwsInventory } from './aws.ts';
import { editedFixture, fixtureDir } from './testing.ts';

describe('readAwsInventory', () => {
  it('reads VPCs, VPN connections and Direct Connect virtual interfaces per region folder', async () => {
    const inv = await readAwsInventory(fixtureDir('aws'));
    expect(inv.providers).toEqual(['aws']);
    expect(inv.networks.map((n) => [n.region, n.id, n.name, n.prefixes])).toEqual([
      ['eu-central-1', 'vpc-0e9801d129EXAMPLE', 'pathpilot-euc1', ['10.11.0.0/16']],
      ['us-east-1', 'vpc-0c8a1f6d3bEXAMPLE', 'pathpilot-use1', ['10.10.0.0/16']],
      ['us-east-1', 'vpc-01d2e3f4a5EXAMPLE', undefined, ['172.31.0.0/16']],
    ]);
    // A VIF's capacity is its connection's bandwidth; its peering subnet is where the two BGP addresses sit.
    expect(inv.circuits.map((c) => [c.region, c.id, c.product, c.capacityMbps, c.subnets, c.active])).toEqual([
      ['eu-central-1', 'dxvif-ffj2r7b8', 'direct-connect', 10000, ['169.254.20.0/30'], true],
      ['us-east-1', 'dxvif-fgh2k3l4', 'direct-connect', 10000, ['169.254.10.0/30'], true],
    ]);
    // Standard tunnels carry up to 1.25 Gbps each.
    expect(inv.vpns).toMatchObject([
      {
        region: 'us-east-1',
        id: 'vpn-1122334455aabbccd',
        capacityMbps: 1250,
        insideCidrs: ['169.254.120.0/30', '169.254.121.0/30'],
        active: true,
      },
    ]);
    expect(inv.notes).toEqual([]);
  });

  it('a deleted Direct Connect connection makes its virtual interface inactive', async () => {
    const dir = editedFixture(
      'aws',
      'us-east-1/describe-connections.json',
      '"connectionState": "available"',
      '"connectionState": "deleted"',
    );
    const inv = await readAwsInventory(dir);
    expect(inv.circuits.find((c) => c.id === 'dxvif-fgh2k3l4')).toMatchObject({
      active: false,
      state: 'connection dxcon-fgnsp4l1 deleted',
    });
  });

  it('a malformed export fails naming the file, line, column and field', async () => {
    const dir = editedFixture('aws', 'us-east-1/describe-vpcs.json', '"CidrBlock": "10.10.0.0/16"', '"CidrBlock": "10.10.0.0"');
    await expect(readAwsInventory(dir)).rejects.toThrow(
      /us-east-1\/describe-vpcs\.json:4:26: Vpcs\[0\]\.CidrBlock: expected a CIDR such as 10\.0\.0\.0\/16/,
    );
    const bw = editedFixture('aws', 'eu-central-1/describe-connections.json', '"bandwidth": "10Gbps"', '"bandwidth": "ten"');
    await expect(readAwsInventory(bw)).rejects.toThrow(
      /describe-connections\.json:\d+:\d+: connections\[0\]\.bandwidth: expected a bandwidth/,
    );
  });

  it('a region folder holding another region’s transit gateway is refused', async () => {
    const dir = editedFixture(
      'aws',
      'us-east-1/describe-transit-gateways.json',
      'arn:aws:ec2:us-east-1:',
      'arn:aws:ec2:us-west-2:',
    );
    await expect(readAwsInventory(dir)).rejects.toThrow(
      /tgw-0262a0e521EXAMPLE is in us-west-2 \(its ARN\) but the file is in the us-east-1 folder/,
    );
  });
});
