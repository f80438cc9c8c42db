/**
 * The twin's network model: demand per (site pair, class) with daily/weekly seasonality, AR(1) noise,
 * growth and surges; a split over candidate paths that follows each source router's config; link loads,
 * queueing-style congestion, shapers and incidents (with precursors); per-path quality; SLO minutes and
 * egress cost. Pure computation: no I/O, no clock. One `step()` is one tick.
 */
import { Topology, type RootConfig, type LinkConfig } from '../../core/config/index.ts';
import { ValidationError } from '../../core/errors.ts';
import { Rng } from './rng.ts';
import { measuredRegionOf, regionEgressPrice, regionRtt, utcOffsetHours } from './regions.ts';
import { emptyRouting, parsePrefix, prefixContains, type Prefix4, type RouterRouting } from './routing.ts';
import type { Scenario, Incident, IncidentKind } from './scenario.ts';

/** Per-hop forwarding/encryption overhead added to a path's RTT (ms). */
const HOP_OVERHEAD_MS = 0.3;
/** Queueing model: service time (ms) of the M/M/1-style delay u/(1-u), and buffer bound per link kind. */
const QUEUE_SERVICE_MS = 1;
const BUFFER_MS: Record<LinkConfig['kind'], number> = { interconnect: 40, wireguard: 80, ipsec: 80, internet: 120 };
/** RTT relative to the region-to-region ping: private interconnects are a little faster than overlays. */
const RTT_FACTOR: Record<LinkConfig['kind'], number> = { interconnect: 0.96, wireguard: 1.0, ipsec: 1.0, internet: 1.04 };
const RTT_ADD_MS: Record<LinkConfig['kind'], number> = { interconnect: 0.2, wireguard: 0.6, ipsec: 0.8, internet: 1.0 };
const BASE_JITTER_MS: Record<LinkConfig['kind'], number> = { interconnect: 0.2, wireguard: 0.9, ipsec: 1.1, internet: 1.6 };
/** Utilization above which drops start (RED-like), and the loss at 100 %. */
const LOSS_KNEE = 0.87;
const LOSS_AT_FULL = 0.02;
/** Mean packet size per class rank (most important first), bytes. */
const PACKET_SIZE = [220, 760, 1380];

export interface LinkDirState {
  link: string;
  from: string;
  to: string;
  iface: string;
  ifIndex: number | undefined;
  capacityBps: number;
  costPerGb: number;
  baseRttMs: number;
  baseJitterMs: number;
  bufferMs: number;
}

export interface PathState {
  id: string;
  from: string;
  to: string;
  /** Link-direction indexes, forward. */
  fwd: number[];
  /** Link-direction indexes the replies take (reverse order, opposite direction). */
  rev: number[];
  baseRttMs: number;
  firstIface: string;
  links: number[];
}

export interface DemandState {
  pair: string;
  from: string;
  to: string;
  cls: string;
  classIdx: number;
  dscp: number;
  baseMbps: number;
  paths: number[];
}

interface ResolvedIncident {
  index: number;
  kind: IncidentKind;
  magnitude: number;
  startMs: number;
  endMs: number;
  precursorMs: number;
  links: number[];
  path: number | undefined;
  label: string;
}

/** Quality of one path for one class in the last tick (what probes measure). */
export interface PathQuality {
  rttMinMs: number;
  rttAvgMs: number;
  rttP50Ms: number;
  rttP95Ms: number;
  rttMaxMs: number;
  jitterMs: number;
  loss: number;
}

export interface EngineOptions {
  root: RootConfig;
  scenario: Scenario;
  startMs: number;
  tickMs: number;
}

/** Ground truth the demo and tests read. */
export interface TwinState {
  time: number;
  ticks: number;
  scenario: string;
  seed: number;
  links: Record<string, { a_to_b: LinkDirSnapshot; b_to_a: LinkDirSnapshot }>;
  paths: Record<string, { mbps: number; share: Record<string, number>; quality: Record<string, PathQuality> }>;
  demand_mbps: Record<string, Record<string, number>>;
  slo_violation_minutes: Record<string, Record<string, number>>;
  egress: { cost_total: number; gb_total: number; cost_by_link: Record<string, number>; currency: string };
  incidents: { label: string; kind: IncidentKind; phase: 'precursor' | 'active' }[];
}

export interface LinkDirSnapshot {
  utilization: number;
  mbps: number;
  offered_mbps: number;
  loss: number;
  queue_ms: number;
}

