/**
 * The twin's network model, composed of four parts that each own one concern:
 * - links (links.ts): link directions and paths from the topology; per tick, shapers, capacity,
 *   queueing-style congestion and drops, and the quality each path shows per class;
 * - demand (demand.ts): demand per (site pair, class) with seasonality, growth, surges and AR(1) noise,
 *   split over candidate paths the way each source router's config says;
 * - incidents (incidents.ts): scenario and seeded incidents with precursors, as link/path impairments;
 * - accounting (accounting.ts): cumulative counters, SLO minutes, egress cost and the ground truth.
 * Pure computation: no I/O, no clock. One `step()` is one tick.
 */
import { Topology, type RootConfig } from '../../core/config/index.ts';
import { ValidationError } from '../../core/errors.ts';
import { Rng } from './rng.ts';
import { measuredRegionOf, regionEgressPrice, utcOffsetHours } from './regions.ts';
import { emptyRouting, type RouterRouting } from './routing.ts';
import type { Scenario, IncidentKind } from './scenario.ts';
import {
  LinkModel,
  noImpairments,
  type LinkDirState,
  type LinkImpairments,
  type PathState,
  type PathQuality,
  type TwinClass,
} from './links.ts';
import { DemandModel, type DemandState } from './demand.ts';
import { IncidentModel } from './incidents.ts';
import { Accounting, type TwinState } from './accounting.ts';
import { bgpRibs } from '../vyos/bgp.ts';
import { child } from '../vyos/config-values.ts';
import type { ConfigJson } from '../vyos/types.ts';

export type { LinkDirState, LinkImpairments, PathState, PathQuality, TwinClass } from './links.ts';
export type { DemandState } from './demand.ts';
export type { TwinState, LinkDirSnapshot } from './accounting.ts';

/** Mean packet size per class rank (most important first), bytes. */
const PACKET_SIZE = [220, 760, 1380];

export interface EngineOptions {
  root: RootConfig;
  scenario: Scenario;
  startMs: number;
  tickMs: number;
}

export class TwinEngine {
  readonly topology: Topology;
  readonly classes: TwinClass[];
  readonly seed: number;
  readonly tickMs: number;
  readonly startMs: number;
  private readonly scenario: Scenario;
  private readonly net: LinkModel;
  private readonly demand: DemandModel;
  private readonly incidents: IncidentModel;
  private readonly accounting: Accounting;
  private readonly routing = new Map<string, RouterRouting>();
  private readonly pktSize: number[];
  private tickCount = 0;
  /** The link states (and configs: reset by setRouting) the installed BGP RIBs were computed for. */
  private bgpKey = '';
  private now: number;

  constructor(opts: EngineOptions) {
    const { scenario } = opts;
    this.scenario = scenario;
    this.seed = scenario.seed;
    this.tickMs = opts.tickMs;
    this.startMs = opts.startMs;
    this.now = opts.startMs;
    const network = buildNetwork(opts.root, scenario);
    const { root } = network;
    this.topology = network.topology;
    this.classes = network.classes;
    this.pktSize = network.packetSizes;
    this.net = network.net;
    this.demand = new DemandModel(root, this.topology, scenario, this.classes, this.net, network.siteOffsetH, this.startMs);
    this.accounting = new Accounting(this.net.linkDirs.length, this.demand.demands.length);
    this.incidents = new IncidentModel(scenario, this.seed, this.startMs, this.net);
  }

  get ticks(): number {
    return this.tickCount;
  }
  get time(): number {
    return this.now;
  }

