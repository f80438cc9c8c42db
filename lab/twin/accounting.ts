/**
 * The twin's accounting: cumulative counters per link direction (bytes and packets sent and received,
 * drops, egress cost — what interface counters and billing exports report), SLO-violation and
 * SLO-infeasible minutes per demand, and the ground-truth snapshot (`TwinState`) the demo and tests
 * compare runs by.
 */
import type { IncidentKind } from './scenario.ts';
import type { DemandModel } from './demand.ts';
import type { ActiveIncident } from './incidents.ts';
import { meetsSlo, type LinkModel, type LinkTickCounter, type PathQuality, type TwinClass } from './links.ts';

/** Ground truth the demo and tests read. */
export interface TwinState {
  time: number;
  ticks: number;
  scenario: string;
  seed: number;
  links: Record<string, { a_to_b: LinkDirSnapshot; b_to_a: LinkDirSnapshot }>;
  paths: Record<string, { mbps: number; share: Record<string, number>; quality: Record<string, PathQuality> }>;
  demand_mbps: Record<string, Record<string, number>>;
  /** Minutes per pair and class the class SLO was broken although some path of the pair could meet it. */
  slo_violation_minutes: Record<string, Record<string, number>>;
  /** Minutes per pair and class no path of the pair could meet the class SLO (whatever the routing). */
  slo_infeasible_minutes: Record<string, Record<string, number>>;
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

export class Accounting implements LinkTickCounter {
  readonly dirBytes: Float64Array;
  readonly dirPackets: Float64Array;
  readonly dirDropBytes: Float64Array;
  readonly dirRxBytes: Float64Array;
  readonly dirRxPackets: Float64Array;
  readonly dirCost: Float64Array;
  /** SLO-violation minutes per demand. */
  readonly sloMinutes: Float64Array;
  /** Minutes per demand no path of its pair could meet its class SLO. */
  readonly sloInfeasibleMinutes: Float64Array;

  constructor(linkDirCount: number, demandCount: number) {
    this.dirBytes = new Float64Array(linkDirCount);
    this.dirPackets = new Float64Array(linkDirCount);
    this.dirDropBytes = new Float64Array(linkDirCount);
    this.dirRxBytes = new Float64Array(linkDirCount);
    this.dirRxPackets = new Float64Array(linkDirCount);
    this.dirCost = new Float64Array(linkDirCount);
    this.sloMinutes = new Float64Array(demandCount);
    this.sloInfeasibleMinutes = new Float64Array(demandCount);
  }

  countLinkDir(
    ld: number,
    tick: { sentBytes: number; rxBytes: number; dropBytes: number; packets: number; rxPackets: number; cost: number },
  ): void {
    this.dirBytes[ld]! += tick.sentBytes;
    this.dirRxBytes[ld]! += tick.rxBytes;
    this.dirDropBytes[ld]! += tick.dropBytes;
    this.dirPackets[ld]! += tick.packets;
    this.dirRxPackets[ld]! += tick.rxPackets;
    this.dirCost[ld]! += tick.cost;
  }

  /**
   * A demand violates its class's SLO for the tick when any path carrying at least 2 % of it breaks
   * the p95 RTT, loss or jitter bound — provided some path of its pair could have met the SLO this
   * tick. A path is judged by its base quality (no queues or congestion drops from the traffic routed
   * this tick, incidents included): when no path could meet the SLO even unloaded, no routing could
   * have, and the minute is counted as infeasible instead, so a run is not charged for an SLO the
   * network cannot give.
   */
  countSlo(demand: DemandModel, net: LinkModel, classes: readonly TwinClass[], dt: number): void {
    const C = classes.length;
    for (let i = 0; i < demand.demands.length; i++) {
      const d = demand.demands[i]!;
      if (demand.demandBps[i]! <= 0) continue;
      const cls = classes[d.classIdx]!;
      if (!d.paths.some((p) => meetsSlo(net.baseQuality[p]!, cls.slo))) {
        this.sloInfeasibleMinutes[i]! += dt / 60;
        continue;
      }
      const split = demand.split[i]!;
      for (let k = 0; k < split.length; k++) {
        if (split[k]! < 0.02) continue;
        if (!meetsSlo(net.quality[d.paths[k]! * C + d.classIdx]!, cls.slo)) {
          this.sloMinutes[i]! += dt / 60;
          break;
        }
      }
    }
  }

