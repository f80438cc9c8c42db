/**
 * AWS inventory from the AWS CLI's JSON output, one folder per region (the CLI answers for one region
 * per call and most records do not say which):
 *
 *   DIR/<region>/describe-vpcs.json               aws ec2 describe-vpcs --region <region>
 *   DIR/<region>/describe-transit-gateways.json   aws ec2 describe-transit-gateways --region <region>
 *   DIR/<region>/describe-vpn-gateways.json       aws ec2 describe-vpn-gateways --region <region>   (optional)
 *   DIR/<region>/describe-vpn-connections.json    aws ec2 describe-vpn-connections --region <region>
 *   DIR/<region>/describe-connections.json        aws directconnect describe-connections --region <region>
 *   DIR/<region>/describe-virtual-interfaces.json aws directconnect describe-virtual-interfaces --region <region>
 *
 * Shapes: the EC2 API reference (Vpc, TransitGateway, VpnGateway, VpnConnection) and the Direct Connect
 * API reference (Connection, VirtualInterface); test/fixtures/discover/SOURCES.md names the pages.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { canonicalCidr } from './net.ts';
import {
  awsTags,
  bandwidthMbps,
  cidrString,
  emptyInventory,
  exportFiles,
  listDir,
  nameTag,
  readAll,
  type CloudInventory,
} from './inventory.ts';

const vpcsFile = z.object({
  Vpcs: z.array(
    z.object({
      VpcId: z.string(),
      CidrBlock: cidrString,
      State: z.string().optional(),
      IsDefault: z.boolean().optional(),
      CidrBlockAssociationSet: z
        .array(z.object({ CidrBlock: cidrString, CidrBlockState: z.object({ State: z.string() }).optional() }))
        .optional(),
      Tags: awsTags,
    }),
  ),
});

const transitGatewaysFile = z.object({
  TransitGateways: z.array(
    z.object({ TransitGatewayId: z.string(), TransitGatewayArn: z.string().optional(), State: z.string(), Tags: awsTags }),
  ),
});

const vpnGatewaysFile = z.object({
  VpnGateways: z.array(
    z.object({
      VpnGatewayId: z.string(),
      State: z.string().optional(),
      VpcAttachments: z.array(z.object({ VpcId: z.string(), State: z.string() })).optional(),
    }),
  ),
});

const vpnConnectionsFile = z.object({
  VpnConnections: z.array(
    z.object({
      VpnConnectionId: z.string(),
      State: z.string(),
      Type: z.string().optional(),
      CustomerGatewayId: z.string().optional(),
      VpnGatewayId: z.string().optional(),
      TransitGatewayId: z.string().optional(),
      Options: z
        .object({
          TunnelBandwidth: z.string().optional(),
          TunnelOptions: z
            .array(z.object({ OutsideIpAddress: z.string().optional(), TunnelInsideCidr: cidrString.optional() }))
            .optional(),
        })
        .optional(),
      VgwTelemetry: z.array(z.object({ OutsideIpAddress: z.string().optional(), Status: z.string() })).optional(),
      Tags: awsTags,
    }),
  ),
});

const connectionsFile = z.object({
  connections: z.array(
    z.object({
      connectionId: z.string(),
      connectionName: z.string().optional(),
      connectionState: z.string(),
      bandwidth: z.string().refine((b) => bandwidthMbps(b) !== undefined, 'expected a bandwidth such as 10Gbps or 500Mbps'),
      location: z.string().optional(),
      region: z.string().optional(),
    }),
  ),
});

const bgpPeer = z.object({ amazonAddress: cidrString.optional(), customerAddress: cidrString.optional() });
const virtualInterfacesFile = z.object({
  virtualInterfaces: z.array(
    z.object({
      virtualInterfaceId: z.string(),
      virtualInterfaceName: z.string().optional(),
      virtualInterfaceType: z.string().optional(),
      virtualInterfaceState: z.string(),
      connectionId: z.string(),
      amazonAddress: cidrString.optional(),
      customerAddress: cidrString.optional(),
      region: z.string().optional(),
      bgpPeers: z.array(bgpPeer).optional(),
    }),
  ),
});

const bases = [
  'describe-vpcs',
  'describe-transit-gateways',
  'describe-vpn-gateways',
  'describe-vpn-connections',
  'describe-connections',
  'describe-virtual-interfaces',
] as const;

/** Site-to-Site VPN per tunnel: up to 1.25 Gbps (Standard), 5 Gbps with Large bandwidth tunnels. */
const VPN_TUNNEL_MBPS = { standard: 1250, large: 5000 } as const;
const goneVpn = new Set(['deleting', 'deleted']);
const goneDx = new Set(['deleting', 'deleted', 'rejected']);
const regionName = /^[a-z]{2}(-[a-z]+)+-\d+$/;