  // The parts' state, as the emitters (probes, iface counters, flows, billing) and tests read it.
  get linkDirs(): readonly LinkDirState[] {
    return this.net.linkDirs;
  }
  get paths(): readonly PathState[] {
    return this.net.paths;
  }
  get demands(): readonly DemandState[] {
    return this.demand.demands;
  }
  /** Demand offered this tick, bits/s, per demand. */
  get demandBps(): Float64Array {
    return this.demand.demandBps;
  }
  /** Split of each demand over its pair's paths: [demand][k] share (k indexes demand.paths). */
  get split(): readonly Float64Array[] {
    return this.demand.split;
  }
  /** Quality per path and class. */
  get quality(): readonly PathQuality[] {
    return this.net.quality;
  }
  /** Quality per path without this tick's congestion (base RTT and jitter, incidents). */
  get baseQuality(): readonly PathQuality[] {
    return this.net.baseQuality;
  }
  /** What incidents do to links and paths this tick (outages, capacity, added RTT/loss/jitter). */
  get impairments(): Readonly<LinkImpairments> {
    return this.incidents;
  }
  get dirBytes(): Float64Array {
    return this.accounting.dirBytes;
  }
  get dirPackets(): Float64Array {
    return this.accounting.dirPackets;
  }
  get dirDropBytes(): Float64Array {
    return this.accounting.dirDropBytes;
  }
  get dirRxBytes(): Float64Array {
    return this.accounting.dirRxBytes;
  }
  get dirRxPackets(): Float64Array {
    return this.accounting.dirRxPackets;
  }
  get dirCost(): Float64Array {
    return this.accounting.dirCost;
  }

  linkDirIndex(link: string, fromSite: string): number {
    const li = this.net.linkIndex.get(link);
    if (li === undefined) throw new ValidationError(`unknown link "${link}"`);
    return this.net.linkDirs[li * 2]!.from === fromSite ? li * 2 : li * 2 + 1;
  }
  pathIdx(id: string): number | undefined {
    return this.net.pathIndex.get(id);
  }
  packetSize(classIdx: number): number {
    return this.pktSize[classIdx]!;
  }

  /** Installs the routing read from a site's router (undefined = unknown config: primary paths). */
  setRouting(site: string, routing: RouterRouting | undefined): void {
    this.routing.set(site, routing ?? emptyRouting());
    this.bgpKey = '';
  }

  /**
   * Every router's BGP RIB for this tick (lab/vyos/bgp.ts) when any router speaks BGP: sessions over links
   * that are down are down, so an outage withdraws their routes. Recomputed only when a config or a link's
   * state changed.
   */
  private updateBgp(): void {
    const configs = new Map<string, ConfigJson>();
    for (const [site, r] of this.routing) if (r.config && child(child(r.config, 'protocols'), 'bgp')) configs.set(site, r.config);
    if (configs.size === 0) return;
    const down = this.incidents.linkDown;
    const key = Array.from(down).join('');
    if (key === this.bgpKey) return;
    this.bgpKey = key;
    // A session's link: the one between the router's site and the neighbor address's end.
    const linkOf = new Map<string, number>();
    for (const l of this.topology.links.values()) {
      const li = this.net.linkIndex.get(l.id)!;
      if (l.a.address) linkOf.set(`${l.b.site}|${l.a.address}`, li);
      if (l.b.address) linkOf.set(`${l.a.site}|${l.b.address}`, li);
    }
    const ribs = bgpRibs(configs, (router, neighbor) => {
      const li = linkOf.get(`${router}|${neighbor}`);
      return li === undefined || !down[li];
    });
    for (const [site, r] of this.routing) r.bgp = ribs.get(site);
  }

  /** The incidents of the run (scenario + seeded), with absolute times: ground truth for failure forecasting. */
  incidentSchedule(): { label: string; kind: IncidentKind; start: number; end: number; precursor_start: number }[] {
    return this.incidents.schedule();
  }

  /** Advances one tick: [now, now + tickMs). */
  step(): void {
    const t = this.now;
    const dt = this.tickMs / 1000;
    this.incidents.apply(t, new Rng(this.seed, 'tick', this.tickCount));
    this.updateBgp();
    this.demand.offer(t, this.tickCount, this.seed, this.tickMs, this.routing, this.incidents.linkDown);
    this.net.serve(this.routing, this.incidents, dt, this.accounting);
    this.net.measure(this.incidents);
    this.accounting.countSlo(this.demand, this.net, this.classes, dt);
    this.tickCount++;
    this.now = t + this.tickMs;
  }

