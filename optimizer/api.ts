import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../core/http/auth.ts';
import { requireRole } from '../core/http/auth.ts';
import type { RoutePlugin } from '../core/http/server.ts';
import { PathpilotError } from '../core/errors.ts';
import type { OptimizerEngine, RunReport } from './engine.ts';
import { buildCapacityReport, capacityCsv, renderCapacityHtml } from './report.ts';
import type { OptimizerData } from './data.ts';
import type { RootConfig } from '../core/config/index.ts';
import type { Clock } from '../core/clock.ts';

/** What the routes need from a running optimizer (createOptimizer's handle satisfies it). */
export interface OptimizerHandle {
  readonly engine: OptimizerEngine;
  runNow(): Promise<RunReport>;
  retrain(): Promise<string>;
}

export interface OptimizerRouteDeps {
  optimizer: OptimizerHandle;
  data: OptimizerData;
  root: RootConfig;
  clock: Clock;
  /** Without it the routes are open (tests, the embedded demo); the API server always passes it. */
  auth?: Authenticator;
}

function summarizeRun(r: RunReport | undefined) {
  if (!r) return null;
  return {
    at: r.at,
    duration_ms: r.duration_ms,
    error: r.error,
    status: r.plan?.status,
    cost_per_day: r.plan?.cost_per_day,
    max_utilization: r.plan?.max_utilization,
    binding: r.plan?.binding ?? [],
    tight: r.plan?.tight ?? [],
    decision: r.decision,
    budgets: r.budgets ?? [],
    proposal: r.proposal?.id,
    solver: r.plan?.stats,
  };
}

/**
 * REST for the optimizer, as a fastify plugin the API server registers:
 * GET  /optimizer/forecasts[?series=&horizon_min=]  latest forecasts (p50/p90) and the model per series
 * GET  /optimizer/models                            registry versions, metrics, last backtest summary
 * POST /optimizer/run                               run now; returns the decision (and proposal)
 * POST /optimizer/retrain                           queue a retraining job
 * GET  /optimizer/proposals[/:id]                   proposals published by this process
 * GET  /optimizer/plan                              last plan: splits, link loads, binding constraints
 * GET  /optimizer/reports/capacity[?format=html|csv|json]
 */
export async function optimizerRoutes(app: FastifyInstance, deps: OptimizerRouteDeps): Promise<void> {
  const view = deps.auth ? { preHandler: requireRole(deps.auth, 'viewer') } : {};
  const act = deps.auth ? { preHandler: requireRole(deps.auth, 'approver') } : {};
  const engine = deps.optimizer.engine;

  app.get<{ Querystring: { series?: string; horizon_min?: string } }>('/optimizer/forecasts', view, async (req) => {
    const h = req.query.horizon_min !== undefined ? Number(req.query.horizon_min) : undefined;
    if (h !== undefined && (!Number.isFinite(h) || h < 5 || h > 7 * 24 * 60))
      throw new PathpilotError('PP_ERR_VALIDATION', 'horizon_min must be a number of minutes between 5 and 10080');
    const list =
      h !== undefined || engine.lastForecasts.length === 0
        ? await engine.forecast(h !== undefined ? h * 60_000 : undefined)
        : engine.lastForecasts;
    const filtered = req.query.series ? list.filter((f) => f.key === req.query.series) : list;
    if (req.query.series && filtered.length === 0)
      throw new PathpilotError('PP_ERR_NOT_FOUND', `no series "${req.query.series}"`);
    return { model_versions: engine.modelVersions(), forecasts: filtered };
  });

  app.get('/optimizer/models', view, async () => ({
    versions: engine.registry.list(),
    training: engine.training,
    backtest: engine.lastBacktest
      ? {
          vs_best_baseline: engine.lastBacktest.vsBestBaseline,
          models: engine.lastBacktest.models,
          train_ms: engine.lastBacktest.trainMs,
        }
      : null,
    risk_backtest: engine.lastRiskBacktest ?? null,
  }));

  app.post('/optimizer/run', act, async () => {
    const r = await deps.optimizer.runNow();
    return { run: summarizeRun(r), proposal: r.proposal ?? null };
  });

  app.post('/optimizer/retrain', act, async (_req, reply) => reply.code(202).send({ job: await deps.optimizer.retrain() }));

  app.get('/optimizer/proposals', view, async () => ({ proposals: engine.proposals }));
  app.get<{ Params: { id: string } }>('/optimizer/proposals/:id', view, async (req) => {
    const p = engine.proposals.find((x) => x.id === req.params.id);
    if (!p) throw new PathpilotError('PP_ERR_NOT_FOUND', `no proposal "${req.params.id}"`);
    return p;
  });

  app.get('/optimizer/plan', view, async () => {
    const r = engine.lastRun;
    return { run: summarizeRun(r), splits: r?.plan?.splits ?? [], link_loads: r?.plan?.link_loads ?? [] };
  });

  app.get<{ Querystring: { format?: string } }>('/optimizer/reports/capacity', view, async (req, reply) => {
    const format = req.query.format ?? 'json';
    if (!['json', 'html', 'csv'].includes(format))
      throw new PathpilotError('PP_ERR_VALIDATION', 'format must be json, html or csv');
    const report = await buildCapacityReport({ data: deps.data, root: deps.root, now: deps.clock.now() });
    if (format === 'html') return reply.type('text/html; charset=utf-8').send(renderCapacityHtml(report));
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(capacityCsv(report));
    return report;
  });
}

/** The routes bound to one optimizer, in the API server's plugin shape (auth from the server). */
export function optimizerPlugin(deps: Omit<OptimizerRouteDeps, 'auth'>): RoutePlugin {
  return (app, http) => optimizerRoutes(app, { ...deps, auth: http.auth });
}