export class TwinEngine {
  readonly topology: Topology;
  readonly classes: { id: string; dscp: number; priority: number; slo: { rtt: number; loss: number; jitter: number } }[];
  readonly linkDirs: LinkDirState[] = [];
  readonly paths: PathState[] = [];
  readonly demands: DemandState[] = [];
  readonly seed: number;
  readonly tickMs: number;
  readonly startMs: number;
  private readonly scenario: Scenario;
  private readonly linkIndex = new Map<string, number>();
  private readonly pathIndex = new Map<string, number>();
  private readonly sitePrefix = new Map<string, Prefix4[]>();
  private readonly siteOffsetH = new Map<string, number>();
  private readonly routing = new Map<string, RouterRouting>();
  private readonly incidents: ResolvedIncident[] = [];
  private readonly noise: Float64Array;
  private readonly pktSize: number[];
  private tickCount = 0;
  private now: number;

  // Per-tick results (reused arrays).
  /** Demand offered this tick, bits/s, per demand. */
  readonly demandBps: Float64Array;
  /** Split of each demand over its pair's paths: [demand][k] share (k indexes demand.paths). */
  readonly split: Float64Array[];
  /** Offered bits/s per link direction and class. */
  readonly dirOfferedBps: Float64Array;
  /** Carried (delivered) bits/s per link direction and class. */
  readonly dirServedBps: Float64Array;
  readonly dirLoss: Float64Array;
  readonly dirQueueMs: Float64Array;
  /** Quality per path and class. */
  readonly quality: PathQuality[];
  readonly linkDown: Uint8Array;
  // Cumulative counters.
  readonly dirBytes: Float64Array;
  readonly dirPackets: Float64Array;
  readonly dirDropBytes: Float64Array;
  readonly dirRxBytes: Float64Array;
  readonly dirRxPackets: Float64Array;
  readonly dirCost: Float64Array;
  readonly sloMinutes: Float64Array;
  private linkRttAdd: Float64Array;
  private linkJitterAdd: Float64Array;
  private linkLossAdd: Float64Array;
  private linkCapFactor: Float64Array;
  private pathRttAdd: Float64Array;
  private pathLossAdd: Float64Array;
  private pathJitterAdd: Float64Array;
  private activeIncidents: { label: string; kind: IncidentKind; phase: 'precursor' | 'active' }[] = [];

