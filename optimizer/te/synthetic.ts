import type { ClassConfig, LinkConfig, PathConfig } from '../../core/config/index.ts';
import type { PathQuality } from '../score.ts';
import type { TeDemand, TeTopology } from './solve.ts';

/** Deterministic PRNG (mulberry32) so benchmarks and tests see the same topology every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const defaultClasses: ClassConfig[] = [
  { id: 'realtime', dscp: [46], priority: 1, pin: true, slo: { rtt_p95_ms: 260, loss_pct: 1, jitter_ms: 30 } },
  { id: 'interactive', dscp: [26], priority: 2, pin: false, slo: { rtt_p95_ms: 320, loss_pct: 2, jitter_ms: 60 } },
  { id: 'bulk', dscp: [0], priority: 3, pin: false, slo: { rtt_p95_ms: 600, loss_pct: 5, jitter_ms: 200 } },
];

export interface SyntheticTe {
  topology: TeTopology;
  demands: TeDemand[];
  quality: Map<string, PathQuality>;
}

export interface SyntheticTeOptions {
  /** Candidate paths per ordered pair (distinct first hops), default 3. */
  pathsPerPair?: number;
  /** Nearest neighbours each site links to (at least `pathsPerPair`), default 4. */
  degree?: number;
  seed?: number;
  /** Demand multiplier (× 3: the congested variant), applied last. */
  load?: number;
  /**
   * Fraction of ordered site pairs that exchange traffic, default 1 (full mesh). Below 1, pairs are drawn
   * with probability ∝ w_i·w_j (the gravity weights, capped at 1): heavy sites (hubs) talk to most others,
   * light ones (branches) to few. Paths are generated only for pairs with demand.
   */
  density?: number;
  /**
   * Scale demand so that, with every demand on its first (shortest) path, the busiest link direction runs
   * at this fraction of its capacity (before `load`). Without it demand is sized per site count, which
   * leaves large instances nearly idle (the busiest link at 23 % at 300 sites, 56 % at 100).
   */
  utilization?: number;
}

/**
 * A synthetic WAN: `sites` placed on a plane, each linked to its `degree` nearest neighbours (plus a ring
 * so the graph is connected); for every ordered pair with demand, `pathsPerPair` shortest paths with
 * distinct first hops; demand per class with a gravity model (full mesh by default, or a `density`
 * fraction of pairs), sized per site count or calibrated to a primary-path `utilization`.
 * The defaults reproduce the original generator exactly (same seed stream).
 */
