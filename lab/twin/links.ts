/**
 * The twin's links and paths: link directions and candidate paths built from the topology (base RTT
 * from the region tables, jitter, buffers), and per tick what the links do with the traffic offered to
 * them — shapers, capacity, queueing-style congestion and drops — and the quality each path then shows
 * per class (what probes measure). Pure computation over typed arrays indexed by link direction.
 */
import type { LinkConfig, RootConfig } from '../../core/config/index.ts';
import { regionRtt } from './regions.ts';
import { classFor, type EffectiveShaper, type HtbClass } from '../vyos/dataplane.ts';
import type { RouterRouting } from './routing.ts';

/** Per-hop forwarding/encryption overhead added to a path's RTT (ms). */
const HOP_OVERHEAD_MS = 0.3;
/** Queueing model: service time (ms) of the M/M/1-style delay u/(1-u), and buffer bound per link kind. */
const QUEUE_SERVICE_MS = 1;
const BUFFER_MS: Record<LinkConfig['kind'], number> = { interconnect: 40, wireguard: 80, ipsec: 80, internet: 120 };
/** RTT relative to the region-to-region ping: private interconnects are a little faster than overlays. */
const RTT_FACTOR: Record<LinkConfig['kind'], number> = { interconnect: 0.96, wireguard: 1.0, ipsec: 1.0, internet: 1.04 };
const RTT_ADD_MS: Record<LinkConfig['kind'], number> = { interconnect: 0.2, wireguard: 0.6, ipsec: 0.8, internet: 1.0 };
const BASE_JITTER_MS: Record<LinkConfig['kind'], number> = { interconnect: 0.2, wireguard: 0.9, ipsec: 1.1, internet: 1.6 };
/** RTT spread of a link given by its RTT (no measured mdev): a quiet fibre path. */
const OVERRIDE_RTT_MDEV_MS = 0.1;
/** Utilization above which drops start (RED-like), and the loss at 100 %. */
const LOSS_KNEE = 0.87;
const LOSS_AT_FULL = 0.02;

/** A traffic class as the twin uses it: first DSCP, priority, SLO as ratios and milliseconds. */
export interface TwinClass {
  id: string;
  dscp: number;
  priority: number;
  slo: { rtt: number; loss: number; jitter: number };
}

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

/**
 * True when a path's quality meets a class SLO (p95 RTT, loss and jitter within their bounds). One
 * definition for the twin's SLO accounting and the config's feasibility check.
 */
export function meetsSlo(q: PathQuality, slo: TwinClass['slo']): boolean {
  return q.rttP95Ms <= slo.rtt && q.loss <= slo.loss && q.jitterMs <= slo.jitter;
}

/** What incidents do to links and paths this tick (IncidentModel fills it). */
export interface LinkImpairments {
  readonly linkDown: Uint8Array;
  readonly linkCapFactor: Float64Array;
  readonly linkLossAdd: Float64Array;
  readonly linkRttAdd: Float64Array;
  readonly linkJitterAdd: Float64Array;
  readonly pathRttAdd: Float64Array;
  readonly pathLossAdd: Float64Array;
  readonly pathJitterAdd: Float64Array;
}

/** Impairments of a quiet network: nothing down, nothing added (the base of a feasibility check). */
export function noImpairments(linkCount: number, pathCount: number): LinkImpairments {
  return {
    linkDown: new Uint8Array(linkCount),
    linkCapFactor: new Float64Array(linkCount).fill(1),
    linkLossAdd: new Float64Array(linkCount),
    linkRttAdd: new Float64Array(linkCount),
    linkJitterAdd: new Float64Array(linkCount),
    pathRttAdd: new Float64Array(pathCount),
    pathLossAdd: new Float64Array(pathCount),
    pathJitterAdd: new Float64Array(pathCount),
  };
}

/** Where one link direction's tick is counted (the accounting's cumulative counters). */
export interface LinkTickCounter {
  countLinkDir(
    ld: number,
    tick: { sentBytes: number; rxBytes: number; dropBytes: number; packets: number; rxPackets: number; cost: number },
  ): void;
}