  /** Ground truth at the end of the last tick. */
  state(): TwinState {
    return this.accounting.snapshot(
      {
        time: this.now,
        ticks: this.tickCount,
        scenario: this.scenario.name,
        seed: this.seed,
        currency: this.topology.config.policy.currency,
      },
      this.net,
      this.demand,
      this.classes,
      this.incidents.linkCapFactor,
      this.incidents.active,
    );
  }
}

/**
 * The twin's network for a config and scenario: the scenario's link overrides applied, each site placed
 * at its measured region (and time zone), the classes as the twin uses them, and the link model.
 */
function buildNetwork(config: RootConfig, scenario: Scenario) {
  const root = applyLinkOverrides(config, scenario);
  const topology = new Topology(root);
  for (const id of Object.keys(scenario.sites))
    if (!topology.sites.has(id)) throw new ValidationError(`scenario sites.${id}: unknown site`);
  const regionOf = new Map<string, string>();
  const siteOffsetH = new Map<string, number>();
  for (const s of root.sites) {
    const region = measuredRegionOf(s, scenario.sites[s.id]?.measured_region);
    regionOf.set(s.id, region);
    siteOffsetH.set(s.id, scenario.sites[s.id]?.utc_offset_h ?? utcOffsetHours(region));
  }

  const byPriority = [...root.classes].sort((a, b) => a.priority - b.priority);
  const classes: TwinClass[] = root.classes.map((c) => ({
    id: c.id,
    dscp: c.dscp[0] ?? 0,
    priority: c.priority,
    slo: { rtt: c.slo.rtt_p95_ms, loss: c.slo.loss_pct / 100, jitter: c.slo.jitter_ms },
  }));
  const packetSizes = classes.map((c) => {
    const rank = byPriority.findIndex((b) => b.id === c.id);
    return PACKET_SIZE[Math.min(rank, PACKET_SIZE.length - 1)]!;
  });

  const rttOverride = new Map<string, number>();
  for (const [id, o] of Object.entries(scenario.links)) if (o.rtt_ms !== undefined) rttOverride.set(id, o.rtt_ms);
  const net = new LinkModel(root, regionOf, classes, (c) => packetSizes[c]!, rttOverride);
  return { root, topology, classes, packetSizes, siteOffsetH, net };
}

/**
 * Each path's quality on a quiet network — no traffic, no incidents — for a config and scenario: what
 * the region RTT tables (or the scenario's link RTTs) alone give, the best any routing can get from the
 * path. Builds only the links (no demand or incidents), so any scenario's demand section fits.
 */
export function quietPathQuality(
  root: RootConfig,
  scenario: Scenario,
): { paths: readonly PathState[]; classes: readonly TwinClass[]; quality: PathQuality[] } {
  const { net, classes } = buildNetwork(root, scenario);
  const none = noImpairments(net.linkIndex.size, net.paths.length);
  return { paths: net.paths, classes, quality: net.paths.map((_, p) => net.unloadedQuality(p, none)) };
}

function applyLinkOverrides(root: RootConfig, scenario: Scenario): RootConfig {
  const ids = new Set(root.links.map((l) => l.id));
  for (const id of Object.keys(scenario.links)) if (!ids.has(id)) throw new ValidationError(`scenario links.${id}: unknown link`);
  if (Object.keys(scenario.links).length === 0) return root;
  const sites = new Map(root.sites.map((s) => [s.id, s]));
  return {
    ...root,
    links: root.links.map((l) => {
      const o = scenario.links[l.id];
      if (!o) return l;
      let cost = l.cost_per_gb;
      if (o.cost_per_gb === 'table') {
        const a = measuredRegionOf(sites.get(l.a.site)!, scenario.sites[l.a.site]?.measured_region);
        const b = measuredRegionOf(sites.get(l.b.site)!, scenario.sites[l.b.site]?.measured_region);
        const price = regionEgressPrice(a, b);
        if (price === undefined)
          throw new ValidationError(`scenario links.${l.id}.cost_per_gb: no listed price from ${a} to ${b}`);
        cost = price;
      } else if (o.cost_per_gb !== undefined) cost = o.cost_per_gb;
      return { ...l, capacity_mbps: o.capacity_mbps ?? l.capacity_mbps, cost_per_gb: cost };
    }),
  };
}