export function syntheticTe(sites: number, options: SyntheticTeOptions = {}): SyntheticTe {
  const k = options.pathsPerPair ?? 3;
  const degree = Math.max(k, options.degree ?? 4);
  const rand = rng(options.seed ?? 42);
  const ids = Array.from({ length: sites }, (_, i) => `s${i}`);
  const pos = ids.map(() => [rand() * 10_000, rand() * 6_000] as const);
  const dist = (i: number, j: number) => Math.hypot(pos[i]![0] - pos[j]![0], pos[i]![1] - pos[j]![1]);
  const adj: Map<number, string>[] = ids.map(() => new Map());
  const links: LinkConfig[] = [];
  const addLink = (i: number, j: number) => {
    if (i === j || adj[i]!.has(j)) return;
    const id = `l${links.length}`;
    const inet = rand() < 0.3;
    links.push({
      id,
      kind: inet ? 'internet' : 'wireguard',
      a: { site: ids[i]!, interface: `wg${j}` },
      b: { site: ids[j]!, interface: `wg${i}` },
      capacity_mbps: inet ? 2000 : [1000, 5000, 10000][Math.floor(rand() * 3)]!,
      cost_per_gb: inet ? 0.01 : 0.02 + rand() * 0.1,
      monthly_fixed_cost: 0,
    });
    adj[i]!.set(j, id);
    adj[j]!.set(i, id);
  };
  for (let i = 0; i < sites; i++) {
    addLink(i, (i + 1) % sites);
    const near = ids
      .map((_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => dist(i, a) - dist(i, b))
      .slice(0, degree);
    for (const j of near) if (adj[i]!.size < degree + 2) addLink(i, j);
  }
  // Sparse demand: gravity weights and the pairs drawn from a separate stream (the full mesh keeps the
  // original order: weights after path quality).
  const density = options.density ?? 1;
  let weight: number[] | undefined;
  let wanted: ((s: number, t: number) => boolean) | undefined;
  if (density < 1) {
    const rand2 = rng(((options.seed ?? 42) ^ 0x5bd1e995) >>> 0);
    const w = ids.map(() => 0.2 + rand2() ** 2 * 3);
    weight = w;
    // p_ij = min(1, c·w_i·w_j) with c chosen so the expected pair count is density × n(n − 1).
    const target = density * sites * (sites - 1);
    const expected = (c: number) => {
      let sum = 0;
      for (let i = 0; i < sites; i++) for (let j = 0; j < sites; j++) if (i !== j) sum += Math.min(1, c * w[i]! * w[j]!);
      return sum;
    };
    let lo = 0;
    let hi = 1;
    while (expected(hi) < target) hi *= 2;
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      if (expected(mid) < target) lo = mid;
      else hi = mid;
    }
    const chosen = new Uint8Array(sites * sites);
    for (let i = 0; i < sites; i++)
      for (let j = 0; j < sites; j++) if (i !== j && rand2() < Math.min(1, hi * w[i]! * w[j]!)) chosen[i * sites + j] = 1;
    wanted = (a, b) => chosen[a * sites + b] === 1;
  }
  // For each source and each neighbour n: BFS from n not re-entering the source gives one path per destination.
  const paths: PathConfig[] = [];
  for (let s = 0; s < sites; s++) {
    const candidates: { via: number; prev: Int32Array; hops: Int32Array }[] = [];
    for (const n of adj[s]!.keys()) {
      const prev = new Int32Array(sites).fill(-2);
      const hops = new Int32Array(sites).fill(-1);
      prev[n] = -1;
      hops[n] = 1;
      prev[s] = -3;
      const queue = [n];
      for (let qi = 0; qi < queue.length; qi++) {
        const u = queue[qi]!;
        for (const v of adj[u]!.keys()) {
          if (prev[v] !== -2) continue;
          prev[v] = u;
          hops[v] = hops[u]! + 1;
          queue.push(v);
        }
      }
      candidates.push({ via: n, prev, hops });
    }
    for (let t = 0; t < sites; t++) {
      if (t === s || (wanted && !wanted(s, t))) continue;
      const best = candidates
        .filter((c) => c.hops[t]! > 0)
        .sort((a, b) => a.hops[t]! - b.hops[t]! || a.via - b.via)
        .slice(0, k);
      best.forEach((c, rank) => {
        const chain: number[] = [];
        for (let v = t; v !== -1; v = c.prev[v]!) chain.push(v);
        chain.push(s);
        chain.reverse();
        const pl: string[] = [];
        for (let h = 0; h + 1 < chain.length; h++) pl.push(adj[chain[h]!]!.get(chain[h + 1]!)!);
        paths.push({ id: `${ids[s]}.${ids[t]}.${rank + 1}`, from: ids[s]!, to: ids[t]!, links: pl, priority: rank + 1 });
      });
    }
  }
  const quality = new Map<string, PathQuality>();
  for (const p of paths) {
    const rtt = 5 + p.links.length * (8 + rand() * 25);
    // Backup paths are occasionally lossy; primaries stay inside every class SLO so the plan is feasible.
    const lossy = p.priority > 1 && rand() < 0.05;
    quality.set(p.id, {
      rtt_p95_ms: p.priority === 1 ? Math.min(rtt, 200) : rtt,
      loss_pct: lossy ? 3 + rand() * 5 : rand() * 0.3,
      jitter_ms: 1 + rand() * 10,
    });
  }
  // Gravity demand: weight per site, demand ∝ w_i·w_j, scaled by `load`.
  weight ??= ids.map(() => 0.2 + rand() ** 2 * 3);
  const load = options.load ?? 1;
  const perPair = (20_000 / sites) * (options.utilization === undefined ? load : 1);
  const shares: Record<string, number> = { realtime: 0.1, interactive: 0.3, bulk: 0.6 };
  const demands: TeDemand[] = [];
  for (let s = 0; s < sites; s++)
    for (let t = 0; t < sites; t++) {
      if (s === t || (wanted && !wanted(s, t))) continue;
      const base = (perPair * weight[s]! * weight[t]!) / sites;
      for (const c of defaultClasses) {
        const mean = base * shares[c.id]!;
        demands.push({ from: ids[s]!, to: ids[t]!, class: c.id, mbps: mean * 1.3, mean_mbps: mean });
      }
    }
  if (options.utilization !== undefined) {
    const scale = (load * options.utilization) / primaryUtilization({ links, paths, classes: defaultClasses }, demands);
    for (const d of demands) {
      d.mbps *= scale;
      d.mean_mbps = d.mean_mbps! * scale;
    }
  }
  return { topology: { links, paths, classes: defaultClasses }, demands, quality };
}

/** Utilization of the busiest link direction with every demand on its first (priority 1) path. */
export function primaryUtilization(topology: TeTopology, demands: readonly TeDemand[]): number {
  const links = new Map(topology.links.map((l) => [l.id, l]));
  const primary = new Map<string, PathConfig>();
  for (const p of topology.paths) {
    const k = `${p.from}>${p.to}`;
    const cur = primary.get(k);
    if (!cur || p.priority < cur.priority) primary.set(k, p);
  }
  const perPair = new Map<string, number>();
  for (const d of demands) perPair.set(`${d.from}>${d.to}`, (perPair.get(`${d.from}>${d.to}`) ?? 0) + d.mbps);
  const load = new Map<string, number>();
  let max = 0;
  for (const [pair, mbps] of perPair) {
    const p = primary.get(pair);
    if (!p) continue;
    let at = p.from;
    for (const id of p.links) {
      const l = links.get(id)!;
      const to = l.a.site === at ? l.b.site : l.a.site;
      const key = `${id}:${at}>${to}`;
      const u = (load.get(key) ?? 0) + mbps / l.capacity_mbps;
      load.set(key, u);
      max = Math.max(max, u);
      at = to;
    }
  }
  return max;
}