  constructor(opts: EngineOptions) {
    const { scenario } = opts;
    this.scenario = scenario;
    this.seed = scenario.seed;
    this.tickMs = opts.tickMs;
    this.startMs = opts.startMs;
    this.now = opts.startMs;
    const root = applyLinkOverrides(opts.root, scenario);
    this.topology = new Topology(root);
    const topo = this.topology;

    for (const id of Object.keys(scenario.sites))
      if (!topo.sites.has(id)) throw new ValidationError(`scenario sites.${id}: unknown site`);
    const regionOf = new Map<string, string>();
    for (const s of root.sites) {
      const region = measuredRegionOf(s, scenario.sites[s.id]?.measured_region);
      regionOf.set(s.id, region);
      this.siteOffsetH.set(s.id, scenario.sites[s.id]?.utc_offset_h ?? utcOffsetHours(region));
      this.sitePrefix.set(
        s.id,
        s.prefixes.map((p) => parsePrefix(p)).filter((p): p is Prefix4 => p !== undefined),
      );
    }

    root.links.forEach((l, i) => {
      this.linkIndex.set(l.id, i);
      const { avg, mdev } = regionRtt(regionOf.get(l.a.site)!, regionOf.get(l.b.site)!);
      const baseRttMs = avg * RTT_FACTOR[l.kind] + RTT_ADD_MS[l.kind];
      const ends = [
        [l.a, l.b],
        [l.b, l.a],
      ] as const;
      for (const [from, to] of ends) {
        this.linkDirs.push({
          link: l.id,
          from: from.site,
          to: to.site,
          iface: from.interface,
          ifIndex: from.if_index,
          capacityBps: l.capacity_mbps * 1e6,
          costPerGb: l.cost_per_gb,
          baseRttMs,
          baseJitterMs: BASE_JITTER_MS[l.kind] + mdev,
          bufferMs: BUFFER_MS[l.kind],
        });
      }
    });

    for (const p of root.paths) {
      let at = p.from;
      const fwd: number[] = [];
      const links: number[] = [];
      for (const lid of p.links) {
        const li = this.linkIndex.get(lid)!;
        const l = root.links[li]!;
        const dir = l.a.site === at ? 0 : 1;
        fwd.push(li * 2 + dir);
        links.push(li);
        at = dir === 0 ? l.b.site : l.a.site;
      }
      const rev = [...fwd].reverse().map((d) => d ^ 1);
      this.pathIndex.set(p.id, this.paths.length);
      this.paths.push({
        id: p.id,
        from: p.from,
        to: p.to,
        fwd,
        rev,
        links,
        baseRttMs: fwd.reduce((s, d) => s + this.linkDirs[d]!.baseRttMs, 0) + HOP_OVERHEAD_MS * fwd.length,
        firstIface: this.linkDirs[fwd[0]!]!.iface,
      });
    }

    const byPriority = [...root.classes].sort((a, b) => a.priority - b.priority);
    this.classes = root.classes.map((c) => ({
      id: c.id,
      dscp: c.dscp[0] ?? 0,
      priority: c.priority,
      slo: { rtt: c.slo.rtt_p95_ms, loss: c.slo.loss_pct / 100, jitter: c.slo.jitter_ms },
    }));
    this.pktSize = this.classes.map((c) => {
      const rank = byPriority.findIndex((b) => b.id === c.id);
      return PACKET_SIZE[Math.min(rank, PACKET_SIZE.length - 1)]!;
    });
    const mix = classMix(
      byPriority.map((c) => c.id),
      scenario.demand.class_mix,
    );
    for (const id of Object.keys(scenario.demand.class_mix))
      if (!topo.classes.has(id)) throw new ValidationError(`scenario demand.class_mix.${id}: unknown class`);
    for (const key of Object.keys(scenario.demand.pairs)) {
      const [from, to] = key.split('>');
      if (topo.pathsFor(from!, to!).length === 0)
        throw new ValidationError(`scenario demand.pairs."${key}": no path joins these sites`);
    }

    const pairs = [...new Set(root.paths.map((p) => `${p.from}>${p.to}`))].sort();
    for (const pair of pairs) {
      const [from, to] = pair.split('>') as [string, string];
      const pathIdx = topo.pathsFor(from, to).map((p) => this.pathIndex.get(p.id)!);
      const pairMbps = scenario.demand.pairs[pair] ?? scenario.demand.base_mbps;
      this.classes.forEach((c, ci) => {
        this.demands.push({
          pair,
          from,
          to,
          cls: c.id,
          classIdx: ci,
          dscp: c.dscp,
          baseMbps: pairMbps * (mix.get(c.id) ?? 0) * scenario.demand.scale,
          paths: pathIdx,
        });
      });
    }

    const C = this.classes.length;
    const D = this.linkDirs.length;
    this.demandBps = new Float64Array(this.demands.length);
    this.split = this.demands.map((d) => new Float64Array(d.paths.length));
    this.dirOfferedBps = new Float64Array(D * C);
    this.dirServedBps = new Float64Array(D * C);
    this.dirLoss = new Float64Array(D * C);
    this.dirQueueMs = new Float64Array(D * C);
    this.dirBytes = new Float64Array(D);
    this.dirPackets = new Float64Array(D);
    this.dirDropBytes = new Float64Array(D);
    this.dirRxBytes = new Float64Array(D);
    this.dirRxPackets = new Float64Array(D);
    this.dirCost = new Float64Array(D);
    this.sloMinutes = new Float64Array(this.demands.length);
    this.linkDown = new Uint8Array(root.links.length);
    this.linkRttAdd = new Float64Array(root.links.length);
    this.linkJitterAdd = new Float64Array(root.links.length);
    this.linkLossAdd = new Float64Array(root.links.length);
    this.linkCapFactor = new Float64Array(root.links.length).fill(1);
    this.pathRttAdd = new Float64Array(this.paths.length);
    this.pathLossAdd = new Float64Array(this.paths.length);
    this.pathJitterAdd = new Float64Array(this.paths.length);
    this.noise = new Float64Array(this.demands.length);
    this.quality = Array.from({ length: this.paths.length * C }, () => ({
      rttMinMs: 0,
      rttAvgMs: 0,
      rttP50Ms: 0,
      rttP95Ms: 0,
      rttMaxMs: 0,
      jitterMs: 0,
      loss: 0,
    }));
    this.resolveIncidents();
  }

  get ticks(): number {
    return this.tickCount;
  }
  get time(): number {
    return this.now;
  }

  linkDirIndex(link: string, fromSite: string): number {
    const li = this.linkIndex.get(link);
    if (li === undefined) throw new ValidationError(`unknown link "${link}"`);
    return this.linkDirs[li * 2]!.from === fromSite ? li * 2 : li * 2 + 1;
  }
  pathIdx(id: string): number | undefined {
    return this.pathIndex.get(id);
  }
  packetSize(classIdx: number): number {
    return this.pktSize[classIdx]!;
  }