  /** Ground truth at the end of the last tick. */
  snapshot(
    run: { time: number; ticks: number; scenario: string; seed: number; currency: string },
    net: LinkModel,
    demand: DemandModel,
    classes: readonly TwinClass[],
    capFactor: Float64Array,
    incidents: readonly ActiveIncident[],
  ): TwinState {
    const C = classes.length;
    const mbps = (bps: number) => round(bps / 1e6, 3);
    const links: TwinState['links'] = {};
    const snap = (ld: number): LinkDirSnapshot => {
      const L = net.linkDirs[ld]!;
      let served = 0;
      let offered = 0;
      let lossW = 0;
      let q = 0;
      for (let c = 0; c < C; c++) {
        served += net.dirServedBps[ld * C + c]!;
        offered += net.dirOfferedBps[ld * C + c]!;
        lossW += net.dirOfferedBps[ld * C + c]! * net.dirLoss[ld * C + c]!;
        q = Math.max(q, net.dirQueueMs[ld * C + c]!);
      }
      return {
        utilization: round(Math.min(offered, L.capacityBps * capFactor[ld >> 1]!) / L.capacityBps, 4),
        mbps: mbps(served),
        offered_mbps: mbps(offered),
        loss: round(offered > 0 ? lossW / offered : net.dirLoss[ld * C]!, 5),
        queue_ms: round(q, 3),
      };
    };
    for (let li = 0; li < net.linkDirs.length / 2; li++)
      links[net.linkDirs[li * 2]!.link] = { a_to_b: snap(li * 2), b_to_a: snap(li * 2 + 1) };

    const paths: TwinState['paths'] = {};
    net.paths.forEach((P, p) => {
      const quality: Record<string, PathQuality> = {};
      classes.forEach((c, ci) => {
        const Q = net.quality[p * C + ci]!;
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
    const demandMbps: TwinState['demand_mbps'] = {};
    const slo: TwinState['slo_violation_minutes'] = {};
    const infeasible: TwinState['slo_infeasible_minutes'] = {};
    demand.demands.forEach((d, i) => {
      (demandMbps[d.pair] ??= {})[d.cls] = mbps(demand.demandBps[i]!);
      (slo[d.pair] ??= {})[d.cls] = round(this.sloMinutes[i]!, 3);
      (infeasible[d.pair] ??= {})[d.cls] = round(this.sloInfeasibleMinutes[i]!, 3);
      d.paths.forEach((pi, k) => {
        const entry = paths[net.paths[pi]!.id]!;
        entry.share[d.cls] = round(demand.split[i]![k]!, 4);
        entry.mbps = round(entry.mbps + (demand.demandBps[i]! * demand.split[i]![k]!) / 1e6, 3);
      });
    });
    const costByLink: Record<string, number> = {};
    let cost = 0;
    let bytes = 0;
    for (let ld = 0; ld < net.linkDirs.length; ld++) {
      const id = net.linkDirs[ld]!.link;
      costByLink[id] = round((costByLink[id] ?? 0) + this.dirCost[ld]!, 4);
      cost += this.dirCost[ld]!;
      bytes += this.dirBytes[ld]!;
    }
    return {
      time: run.time,
      ticks: run.ticks,
      scenario: run.scenario,
      seed: run.seed,
      links,
      paths,
      demand_mbps: demandMbps,
      slo_violation_minutes: slo,
      slo_infeasible_minutes: infeasible,
      egress: {
        cost_total: round(cost, 4),
        gb_total: round(bytes / 1e9, 4),
        cost_by_link: costByLink,
        currency: run.currency,
      },
      incidents: [...incidents],
    };
  }
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
