/**
 * The twin's demand: one flow of traffic per (site pair, class) with daily and weekly seasonality in
 * the source site's time zone, growth, surges and AR(1) noise; and the split of each over its pair's
 * candidate paths that the source router's effective dataplane implies (uncontested class pins first,
 * then the WAN rule that really matches, else the primary path). Each tick adds the split demand to the
 * links' offered load.
 */
import type { RootConfig, Topology } from '../../core/config/index.ts';
import { ValidationError } from '../../core/errors.ts';
import { Rng } from './rng.ts';
import { parsePrefix, prefixContains, type Prefix4 } from '../vyos/config-values.ts';
import type { LbRule, RouterRouting } from './routing.ts';
import type { LinkModel, TwinClass } from './links.ts';
import type { Scenario } from './scenario.ts';
import { MatrixDemand, readDemandMatrix } from './matrix-demand.ts';
import { bgpLookup } from '../vyos/bgp.ts';

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

/** Class shares: explicit ones from the scenario, the rest by importance (1 : 3 : 6 …). */
export function classMix(byPriority: string[], explicit: Record<string, number>): Map<string, number> {
  const raw = new Map<string, number>();
  const defaults = [1, 3, 6];
  byPriority.forEach((id, i) => raw.set(id, explicit[id] ?? defaults[Math.min(i, defaults.length - 1)]!));
  const total = [...raw.values()].reduce((s, x) => s + x, 0);
  return new Map([...raw].map(([k, v]) => [k, total > 0 ? v / total : 0]));
}

/** True when a rule's prefix list ([] = any) covers one of the site's prefixes. */
function matches(rule: Prefix4[], site: Prefix4[]): boolean {
  return rule.length === 0 || site.some((sp) => rule.some((rp) => prefixContains(rp, sp)));
}

export class DemandModel {
  readonly demands: DemandState[] = [];
  /** Demand offered this tick, bits/s, per demand. */
  readonly demandBps: Float64Array;
  /** Split of each demand over its pair's paths: [demand][k] share (k indexes demand.paths). */
  readonly split: Float64Array[];
  private readonly noise: Float64Array;
  private readonly sitePrefix = new Map<string, Prefix4[]>();
  private readonly classCount: number;
  /** Measured demand (scenario `demand.matrix`); the synthetic shape when absent. */
  private readonly matrix: MatrixDemand | undefined;

