import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { isExit, parseCommand, usageError } from '../args.ts';
import { parseDuration } from '../../app/duration.ts';
import { runOracle, runPlanned, runStatic } from '../../app/outcome/oracle.ts';
import { outcomeTable, renderOutcomeTable, type OutcomeTable } from '../../app/outcome/summary.ts';
import type { RootConfig } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import { readDemandMatrix } from '../../lab/twin/matrix-demand.ts';
import { parseSndlib, sndlibTopology, type SndlibTopologyOptions } from '../../lab/twin/sndlib.ts';

export const summary =
  'whatif --topology FILE --demand FILE: static vs pathpilot vs oracle on your own network (no router touched)';

const usage = `usage: pathpilot whatif --topology FILE [--demand FILE] [--duration 24h] [--seed N] [--json]
                      [--capacity MBPS] [--price USD_PER_GB] [--price-from auto|flat|routing-cost|module-cost]
                      [--paths-by distance|hops]

Runs your network on the lab twin, offline and without touching any router, three ways: static routing
(every pair on its primary path), pathpilot (the TE model re-planned every 5 minutes from the past hour
it measured) and the hindsight oracle (the same model knowing each interval's demand and quality), and
prints egress cost, egress volume and SLO-violation pair-class minutes side by side.

  --topology FILE   an SNDlib network in native XML (nodes, links with capacity modules, optional demands)
  --demand FILE     a traffic matrix CSV time,src,dst,mbps (plain or .gz; node names as in the topology),
                    replayed from the start of the run; without it, the topology's own <demands> (Mbps at
                    the daily peak) with the twin's daily cycle
  --duration D      simulated time to run (default 24h; 90m, 2d)
  --seed N          the twin's seed (default 1)
  --capacity MBPS   capacity of links the file gives no module for (default 10000)
  --price USD       $/GB of every link, or the mean when prices follow the file's costs (default 0.02)
  --price-from SRC  auto (routing cost when every link has one, else flat), flat, routing-cost, or
                    module-cost (the cheapest module's cost per Mbps, mostly length-based in SNDlib)
  --paths-by M      candidate paths (up to 3 per pair, distinct first hops) by fibre distance or hops
  --json            one JSON object as the last line of stdout
`;

export interface WhatifResult extends OutcomeTable {
  topology: string;
  demand: string;
  simulated_hours: number;
  wall_s: number;
}

export interface WhatifOptions extends SndlibTopologyOptions {
  topology: string;
  demand?: string;
  durationMs: number;
  seed?: number;
  /** Told what is about to run (the CLI prints it to stderr). */
  progress?(line: string): void;
}

/**
 * The what-if: the SNDlib file becomes the topology (passed in memory); the demand and the per-link RTTs
 * go into a scenario file in a temporary folder, since the twin takes scenarios by name or file.
 */