async function readRegion(dir: string, region: string, inv: CloudInventory): Promise<void> {
  const files = await exportFiles(dir, bases, inv.notes);
  const at = (base: (typeof bases)[number]) => files.get(base) ?? [];

  for (const { file, data } of await readAll(at('describe-vpcs'), vpcsFile))
    for (const vpc of data.Vpcs) {
      if (vpc.State && vpc.State !== 'available') continue;
      const associated = (vpc.CidrBlockAssociationSet ?? [])
        .filter((a) => !a.CidrBlockState || a.CidrBlockState.State === 'associated')
        .map((a) => a.CidrBlock);
      const prefixes = [...new Set([vpc.CidrBlock, ...associated].map((c) => canonicalCidr(c) ?? c))];
      const name = nameTag(vpc.Tags);
      inv.networks.push({
        provider: 'aws',
        region,
        id: vpc.VpcId,
        ...(name ? { name } : {}),
        prefixes,
        source: `${file}: ${vpc.VpcId}`,
      });
    }

  for (const { file, data } of await readAll(at('describe-transit-gateways'), transitGatewaysFile))
    for (const tgw of data.TransitGateways) {
      // The ARN names the region: a file in the wrong region folder would put sites in the wrong region.
      const arnRegion = tgw.TransitGatewayArn?.split(':')[3];
      if (arnRegion && arnRegion !== region)
        throw new ValidationError(
          `${file}: ${tgw.TransitGatewayId} is in ${arnRegion} (its ARN) but the file is in the ${region} folder`,
        );
    }

  const vpcsOfGateway = new Map<string, string[]>();
  for (const { data } of await readAll(at('describe-vpn-gateways'), vpnGatewaysFile))
    for (const vgw of data.VpnGateways)
      vpcsOfGateway.set(
        vgw.VpnGatewayId,
        (vgw.VpcAttachments ?? []).filter((a) => a.State === 'attached').map((a) => a.VpcId),
      );

  for (const { file, data } of await readAll(at('describe-vpn-connections'), vpnConnectionsFile))
    for (const vpn of data.VpnConnections) {
      const name = nameTag(vpn.Tags);
      const large = vpn.Options?.TunnelBandwidth === 'large';
      inv.vpns.push({
        provider: 'aws',
        region,
        id: vpn.VpnConnectionId,
        ...(name ? { name } : {}),
        capacityMbps: large ? VPN_TUNNEL_MBPS.large : VPN_TUNNEL_MBPS.standard,
        insideCidrs: (vpn.Options?.TunnelOptions ?? []).flatMap((t) => (t.TunnelInsideCidr ? [t.TunnelInsideCidr] : [])),
        networkIds: vpn.VpnGatewayId ? (vpcsOfGateway.get(vpn.VpnGatewayId) ?? []) : [],
        active: !goneVpn.has(vpn.State),
        state: vpn.State,
        source: `${file}: ${vpn.VpnConnectionId}`,
      });
    }

  const connections = new Map<string, { mbps: number; state: string }>();
  for (const { file, data } of await readAll(at('describe-connections'), connectionsFile))
    for (const c of data.connections) {
      if (c.region && c.region !== region)
        throw new ValidationError(
          `${file}: connection ${c.connectionId} is in ${c.region} but the file is in the ${region} folder`,
        );
      connections.set(c.connectionId, { mbps: bandwidthMbps(c.bandwidth)!, state: c.connectionState });
    }

  for (const { file, data } of await readAll(at('describe-virtual-interfaces'), virtualInterfacesFile))
    for (const vif of data.virtualInterfaces) {
      const peers = [vif, ...(vif.bgpPeers ?? [])];
      const subnets = [
        ...new Set(peers.flatMap((p) => [p.customerAddress, p.amazonAddress]).flatMap((a) => (a ? [canonicalCidr(a)!] : []))),
      ];
      // A hosted VIF rides a partner's connection, which is not listed: its bandwidth stays unknown.
      const connection = connections.get(vif.connectionId);
      const connectionGone = connection !== undefined && goneDx.has(connection.state);
      inv.circuits.push({
        provider: 'aws',
        region: vif.region ?? region,
        id: vif.virtualInterfaceId,
        ...(vif.virtualInterfaceName ? { name: vif.virtualInterfaceName } : {}),
        product: 'direct-connect',
        ...(connection ? { capacityMbps: connection.mbps } : {}),
        subnets,
        active: !goneDx.has(vif.virtualInterfaceState) && !connectionGone,
        state: connectionGone ? `connection ${vif.connectionId} ${connection.state}` : vif.virtualInterfaceState,
        source: `${file}: ${vif.virtualInterfaceId}`,
      });
    }
}

/** Reads `DIR/<region>/…` for every region folder. */
export async function readAwsInventory(dir: string): Promise<CloudInventory> {
  const inv = emptyInventory();
  inv.providers.push('aws');
  const regions = (await listDir(dir)).sort();
  for (const name of regions) {
    if (name.endsWith('.json'))
      throw new ValidationError(
        `${join(dir, name)}: put each region's exports in a folder named after the region (${dir}/us-east-1/…)`,
      );
    if (!regionName.test(name)) {
      inv.notes.push(`${join(dir, name)}: not an AWS region name, ignored`);
      continue;
    }
    await readRegion(join(dir, name), name, inv);
  }
  return inv;
}