  constructor(
    root: RootConfig,
    private readonly topology: Topology,
    private readonly scenario: Scenario,
    classes: readonly TwinClass[],
    private readonly net: LinkModel,
    private readonly siteOffsetH: ReadonlyMap<string, number>,
    private readonly startMs: number,
  ) {
    this.classCount = classes.length;
    for (const s of root.sites)
      this.sitePrefix.set(
        s.id,
        s.prefixes.map((p) => parsePrefix(p)).filter((p): p is Prefix4 => p !== undefined),
      );
    const byPriority = [...root.classes].sort((a, b) => a.priority - b.priority);
    const mix = classMix(
      byPriority.map((c) => c.id),
      scenario.demand.class_mix,
    );
    for (const id of Object.keys(scenario.demand.class_mix))
      if (!topology.classes.has(id)) throw new ValidationError(`scenario demand.class_mix.${id}: unknown class`);
    for (const key of Object.keys(scenario.demand.pairs)) {
      const [from, to] = key.split('>');
      if (topology.pathsFor(from!, to!).length === 0)
        throw new ValidationError(`scenario demand.pairs."${key}": no path joins these sites`);
    }

    if (scenario.demand.matrix) {
      // The file may name nodes by site id or by site name (an SNDlib node's original id).
      const byName = new Map<string, string>();
      for (const s of root.sites) if (s.name !== undefined) byName.set(s.name, s.id);
      const siteOf = (name: string) => (topology.sites.has(name) ? name : byName.get(name));
      this.matrix = new MatrixDemand(
        readDemandMatrix(scenario.demand.matrix.file),
        startMs,
        siteOf,
        (from, to) => topology.pathsFor(from, to).length > 0,
      );
    }

    const pairs = [...new Set(root.paths.map((p) => `${p.from}>${p.to}`))].sort();
    for (const pair of pairs) {
      const [from, to] = pair.split('>') as [string, string];
      const pathIdx = topology.pathsFor(from, to).map((p) => net.pathIndex.get(p.id)!);
      // With a matrix, baseMbps is the class's share of each measured Mbps (factor() returns the Mbps).
      const pairMbps = this.matrix ? 1 : (scenario.demand.pairs[pair] ?? scenario.demand.base_mbps);
      classes.forEach((c, ci) => {
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
    this.demandBps = new Float64Array(this.demands.length);
    this.split = this.demands.map((d) => new Float64Array(d.paths.length));
    this.noise = new Float64Array(this.demands.length);
  }

  /**
   * This tick's demand (with AR(1) noise, minute-scale correlation), split by each source router's
   * routing and added to the links' offered load per direction and class.
   */
  offer(
    t: number,
    tick: number,
    seed: number,
    tickMs: number,
    routing: ReadonlyMap<string, RouterRouting>,
    linkDown: Uint8Array,
  ): void {
    const C = this.classCount;
    const sigma = this.scenario.demand.noise;
    const rho = Math.pow(0.92, tickMs / 60_000);
    const noiseRng = new Rng(seed, 'noise', tick);
    this.net.dirOfferedBps.fill(0);
    for (let i = 0; i < this.demands.length; i++) {
      const d = this.demands[i]!;
      const eps = noiseRng.normal();
      this.noise[i] = tick === 0 ? sigma * eps : rho * this.noise[i]! + Math.sqrt(1 - rho * rho) * sigma * eps;
      const bps = d.baseMbps * 1e6 * this.factor(d, t) * Math.exp(this.noise[i]! - (sigma * sigma) / 2);
      this.demandBps[i] = bps;
      const split = this.split[i]!;
      this.route(d, split, routing.get(d.from), linkDown);
      for (let k = 0; k < split.length; k++) {
        const share = split[k]!;
        if (share <= 0) continue;
        for (const ld of this.net.paths[d.paths[k]!]!.fwd) this.net.dirOfferedBps[ld * C + d.classIdx]! += bps * share;
      }
    }
  }

  /** Demand multiplier at time t for a demand (seasonality, growth, surges); noise applied separately. */
  private factor(d: DemandState, t: number): number {
    const dm = this.scenario.demand;
    if (this.matrix) {
      const mbps = this.matrix.mbps(d.pair, t);
      return mbps > 0 ? mbps * this.surge(d, t) : 0;
    }
    const localMs = t + (this.siteOffsetH.get(d.from) ?? 0) * 3_600_000;
    const localHour = (localMs / 3_600_000) % 24;
    const diurnal = 1 - (dm.daily_amplitude * (1 - Math.cos((2 * Math.PI * (localHour - dm.peak_hour)) / 24))) / 2;
    const weekday = new Date(localMs).getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? dm.weekend_factor : 1;
    const weeks = (t - this.startMs) / (7 * 86_400_000);
    const growth = Math.pow(1 + dm.growth_per_week, weeks);
    return diurnal * weekly * growth * this.surge(d, t);
  }

  /** Product of the surges active for d at time t (1 when none). */
  private surge(d: DemandState, t: number): number {
    let surge = 1;
    for (const s of this.scenario.demand.surges) {
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
    return surge;
  }

  /**
   * The split of demand d over its paths from the source router's effective dataplane. Writes into `out`.
   * A pin (policy route to a table) decides unless a WAN rule matching the same traffic contests its mark
   * (vyos-facts §5.4: not guaranteed, so the twin does not assume the pin wins); then the first WAN rule
   * that matches and still has a usable interface; else the primary path (the main table).
   */
  private route(d: DemandState, out: Float64Array, routing: RouterRouting | undefined, linkDown: Uint8Array): void {
    out.fill(0);
    if (routing) {
      const dstPrefixes = this.sitePrefix.get(d.to) ?? [];
      const srcPrefixes = this.sitePrefix.get(d.from) ?? [];
      const pathByIface = (iface: string): number => d.paths.findIndex((pi) => this.net.paths[pi]!.firstIface === iface);
      const usable = (k: number) => {
        if (k < 0) return false;
        const path = this.net.paths[d.paths[k]!]!;
        // A health-checked WAN interface whose link is down is taken out of the balance (VyOS wan health).
        return !(linkDown[path.links[0]!] && routing.healthChecked.has(path.firstIface));
      };
      const lbRule = routing.lbRules.find(
        (rule) =>
          matches(rule.destinations, dstPrefixes) &&
          matches(rule.sources, srcPrefixes) &&
          (rule.exclude || [...rule.weights.keys()].some((iface) => usable(pathByIface(iface)))),
      );
      if (this.routePin(d, out, routing, lbRule, dstPrefixes, pathByIface, usable)) return;
      if (lbRule && !lbRule.exclude && this.routeLbRule(lbRule, out, pathByIface, usable)) return;
      // The main table: BGP's selected route for the destination, out of the link to its next hop.
      if (routing.bgp) {
        for (const p of this.topology.site(d.to).prefixes) {
          const route = bgpLookup(routing.bgp, p);
          const k = route?.nextHop ? this.pathByNextHop(d, route.nextHop) : -1;
          if (usable(k)) {
            out[k] = 1;
            return;
          }
        }
      }
    }
    // Unknown config, no matching rule, or an exclude rule: the primary path.
    out.fill(0);
    out[0] = 1;
  }

  /** Sends d to the first matching pin's table route when the pin's mark is not contested; true when it did. */
  private routePin(
    d: DemandState,
    out: Float64Array,
    routing: RouterRouting,
    lbRule: LbRule | undefined,
    dstPrefixes: Prefix4[],
    pathByIface: (iface: string) => number,
    usable: (k: number) => boolean,
  ): boolean {
    for (const pin of routing.pins) {
      if (pin.dscp && !pin.dscp.has(d.dscp)) continue;
      if (!matches(pin.destinations, dstPrefixes)) continue;
      if (lbRule && !lbRule.exclude && pin.contestedBy.has(lbRule.rule)) return false;
      const routes = routing.tables.get(pin.table) ?? [];
      const route = routes.find((r) => dstPrefixes.some((sp) => prefixContains(r.prefix, sp)));
      if (!route) continue;
      let k = -1;
      for (const iface of route.interfaces) if (k < 0) k = pathByIface(iface);
      for (const nh of route.nextHops) if (k < 0) k = this.pathByNextHop(d, nh);
      if (usable(k)) {
        out[k] = 1;
        return true;
      }
    }
    return false;
  }

  /** Splits by a WAN rule's weights over its usable active interfaces (failover: the heaviest); true when any. */
  private routeLbRule(
    rule: LbRule,
    out: Float64Array,
    pathByIface: (iface: string) => number,
    usable: (k: number) => boolean,
  ): boolean {
    let total = 0;
    let best = -1;
    let bestW = -1;
    for (const [iface, w] of rule.weights) {
      const k = pathByIface(iface);
      if (!usable(k)) continue;
      if (w > bestW) {
        bestW = w;
        best = k;
      }
      out[k]! += w;
      total += w;
    }
    if (total <= 0) return false;
    if (rule.failover) {
      out.fill(0);
      out[best] = 1;
      return true;
    }
    for (let k = 0; k < out.length; k++) out[k]! /= total;
    return true;
  }

  private pathByNextHop(d: DemandState, nextHop: string): number {
    return d.paths.findIndex((pi) => {
      const ld = this.net.linkDirs[this.net.paths[pi]!.fwd[0]!]!;
      const link = this.topology.link(ld.link);
      const far = link.a.site === d.from ? link.b : link.a;
      return far.address === nextHop;
    });
  }
}