export class LinkModel {
  readonly linkDirs: LinkDirState[] = [];
  readonly paths: PathState[] = [];
  readonly linkIndex = new Map<string, number>();
  readonly pathIndex = new Map<string, number>();
  /** Offered bits/s per link direction and class (DemandModel adds to it each tick). */
  readonly dirOfferedBps: Float64Array;
  /** Carried (delivered) bits/s per link direction and class. */
  readonly dirServedBps: Float64Array;
  readonly dirLoss: Float64Array;
  readonly dirQueueMs: Float64Array;
  /** Quality per path and class. */
  readonly quality: PathQuality[];
  /**
   * Quality per path with none of the traffic routed on it this tick: base RTT and jitter plus this
   * tick's incidents (a link down loses everything), no queues, no congestion drops. What the best
   * routing could get from the path, so SLO accounting can tell a routing breach from an SLO no path
   * can meet.
   */
  readonly baseQuality: PathQuality[];

  constructor(
    root: RootConfig,
    regionOf: ReadonlyMap<string, string>,
    private readonly classes: readonly TwinClass[],
    private readonly packetSize: (classIdx: number) => number,
    /** Ping RTT per link id in place of the region table's (scenario `links.<id>.rtt_ms`). */
    rttOverrideMs: ReadonlyMap<string, number> = new Map(),
  ) {
    root.links.forEach((l, i) => {
      this.linkIndex.set(l.id, i);
      const override = rttOverrideMs.get(l.id);
      const { avg, mdev } =
        override !== undefined
          ? { avg: override, mdev: OVERRIDE_RTT_MDEV_MS }
          : regionRtt(regionOf.get(l.a.site)!, regionOf.get(l.b.site)!);
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

    const C = classes.length;
    const D = this.linkDirs.length;
    this.dirOfferedBps = new Float64Array(D * C);
    this.dirServedBps = new Float64Array(D * C);
    this.dirLoss = new Float64Array(D * C);
    this.dirQueueMs = new Float64Array(D * C);
    this.quality = Array.from({ length: this.paths.length * C }, emptyQuality);
    this.baseQuality = Array.from({ length: this.paths.length }, emptyQuality);
  }

  /**
   * Serves this tick's offered traffic on every link direction: the interface's HTB shaper as the router
   * really builds it (effective dataplane) caps classes, capacity (after incidents) caps the rest, queues
   * and drops follow utilization; the counter gets what was sent.
   */
  serve(routing: ReadonlyMap<string, RouterRouting>, impair: LinkImpairments, dt: number, counter: LinkTickCounter): void {
    const C = this.classes.length;
    for (let ld = 0; ld < this.linkDirs.length; ld++) {
      const L = this.linkDirs[ld]!;
      const li = ld >> 1;
      const shaper = routing.get(L.from)?.shapers.get(L.iface);
      let cap = impair.linkDown[li] ? 0 : L.capacityBps * impair.linkCapFactor[li]!;
      // HTB's root class runs at the shaper's bandwidth: nothing leaves faster, whatever the link could do.
      if (shaper) cap = Math.min(cap, shaper.rootBps);
      const afterShaper = new Float64Array(C);
      const served = new Float64Array(C);
      if (shaper) this.shapeHtb(shaper, ld, cap, afterShaper, served);
      else {
        // No shaper: the link's FIFO takes everything offered and drops evenly over capacity.
        let offered = 0;
        for (let c = 0; c < C; c++) {
          afterShaper[c] = this.dirOfferedBps[ld * C + c]!;
          offered += afterShaper[c]!;
          this.dirQueueMs[ld * C + c] = 0;
        }
        const scale = offered > cap ? cap / offered : 1;
        for (let c = 0; c < C; c++) served[c] = afterShaper[c]! * scale;
      }
      let offeredTotal = 0;
      let sentTotal = 0;
      for (let c = 0; c < C; c++) {
        offeredTotal += afterShaper[c]!;
        sentTotal += served[c]!;
      }
      const u = cap > 0 ? offeredTotal / cap : offeredTotal > 0 ? Infinity : 0;
      const uq = Math.min(u, 0.995);
      const queue = cap > 0 ? Math.min(L.bufferMs, (QUEUE_SERVICE_MS * uq) / (1 - uq)) : 0;
      const aqmLoss = u <= LOSS_KNEE ? 0 : u >= 1 ? LOSS_AT_FULL : LOSS_AT_FULL * ((u - LOSS_KNEE) / (1 - LOSS_KNEE)) ** 2;
      let servedTotal = 0;
      let offeredAll = 0;
      for (let c = 0; c < C; c++) {
        const off = this.dirOfferedBps[ld * C + c]!;
        const lossC = off > 0 ? 1 - (served[c]! / off) * (1 - aqmLoss) : cap > 0 ? aqmLoss : 1;
        const loss = 1 - (1 - lossC) * (1 - impair.linkLossAdd[li]!);
        this.dirLoss[ld * C + c] = Math.min(1, Math.max(0, loss));
        const delivered = off * (1 - this.dirLoss[ld * C + c]!);
        this.dirServedBps[ld * C + c] = delivered;
        this.dirQueueMs[ld * C + c]! += queue;
        servedTotal += delivered;
        offeredAll += off;
      }
      // Counters: bytes leave the sending end (after the shaper), arrive at the far end (after loss).
      const sentBytes = (sentTotal * dt) / 8;
      const rxBytes = (servedTotal * dt) / 8;
      let pkts = 0;
      let rxPkts = 0;
      for (let c = 0; c < C; c++) {
        const size = this.packetSize(c);
        const off = this.dirOfferedBps[ld * C + c]!;
        pkts += (off * dt) / 8 / size;
        rxPkts += (this.dirServedBps[ld * C + c]! * dt) / 8 / size;
      }
      counter.countLinkDir(ld, {
        sentBytes,
        rxBytes,
        dropBytes: Math.max(0, (offeredAll * dt) / 8 - sentBytes),
        packets: offeredAll > 0 ? (pkts * sentTotal) / offeredAll : 0,
        rxPackets: rxPkts,
        cost: (sentBytes / 1e9) * L.costPerGb,
      });
    }
  }

  /**
   * One tick of an HTB tree as VyOS builds it (vyos-facts §5.1): each twin class lands in the HTB class
   * its DSCP really matches (classes sharing one HTB class share its rate and ceiling); each HTB class
   * may send up to its ceil; its rate is guaranteed first, then what is left of `cap` is lent in HTB prio
   * order. Writes per twin class what passes the ceilings (`allowed`) and what is sent (`served`), and
   * the class queue delay of a class running near its ceiling.
   */
  private shapeHtb(shaper: EffectiveShaper, ld: number, cap: number, allowed: Float64Array, served: Float64Array): void {
    const C = this.classes.length;
    const groups = new Map<HtbClass, { members: number[]; offered: number }>();
    for (let c = 0; c < C; c++) {
      const htb = classFor(shaper, this.classes[c]!.dscp);
      const g = groups.get(htb) ?? { members: [], offered: 0 };
      g.members.push(c);
      g.offered += this.dirOfferedBps[ld * C + c]!;
      groups.set(htb, g);
    }
    const list = [...groups].map(([htb, g]) => ({ htb, ...g, allowed: Math.min(g.offered, htb.ceilBps), sent: 0 }));
    const guaranteed = list.reduce((s, g) => s + Math.min(g.allowed, g.htb.rateBps), 0);
    const scale = guaranteed > cap ? cap / guaranteed : 1;
    let spare = cap;
    for (const g of list) {
      g.sent = Math.min(g.allowed, g.htb.rateBps) * scale;
      spare -= g.sent;
    }
    for (const g of [...list].sort((a, b) => a.htb.priority - b.htb.priority)) {
      const more = Math.min(g.allowed - g.sent, Math.max(0, spare));
      g.sent += more;
      spare -= more;
    }
    for (const g of list) {
      const classU = g.htb.ceilBps > 0 ? Math.min(g.offered / g.htb.ceilBps, 0.995) : 0.995;
      const classQueueMs = classU > 0.5 ? (QUEUE_SERVICE_MS * classU) / (1 - classU) : 0;
      for (const c of g.members) {
        // Within one HTB class (SFQ) each twin class gets its share of what the class passes.
        const share = g.offered > 0 ? this.dirOfferedBps[ld * C + c]! / g.offered : 0;
        allowed[c] = g.allowed * share;
        served[c] = g.sent * share;
        this.dirQueueMs[ld * C + c] = Math.min(this.linkDirs[ld]!.bufferMs, classQueueMs);
      }
    }
  }

  /**
   * Quality per path and class from this tick's queues and losses plus incident impairments, and each
   * path's base quality (the same without this tick's queues and congestion drops).
   */
  measure(impair: LinkImpairments): void {
    const C = this.classes.length;
    for (let p = 0; p < this.paths.length; p++) {
      const P = this.paths[p]!;
      let revQueue = 0;
      let revJitter2 = 0;
      for (const ld of P.rev) {
        revQueue += this.dirQueueMs[ld * C + (C - 1)]! * 0.5;
        revJitter2 += 0.25 * this.linkDirs[ld]!.baseJitterMs ** 2;
      }
      for (let c = 0; c < C; c++) {
        let queue = revQueue;
        let jitter2 = revJitter2;
        let pass = 1 - impair.pathLossAdd[p]!;
        for (const ld of P.fwd) {
          const q = this.dirQueueMs[ld * C + c]!;
          queue += q;
          jitter2 += this.linkDirs[ld]!.baseJitterMs ** 2 + (0.35 * q) ** 2;
          pass *= 1 - this.dirLoss[ld * C + c]!;
        }
        this.fill(this.quality[p * C + c]!, p, impair, queue, Math.sqrt(jitter2), pass);
      }
      this.unloadedQuality(p, impair, this.baseQuality[p]!);
    }
  }

  /** Path `p`'s quality with no traffic on the network: base RTT and jitter plus `impair` only. */
  unloadedQuality(p: number, impair: LinkImpairments, out: PathQuality = emptyQuality()): PathQuality {
    const P = this.paths[p]!;
    let jitter2 = 0;
    for (const ld of P.rev) jitter2 += 0.25 * this.linkDirs[ld]!.baseJitterMs ** 2;
    let pass = 1 - impair.pathLossAdd[p]!;
    for (const ld of P.fwd) {
      const li = ld >> 1;
      jitter2 += this.linkDirs[ld]!.baseJitterMs ** 2;
      // serve() gives a link down no capacity and adds its incident loss to every class.
      pass *= impair.linkDown[li] ? 0 : 1 - impair.linkLossAdd[li]!;
    }
    return this.fill(out, p, impair, 0, Math.sqrt(jitter2), pass);
  }

  /**
   * Writes a path's probe figures from its queueing delay, its network jitter and the share of packets
   * it passes, adding the incidents' RTT and jitter on the path and its links.
   */
  private fill(Q: PathQuality, p: number, impair: LinkImpairments, queue: number, netJitter: number, pass: number): PathQuality {
    const P = this.paths[p]!;
    let incidentRtt = impair.pathRttAdd[p]!;
    let jitterInc = impair.pathJitterAdd[p]!;
    for (const li of P.links) {
      incidentRtt += impair.linkRttAdd[li]!;
      jitterInc += impair.linkJitterAdd[li]!;
    }
    const jitter = netJitter + jitterInc;
    const sd = jitter / 1.128;
    const avg = P.baseRttMs + incidentRtt + queue;
    Q.loss = 1 - pass;
    Q.jitterMs = jitter;
    Q.rttAvgMs = avg;
    Q.rttMinMs = Math.max(0.1, P.baseRttMs + incidentRtt + 0.1 * queue - 0.5 * sd);
    Q.rttP50Ms = avg - 0.08 * sd;
    Q.rttP95Ms = avg + 1.645 * sd;
    Q.rttMaxMs = avg + 3.2 * sd;
    return Q;
  }
}

function emptyQuality(): PathQuality {
  return { rttMinMs: 0, rttAvgMs: 0, rttP50Ms: 0, rttP95Ms: 0, rttMaxMs: 0, jitterMs: 0, loss: 0 };
}
