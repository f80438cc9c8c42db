/**
 * bench:localize — fault localization scored in the twin (issue 19, item 6). For each topology, runs of
 * one and of two link faults on random links (loss bursts of 2–30 % or outages, both directions), each
 * in its own twin run with the network's normal load and its congestion losses: the probes of the two
 * windows after the onset (every path, every class, 60 probes per class and window, as the twin's prober
 * sends them) go to `localizeFaults`, with the window before as the RTT baseline. A run is right when the
 * top finding's segment holds the faulty link (single), or the two top findings' segments hold one
 * faulty link each (pairs). Links no probe tells apart form one segment: naming the segment is right.
 *
 *   npm run bench:localize [-- --runs N] [--seed S] [--topology lab|FILE.xml ...]
 *
 * Default topologies: the lab network (pathpilot.example.yaml) and the SNDlib abilene, geant and nobel-eu
 * files in ../shared/data/topologies when present (not in the repository: ZIB academic license).
 * Targets: top-1 ≥ 90 % for single faults, ≥ 70 % for pairs, under the twin's own prober (every class, 60
 * probes a window) on a network whose busiest link runs at 60 % at the daily peak. A stressed condition is
 * printed beside it, not judged: one class probed, 20 probes a window, the busiest link at 90 % (its
 * congestion loses probes too).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { localizeFaults, type PathObservation } from '../../actuator/localize.ts';
import { loadConfig, type RootConfig } from '../../core/config/index.ts';
import { probeRecords } from '../../lab/twin/emit.ts';
import { TwinEngine } from '../../lab/twin/model.ts';
import { Rng } from '../../lab/twin/rng.ts';
import { parseScenario } from '../../lab/twin/scenario.ts';
import { parseSndlib, sndlibTopology } from '../../lab/twin/sndlib.ts';

const { values, positionals } = parseArgs({
  options: {
    runs: { type: 'string', default: '120' },
    seed: { type: 'string', default: '1' },
    topology: { type: 'string', multiple: true },
    verbose: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const runs = Number(values.runs);
const seed = Number(values.seed);
const MIN = 60_000;
const TICK = 5 * MIN;

/** How the network is loaded and probed. */
interface Condition {
  name: string;
  load: number;
  probes: number;
  /** Probe only the first class (else every class). */
  oneClass: boolean;
}
const CONDITIONS: Condition[] = [
  { name: 'twin prober, busiest link 60 %', load: 0.6, probes: 60, oneClass: false },
  { name: 'stressed: one class, 20 probes, busiest link 90 %', load: 0.9, probes: 20, oneClass: true },
];
const shared = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'topologies');
const topologies = values.topology ?? positionals;
const chosen = topologies.length ? topologies : ['lab', ...['abilene', 'geant', 'nobel-eu'].map((n) => join(shared, `${n}.xml`))];

interface Network {
  name: string;
  root: RootConfig;
  links: Record<string, { rtt_ms: number }>;
  /** Demand scale that puts the busiest link at the condition's load at the daily peak. */
  scale: number;
}

const START = Date.UTC(2030, 0, 7, 14); // a weekday afternoon, the daily peak: the network carries its normal load

function engineFor(net: Omit<Network, 'scale'> & { scale?: number }, runSeed: number, incidents: unknown[] = []): TwinEngine {
  const scenario = parseScenario(
    stringify({ name: 'localize', seed: runSeed, links: net.links, demand: { scale: net.scale ?? 1 }, incidents }),
  );
  return new TwinEngine({ root: net.root, scenario, startMs: START, tickMs: TICK });
}

/** The busiest link direction's utilization over one tick at `scale`. */
function busiest(net: Omit<Network, 'scale'>, scale: number): number {
  const engine = engineFor({ ...net, scale }, 1);
  engine.step();
  return Math.max(...engine.linkDirs.map((l, i) => (engine.dirBytes[i]! * 8) / (TICK / 1000) / l.capacityBps));
}

/** The demand scale for a busiest link near `load`: SNDlib capacities and the twin's default demand do not match. */
function calibrate(net: Omit<Network, 'scale'>, load: number): number {
  let scale = 1;
  for (let i = 0; i < 20; i++) {
    const u = busiest(net, scale);
    if (Math.abs(u - load) < 0.03) break;
    // A saturated link hides how far over it is: back off hard; otherwise scale in proportion.
    scale *= u > 0.97 ? 0.25 : load / Math.max(u, 1e-6);
  }
  return scale;
}

function network(spec: string, load: number): Network | undefined {
  let base: Omit<Network, 'scale'>;
  if (spec === 'lab') base = { name: 'lab', root: loadConfig(undefined, {}).root, links: {} };
  else if (!existsSync(spec)) return undefined;
  else {
    const { root, linkRttMs } = sndlibTopology(parseSndlib(readFileSync(spec, 'utf8'), spec));
    base = {
      name: basename(spec, '.xml'),
      root,
      links: Object.fromEntries(Object.entries(linkRttMs).map(([id, rtt]) => [id, { rtt_ms: rtt }])),
    };
  }
  return { ...base, scale: calibrate(base, load) };
}

