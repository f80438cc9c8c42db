/**
 * Alibaba Cloud inventory from the aliyun CLI's JSON output, one folder:
 *
 *   DIR/describe-vpcs.json   aliyun vpc DescribeVpcs --RegionId <region>   (one file per region: describe-vpcs-<region>.json)
 *
 * Shape: the VPC API reference, DescribeVpcs (2016-04-28); test/fixtures/discover/SOURCES.md names it.
 * Only networks: Express Connect and VPN Gateway are not read yet.
 */
import { z } from 'zod';
import { canonicalCidr } from './net.ts';
import { cidrString, emptyInventory, exportFiles, readAll, type CloudInventory } from './inventory.ts';

const describeVpcs = z.object({
  Vpcs: z.object({
    Vpc: z.array(
      z.object({
        VpcId: z.string(),
        RegionId: z.string(),
        VpcName: z.string().optional(),
        CidrBlock: cidrString,
        SecondaryCidrBlocks: z.object({ SecondaryCidrBlock: z.array(cidrString) }).optional(),
        Status: z.string().optional(),
      }),
    ),
  }),
});

export async function readAlibabaInventory(dir: string): Promise<CloudInventory> {
  const inv = emptyInventory();
  inv.providers.push('alibaba');
  const files = await exportFiles(dir, ['describe-vpcs'], inv.notes);
  for (const { file, data } of await readAll(files.get('describe-vpcs')!, describeVpcs))
    for (const vpc of data.Vpcs.Vpc) {
      if (vpc.Status && vpc.Status !== 'Available') continue;
      const cidrs = [vpc.CidrBlock, ...(vpc.SecondaryCidrBlocks?.SecondaryCidrBlock ?? [])];
      inv.networks.push({
        provider: 'alibaba',
        region: vpc.RegionId,
        id: vpc.VpcId,
        ...(vpc.VpcName ? { name: vpc.VpcName } : {}),
        prefixes: cidrs.map((c) => canonicalCidr(c) ?? c),
        source: `${file}: ${vpc.VpcId}`,
      });
    }
  return inv;
}