  /** Installs the routing read from a site's router (undefined = unknown config: primary paths). */
  setRouting(site: string, routing: RouterRouting | undefined): void {
    this.routing.set(site, routing ?? emptyRouting());
  }

  private resolveIncidents(): void {
    const sc = this.scenario;
    const all: Incident[] = [...sc.incidents];
    const rnd = sc.random_incidents;
    if (rnd.per_week > 0) {
      const rng = new Rng(this.seed, 'random-incidents');
      const count = Math.round((rnd.per_week * sc.duration_days) / 7);
      const linkIds = [...this.linkIndex.keys()];
      for (let i = 0; i < count; i++) {
        const kind = rng.pick(rnd.kinds);
        const magnitude =
          kind === 'rtt_step'
            ? rng.range(40, 160)
            : kind === 'loss_burst'
              ? rng.range(1.5, 8)
              : kind === 'brownout'
                ? rng.range(0.5, 0.85)
                : 1;
        all.push({
          at_h: rng.range(2, sc.duration_days * 24 - 2),
          target: { link: rng.pick(linkIds) },
          kind,
          magnitude,
          duration_min: rng.range(10, rnd.max_duration_min),
          precursor_min: rnd.precursor_min,
        });
      }
    }
    all.forEach((inc, index) => {
      const startMs = this.startMs + inc.at_h * 3_600_000;
      let links: number[] = [];
      let path: number | undefined;
      let label: string;
      if ('link' in inc.target) {
        const li = this.linkIndex.get(inc.target.link);
        if (li === undefined)
          throw new ValidationError(`scenario incidents[${index}].target.link: unknown link "${inc.target.link}"`);
        links = [li];
        label = `${inc.kind} on link ${inc.target.link}`;
      } else {
        path = this.pathIndex.get(inc.target.path);
        if (path === undefined)
          throw new ValidationError(`scenario incidents[${index}].target.path: unknown path "${inc.target.path}"`);
        label = `${inc.kind} on path ${inc.target.path}`;
        if (inc.kind === 'brownout' || inc.kind === 'outage') {
          // Capacity lives on links: a path brownout/outage hits the path's first link.
          links = [this.paths[path]!.links[0]!];
          path = undefined;
        }
      }
      this.incidents.push({
        index,
        kind: inc.kind,
        magnitude: inc.magnitude,
        startMs,
        endMs: startMs + inc.duration_min * 60_000,
        precursorMs: inc.precursor_min * 60_000,
        links,
        path,
        label: `${label} at +${inc.at_h.toFixed(1)}h`,
      });
    });
  }

  /** The incidents of the run (scenario + seeded), with absolute times: ground truth for failure forecasting. */
  incidentSchedule(): { label: string; kind: IncidentKind; start: number; end: number; precursor_start: number }[] {
    return this.incidents.map((i) => ({
      label: i.label,
      kind: i.kind,
      start: i.startMs,
      end: i.endMs,
      precursor_start: i.startMs - i.precursorMs,
    }));
  }

  private applyIncidents(t: number, rng: Rng): void {
    this.linkRttAdd.fill(0);
    this.linkJitterAdd.fill(0);
    this.linkLossAdd.fill(0);
    this.linkCapFactor.fill(1);
    this.linkDown.fill(0);
    this.pathRttAdd.fill(0);
    this.pathLossAdd.fill(0);
    this.pathJitterAdd.fill(0);
    this.activeIncidents = [];
    for (const inc of this.incidents) {
      const preStart = inc.startMs - inc.precursorMs;
      if (t < preStart || t >= inc.endMs) continue;
      let rtt = 0;
      let jitter = 0;
      let loss = 0;
      let cap = 1;
      let down = false;
      if (t < inc.startMs) {
        // Precursor: jitter creep, sporadic micro-loss and a small RTT rise, growing towards onset.
        const x = (t - preStart) / Math.max(1, inc.precursorMs);
        jitter = 1 + 9 * x * x;
        rtt = inc.kind === 'rtt_step' ? 0.08 * inc.magnitude * x : 3 * x;
        if (rng.next() < 0.1 + 0.5 * x) loss = rng.range(0.0005, 0.004 + 0.006 * x);
        if (inc.kind === 'brownout') cap = 1 - 0.15 * inc.magnitude * x;
        this.activeIncidents.push({ label: inc.label, kind: inc.kind, phase: 'precursor' });
      } else {
        switch (inc.kind) {
          case 'rtt_step':
            rtt = inc.magnitude;
            jitter = 0.04 * inc.magnitude;
            break;
          case 'loss_burst':
            loss = (inc.magnitude / 100) * rng.range(0.6, 1.4);
            jitter = 4;
            break;
          case 'brownout':
            cap = 1 - inc.magnitude;
            jitter = 3;
            break;
          case 'outage':
            down = true;
            break;
        }
        this.activeIncidents.push({ label: inc.label, kind: inc.kind, phase: 'active' });
      }
      if (inc.path !== undefined) {
        this.pathRttAdd[inc.path]! += rtt;
        this.pathLossAdd[inc.path] = 1 - (1 - this.pathLossAdd[inc.path]!) * (1 - loss);
        this.pathJitterAdd[inc.path]! += jitter;
      }
      for (const li of inc.links) {
        this.linkRttAdd[li]! += rtt;
        this.linkJitterAdd[li]! += jitter;
        this.linkLossAdd[li] = 1 - (1 - this.linkLossAdd[li]!) * (1 - loss);
        this.linkCapFactor[li]! *= cap;
        if (down) this.linkDown[li] = 1;
      }
    }
  }

