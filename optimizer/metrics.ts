import { counter, gauge, histogram, type Registry } from '../core/metrics.ts';

export interface OptimizerMetrics {
  runs: ReturnType<typeof counter<'outcome'>>;
  trainings: ReturnType<typeof counter<'outcome'>>;
  proposals: ReturnType<typeof counter<'kind'>>;
  forecasts: ReturnType<typeof counter>;
  solveSeconds: ReturnType<typeof histogram>;
  trainSeconds: ReturnType<typeof histogram>;
  budgetRatio: ReturnType<typeof gauge<'scope'>>;
  recordFailures: ReturnType<typeof counter<'what'>>;
}

export function createOptimizerMetrics(registry: Registry): OptimizerMetrics {
  const p = 'pathpilot_optimizer';
  return {
    runs: counter(registry, `${p}_runs_total`, 'Optimization runs by outcome (ok, infeasible, error)', ['outcome']),
    trainings: counter(registry, `${p}_trainings_total`, 'Model trainings by outcome', ['outcome']),
    proposals: counter(registry, `${p}_proposals_total`, 'Proposals published, by kind', ['kind']),
    forecasts: counter(registry, `${p}_forecasts_total`, 'Series forecast'),
    solveSeconds: histogram(registry, `${p}_solve_seconds`, 'TE LP solve time', [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30]),
    trainSeconds: histogram(registry, `${p}_train_seconds`, 'Training time for every model', [1, 5, 15, 30, 60, 120, 300]),
    recordFailures: counter(
      registry,
      `${p}_record_failures_total`,
      'Decisions (forecasts, models, proposals) the store refused',
      ['what'],
    ),
    budgetRatio: gauge(registry, `${p}_budget_projected_ratio`, 'Month-end spend projection over the monthly budget', ['scope']),
  };
}
