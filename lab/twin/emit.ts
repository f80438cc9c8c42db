/**
 * What the twin emits, built from one tick of the model: probe windows (core probeRecord), cumulative
 * interface counters (core ifaceRecord, source "twin"), sampled flows (core flowRecord, encoded as
 * NetFlow v9 / IPFIX by ingest/flow's encoder) and daily FOCUS 1.0 billing rows.
 */
import type { FlowRecord, IfaceRecord, ProbeRecord } from '../../core/records/index.ts';
import { ipv4ToNumber } from '../../core/config/index.ts';
import { Rng } from './rng.ts';
import type { TwinEngine } from './model.ts';

/** One probe record per path (and per probed class) for the window that just ended. */
export function probeRecords(engine: TwinEngine, classes: number[], probesPerWindow: number, windowStart: number): ProbeRecord[] {
  const C = engine.classes.length;
  const out: ProbeRecord[] = [];
  const rng = new Rng(engine.seed, 'probe', engine.ticks);
  for (let p = 0; p < engine.paths.length; p++) {
    const P = engine.paths[p]!;
    for (const c of classes) {
      const Q = engine.quality[p * C + c]!;
      const sent = probesPerWindow;
      const received = sent - rng.binomial(sent, Q.loss);
      const n = (x: number) => Math.max(0.01, Math.round(x * (1 + 0.004 * rng.normal()) * 1000) / 1000);
      const any = received > 0;
      const min = any ? n(Q.rttMinMs) : 0;
      const p50 = any ? Math.max(min, n(Q.rttP50Ms)) : 0;
      const avg = any ? Math.max(min, n(Q.rttAvgMs)) : 0;
      const p95 = any ? Math.max(p50, avg, n(Q.rttP95Ms)) : 0;
      const max = any ? Math.max(p95, n(Q.rttMaxMs)) : 0;
      out.push({
        window_start: windowStart,
        window_end: windowStart + engine.tickMs,
        src_site: P.from,
        dst_site: P.to,
        path_id: P.id,
        class: engine.classes[c]!.id,
        sent,
        received,
        loss_ratio: Math.round((1 - received / sent) * 1e6) / 1e6,
        rtt_min_ms: min,
        rtt_avg_ms: avg,
        rtt_p50_ms: p50,
        rtt_p95_ms: p95,
        rtt_max_ms: max,
        jitter_ms: any ? n(Q.jitterMs) : 0,
      });
    }
  }
  return out;
}

/** Cumulative counters of every link end (both ends of every link). */
export function ifaceRecords(engine: TwinEngine, time: number): IfaceRecord[] {
  const out: IfaceRecord[] = [];
  for (let ld = 0; ld < engine.linkDirs.length; ld++) {
    const L = engine.linkDirs[ld]!;
    const rev = ld ^ 1; // the opposite direction arrives on this interface
    out.push({
      time,
      router: L.from,
      interface: L.iface,
      ...(L.ifIndex !== undefined ? { if_index: L.ifIndex } : {}),
      link: L.link,
      speed_bps: Math.round(L.capacityBps),
      in_octets: Math.floor(engine.dirRxBytes[rev]!),
      out_octets: Math.floor(engine.dirBytes[ld]!),
      in_packets: Math.floor(engine.dirRxPackets[rev]!),
      out_packets: Math.floor(engine.dirPackets[ld]!),
      in_errors: 0,
      out_errors: 0,
      in_drops: 0,
      out_drops: Math.floor(engine.dirDropBytes[ld]! / 1000),
      source: 'twin',
    });
  }
  return out;
}

const PORTS: Record<number, { proto: number; ports: number[] }> = {
  0: { proto: 17, ports: [5004, 3478, 16384, 5060] },
  1: { proto: 6, ports: [443, 22, 3389, 8443] },
  2: { proto: 6, ports: [443, 873, 445, 9092, 5432] },
};

export interface FlowIntent {
  /** Intended bytes per (pair, class) this tick: what the flows stand for (bytes × sampling). */
  bytes: Map<string, number>;
}

/**
 * Sampled flows for one tick, grouped by exporting site (the source router exports the traffic it sends
 * into the WAN; transit routers are not modelled as exporters). Bytes are exported as sampled (not scaled):
 * `bytes × sampling_rate` adds up to the demand the model routed (to the rounding of one byte per record).
 */