  /** Demand multiplier at time t for a demand (seasonality, growth, surges); noise applied separately. */
  private demandFactor(d: DemandState, t: number): number {
    const dm = this.scenario.demand;
    const localMs = t + (this.siteOffsetH.get(d.from) ?? 0) * 3_600_000;
    const localHour = (localMs / 3_600_000) % 24;
    const diurnal = 1 - (dm.daily_amplitude * (1 - Math.cos((2 * Math.PI * (localHour - dm.peak_hour)) / 24))) / 2;
    const weekday = new Date(localMs).getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? dm.weekend_factor : 1;
    const weeks = (t - this.startMs) / (7 * 86_400_000);
    const growth = Math.pow(1 + dm.growth_per_week, weeks);
    let surge = 1;
    for (const s of dm.surges) {
      if (s.from && s.from !== d.from) continue;
      if (s.to && s.to !== d.to) continue;
      if (s.class && s.class !== d.cls) continue;
      const start = this.startMs + s.at_h * 3_600_000;
      const end = start + s.duration_min * 60_000;
      const ramp = Math.max(1, s.ramp_min * 60_000);
      if (t < start - ramp || t >= end + ramp) continue;
      const level = t < start ? 1 - (start - t) / ramp : t >= end ? 1 - (t - end) / ramp : 1;
      surge *= 1 + (s.factor - 1) * level;
    }
    return diurnal * weekly * growth * surge;
  }

  /** The split of demand d over its paths from the source router's config. Writes into `out`. */
  private routeDemand(d: DemandState, out: Float64Array): void {
    out.fill(0);
    const routing = this.routing.get(d.from);
    const dstPrefixes = this.sitePrefix.get(d.to) ?? [];
    const srcPrefixes = this.sitePrefix.get(d.from) ?? [];
    const pathByIface = (iface: string): number => d.paths.findIndex((pi) => this.paths[pi]!.firstIface === iface);
    const usable = (k: number) => {
      if (k < 0) return false;
      const first = this.paths[d.paths[k]!]!.links[0]!;
      // A health-checked WAN interface whose link is down is taken out of the balance (VyOS wan health).
      return !(this.linkDown[first] && routing?.healthChecked.has(this.paths[d.paths[k]!]!.firstIface));
    };
    const matches = (rule: Prefix4[], site: Prefix4[]) =>
      rule.length === 0 || site.some((sp) => rule.some((rp) => prefixContains(rp, sp)));

    if (routing) {
      // 1. Policy routes: a DSCP match sending the class to a table whose route points at a WAN link.
      for (const pr of routing.policyRules) {
        if (!pr.bound || pr.table === undefined) continue;
        if (pr.dscp && !pr.dscp.has(d.dscp)) continue;
        if (!matches(pr.destinations, dstPrefixes)) continue;
        const routes = routing.tables.get(pr.table) ?? [];
        const route = routes.find((r) => dstPrefixes.some((sp) => prefixContains(r.prefix, sp)));
        if (!route) continue;
        let k = -1;
        for (const iface of route.interfaces) if (k < 0) k = pathByIface(iface);
        for (const nh of route.nextHops) if (k < 0) k = this.pathByNextHop(d, nh);
        if (usable(k)) {
          out[k] = 1;
          return;
        }
      }
      // 2. WAN load balancing: the first rule matching source and destination.
      for (const rule of routing.lbRules) {
        if (!matches(rule.destinations, dstPrefixes) || !matches(rule.sources, srcPrefixes)) continue;
        if (rule.exclude) break;
        let total = 0;
        let best = -1;
        let bestW = -1;
        for (const [iface, w] of rule.weights) {
          const k = pathByIface(iface);
          if (!usable(k)) continue;
          if (rule.failover) {
            if (w > bestW) {
              bestW = w;
              best = k;
            }
            continue;
          }
          out[k]! += w;
          total += w;
        }
        if (rule.failover && best >= 0) {
          out[best] = 1;
          return;
        }
        if (total > 0) {
          for (let k = 0; k < out.length; k++) out[k]! /= total;
          return;
        }
        out.fill(0);
        break;
      }
    }
    // 3. Unknown or no matching config: the primary path.
    out[0] = 1;
  }