export async function whatif(o: WhatifOptions): Promise<WhatifResult> {
  const wallStart = performance.now();
  const topologyFile = resolve(o.topology);
  const net = parseSndlib(readFileSync(topologyFile, 'utf8'), topologyFile);
  const { root, siteOf, linkRttMs } = sndlibTopology(net, o);

  let demand: Record<string, unknown>;
  let demandLabel: string;
  if (o.demand) {
    const file = resolve(o.demand);
    const matrix = readDemandMatrix(file);
    const spanH = (matrix.times[matrix.times.length - 1]! + matrix.stepMs - matrix.times[0]!) / 3_600_000;
    if (o.durationMs > spanH * 3_600_000)
      o.progress?.(`note: ${basename(file)} covers ${spanH.toFixed(1)} h; the run repeats it (by whole days when it spans one)`);
    // Measured demand already varies: no synthetic noise on top.
    demand = { noise: 0, matrix: { file } };
    demandLabel = file;
  } else {
    if (net.demands.length === 0) throw new Error(`${topologyFile} has no <demands>; give a traffic matrix with --demand FILE`);
    const pairs: Record<string, number> = {};
    for (const d of net.demands) {
      const key = `${siteOf.get(d.source)}>${siteOf.get(d.target)}`;
      pairs[key] = (pairs[key] ?? 0) + d.mbps;
    }
    demand = { base_mbps: 0, pairs };
    demandLabel = `${topologyFile} <demands>`;
  }
  const scenario = {
    name: `whatif-${basename(topologyFile).replace(/\.[^.]*$/, '')}`,
    description: `pathpilot whatif on ${topologyFile}`,
    seed: o.seed ?? 1,
    demand,
    links: Object.fromEntries(Object.entries(linkRttMs).map(([id, rtt]) => [id, { rtt_ms: rtt }])),
  };
  const dir = mkdtempSync(join(tmpdir(), 'pathpilot-whatif-'));
  try {
    const scenarioFile = join(dir, 'scenario.yaml');
    writeFileSync(scenarioFile, stringify(scenario));
    // Whole minutes from now: the twin's tick grid.
    const startMs = Math.floor(Date.now() / 60_000) * 60_000;
    const run = { root: root satisfies RootConfig, scenario: scenarioFile, seed: o.seed ?? 1, startMs, durationMs: o.durationMs };
    const log = createLogger({ level: process.env.PATHPILOT_LOG_LEVEL ?? 'silent', destination: process.stderr });
    o.progress?.(
      `${basename(topologyFile)}: ${root.sites.length} sites, ${root.links.length} links, ${root.paths.length} paths; ` +
        `running static, pathpilot and oracle for ${(o.durationMs / 3_600_000).toFixed(1)} simulated hours`,
    );
    const staticState = await runStatic({ ...run, log });
    const planned = await runPlanned({ ...run, log, knowledge: 'lagged' });
    const oracle = await runOracle({ ...run, log });
    return {
      topology: topologyFile,
      demand: demandLabel,
      simulated_hours: o.durationMs / 3_600_000,
      ...outcomeTable({ pathpilot: planned, static: staticState, oracle }),
      wall_s: (performance.now() - wallStart) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderWhatif(r: WhatifResult): string {
  return [
    `topology ${r.topology}`,
    `demand   ${r.demand}`,
    `${r.simulated_hours.toFixed(1)} simulated hours in ${r.wall_s.toFixed(1)} s`,
    ...renderOutcomeTable(r),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  const name = 'pathpilot whatif';
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      topology: { type: 'string' },
      demand: { type: 'string' },
      duration: { type: 'string', default: '24h' },
      seed: { type: 'string' },
      capacity: { type: 'string' },
      price: { type: 'string' },
      'price-from': { type: 'string', default: 'auto' },
      'paths-by': { type: 'string', default: 'distance' },
      json: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.topology) return usageError(name, '--topology FILE is required').exit;
  const positive = (flag: string, v: string | undefined): number | undefined | Error => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n > 0 ? n : new Error(`${flag} expects a positive number, got "${v}"`);
  };
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0))
    return usageError(name, `--seed expects a non-negative integer, got "${values.seed}"`).exit;
  const capacity = positive('--capacity', values.capacity);
  const price = values.price === undefined ? undefined : Number(values.price);
  if (capacity instanceof Error) return usageError(name, capacity.message).exit;
  if (price !== undefined && !(Number.isFinite(price) && price >= 0))
    return usageError(name, `--price expects a non-negative number, got "${values.price}"`).exit;
  const priceFrom = values['price-from']!;
  if (!['auto', 'flat', 'routing-cost', 'module-cost'].includes(priceFrom))
    return usageError(name, `--price-from must be auto, flat, routing-cost or module-cost, not "${priceFrom}"`).exit;
  const pathsBy = values['paths-by']!;
  if (pathsBy !== 'distance' && pathsBy !== 'hops')
    return usageError(name, `--paths-by must be distance or hops, not "${pathsBy}"`).exit;
  let durationMs: number;
  try {
    durationMs = parseDuration(values.duration!);
  } catch (err) {
    return usageError(name, (err as Error).message).exit;
  }
  if (durationMs < 60_000) return usageError(name, '--duration must be at least one minute (one twin tick)').exit;

  const result = await whatif({
    topology: values.topology,
    ...(values.demand ? { demand: values.demand } : {}),
    durationMs,
    ...(seed !== undefined ? { seed } : {}),
    ...(capacity !== undefined ? { defaultCapacityMbps: capacity } : {}),
    ...(price !== undefined ? { pricePerGb: price } : {}),
    priceFrom: priceFrom as NonNullable<SndlibTopologyOptions['priceFrom']>,
    pathsBy,
    progress: (line) => process.stderr.write(`${name}: ${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${renderWhatif(result)}\n`);
  return 0;
}
