/**
 * What routing could have achieved on a scenario, to report beside pathpilot's own run:
 * - `runStatic`: the routers' seed config untouched (static routing, primary paths);
 * - `runOracle`: the hindsight oracle — the optimizer's TE model solved every interval with the
 *   scenario's true future demand, link states and path quality, no change limits;
 * - `runPlanned({ knowledge: 'lagged' })`: the same machinery knowing only the past hour (the offline
 *   planner): what the TE model gives without forecasting, guard or rollout.
 *
 * Plans go through the real chain — `solveTe` → `planIntents` → the actuator's `renderRouter` → minimal
 * ops → an emulated VyOS router per site — and the twin routes by what those routers then hold (router
 * truth), so a plan the renderer or VyOS cannot express counts as what the routers really do. Everything
 * runs in process on a simulated clock: no HTTP, no approvals, no guard, no rate limits.
 */
import { contextPaths, contextsFor, pathsFor, renderRouter, type PreState } from '../../actuator/render.ts';
import { diffOps, pathKey } from '../../actuator/vyos/diff.ts';
import { validateOps } from '../../actuator/vyos/paths.ts';
import type { ConfigJson } from '../../actuator/vyos/types.ts';
import { SimulatedClock } from '../../core/clock.ts';
import type { LinkConfig, RootConfig, Topology } from '../../core/config/index.ts';
import { errorMessage } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import type { Intent } from '../../core/proposal.ts';
import { TwinEngine, createTwin, type Scenario, type TwinRouter, type TwinState } from '../../lab/twin/index.ts';
import { VyosConfigError, initialRouterConfig } from '../../lab/vyos/index.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import { optimizerConfigSchema, type OptimizerConfig } from '../../optimizer/config.ts';
import type { PathQuality } from '../../optimizer/score.ts';
import { allIntents, planIntents } from '../../optimizer/te/plan.ts';
import { solveTe, type TeDemand, type TeInput } from '../../optimizer/te/solve.ts';

export interface StaticRunOptions {
  root: RootConfig;
  /** A builtin scenario name or a scenario file, as `lab.twin.scenario`. */
  scenario: string;
  seed?: number;
  startMs: number;
  durationMs: number;
  log?: Logger;
  /** Told after every tick of the run's twin. */
  onTick?(engine: TwinEngine): void;
}

export interface PlannedRunOptions extends StaticRunOptions {
  /** How often the plan is re-solved (simulated ms, rounded to whole ticks). @defaultValue 5 minutes */
  intervalMs?: number;
  /**
   * 'perfect': the demand, link states (incidents) and path quality of the interval about to run are
   * known exactly (the hindsight oracle). 'lagged': only what the run itself measured over the past hour
   * (p90 of demand, probe quality of the last 15 ticks), like the optimizer without its forecasts.
   */
  knowledge: 'perfect' | 'lagged';
  /**
   * Which of the plan's intents reach the routers: 'routing' (path weights and class pins: what
   * pathpilot's proposals carry) or 'all' (also the plan's shapers and QoS classes). 'routing' is the
   * default because it is the better bound: on flash-crowd (72 h) the plan's QoS classes added SLO
   * minutes (1960 against 1587: the twin adds a starved HTB class's queue to the link's FIFO queue, and a
   * path's RTT carries half the reverse direction's bulk queue, so realtime from ali-hk broke 260 ms) and
   * their shares, re-sized from the planned loads, re-render the shapers every interval (6× the wall time).
   * @defaultValue 'routing'
   */
  intents?: 'all' | 'routing';
  /** LAN interface of every router (the lab seeds `eth0`). @defaultValue 'eth0' */
  lanInterface?: string;
  /** Told after every interval's plan (benches and tests look inside). */
  onPlan?(report: PlanReport): void;
}

export interface PlanReport {
  at: number;
  status: 'optimal' | 'infeasible' | 'skipped' | 'error';
  /** Predicted transfer cost of the plan, $/day. */
  cost_per_day?: number;
  /** Config ops sent to the routers (0: the routers already held the plan). */
  ops: number;
  /** Routers whose render or commit failed this interval (they keep their previous config). */
  failed: { router: string; error: string }[];
  /** Constraints the plan needed slack on (capacity, SLO, budget), as solveTe names them. */
  binding: string[];
}

const defaultIntervalMs = 5 * 60_000;
const silent = createLogger({ level: 'silent' });
/** The lagged planner's memory: what the optimizer reads for demand (an hour) and quality (15 windows). */
const laggedHistoryMs = 3_600_000;
const laggedQualityTicks = 15;