  private pathByNextHop(d: DemandState, nextHop: string): number {
    return d.paths.findIndex((pi) => {
      const ld = this.linkDirs[this.paths[pi]!.fwd[0]!]!;
      const link = this.topology.link(ld.link);
      const far = link.a.site === d.from ? link.b : link.a;
      return far.address === nextHop;
    });
  }

  /** Advances one tick: [now, now + tickMs). */
  step(): void {
    const t = this.now;
    const dt = this.tickMs / 1000;
    const C = this.classes.length;
    const rng = new Rng(this.seed, 'tick', this.tickCount);
    this.applyIncidents(t, rng);

    // Demand with AR(1) noise (minute-scale correlation).
    const sigma = this.scenario.demand.noise;
    const rho = Math.pow(0.92, this.tickMs / 60_000);
    const noiseRng = new Rng(this.seed, 'noise', this.tickCount);
    this.dirOfferedBps.fill(0);
    for (let i = 0; i < this.demands.length; i++) {
      const d = this.demands[i]!;
      const eps = noiseRng.normal();
      this.noise[i] = this.tickCount === 0 ? sigma * eps : rho * this.noise[i]! + Math.sqrt(1 - rho * rho) * sigma * eps;
      const bps = d.baseMbps * 1e6 * this.demandFactor(d, t) * Math.exp(this.noise[i]! - (sigma * sigma) / 2);
      this.demandBps[i] = bps;
      const split = this.split[i]!;
      this.routeDemand(d, split);
      for (let k = 0; k < split.length; k++) {
        const share = split[k]!;
        if (share <= 0) continue;
        for (const ld of this.paths[d.paths[k]!]!.fwd) this.dirOfferedBps[ld * C + d.classIdx]! += bps * share;
      }
    }

    // Links: shapers, capacity, congestion.
    const classOrder = this.classes.map((_, i) => i).sort((a, b) => this.classes[a]!.priority - this.classes[b]!.priority);
    for (let ld = 0; ld < this.linkDirs.length; ld++) {
      const L = this.linkDirs[ld]!;
      const li = ld >> 1;
      const shaper = this.routing.get(L.from)?.shapers.get(L.iface);
      let cap = this.linkDown[li] ? 0 : L.capacityBps * this.linkCapFactor[li]!;
      if (shaper?.bandwidthBps !== undefined) cap = Math.min(cap, shaper.bandwidthBps);
      let offeredTotal = 0;
      const afterShaper = new Float64Array(C);
      for (let c = 0; c < C; c++) {
        const off = this.dirOfferedBps[ld * C + c]!;
        let ceil = Infinity;
        if (shaper) {
          const sc = shaper.classes.find((x) => x.dscp.has(this.classes[c]!.dscp));
          ceil = sc ? sc.ceilingBps : (shaper.defaultClass?.ceilingBps ?? Infinity);
        }
        afterShaper[c] = Math.min(off, ceil);
        offeredTotal += afterShaper[c]!;
        const classU = ceil === Infinity ? 0 : Math.min(off / ceil, 0.995);
        this.dirQueueMs[ld * C + c] = classU > 0.5 ? Math.min(L.bufferMs, (QUEUE_SERVICE_MS * classU) / (1 - classU)) : 0;
      }
      const u = cap > 0 ? offeredTotal / cap : offeredTotal > 0 ? Infinity : 0;
      const uq = Math.min(u, 0.995);
      const queue = cap > 0 ? Math.min(L.bufferMs, (QUEUE_SERVICE_MS * uq) / (1 - uq)) : 0;
      const aqmLoss = u <= LOSS_KNEE ? 0 : u >= 1 ? LOSS_AT_FULL : LOSS_AT_FULL * ((u - LOSS_KNEE) / (1 - LOSS_KNEE)) ** 2;
      // Over capacity: a shaper serves classes by priority; a plain FIFO drops evenly.
      let remaining = cap;
      const served = new Float64Array(C);
      if (shaper) {
        for (const c of classOrder) {
          served[c] = Math.min(afterShaper[c]!, remaining);
          remaining -= served[c]!;
        }
      } else {
        const scale = offeredTotal > cap ? cap / offeredTotal : 1;
        for (let c = 0; c < C; c++) served[c] = afterShaper[c]! * scale;
      }
      let servedTotal = 0;
      let offeredAll = 0;
      for (let c = 0; c < C; c++) {
        const off = this.dirOfferedBps[ld * C + c]!;
        const lossC = off > 0 ? 1 - (served[c]! / off) * (1 - aqmLoss) : cap > 0 ? aqmLoss : 1;
        const loss = 1 - (1 - lossC) * (1 - this.linkLossAdd[li]!);
        this.dirLoss[ld * C + c] = Math.min(1, Math.max(0, loss));
        const delivered = off * (1 - this.dirLoss[ld * C + c]!);
        this.dirServedBps[ld * C + c] = delivered;
        this.dirQueueMs[ld * C + c]! += queue;
        servedTotal += delivered;
        offeredAll += off;
      }
      // Counters: bytes leave the sending end (after the shaper), arrive at the far end (after loss).
      const sentBytes = (Math.min(offeredAll, cap) * dt) / 8;
      const rxBytes = (servedTotal * dt) / 8;
      this.dirBytes[ld]! += sentBytes;
      this.dirRxBytes[ld]! += rxBytes;
      this.dirDropBytes[ld]! += Math.max(0, (offeredAll * dt) / 8 - sentBytes);
      let pkts = 0;
      let rxPkts = 0;
      for (let c = 0; c < C; c++) {
        const size = this.packetSize(c);
        const off = this.dirOfferedBps[ld * C + c]!;
        pkts += (off * dt) / 8 / size;
        rxPkts += (this.dirServedBps[ld * C + c]! * dt) / 8 / size;
      }
      this.dirPackets[ld]! += offeredAll > 0 ? (pkts * Math.min(offeredAll, cap)) / offeredAll : 0;
      this.dirRxPackets[ld]! += rxPkts;
      this.dirCost[ld]! += (sentBytes / 1e9) * L.costPerGb;
    }

    // Paths: quality per class, SLO minutes.
    for (let p = 0; p < this.paths.length; p++) {
      const P = this.paths[p]!;
      let revQueue = 0;
      let revJitter2 = 0;
      for (const ld of P.rev) {
        revQueue += this.dirQueueMs[ld * C + (C - 1)]! * 0.5;
        revJitter2 += 0.25 * this.linkDirs[ld]!.baseJitterMs ** 2;
      }
      let incidentRtt = this.pathRttAdd[p]!;
      let jitterInc = this.pathJitterAdd[p]!;
      for (const li of P.links) {
        incidentRtt += this.linkRttAdd[li]!;
        jitterInc += this.linkJitterAdd[li]!;
      }
      for (let c = 0; c < C; c++) {
        let queue = revQueue;
        let jitter2 = revJitter2;
        let pass = 1 - this.pathLossAdd[p]!;
        for (const ld of P.fwd) {
          const q = this.dirQueueMs[ld * C + c]!;
          queue += q;
          jitter2 += this.linkDirs[ld]!.baseJitterMs ** 2 + (0.35 * q) ** 2;
          pass *= 1 - this.dirLoss[ld * C + c]!;
        }
        const jitter = Math.sqrt(jitter2) + jitterInc;
        const sd = jitter / 1.128;
        const avg = P.baseRttMs + incidentRtt + queue;
        const Q = this.quality[p * C + c]!;
        Q.loss = 1 - pass;
        Q.jitterMs = jitter;
        Q.rttAvgMs = avg;
        Q.rttMinMs = Math.max(0.1, P.baseRttMs + incidentRtt + 0.1 * queue - 0.5 * sd);
        Q.rttP50Ms = avg - 0.08 * sd;
        Q.rttP95Ms = avg + 1.645 * sd;
        Q.rttMaxMs = avg + 3.2 * sd;
      }
    }
    for (let i = 0; i < this.demands.length; i++) {
      const d = this.demands[i]!;
      if (this.demandBps[i]! <= 0) continue;
      const cls = this.classes[d.classIdx]!;
      const split = this.split[i]!;
      for (let k = 0; k < split.length; k++) {
        if (split[k]! < 0.02) continue;
        const Q = this.quality[d.paths[k]! * C + d.classIdx]!;
        if (Q.rttP95Ms > cls.slo.rtt || Q.loss > cls.slo.loss || Q.jitterMs > cls.slo.jitter) {
          this.sloMinutes[i]! += dt / 60;
          break;
        }
      }
    }
    this.tickCount++;
    this.now = t + this.tickMs;
  }

