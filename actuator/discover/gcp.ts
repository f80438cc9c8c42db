/**
 * Google Cloud inventory from gcloud's JSON output (Compute Engine REST resources, camelCase), one folder:
 *
 *   DIR/networks.json                  gcloud compute networks list --format=json
 *   DIR/subnets.json                   gcloud compute networks subnets list --format=json
 *   DIR/routers.json                   gcloud compute routers list --format=json
 *   DIR/interconnects.json             gcloud compute interconnects list --format=json
 *   DIR/interconnect-attachments.json  gcloud compute interconnects attachments list --format=json
 *
 * VPC networks are global and their subnets regional, so a site is one network's subnets in one region.
 * Shapes: the Compute Engine API reference (networks, subnetworks, routers, interconnects,
 * interconnectAttachments); test/fixtures/discover/SOURCES.md names the pages.
 */
import { z } from 'zod';
import { canonicalCidr } from './net.ts';
import { cidrString, emptyInventory, exportFiles, lastSegment, readAll, type CloudInventory } from './inventory.ts';

const networksFile = z.array(
  z.object({
    name: z.string(),
    autoCreateSubnetworks: z.boolean().optional(),
    /** Legacy (pre-subnet) networks only. */
    IPv4Range: cidrString.optional(),
  }),
);

const subnetsFile = z.array(
  z.object({
    name: z.string(),
    ipCidrRange: cidrString,
    region: z.string(),
    network: z.string(),
    secondaryIpRanges: z.array(z.object({ rangeName: z.string(), ipCidrRange: cidrString })).optional(),
  }),
);

const routersFile = z.array(
  z.object({
    name: z.string(),
    region: z.string(),
    network: z.string(),
    bgpPeers: z
      .array(
        z.object({
          name: z.string(),
          peerIpAddress: z.string().optional(),
          peerAsn: z.number().optional(),
          enable: z.enum(['TRUE', 'FALSE']).optional(),
        }),
      )
      .optional(),
  }),
);

const linkTypeGbps: Record<string, number> = {
  LINK_TYPE_ETHERNET_10G_LR: 10,
  LINK_TYPE_ETHERNET_100G_LR: 100,
  LINK_TYPE_ETHERNET_400G_LR4: 400,
};

const interconnectsFile = z.array(
  z.object({
    name: z.string(),
    linkType: z.string().optional(),
    provisionedLinkCount: z.number().int().nonnegative().optional(),
    state: z.string().optional(),
    operationalStatus: z.string().optional(),
  }),
);

/** `BPS_50M` … `BPS_100G` (InterconnectAttachment.bandwidth). */
const attachmentBandwidth = z.string().regex(/^BPS_\d+[MG]$/, 'expected a bandwidth such as BPS_10G');
const attachmentsFile = z.array(
  z.object({
    name: z.string(),
    region: z.string(),
    interconnect: z.string().optional(),
    bandwidth: attachmentBandwidth.optional(),
    cloudRouterIpAddress: cidrString.optional(),
    customerRouterIpAddress: cidrString.optional(),
    state: z.string().optional(),
    operationalStatus: z.string().optional(),
  }),
);

const bases = ['networks', 'subnets', 'routers', 'interconnects', 'interconnect-attachments'] as const;

function bpsToMbps(bps: string): number {
  const m = /^BPS_(\d+)([MG])$/.exec(bps)!;
  return Number(m[1]) * (m[2] === 'G' ? 1000 : 1);
}

export async function readGcpInventory(dir: string): Promise<CloudInventory> {
  const inv = emptyInventory();
  inv.providers.push('gcp');
  const files = await exportFiles(dir, bases, inv.notes);

  const networks = new Set<string>();
  for (const { file, data } of await readAll(files.get('networks')!, networksFile))
    for (const n of data) {
      networks.add(n.name);
      if (n.IPv4Range) inv.notes.push(`${file}: ${n.name} is a legacy network (no regions): not matched to sites`);
    }

  // One network's subnets in one region are one site's prefixes.
  const byNetworkRegion = new Map<string, { network: string; region: string; prefixes: string[]; source: string }>();
  for (const { file, data } of await readAll(files.get('subnets')!, subnetsFile))
    for (const s of data) {
      const network = lastSegment(s.network);
      const region = lastSegment(s.region);
      if (networks.size > 0 && !networks.has(network))
        inv.notes.push(`${file}: subnet ${s.name} names network ${network}, which networks.json does not list`);
      const key = `${network}/${region}`;
      const entry = byNetworkRegion.get(key) ?? { network, region, prefixes: [], source: `${file}: ${key}` };
      entry.prefixes.push(canonicalCidr(s.ipCidrRange) ?? s.ipCidrRange);
      byNetworkRegion.set(key, entry);
    }
  for (const [key, n] of byNetworkRegion)
    inv.networks.push({ provider: 'gcp', region: n.region, id: key, name: n.network, prefixes: n.prefixes, source: n.source });

  for (const { file, data } of await readAll(files.get('routers')!, routersFile))
    for (const r of data)
      for (const peer of r.bgpPeers ?? []) {
        if (!peer.peerIpAddress || peer.enable === 'FALSE') continue;
        inv.routerPeers.push({
          provider: 'gcp',
          region: lastSegment(r.region),
          id: `${r.name}/${peer.name}`,
          name: r.name,
          address: peer.peerIpAddress,
          source: `${file}: ${r.name} peer ${peer.name}`,
        });
      }

  const interconnects = new Map<string, { mbps?: number; active: boolean }>();
  for (const { data } of await readAll(files.get('interconnects')!, interconnectsFile))
    for (const ic of data) {
      const gbps = ic.linkType ? linkTypeGbps[ic.linkType] : undefined;
      interconnects.set(ic.name, {
        ...(gbps && ic.provisionedLinkCount ? { mbps: gbps * ic.provisionedLinkCount * 1000 } : {}),
        active: (ic.state ?? 'ACTIVE') === 'ACTIVE' && (ic.operationalStatus ?? 'OS_ACTIVE') === 'OS_ACTIVE',
      });
    }

  for (const { file, data } of await readAll(files.get('interconnect-attachments')!, attachmentsFile)) {
    for (const att of data) {
      const ic = att.interconnect ? interconnects.get(lastSegment(att.interconnect)) : undefined;
      // The attachment's own bandwidth is what the VLAN carries; the interconnect's ports bound it.
      const mbps = att.bandwidth ? bpsToMbps(att.bandwidth) : ic?.mbps;
      const subnets = [att.cloudRouterIpAddress, att.customerRouterIpAddress].flatMap((a) => (a ? [canonicalCidr(a)!] : []));
      const attachmentActive = (att.state ?? 'ACTIVE') === 'ACTIVE' && (att.operationalStatus ?? 'OS_ACTIVE') === 'OS_ACTIVE';
      inv.circuits.push({
        provider: 'gcp',
        region: lastSegment(att.region),
        id: att.name,
        name: att.name,
        product: 'interconnect',
        ...(mbps ? { capacityMbps: mbps } : {}),
        subnets: [...new Set(subnets)],
        active: attachmentActive && (ic?.active ?? true),
        state: `${att.state ?? '?'}/${att.operationalStatus ?? '?'}`,
        source: `${file}: ${att.name}`,
      });
    }
  }
  return inv;
}