function twinInput(o: StaticRunOptions): Record<string, unknown> {
  return {
    scenario: o.scenario,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    flow: { enabled: false },
    billing: { enabled: false },
    probes: { enabled: false },
    iface: { enabled: false },
  };
}

/** The scenario with the routers' seed config untouched: what static routing does (the demo's baseline). */
export async function runStatic(o: StaticRunOptions): Promise<TwinState> {
  const clock = new SimulatedClock(o.startMs);
  const twin = createTwin(
    { clock, config: o.root, log: o.log ?? silent, ...(o.onTick ? { onTick: o.onTick } : {}) },
    twinInput(o),
  );
  await twin.runFor(o.durationMs);
  return twin.state();
}

/** The hindsight oracle: `runPlanned` with perfect knowledge of each interval. */
export async function runOracle(o: Omit<PlannedRunOptions, 'knowledge'>): Promise<TwinState> {
  return runPlanned({ ...o, knowledge: 'perfect' });
}

/** Runs the scenario with the TE plan re-solved every interval and applied whole to emulated routers. */
export async function runPlanned(o: PlannedRunOptions): Promise<TwinState> {
  const log = o.log ?? silent;
  const clock = new SimulatedClock(o.startMs);
  const routers = new Map<string, EmulatedRouter>();
  const twin = createTwin({ clock, config: o.root, log, routers, ...(o.onTick ? { onTick: o.onTick } : {}) }, twinInput(o));
  // The twin's own topology: a scenario may replace it, and its link overrides set the true prices.
  const engine = twin.engine;
  const topo = engine.topology;
  for (const id of topo.sites.keys()) {
    // Seeded exactly as the lab seeds them; the key is never used (nothing speaks HTTP here).
    const seed = initialRouterConfig(topo, id, 'oracle');
    routers.set(id, new EmulatedRouter({ name: id, version: topo.site(id).router.vyos_version, apiKey: 'oracle', seed }, clock));
  }
  const optimizer = optimizerConfigSchema.parse(o.root.optimizer ?? {});
  const tickMs = engine.tickMs;
  const ticks = Math.floor(o.durationMs / tickMs);
  const perInterval = Math.max(1, Math.round((o.intervalMs ?? defaultIntervalMs) / tickMs));
  const truth = o.knowledge === 'perfect' ? foresee(engine, twin.scenario, ticks, perInterval) : undefined;
  const history = o.knowledge === 'lagged' ? new History(engine, Math.round(laggedHistoryMs / tickMs)) : undefined;
  const apply = applier(topo, routers, o.lanInterface ?? 'eth0', o.intents ?? 'routing');

  for (let k = 0, interval = 0; k < ticks; k += perInterval, interval++) {
    const knowledge = truth ? truth[interval]! : history!.knowledge();
    const report = knowledge ? await plan(topo, optimizer, knowledge, apply, engine.time, log) : skipped(engine.time);
    o.onPlan?.(report);
    for (let j = 0; j < perInterval && k + j < ticks; j++) {
      await twin.runFor(tickMs);
      history?.record();
    }
  }
  return twin.state();
}

// ---- what a planner knows -----------------------------------------------------------------------

/** What one plan is solved with: demand per twin demand index, quality per path id, usable capacity per link. */
interface Knowledge {
  demands: TeDemand[];
  quality: Map<string, PathQuality>;
  /** Capacity the interval really offers (Mbit/s per link, after brownouts and outages); absent: as configured. */
  capacity?: Map<string, number>;
}

/**
 * The future, interval by interval, from two routerless twins over the same run. Demand is exogenous
 * (DemandModel.offer draws it from the seed and the time alone; routing only splits it), so a twin
 * routing everything on primary paths offers exactly the demand the planned run will: each interval's
 * peak is planned for (`mbps`) and its mean priced (`mean_mbps`). Quality comes from a twin with no
 * demand at all: base RTT, jitter and every incident's effect, without the congestion static routing
 * would cause — congestion is the plan's own doing, which the TE model bounds by max_utilization. Each
 * path gets the worst tick of the interval over every class, and each link the smallest capacity
 * (an outage: 0), so the plan stays off anything that fails at any moment of the interval.
 */
