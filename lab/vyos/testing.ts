/**
 * A test bed of three emulated routers for the example topology, with one VyOS client per router —
 * what the actuator's functional tests and bench/actuator drive. onprem-nyc and onprem-fra run 1.5
 * (a June 2025 image with commit-confirm, unless `images` says otherwise), aws-use1 runs 1.4.
 * Nothing in the product imports this file.
 */
import { RealClock, type Clock } from '../../core/clock.ts';
import type { RootConfig } from '../../core/config/schema.ts';
import { Topology } from '../../core/config/topology.ts';
import { VyosClient } from '../../actuator/vyos/index.ts';
import { createVyosLabForTopology, type VyosLab } from './index.ts';

export const KEY = 'actuator-functional-key';
export const SITES = ['onprem-nyc', 'aws-use1', 'onprem-fra'];

export interface LabRig {
  lab: VyosLab;
  topology: Topology;
  clients: Map<string, VyosClient>;
  routerFor: (site: string) => VyosClient;
  stop(): Promise<void>;
}

export interface LabRigOptions {
  /** The image per site (see `VyosRouterSpec.image`). */
  images?: Record<string, string>;
  /** The clients' commit timeout; default `timeoutMs` (the rig gives up on a hung router quickly). */
  commitTimeoutMs?: number;
}

export async function startLab(
  root: RootConfig,
  clock: Clock = new RealClock(),
  timeoutMs = 2000,
  options: LabRigOptions = {},
): Promise<LabRig> {
  const topology = new Topology(root);
  const lab = await createVyosLabForTopology(topology, {
    apiKey: KEY,
    sites: SITES,
    clock,
    ...(options.images ? { images: options.images } : {}),
  });
  const clients = new Map<string, VyosClient>();
  for (const site of SITES) {
    clients.set(
      site,
      new VyosClient({
        url: lab.urls[site]!,
        apiKey: KEY,
        version: topology.site(site).router.vyos_version,
        timeoutMs,
        commitTimeoutMs: options.commitTimeoutMs ?? timeoutMs,
      }),
    );
  }
  return {
    lab,
    topology,
    clients,
    routerFor: (site) => {
      const c = clients.get(site);
      if (!c) throw new Error(`no router for site ${site}`);
      return c;
    },
    async stop() {
      for (const c of clients.values()) await c.close();
      await lab.stop();
    },
  };
}

/** Every router's running config as `set` lines (exact comparison before/after). */
export function running(lab: VyosLab): Record<string, string[]> {
  return Object.fromEntries(SITES.map((s) => [s, lab.router(s).runningCommands()]));
}

/**
 * The example network with BGP on its cloud interconnects and between AWS and Azure in Europe:
 * onprem-fra (AS 65010), aws-euc1 (65012) and azure-weu (65013) peer over fra-euc1-dx, fra-weu-er and
 * euc1-weu-wg, so Frankfurt learns aws-euc1's prefixes directly and through Azure; onprem-nyc (65011) and
 * aws-use1 (65001) peer over Direct Connect (nyc-use1-dx).
 */
export function bgpLabRoot(root: RootConfig): RootConfig {
  const asn: Record<string, number> = {
    'onprem-fra': 65010,
    'onprem-nyc': 65011,
    'aws-use1': 65001,
    'aws-euc1': 65012,
    'azure-weu': 65013,
  };
  const bgp = ['fra-euc1-dx', 'fra-weu-er', 'euc1-weu-wg', 'nyc-use1-dx'];
  return {
    ...root,
    sites: root.sites.map((s) => (asn[s.id] ? { ...s, router: { ...s.router, asn: asn[s.id] } } : s)),
    links: root.links.map((l) => (bgp.includes(l.id) ? { ...l, bgp: true } : l)),
  };
}
