import type { RootConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/index.ts';
import type { Clock } from '../core/clock.ts';
import { proposalQueueName, type Proposal } from '../core/proposal.ts';
import type { Queue } from '../core/queue/types.ts';
import type { Logger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';
import type { OptimizerConfig } from './config.ts';
import type { CurrentWeights, OptimizerData, PairTraffic, PathProbes } from './data.ts';
import { backtest, persistenceForecast, type BacktestResult, type BacktestSeries } from './forecast/backtest.ts';
import { holtWinters, seasonalNaive, periods, type QuantileForecast, type SeriesContext } from './forecast/baselines.ts';
import { QuantileMlp, type SavedModel } from './forecast/learned.ts';
import { quantile } from './forecast/metrics.ts';
import { RiskClassifier, breaches, type RiskBacktest, type RiskSeries } from './forecast/risk.ts';
import type { OptimizerMetrics } from './metrics.ts';
import { ModelRegistry, type ModelVersion } from './registry.ts';
import type { PathQuality } from './score.ts';
import { projectSpend } from './report.ts';
import { decide, type Decision } from './proposal.ts';
import { forecastPoints, modelRow, type DecisionLog, type SeriesForecast } from './decisions.ts';
import { TeSolver } from './te/decompose.ts';
import { demandKey, evaluateSplit, planSplit, type TeBinding, type TeDemand, type TeInput, type TeResult } from './te/solve.ts';
import type { PathConfig } from '../core/config/schema.ts';
import { candidatePaths } from '../core/config/route-security.ts';
import { residencyViolation } from '../core/config/residency.ts';

export interface BudgetStatus {
  scope: string;
  monthly: number;
  month_to_date: number;
  projected: number;
  /** Alert fractions (policy.budgets[].alert_at) the month-end projection crosses. */
  alerts: number[];
}

export interface RunReport {
  at: number;
  budgets?: BudgetStatus[];
  plan?: TeResult;
  decision?: Pick<Decision, 'publish' | 'why' | 'objective_before' | 'objective_after'>;
  proposal?: Proposal;
  error?: string;
  duration_ms: number;
}

export interface EngineDeps {
  data: OptimizerData;
  root: RootConfig;
  clock: Clock;
  queue?: Queue;
  registry?: ModelRegistry;
  log?: Logger;
  metrics?: OptimizerMetrics;
  /** Where forecasts, model versions and proposals are recorded (ClickHouse in production). */
  decisions?: DecisionLog;
}

export type { SeriesForecast };

export function linkKey(link: string, fromSite: string): string {
  return `link:${link}:${fromSite}`;
}
export function pairSeriesKey(from: string, to: string, cls: string): string {
  return `pair:${demandKey(from, to, cls)}`;
}

/** Probe windows (5 minutes each) the optimizer judges a path's current quality by. */
const RECENT_WINDOWS = 3;
/**
 * The optimizer's work, independent of scheduling: train (backtest, select per series, register), forecast,
 * and run (forecast → predicted quality and risk → TE LP → proposal when worth it → publish).
 */
export class OptimizerEngine {
  readonly topo: Topology;
  readonly registry: ModelRegistry;
  private mlp?: QuantileMlp;
  private risk?: RiskClassifier;
  private selection: Record<string, string> = {};
  lastBacktest?: BacktestResult;
  lastRiskBacktest?: RiskBacktest;
  lastForecasts: SeriesForecast[] = [];
  lastRun?: RunReport;
  readonly proposals: Proposal[] = [];
  training: { active: boolean; progress: number; started_at?: number } = { active: false, progress: 0 };
  /** Exact LP up to `te_exact_max_sites`, decomposed above (keeps the decomposition's warm start between runs). */
  private teSolver?: TeSolver;

  constructor(
    private readonly deps: EngineDeps,
    readonly config: OptimizerConfig,
  ) {
    this.topo = new Topology(deps.root);
    this.registry = deps.registry ?? new ModelRegistry(config.registry_dir);
  }

  private get stepMs(): number {
    return this.config.step_s * 1000;
  }

  /** Reloads the latest registered models (after a restart). */
  async restore(): Promise<boolean> {
    await this.registry.load();
    const t = this.registry.latest('traffic');
    const r = this.registry.latest('risk');
    let restored = false;
    if (t) {
      this.selection = t.selection ?? {};
      const art = await this.registry.artifact<{ mlp?: SavedModel }>(t.version);
      if (art?.mlp) {
        this.mlp?.dispose();
        this.mlp = await QuantileMlp.load(art.mlp);
      }
      restored = true;
    }
    if (r) {
      const art = await this.registry.artifact<Parameters<typeof RiskClassifier.load>[0]>(r.version);
      if (art) {
        this.risk?.dispose();
        this.risk = await RiskClassifier.load(art);
        restored = true;
      }
    }
    return restored;
  }

  modelVersions(): Record<string, string> {
    const out: Record<string, string> = {};
    const t = this.registry.latest('traffic');
    const r = this.registry.latest('risk');
    if (t) out.traffic = t.version;
    if (r) out.risk = r.version;
    return out;
  }

  private async trafficSeries(to: number): Promise<{ series: BacktestSeries[]; pairs: PairTraffic[] }> {
    const range = { from: to - this.config.history_h * 3_600_000, to, stepMs: this.stepMs };
    range.from -= range.from % this.stepMs;
    range.to -= range.to % this.stepMs;
    const [links, pairs] = await Promise.all([this.deps.data.linkTraffic(range), this.deps.data.pairTraffic(range)]);
    const series: BacktestSeries[] = [
      ...links.map((l) => ({
        key: linkKey(l.link, l.from_site),
        values: l.values,
        ctx: { stepMs: l.stepMs, startMs: l.startMs },
      })),
      ...pairs.map((p) => ({
        key: pairSeriesKey(p.from, p.to, p.class),
        values: p.values,
        ctx: { stepMs: p.stepMs, startMs: p.startMs },
      })),
    ];
    return { series, pairs };
  }

  private async riskSeries(to: number, hours: number): Promise<RiskSeries[]> {
    const probes = await this.deps.data.pathProbes({ from: to - hours * 3_600_000, to });
    const out: RiskSeries[] = [];
    for (const p of probes) {
      if (!this.topo.paths.has(p.path) || p.windows.length === 0) continue;
      for (const c of this.topo.classes.values()) out.push({ path: `${p.path}|${c.id}`, windows: p.windows, slo: c.slo });
    }
    return out;
  }

  /** Trains every model, backtests, selects the best per series and registers new versions. */
  async train(
    onProgress: (p: number) => Promise<void> | void = () => {},
  ): Promise<{ traffic: ModelVersion; risk?: ModelVersion }> {
    const now = this.deps.clock.now();
    this.training = { active: true, progress: 0, started_at: now };
    const t0 = performance.now();
    try {
      const { series } = await this.trafficSeries(now);
      const usable = series.filter((s) => s.values.length > 0);
      const { day } = periods({ stepMs: this.stepMs, startMs: 0 });
      const len = Math.min(...usable.map((s) => s.values.length));
      // Origins need two days of history before them and a day after: fit the count to the data.
      const origins = Math.min(8, Math.floor((len - 3 * day) / (day / 4)));
      let selection: Record<string, string> = {};
      let backtestModel: QuantileMlp | undefined;
      let metrics: Record<string, unknown> = {};
      const progress = async (p: number) => {
        this.training.progress = p;
        await onProgress(Math.round(p * 100));
      };
      if (usable.length > 0 && origins >= 2) {
        const bt = await backtest(usable, {
          origins,
          originEveryMs: 6 * 3_600_000,
          learned: this.config.learned,
          epochs: this.config.epochs,
          seed: this.config.seed,
          keepModel: true,
          onProgress: (f) => void progress(f * 0.5),
        });
        backtestModel = bt.model;
        this.lastBacktest = bt;
        selection = Object.fromEntries(bt.series.map((s) => [s.key, s.selected]));
        metrics = { vs_best_baseline: bt.vsBestBaseline, series: bt.series.length, models: bt.models };
      } else {
        selection = Object.fromEntries(
          usable.map((s) => [s.key, s.values.length >= 2 * day ? 'holt-winters' : 'seasonal-naive']),
        );
        metrics = { note: `history too short for a backtest (${len} steps); Holt-Winters/seasonal naive selected` };
      }
      let artifact: { mlp?: SavedModel } = {};
      if (this.config.learned && Object.values(selection).includes('mlp-quantile')) {
        // Warm start: the backtest's model (trained up to the first origin) continues on the full history.
        const mlp = await QuantileMlp.train(
          usable.map((s) => ({ values: s.values, ctx: s.ctx })),
          {
            maxHorizon: Math.max(1, Math.round((this.config.horizon_min * 60_000) / this.stepMs), day),
            epochs: backtestModel ? Math.max(3, Math.round(this.config.epochs / 4)) : this.config.epochs,
            seed: this.config.seed,
            onProgress: (f) => void progress(0.5 + f * 0.3),
          },
          backtestModel,
        );
        backtestModel = undefined;
        this.mlp?.dispose();
        this.mlp = mlp;
        artifact = { mlp: await mlp.save() };
      }
      backtestModel?.dispose();
      this.selection = selection;
      const traffic = await this.registry.register(
        { kind: 'traffic', model: 'per-series-best', trained_at: now, metrics, selection, train_ms: performance.now() - t0 },
        artifact,
      );
      await this.record('model', () => this.deps.decisions?.model(modelRow(traffic, artifact)));
      let risk: ModelVersion | undefined;
      const t1 = performance.now();
      const rs = await this.riskSeries(now, 72);
      // Probe windows are 1 minute in production (5 in some labs): the horizon in windows follows their spacing.
      const w0 = rs[0]?.windows;
      const spacing = w0 && w0.length > 1 ? Math.max(1, (w0[w0.length - 1]!.t - w0[0]!.t) / (w0.length - 1)) : 60_000;
      const horizonWindows = Math.max(1, Math.round((this.config.horizon_min * 60_000) / spacing));
      const labelled = rs.some((s) => s.windows.some((w) => breaches(w, s.slo)));
      if (rs.length > 0 && labelled && rs[0]!.windows.length > 200) {
        const clf = await RiskClassifier.train(rs, horizonWindows, { seed: this.config.seed });
        const ev = clf.evaluate(rs);
        this.lastRiskBacktest = ev;
        this.risk?.dispose();
        this.risk = clf;
        const saved = await clf.save();
        risk = await this.registry.register(
          { kind: 'risk', model: clf.name, trained_at: now, metrics: ev.models, train_ms: performance.now() - t1 },
          saved,
        );
        const registered = risk;
        await this.record('model', () => this.deps.decisions?.model(modelRow(registered, saved)));
      }
      await progress(1);
      this.deps.metrics?.trainings.inc({ outcome: 'ok' });
      this.deps.metrics?.trainSeconds.observe((performance.now() - t0) / 1000);
      return { traffic, risk };
    } catch (err) {
      this.deps.metrics?.trainings.inc({ outcome: 'error' });
      throw err;
    } finally {
      this.training.active = false;
    }
  }

  private forecastOne(s: BacktestSeries, h: number): SeriesForecast {
    const model = this.selection[s.key] ?? (s.values.length >= 2 * periods(s.ctx).day ? 'holt-winters' : 'seasonal-naive');
    let f: QuantileForecast;
    if (model === 'mlp-quantile' && this.mlp && s.values.length > periods(s.ctx).day) f = this.mlp.predict(s.values, h, s.ctx);
    else if (model === 'persistence') f = persistenceForecast(s.values, h);
    else if (model === 'seasonal-naive' || s.values.length < 2 * periods(s.ctx).day)
      f = seasonalNaive(s.values, h, Math.max(1, Math.min(periods(s.ctx).day, s.values.length)));
    else f = holtWinters(s.values, h, s.ctx);
    return {
      key: s.key,
      model,
      stepMs: s.ctx.stepMs,
      startMs: s.ctx.startMs + s.values.length * s.ctx.stepMs,
      p50: f.p50,
      p90: f.p90,
    };
  }

  /** Forecasts every traffic series `horizonMs` ahead (default: the configured horizon). */
  async forecast(horizonMs = this.config.horizon_min * 60_000): Promise<SeriesForecast[]> {
    const now = this.deps.clock.now();
    const { series } = await this.trafficSeries(now);
    const h = Math.max(1, Math.round(horizonMs / this.stepMs));
    this.lastForecasts = series.filter((s) => s.values.length > 0).map((s) => this.forecastOne(s, h));
    this.deps.metrics?.forecasts.inc(this.lastForecasts.length);
    const modelVersion = this.registry.latest('traffic')?.version ?? 'untrained';
    const forecasts = this.lastForecasts;
    await this.record('forecasts', () =>
      this.deps.decisions?.forecasts(forecastPoints(forecasts, { madeAt: now, modelVersion })),
    );
    return this.lastForecasts;
  }

  /**
   * Recent measured quality per path (the last 3 probe windows, 15 minutes): p90 of window p95 RTT, mean
   * loss and jitter. Short on purpose: over 15 windows (75 minutes) a path congested by a surge or hit by an
   * incident still looked broken an hour after it recovered, so plans moved traffic onto worse paths (the
   * guard rolled them back) and failed-over pairs stayed on their costlier backups. What a path's history
   * says about its next hour is the failure-risk model's job, not this snapshot's.
   */
  static recentQuality(probes: readonly PathProbes[]): Map<string, PathQuality> {
    const out = new Map<string, PathQuality>();
    for (const p of probes) {
      const ws = p.windows.slice(-RECENT_WINDOWS);
      if (ws.length === 0) continue;
      const rtts = ws.map((w) => w.rtt_p95_ms).sort((a, b) => a - b);
      out.set(p.path, {
        rtt_p95_ms: quantile(rtts, 0.9),
        loss_pct: ws.reduce((a, w) => a + w.loss_pct, 0) / ws.length,
        jitter_ms: ws.reduce((a, w) => a + w.jitter_ms, 0) / ws.length,
      });
    }
    return out;
  }

  /** Month-end spend projection per configured budget, with the alert fractions it crosses. */
  async budgets(now = this.deps.clock.now()): Promise<BudgetStatus[]> {
    const budgets = this.deps.root.policy.budgets;
    if (budgets.length === 0) return [];
    const costs = await this.deps.data.dailyCost({ from: now - 40 * 86_400_000, to: now });
    const byProvider = projectSpend(costs, now);
    return budgets.map((b) => {
      let mtd = 0;
      let projected = 0;
      if (b.link) {
        const p = projectSpend(
          costs.filter((c) => c.link === b.link).map((c) => ({ ...c, provider: b.link! })),
          now,
        ).get(b.link);
        mtd = p?.mtd ?? 0;
        projected = p?.projected ?? 0;
      } else
        for (const [prov, v] of byProvider)
          if (!b.provider || b.provider === prov) {
            mtd += v.mtd;
            projected += v.projected;
          }
      const scope = b.link ? `link:${b.link}` : b.provider ? `provider:${b.provider}` : 'total';
      return {
        scope,
        monthly: b.monthly,
        month_to_date: mtd,
        projected,
        alerts: b.alert_at.filter((f) => projected >= f * b.monthly),
      };
    });
  }

  /** One optimization run; publishes a proposal when the plan is worth it. */
  async run(): Promise<RunReport> {
    const t0 = performance.now();
    const now = this.deps.clock.now();
    const root = this.deps.root;
    try {
      const forecasts = await this.forecast();
      const byKey = new Map(forecasts.map((f) => [f.key, f]));
      const demands: TeDemand[] = [];
      for (const [from, to] of this.topo.pairs()) {
        for (const c of root.classes) {
          const f = byKey.get(pairSeriesKey(from, to, c.id));
          if (!f) continue;
          const p90 = Math.max(0, ...f.p90);
          const mean = f.p50.reduce((a, b) => a + b, 0) / Math.max(1, f.p50.length);
          demands.push({ from, to, class: c.id, mbps: p90, mean_mbps: Math.max(0, mean) });
        }
      }
      const probes = await this.deps.data.pathProbes({ from: now - 3 * 3_600_000, to: now });
      const quality = OptimizerEngine.recentQuality(probes);
      let risk: Map<string, number> | undefined;
      if (this.risk) {
        const rs = await this.riskSeries(now, 2);
        risk = this.risk.predict(rs);
      }
      const current: CurrentWeights = await this.deps.data.currentWeights();
      const totalBudgets = root.policy.budgets.filter((b) => !b.provider && !b.link);
      // Data residency: a demand whose every candidate path leaves its allowed regions cannot be served
      // within the rules — reported as infeasible, never routed out of them.
      const candidates = candidatePaths(root).allowed;
      const pathAllowed = (dem: TeDemand, p: PathConfig) => residencyViolation(root, p, dem.class) === undefined;
      const residencyBinding: TeBinding[] = [];
      const servable = demands.filter((dem) => {
        const mine = candidates.filter((p) => p.from === dem.from && p.to === dem.to);
        if (!mine.length || mine.some((p) => pathAllowed(dem, p))) return true;
        const why = mine.map((p) => residencyViolation(root, p, dem.class)!);
        residencyBinding.push({
          kind: 'residency',
          id: demandKey(dem.from, dem.to, dem.class),
          slack: dem.mbps,
          message: `no candidate path keeps ${demandKey(dem.from, dem.to, dem.class)} within residency rule ${why[0]!.rule} (every one crosses ${[...new Set(why.map((w) => w.region))].join(', ')})`,
        });
        return false;
      });
      const input: TeInput = {
        topology: { links: root.links, paths: candidates, classes: root.classes },
        demands: servable,
        ...(root.policy.residency.length ? { pathAllowed } : {}),
        quality,
        risk,
        current,
        options: {
          policy: root.policy,
          latency_penalty: this.config.latency_penalty,
          budget_per_day: totalBudgets.length > 0 ? Math.min(...totalBudgets.map((b) => b.monthly)) / 30 : undefined,
          time_limit_s: this.config.solve_time_limit_s,
          risk_threshold: this.config.risk_threshold,
        },
      };
      this.teSolver ??= new TeSolver({ exact_max_sites: this.config.te_exact_max_sites, seed: this.config.seed });
      const plan = await this.teSolver.solve(input);
      if (residencyBinding.length) {
        plan.binding.push(...residencyBinding);
        plan.status = 'infeasible';
      }
      this.deps.metrics?.solveSeconds.observe(plan.stats.solve_ms / 1000);
      const before = evaluateSplit(input, current);
      const after = evaluateSplit(input, planSplit(plan));
      // Demands whose current path breaks its class SLO right now (measured, not predicted).
      const breakingNow = new Set<string>();
      for (const d of demands) {
        const key = demandKey(d.from, d.to, d.class);
        const cls = this.topo.classes.get(d.class)!;
        const cur = current.get(key) ?? { [this.topo.pathsFor(d.from, d.to)[0]?.id ?? '']: 1 };
        for (const [pid, f] of Object.entries(cur)) {
          const q = quality.get(pid);
          if (
            f > 0.05 &&
            q &&
            (q.rtt_p95_ms > cls.slo.rtt_p95_ms || q.loss_pct > cls.slo.loss_pct || q.jitter_ms > cls.slo.jitter_ms)
          )
            breakingNow.add(key);
        }
      }
      const decision = decide(
        {
          now,
          topo: this.topo,
          plan,
          before,
          after,
          current,
          breakingNow,
          modelVersions: this.modelVersions(),
          horizonMin: this.config.horizon_min,
          dataFrom: now - this.config.history_h * 3_600_000,
          dataTo: now,
          evaluatePart: (keys) => {
            const planned = planSplit(plan);
            const part = new Map(current);
            for (const k of keys) {
              const split = planned.get(k);
              if (split) part.set(k, split);
            }
            return evaluateSplit(input, part);
          },
        },
        this.config,
      );
      if (decision.publish && decision.proposal) {
        if (this.deps.queue)
          await this.deps.queue.add(proposalQueueName, 'proposal', decision.proposal, { jobId: decision.proposal.id });
        const published = decision.proposal;
        await this.record('proposal', () => this.deps.decisions?.proposal(published, now));
        this.proposals.push(decision.proposal);
        if (this.proposals.length > 100) this.proposals.shift();
        this.deps.metrics?.proposals.inc({ kind: decision.proposal.kind });
        this.deps.log?.info({ id: decision.proposal.id, risk: decision.proposal.risk }, decision.why);
      } else {
        this.deps.log?.info({ binding: plan.binding.length }, `optimizer: no proposal (${decision.why})`);
      }
      this.deps.metrics?.runs.inc({ outcome: plan.status === 'optimal' ? 'ok' : 'infeasible' });
      const budgets = await this.budgets(now);
      for (const b of budgets) {
        this.deps.metrics?.budgetRatio.set({ scope: b.scope }, b.projected / b.monthly);
        if (b.alerts.length > 0)
          this.deps.log?.warn(
            { scope: b.scope, projected: b.projected, monthly: b.monthly },
            `budget ${b.scope}: month-end projection ${b.projected.toFixed(0)} crosses ${Math.round(Math.max(...b.alerts) * 100)}% of ${b.monthly}`,
          );
      }
      const { proposal, ...rest } = decision;
      this.lastRun = { at: now, budgets, plan, decision: rest, proposal, duration_ms: performance.now() - t0 };
      return this.lastRun;
    } catch (err) {
      this.deps.metrics?.runs.inc({ outcome: 'error' });
      this.lastRun = { at: now, error: err instanceof Error ? err.message : String(err), duration_ms: performance.now() - t0 };
      throw err;
    }
  }

  /**
   * Records a decision. The proposal is already queued (or the forecast made) when this runs, so a store
   * outage costs the record, not the run: it is logged and counted, and the next run records again.
   */
  private async record(what: string, write: () => Promise<void> | undefined): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.deps.metrics?.recordFailures.inc({ what });
      this.deps.log?.warn({ err: errorMessage(err), what }, 'optimizer: could not record a decision');
    }
  }

  dispose(): void {
    this.mlp?.dispose();
    this.risk?.dispose();
  }
}

export type { SeriesContext };