function foresee(engine: TwinEngine, scenario: Scenario, ticks: number, perInterval: number): Knowledge[] {
  const make = (sc: Scenario) =>
    new TwinEngine({ root: engine.topology.config, scenario: sc, startMs: engine.startMs, tickMs: engine.tickMs });
  const offered = make(scenario);
  const quiet = make({ ...scenario, demand: { ...scenario.demand, scale: 0 } });
  const demands = offered.demands;
  const paths = quiet.paths;
  const C = quiet.classes.length;
  const links = [...engine.topology.config.links];
  const out: Knowledge[] = [];
  for (let k = 0; k < ticks; k += perInterval) {
    const peak = new Float64Array(demands.length);
    const sum = new Float64Array(demands.length);
    const worst = paths.map(() => ({ rtt_p95_ms: 0, loss_pct: 0, jitter_ms: 0 }));
    const capFactor = new Float64Array(links.length).fill(1);
    const n = Math.min(perInterval, ticks - k);
    for (let j = 0; j < n; j++) {
      offered.step();
      quiet.step();
      offered.demandBps.forEach((bps, i) => {
        peak[i] = Math.max(peak[i]!, bps);
        sum[i]! += bps;
      });
      paths.forEach((_, p) => {
        const w = worst[p]!;
        for (let c = 0; c < C; c++) {
          const q = quiet.quality[p * C + c]!;
          w.rtt_p95_ms = Math.max(w.rtt_p95_ms, q.rttP95Ms);
          w.loss_pct = Math.max(w.loss_pct, q.loss * 100);
          w.jitter_ms = Math.max(w.jitter_ms, q.jitterMs);
        }
      });
      const imp = quiet.impairments;
      for (let li = 0; li < links.length; li++)
        capFactor[li] = Math.min(capFactor[li]!, imp.linkDown[li] ? 0 : imp.linkCapFactor[li]!);
    }
    out.push({
      demands: demands.map((d, i) => ({
        from: d.from,
        to: d.to,
        class: d.cls,
        mbps: peak[i]! / 1e6,
        mean_mbps: sum[i]! / n / 1e6,
      })),
      quality: new Map(paths.map((p, i) => [p.id, worst[i]!])),
      capacity: new Map(links.map((l, li) => [l.id, l.capacity_mbps * capFactor[li]!])),
    });
  }
  return out;
}

/**
 * The lagged planner's memory of its own run: per tick, the demand it offered (what flow records report)
 * and the quality probes measured on each path for the top class (the twin probes that class by
 * default). It plans with the p90 of the past hour's demand and `OptimizerEngine.recentQuality`'s
 * figures over the last 15 ticks: p90 of p95 RTT, mean loss, mean jitter. Link states it learns only
 * from that quality; capacities stay as configured.
 */
class History {
  private readonly demand: Float64Array[] = [];
  private readonly quality: PathQuality[][] = [];
  private readonly probeClass: number;

  constructor(
    private readonly engine: TwinEngine,
    private readonly keep: number,
  ) {
    const byPriority = [...engine.classes].sort((a, b) => a.priority - b.priority);
    this.probeClass = engine.classes.indexOf(byPriority[0]!);
  }

  record(): void {
    const C = this.engine.classes.length;
    this.demand.push(Float64Array.from(this.engine.demandBps));
    this.quality.push(
      this.engine.paths.map((_, p) => {
        const q = this.engine.quality[p * C + this.probeClass]!;
        return { rtt_p95_ms: q.rttP95Ms, loss_pct: q.loss * 100, jitter_ms: q.jitterMs };
      }),
    );
    if (this.demand.length > this.keep) this.demand.shift();
    if (this.quality.length > laggedQualityTicks) this.quality.shift();
  }

  /** Undefined before the first tick: nothing measured yet, the routers keep their seed config. */
  knowledge(): Knowledge | undefined {
    if (this.demand.length === 0) return undefined;
    const demands = this.engine.demands.map((d, i) => {
      const series = this.demand.map((row) => row[i]! / 1e6);
      return { from: d.from, to: d.to, class: d.cls, mbps: quantile(series, 0.9), mean_mbps: mean(series) };
    });
    const quality = new Map(
      this.engine.paths.map((path, p) => {
        const ws = this.quality.map((row) => row[p]!);
        const q = {
          rtt_p95_ms: quantile(
            ws.map((w) => w.rtt_p95_ms),
            0.9,
          ),
          loss_pct: mean(ws.map((w) => w.loss_pct)),
          jitter_ms: mean(ws.map((w) => w.jitter_ms)),
        };
        return [path.id, q];
      }),
    );
    return { demands, quality };
  }
}

/** Linear-interpolated quantile (the optimizer's forecast/metrics `quantile` on a sorted copy). */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