export function flowRecords(
  engine: TwinEngine,
  opts: { samplingRate: number; maxRecordsPerPath: number; exporterOf: (site: string) => string; format: 'netflow9' | 'ipfix' },
  tickStart: number,
  intent?: FlowIntent,
): Map<string, FlowRecord[]> {
  const out = new Map<string, FlowRecord[]>();
  const dt = engine.tickMs / 1000;
  const tickEnd = tickStart + engine.tickMs;
  const rng = new Rng(engine.seed, 'flows', engine.ticks);
  const classRank = [...engine.classes].sort((a, b) => a.priority - b.priority);
  for (let i = 0; i < engine.demands.length; i++) {
    const d = engine.demands[i]!;
    const total = (engine.demandBps[i]! * dt) / 8;
    const split = engine.split[i]!;
    const rank = Math.min(2, classRank.indexOf(engine.classes[d.classIdx]!));
    const pkt = engine.packetSize(d.classIdx);
    const srcNet = hostBase(engine, d.from);
    const dstNet = hostBase(engine, d.to);
    const exporter = opts.exporterOf(d.from);
    let list = out.get(d.from);
    if (!list) out.set(d.from, (list = []));
    let intended = 0;
    for (let k = 0; k < split.length; k++) {
      if (split[k]! <= 0) continue;
      const sampledBytes = Math.round((total * split[k]!) / opts.samplingRate);
      if (sampledBytes < pkt) continue; // Sampling saw no packet of this share.
      intended += sampledBytes * opts.samplingRate;
      const P = engine.paths[d.paths[k]!]!;
      const first = engine.linkDirs[P.fwd[0]!]!;
      const link = engine.topology.link(first.link);
      const far = link.a.site === d.from ? link.b : link.a;
      const n = Math.max(1, Math.min(opts.maxRecordsPerPath, Math.floor(sampledBytes / (pkt * 4))));
      const base = Math.floor(sampledBytes / n);
      let rest = sampledBytes - base * n;
      for (let r = 0; r < n; r++) {
        const bytes = base + (rest > 0 ? 1 : 0);
        if (rest > 0) rest--;
        const pp = PORTS[rank]!;
        const start = tickStart + rng.int(Math.max(1, engine.tickMs / 4));
        list.push({
          time_received: tickEnd,
          exporter,
          format: opts.format,
          domain_id: 0,
          sequence: 0,
          sampling_rate: opts.samplingRate,
          src_addr: numToIp(srcNet.base + 10 + rng.int(srcNet.size)),
          dst_addr: numToIp(dstNet.base + 10 + rng.int(dstNet.size)),
          src_port: 1024 + rng.int(64000),
          dst_port: rng.pick(pp.ports),
          protocol: pp.proto,
          tcp_flags: pp.proto === 6 ? 0x1b : 0,
          dscp: d.dscp,
          in_if: 1,
          out_if: first.ifIndex ?? 0,
          bytes,
          packets: Math.max(1, Math.round(bytes / pkt)),
          flow_start: start,
          flow_end: Math.min(tickEnd - 1, start + engine.tickMs / 2 + rng.int(engine.tickMs / 4)),
          ...(far.address ? { next_hop: far.address } : {}),
        });
      }
    }
    if (intent) intent.bytes.set(`${d.pair}|${d.cls}`, (intent.bytes.get(`${d.pair}|${d.cls}`) ?? 0) + intended);
  }
  return out;
}

const hostCache = new WeakMap<TwinEngine, Map<string, { base: number; size: number }>>();
function hostBase(engine: TwinEngine, site: string): { base: number; size: number } {
  let m = hostCache.get(engine);
  if (!m) hostCache.set(engine, (m = new Map()));
  let h = m.get(site);
  if (!h) {
    const prefix = engine.topology.site(site).prefixes.find((p) => !p.includes(':'));
    const [addr, len] = (prefix ?? '192.0.2.0/24').split('/');
    const base = ipv4ToNumber(addr!) ?? 0xc0000200;
    const size = Math.max(1, Math.min(60000, 2 ** (32 - Number(len)) - 20));
    m.set(site, (h = { base, size }));
  }
  return h;
}

function numToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