/** One twin run with `faults` from the third tick: the probe observations of the two windows after the onset. */
function observe(
  net: Network,
  faults: { link: string; kind: 'loss_burst' | 'outage' | 'rtt_step'; magnitude: number }[],
  runSeed: number,
  condition: Condition,
) {
  const engine = engineFor(
    net,
    runSeed,
    faults.map((f) => ({
      at_h: (2 * TICK) / 3_600_000,
      target: { link: f.link },
      kind: f.kind,
      magnitude: f.magnitude,
      duration_min: 60,
      precursor_min: 0,
    })),
  );
  const classes = condition.oneClass ? [0] : engine.classes.map((_, i) => i);
  const windows: ReturnType<typeof probeRecords>[] = [];
  for (let t = 0; t < 4; t++) {
    const windowStart = engine.time;
    engine.step();
    windows.push(probeRecords(engine, classes, condition.probes, windowStart));
  }
  // Window 1 is the baseline; windows 2 and 3 follow the onset.
  const byPath = new Map<string, PathObservation>();
  const linksOf = new Map(net.root.paths.map((p) => [p.id, p.links]));
  for (const [w, records] of windows.entries()) {
    if (w === 0) continue;
    for (const r of records) {
      const o = byPath.get(r.path_id) ?? { path: r.path_id, links: linksOf.get(r.path_id) ?? [], sent: 0, received: 0 };
      if (w === 1) o.baselineRttP95Ms = Math.max(o.baselineRttP95Ms ?? 0, r.rtt_p95_ms);
      else {
        o.sent += r.sent;
        o.received += r.received;
        o.rttP95Ms = Math.max(o.rttP95Ms ?? 0, r.rtt_p95_ms);
      }
      byPath.set(r.path_id, o);
    }
  }
  return [...byPath.values()];
}

function score(net: Network, faultsPerRun: 1 | 2, condition: Condition) {
  const probed = [...new Set(net.root.paths.flatMap((p) => p.links))].sort();
  const rng = new Rng(seed, net.name, faultsPerRun);
  let right = 0;
  let unexplained = 0;
  let ms = 0;
  let named = 0;
  let namedLinks = 0;
  for (let r = 0; r < runs; r++) {
    const links: string[] = [];
    while (links.length < faultsPerRun) {
      const l = probed[rng.int(probed.length)]!;
      if (!links.includes(l)) links.push(l);
    }
    // Outages, RTT steps (20–100 ms, no loss) and loss bursts (2–30 %).
    const faults = links.map((link) => {
      const u = rng.next();
      if (u < 0.15) return { link, kind: 'outage' as const, magnitude: 0 };
      if (u < 0.35) return { link, kind: 'rtt_step' as const, magnitude: Math.round(rng.range(20, 100)) };
      return { link, kind: 'loss_burst' as const, magnitude: Math.round(rng.range(2, 30) * 10) / 10 };
    });
    const obs = observe(net, faults, seed * 1000 + r, condition);
    const t0 = performance.now();
    const result = localizeFaults(obs);
    ms += performance.now() - t0;
    const top = result.findings.slice(0, faultsPerRun).map((f) => f.links);
    const ok = links.every((l) => top.some((seg) => seg.includes(l))) && new Set(top.map((s) => s.join())).size === faultsPerRun;
    if (ok) right++;
    else if (values.verbose)
      process.stdout.write(
        `  miss: ${faults.map((f) => `${f.link} ${f.kind} ${f.magnitude}`).join(', ')} → ${result.findings.map((f) => `${f.links.join('+')} (${f.loss.toFixed(3)}, ${f.confidence})`).join(', ') || 'nothing'}; ${result.bad.length} bad, ${result.unexplained.length} unexplained\n`,
      );
    if (result.unexplained.length) unexplained++;
    for (const seg of top) {
      named++;
      namedLinks += seg.length;
    }
  }
  return {
    accuracy: right / runs,
    unexplained,
    msPerRun: ms / runs,
    probed: probed.length,
    linksPerSegment: namedLinks / Math.max(1, named),
  };
}

const targets = { 1: 0.9, 2: 0.7 } as const;
for (const condition of CONDITIONS) {
  process.stdout.write(`== ${condition.name}${condition === CONDITIONS[0] ? ' (the targets)' : ' (reported, not judged)'}\n`);
  const all = { 1: [0, 0], 2: [0, 0] } as Record<1 | 2, [number, number]>;
  for (const spec of chosen) {
    const net = network(spec, condition.load);
    if (!net) {
      process.stdout.write(`${spec}: not found, skipped\n`);
      continue;
    }
    for (const k of [1, 2] as const) {
      const s = score(net, k, condition);
      all[k] = [all[k][0] + s.accuracy * runs, all[k][1] + runs];
      process.stdout.write(
        `${net.name} (${net.root.sites.length} sites, ${net.root.paths.length} probed paths, ${s.probed} links, demand ×${net.scale.toPrecision(2)}): ` +
          `${k === 1 ? 'single' : 'double'} faults, ${runs} runs: top-1 ${(s.accuracy * 100).toFixed(1)} % ` +
          `(target ${targets[k] * 100} %, ratio ${(s.accuracy / targets[k]).toFixed(2)}); ${s.linksPerSegment.toFixed(2)} links per named segment; ${s.unexplained} runs with unexplained paths; ` +
          `${s.msPerRun.toFixed(2)} ms per localization\n`,
      );
    }
  }
  for (const k of [1, 2] as const) {
    const [hit, n] = all[k];
    if (n) {
      const acc = hit / n;
      process.stdout.write(
        `all topologies, ${k === 1 ? 'single' : 'double'} faults: top-1 ${(acc * 100).toFixed(1)} % over ${n} runs (target ${targets[k] * 100} %, ratio ${(acc / targets[k]).toFixed(2)})\n`,
      );
    }
  }
}
