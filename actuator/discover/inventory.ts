/**
 * The cloud inventory discovery merges with the routers, in one shape whatever the provider: networks
 * (VPC, VNet, a GCP network's subnets in one region) with their prefixes, private circuits (Direct
 * Connect virtual interfaces, ExpressRoute peerings, Interconnect VLAN attachments) with their peering
 * subnets and bandwidth, managed site-to-site VPNs, and Cloud Router BGP peers. Each provider's parser
 * (aws.ts, azure.ts, gcp.ts, alibaba.ts) reads the JSON its CLI prints, checked with zod; every error
 * names the file, line, column and field (core/located-json.ts).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { readLocated } from '../../core/located-json.ts';
import { ValidationError } from '../../core/errors.ts';

export type CloudProvider = 'aws' | 'azure' | 'gcp' | 'alibaba';

interface Sourced {
  provider: CloudProvider;
  region: string;
  id: string;
  name?: string;
  /** `file: what` — where the record was read, for notes and reviewers. */
  source: string;
}

export interface CloudNetwork extends Sourced {
  prefixes: string[];
}

export type CircuitProduct = 'direct-connect' | 'expressroute' | 'interconnect';

export interface CloudCircuit extends Sourced {
  product: CircuitProduct;
  capacityMbps?: number;
  /** The peering subnets (/29–/30): a link whose two addresses lie in one of them rides this circuit. */
  subnets: string[];
  /** False once the provider deprovisioned, deleted or rejected it: a link on it is gone. */
  active: boolean;
  state: string;
}

export interface CloudVpn extends Sourced {
  capacityMbps?: number;
  /** Tunnel inside CIDRs when the provider reports them (AWS). */
  insideCidrs: string[];
  /** The networks the VPN terminates in when the export tells (AWS virtual private gateway attachments). */
  networkIds: string[];
  active: boolean;
  state: string;
}

/** A BGP peer of a provider's cloud router (GCP Cloud Router): the peer address is a router in that region. */
export interface CloudRouterPeer extends Sourced {
  address: string;
}

export interface CloudInventory {
  /** The providers whose exports were read: only they can say a record is absent. */
  providers: CloudProvider[];
  networks: CloudNetwork[];
  circuits: CloudCircuit[];
  vpns: CloudVpn[];
  routerPeers: CloudRouterPeer[];
  notes: string[];
}

export function emptyInventory(): CloudInventory {
  return { providers: [], networks: [], circuits: [], vpns: [], routerPeers: [], notes: [] };
}

export function mergeInventories(parts: readonly CloudInventory[]): CloudInventory {
  const out = emptyInventory();
  for (const p of parts) {
    out.providers.push(...p.providers.filter((x) => !out.providers.includes(x)));
    out.networks.push(...p.networks);
    out.circuits.push(...p.circuits);
    out.vpns.push(...p.vpns);
    out.routerPeers.push(...p.routerPeers);
    out.notes.push(...p.notes);
  }
  return out;
}

/** A CIDR the way every provider writes one (`10.0.0.0/16`, `169.254.10.1/30`). */
export const cidrString = z.string().refine((s) => ipaddr.isValidCIDR(s), 'expected a CIDR such as 10.0.0.0/16');

/** Name/value tags (AWS `Tags`): the `Name` tag is the console's name of a resource. */
export const awsTags = z.array(z.object({ Key: z.string(), Value: z.string() })).optional();
export const nameTag = (tags: z.infer<typeof awsTags>): string | undefined => tags?.find((t) => t.Key === 'Name')?.Value;

/**
 * The export files of one folder: for each known base name (`vnet-list`), every `*.json` starting with it
 * (`vnet-list.json`, `vnet-list-rg2.json`: one file per resource group or project is fine). Other files are
 * named in a note; a missing folder is an error.
 */
export async function exportFiles(dir: string, bases: readonly string[], notes: string[]): Promise<Map<string, string[]>> {
  const entries = await listDir(dir);
  const out = new Map<string, string[]>(bases.map((b) => [b, []]));
  for (const name of entries.sort()) {
    if (!name.endsWith('.json')) continue;
    // The longest base wins: `interconnect-attachments` is not an `interconnects` file.
    const base = [...bases]
      .sort((a, b) => b.length - a.length)
      .find((b) => name === `${b}.json` || name.startsWith(`${b}-`) || name.startsWith(`${b}.`));
    if (base) out.get(base)!.push(join(dir, name));
    else
      notes.push(
        `${join(dir, name)}: not an export discovery reads (expected ${bases.map((b) => `${b}.json`).join(', ')}), ignored`,
      );
  }
  return out;
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new ValidationError(`${dir}: not a folder`);
    return await readdir(dir);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`${dir}: cannot read the export folder (${(err as Error).message})`, { cause: err });
  }
}

/** Reads every file of one base with its schema; each record keeps the file it came from. */
export async function readAll<T>(files: readonly string[], schema: z.ZodType<T>): Promise<{ file: string; data: T }[]> {
  return Promise.all(files.map(async (file) => ({ file, data: (await readLocated(file, schema)).data })));
}

/** `https://…/regions/us-central1` → `us-central1` (GCP resources name their region and network by URL). */
export const lastSegment = (url: string): string => url.split('/').filter(Boolean).pop() ?? url;

/** `10Gbps`, `500Mbps`, `1.5Gbps` → Mbps; undefined when it does not read. */
export function bandwidthMbps(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([MG])bps$/i.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2]!.toUpperCase() === 'G' ? 1000 : 1);
}
