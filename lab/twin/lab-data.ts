/**
 * Lab traffic for the optimizer's benches and functional tests: steps the lab twin's network model
 * (lab/twin TwinEngine: real RTT/price tables, diurnal demand per site timezone, AR noise, incidents) at the
 * optimizer's step and records what the optimizer reads — link-direction traffic, pair × class demand,
 * probe windows per path, daily cost — into a MemoryOptimizerData.
 */
import { loadConfig, type RootConfig } from '../../core/config/index.ts';
import { TwinEngine } from './model.ts';
import { loadScenario } from './scenario.ts';
import {
  MemoryOptimizerData,
  type LinkTraffic,
  type PairTraffic,
  type PathProbes,
  type DailyCost,
} from '../../optimizer/data.ts';

export interface LabData {
  data: MemoryOptimizerData;
  root: RootConfig;
  startMs: number;
  endMs: number;
  stepMs: number;
}

export function labData(
  options: { days?: number; stepMs?: number; scenario?: string; startMs?: number; root?: RootConfig } = {},
): LabData {
  const root = options.root ?? loadConfig().root;
  const stepMs = options.stepMs ?? 300_000;
  const startMs = options.startMs ?? Date.UTC(2026, 9, 5);
  const ticks = Math.round(((options.days ?? 21) * 86_400_000) / stepMs);
  const engine = new TwinEngine({ root, scenario: loadScenario(options.scenario ?? 'steady').scenario, startMs, tickMs: stepMs });
  const links = new Map<string, LinkTraffic>();
  const pairs = new Map<string, PairTraffic>();
  const probes = new Map<string, PathProbes>();
  const costs = new Map<string, DailyCost>();
  const providerOf = new Map(root.sites.map((s) => [s.id, s.provider]));
  let lastCost = new Map<string, number>();
  for (let i = 0; i < ticks; i++) {
    engine.step();
    const st = engine.state();
    const t = startMs + i * stepMs;
    for (const [id, dirs] of Object.entries(st.links)) {
      const l = root.links.find((x) => x.id === id)!;
      for (const [dir, from] of [
        ['a_to_b', l.a.site],
        ['b_to_a', l.b.site],
      ] as const) {
        const key = `${id}:${from}`;
        let s = links.get(key);
        if (!s) links.set(key, (s = { link: id, from_site: from, startMs, stepMs, values: [] }));
        s.values.push(dirs[dir].mbps);
      }
    }
    for (const [pair, byClass] of Object.entries(st.demand_mbps)) {
      const [from, to] = pair.split('>') as [string, string];
      for (const [cls, mbps] of Object.entries(byClass)) {
        const key = `${pair}|${cls}`;
        let s = pairs.get(key);
        if (!s) pairs.set(key, (s = { from, to, class: cls, startMs, stepMs, values: [] }));
        s.values.push(mbps);
      }
    }
    for (const [pid, p] of Object.entries(st.paths)) {
      // The optimizer's probe series per path: the best-effort class's view of the path.
      const q = p.quality[root.classes[root.classes.length - 1]!.id] ?? Object.values(p.quality)[0];
      if (!q) continue;
      let s = probes.get(pid);
      if (!s) probes.set(pid, (s = { path: pid, windows: [] }));
      s.windows.push({ t, rtt_p95_ms: q.rttP95Ms, loss_pct: q.loss * 100, jitter_ms: q.jitterMs });
    }
    const day = t - (t % 86_400_000);
    const now = new Map(Object.entries(st.egress.cost_by_link));
    for (const [link, total] of now) {
      const inc = total - (lastCost.get(link) ?? 0);
      const l = root.links.find((x) => x.id === link);
      const provider = l
        ? providerOf.get(l.a.site) === 'onprem'
          ? providerOf.get(l.b.site)!
          : providerOf.get(l.a.site)!
        : 'other';
      const key = `${day}|${link}`;
      const c = costs.get(key) ?? { day, provider, link, cost: 0 };
      c.cost += inc;
      costs.set(key, c);
    }
    lastCost = now;
  }
  return {
    data: new MemoryOptimizerData({
      links: [...links.values()],
      pairs: [...pairs.values()],
      probes: [...probes.values()],
      costs: [...costs.values()],
    }),
    root,
    startMs,
    endMs: startMs + ticks * stepMs,
    stepMs,
  };
}
