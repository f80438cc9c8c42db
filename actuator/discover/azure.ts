/**
 * Azure inventory from the Azure CLI's JSON output (`az … list`, properties flattened as the CLI prints
 * them), one folder:
 *
 *   DIR/vnet-list.json            az network vnet list
 *   DIR/vpn-connection-list.json  az network vpn-connection list -g <group>   (one file per group: vpn-connection-list-<group>.json)
 *   DIR/express-route-list.json   az network express-route list
 *
 * Shapes: the Azure CLI reference and the ExpressRoute how-to pages (circuit and peering output);
 * test/fixtures/discover/SOURCES.md names them.
 */
import { z } from 'zod';
import { canonicalCidr } from './net.ts';
import { cidrString, emptyInventory, exportFiles, readAll, type CloudInventory } from './inventory.ts';

const vnetList = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    location: z.string(),
    addressSpace: z.object({ addressPrefixes: z.array(cidrString) }),
    provisioningState: z.string().optional(),
  }),
);

const vpnConnectionList = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    location: z.string(),
    connectionType: z.string(),
    connectionStatus: z.string().optional(),
    provisioningState: z.string().optional(),
  }),
);

// Microsoft peering placeholders print as "" (the peering how-to's sample): not a subnet.
const peerPrefix = z.union([cidrString, z.literal('')]).nullish();
const expressRouteList = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    location: z.string(),
    serviceProviderProperties: z
      .object({ bandwidthInMbps: z.number().positive().optional(), peeringLocation: z.string().optional() })
      .nullish(),
    /** ExpressRoute Direct circuits give their bandwidth in Gbps instead. */
    bandwidthInGbps: z.number().positive().nullish(),
    circuitProvisioningState: z.string().optional(),
    serviceProviderProvisioningState: z.string(),
    peerings: z
      .array(
        z.object({
          name: z.string(),
          peeringType: z.string(),
          primaryPeerAddressPrefix: peerPrefix,
          secondaryPeerAddressPrefix: peerPrefix,
          state: z.string().optional(),
        }),
      )
      .default([]),
  }),
);

const bases = ['vnet-list', 'vpn-connection-list', 'express-route-list'] as const;
const goneStates = new Set(['Deleting', 'Failed']);

/** `West Europe` and `westeurope` are one location; the CLI prints the short form. */
const location = (l: string) => l.toLowerCase().replace(/\s+/g, '');

export async function readAzureInventory(dir: string): Promise<CloudInventory> {
  const inv = emptyInventory();
  inv.providers.push('azure');
  const files = await exportFiles(dir, bases, inv.notes);

  for (const { file, data } of await readAll(files.get('vnet-list')!, vnetList))
    for (const vnet of data) {
      if (vnet.provisioningState && goneStates.has(vnet.provisioningState)) continue;
      inv.networks.push({
        provider: 'azure',
        region: location(vnet.location),
        id: vnet.id,
        name: vnet.name,
        prefixes: vnet.addressSpace.addressPrefixes.map((p) => canonicalCidr(p) ?? p),
        source: `${file}: ${vnet.name}`,
      });
    }

  for (const { file, data } of await readAll(files.get('vpn-connection-list')!, vpnConnectionList))
    for (const c of data) {
      // ExpressRoute and VNet-to-VNet connections are listed too: only IPsec ones are site-to-site VPNs.
      if (c.connectionType !== 'IPsec') continue;
      inv.vpns.push({
        provider: 'azure',
        region: location(c.location),
        id: c.id,
        name: c.name,
        // The gateway SKU sets the throughput; it is not in this export.
        insideCidrs: [],
        networkIds: [],
        active: !(c.provisioningState && goneStates.has(c.provisioningState)),
        state: c.connectionStatus ?? c.provisioningState ?? 'unknown',
        source: `${file}: ${c.name}`,
      });
    }

  for (const { file, data } of await readAll(files.get('express-route-list')!, expressRouteList))
    for (const er of data) {
      const mbps = er.serviceProviderProperties?.bandwidthInMbps ?? (er.bandwidthInGbps ? er.bandwidthInGbps * 1000 : undefined);
      const subnets = er.peerings
        .filter((p) => p.peeringType === 'AzurePrivatePeering')
        .flatMap((p) => [p.primaryPeerAddressPrefix, p.secondaryPeerAddressPrefix])
        .flatMap((p) => (p ? [canonicalCidr(p)!] : []));
      inv.circuits.push({
        provider: 'azure',
        region: location(er.location),
        id: er.id,
        name: er.name,
        product: 'expressroute',
        ...(mbps ? { capacityMbps: mbps } : {}),
        subnets,
        // Usable only once the provider has provisioned it and Microsoft has it enabled (circuit workflow docs).
        active: er.serviceProviderProvisioningState === 'Provisioned' && (er.circuitProvisioningState ?? 'Enabled') === 'Enabled',
        state: `${er.serviceProviderProvisioningState}/${er.circuitProvisioningState ?? '?'}`,
        source: `${file}: ${er.name}`,
      });
    }
  return inv;
}