  /** Ground truth at the end of the last tick. */
  state(): TwinState {
    const C = this.classes.length;
    const mbps = (bps: number) => round(bps / 1e6, 3);
    const links: TwinState['links'] = {};
    const snap = (ld: number): LinkDirSnapshot => {
      const L = this.linkDirs[ld]!;
      let served = 0;
      let offered = 0;
      let lossW = 0;
      let q = 0;
      for (let c = 0; c < C; c++) {
        served += this.dirServedBps[ld * C + c]!;
        offered += this.dirOfferedBps[ld * C + c]!;
        lossW += this.dirOfferedBps[ld * C + c]! * this.dirLoss[ld * C + c]!;
        q = Math.max(q, this.dirQueueMs[ld * C + c]!);
      }
      return {
        utilization: round(Math.min(offered, L.capacityBps * this.linkCapFactor[ld >> 1]!) / L.capacityBps, 4),
        mbps: mbps(served),
        offered_mbps: mbps(offered),
        loss: round(offered > 0 ? lossW / offered : this.dirLoss[ld * C]!, 5),
        queue_ms: round(q, 3),
      };
    };
    for (let li = 0; li < this.linkDirs.length / 2; li++)
      links[this.linkDirs[li * 2]!.link] = { a_to_b: snap(li * 2), b_to_a: snap(li * 2 + 1) };

    const paths: TwinState['paths'] = {};
    this.paths.forEach((P, p) => {
      const quality: Record<string, PathQuality> = {};
      this.classes.forEach((c, ci) => {
        const Q = this.quality[p * C + ci]!;
        quality[c.id] = {
          rttMinMs: round(Q.rttMinMs, 3),
          rttAvgMs: round(Q.rttAvgMs, 3),
          rttP50Ms: round(Q.rttP50Ms, 3),
          rttP95Ms: round(Q.rttP95Ms, 3),
          rttMaxMs: round(Q.rttMaxMs, 3),
          jitterMs: round(Q.jitterMs, 3),
          loss: round(Q.loss, 6),
        };
      });
      paths[P.id] = { mbps: 0, share: {}, quality };
    });
    const demand: TwinState['demand_mbps'] = {};
    const slo: TwinState['slo_violation_minutes'] = {};
    this.demands.forEach((d, i) => {
      (demand[d.pair] ??= {})[d.cls] = mbps(this.demandBps[i]!);
      (slo[d.pair] ??= {})[d.cls] = round(this.sloMinutes[i]!, 3);
      d.paths.forEach((pi, k) => {
        const entry = paths[this.paths[pi]!.id]!;
        entry.share[d.cls] = round(this.split[i]![k]!, 4);
        entry.mbps = round(entry.mbps + (this.demandBps[i]! * this.split[i]![k]!) / 1e6, 3);
      });
    });
    const costByLink: Record<string, number> = {};
    let cost = 0;
    let bytes = 0;
    for (let ld = 0; ld < this.linkDirs.length; ld++) {
      const id = this.linkDirs[ld]!.link;
      costByLink[id] = round((costByLink[id] ?? 0) + this.dirCost[ld]!, 4);
      cost += this.dirCost[ld]!;
      bytes += this.dirBytes[ld]!;
    }
    return {
      time: this.now,
      ticks: this.tickCount,
      scenario: this.scenario.name,
      seed: this.seed,
      links,
      paths,
      demand_mbps: demand,
      slo_violation_minutes: slo,
      egress: {
        cost_total: round(cost, 4),
        gb_total: round(bytes / 1e9, 4),
        cost_by_link: costByLink,
        currency: this.topology.config.policy.currency,
      },
      incidents: [...this.activeIncidents],
    };
  }
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** Class shares: explicit ones from the scenario, the rest by importance (1 : 3 : 6 …). */
export function classMix(byPriority: string[], explicit: Record<string, number>): Map<string, number> {
  const raw = new Map<string, number>();
  const defaults = [1, 3, 6];
  byPriority.forEach((id, i) => raw.set(id, explicit[id] ?? defaults[Math.min(i, defaults.length - 1)]!));
  const total = [...raw.values()].reduce((s, x) => s + x, 0);
  return new Map([...raw].map(([k, v]) => [k, total > 0 ? v / total : 0]));
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
