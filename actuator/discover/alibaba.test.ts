import { describe, expect, it } from 'vitest';
import { readAlibabaInventory } from './alibaba.ts';
import { editedFixture, fixtureDir } from './testing.ts';

describe('readAlibabaInventory', () => {
  it('reads VPCs with their region and CIDR blocks', async () => {
    const inv = await readAlibabaInventory(fixtureDir('alibaba'));
    expect(inv.networks).toMatchObject([
      { provider: 'alibaba', region: 'cn-hongkong', id: 'vpc-j6c2vbnsxt4example', prefixes: ['10.40.0.0/16'] },
    ]);
  });

  it('a malformed export fails naming the file, line, column and field', async () => {
    const dir = editedFixture('alibaba', 'describe-vpcs.json', '"RegionId": "cn-hongkong"', '"RegionId": 7');
    await expect(readAlibabaInventory(dir)).rejects.toThrow(/describe-vpcs\.json:\d+:\d+: Vpcs\.Vpc\[0\]\.RegionId: /);
  });
});