// ---- solve and apply ----------------------------------------------------------------------------

function skipped(at: number): PlanReport {
  return { at, status: 'skipped', ops: 0, failed: [], binding: [] };
}

/**
 * One interval: the TE input the optimizer's `run()` builds (topology, demands, quality, policy options;
 * no risk model and no current split: the planner has no change limits, so no churn term), solved, turned
 * into intents and applied whole.
 */
async function plan(
  topo: Topology,
  optimizer: OptimizerConfig,
  k: Knowledge,
  apply: (intents: Intent[]) => Pick<PlanReport, 'ops' | 'failed'>,
  at: number,
  log: Logger,
): Promise<PlanReport> {
  const root = topo.config;
  const totalBudgets = root.policy.budgets.filter((b) => !b.provider && !b.link);
  const links: LinkConfig[] = k.capacity
    ? root.links.map((l) => ({ ...l, capacity_mbps: k.capacity!.get(l.id) ?? l.capacity_mbps }))
    : root.links;
  const input: TeInput = {
    topology: { links, paths: root.paths, classes: root.classes },
    demands: k.demands,
    quality: k.quality,
    options: {
      policy: root.policy,
      latency_penalty: optimizer.latency_penalty,
      budget_per_day: totalBudgets.length > 0 ? Math.min(...totalBudgets.map((b) => b.monthly)) / 30 : undefined,
      time_limit_s: optimizer.solve_time_limit_s,
      risk_threshold: optimizer.risk_threshold,
    },
  };
  let result;
  try {
    result = await solveTe(input);
  } catch (err) {
    log.warn({ at, err: errorMessage(err) }, 'planned run: the TE model did not solve; the routers keep their config');
    return { at, status: 'error', ops: 0, failed: [], binding: [] };
  }
  const planned = planIntents(result, topo);
  // Shapers run at the link's configured rate: a brownout's reduced capacity is for the plan's loads only.
  for (const b of planned.bandwidth) b.rate_mbps = topo.link(b.link).capacity_mbps;
  const { ops, failed } = apply(allIntents(planned));
  return {
    at,
    status: result.status,
    cost_per_day: result.cost_per_day,
    ops,
    failed,
    binding: result.binding.map((b) => b.message),
  };
}

/**
 * Applies a whole plan to the emulated routers the way the actuator's engine prepares and applies one
 * step at f = 1: read the context subtrees the intents need (the pre-state), render, diff each touched
 * subtree against what the router holds, validate the ops against the version's paths, one commit.
 */
function applier(
  topo: Topology,
  routers: ReadonlyMap<string, EmulatedRouter>,
  lanInterface: string,
  which: 'all' | 'routing',
): (intents: Intent[]) => Pick<PlanReport, 'ops' | 'failed'> {
  // What each router was last given: only this run changes the routers, and a render is a function of the
  // intents and the config before it, so the same intents again would render to no ops. Skipping them
  // saves the renderer's prefix arithmetic, which dominates a run otherwise.
  const applied = new Map<string, string>();
  return (intents) => {
    const chosen = which === 'all' ? intents : intents.filter((i) => i.kind === 'path-weights' || i.kind === 'class-pin');
    let ops = 0;
    const failed: PlanReport['failed'] = [];
    for (const [site, router] of routers) {
      const mine = chosen.filter((i) => i.router === site);
      const key = JSON.stringify(mine);
      if (mine.length === 0 || applied.get(site) === key) continue;
      applied.delete(site);
      try {
        const pre: PreState = {};
        for (const name of contextsFor(mine)) pre[name] = read(router, [...contextPaths[name]]);
        for (const path of pathsFor(mine)) (pre.paths ??= {})[pathKey(path)] = read(router, path);
        const touched = renderRouter(mine, 1, pre, { topology: topo, router: site, lanInterface });
        const diff = touched.flatMap((t) => diffOps(t.path, read(router, t.path), t.desired));
        if (diff.length > 0) {
          validateOps(router.version, diff);
          router.configure(diff);
          ops += diff.length;
        }
        applied.set(site, key);
      } catch (err) {
        failed.push({ router: site, error: errorMessage(err) });
      }
    }
    return { ops, failed };
  };
}

/** `/retrieve showConfig` as the actuator's client answers it: null where the router holds nothing. */
function read(router: TwinRouter, path: string[]): ConfigJson | null {
  try {
    return router.showConfig(path);
  } catch (err) {
    if (err instanceof VyosConfigError && /is empty/.test(err.message)) return null;
    throw err;
  }
}
