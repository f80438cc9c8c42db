import { randomUUID } from 'node:crypto';
import { busyWhile, type Clock } from '../core/clock.ts';
import { LoopTracker, memoizeStop, parseSection, type Component, type OnFatal } from '../core/component.ts';
import type { RootConfig } from '../core/config/index.ts';
import { ConfigError, UnrecoverableError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../core/metrics.ts';
import type { Queue, QueueWorker } from '../core/queue/types.ts';
import { optimizerConfigSchema } from './config.ts';
import type { OptimizerData } from './data.ts';
import { OptimizerEngine, type RunReport } from './engine.ts';
import { createOptimizerMetrics } from './metrics.ts';
import { ModelRegistry } from './registry.ts';
import type { DecisionLog } from './decisions.ts';

export { optimizerConfigSchema, type OptimizerConfig } from './config.ts';
export { MemoryOptimizerData, type OptimizerData } from './data.ts';
export { OptimizerEngine } from './engine.ts';
export { storeDecisions, memoryDecisions, type DecisionLog, type MemoryDecisionLog } from './decisions.ts';
export { optimizerRoutes, optimizerPlugin } from './api.ts';

/** Queue of the optimizer's own jobs (retrain, run). */
export const optimizerQueueName = 'pathpilot-optimizer';

export interface OptimizerDeps {
  data: OptimizerData;
  queue: Queue;
  clock: Clock;
  root: RootConfig;
  registry?: Registry;
  log?: Logger;
  /** Model registry; default: one on `config.registry_dir`. */
  models?: ModelRegistry;
  /** Where forecasts, model versions and proposals are recorded (`storeDecisions(store)` in production). */
  decisions?: DecisionLog;
  /** Told when the scheduling loop dies (the composition root stops the process). */
  onFatal?: OnFatal;
}

export interface Optimizer extends Component {
  readonly engine: OptimizerEngine;
  /** Runs now (serialised with the scheduled runs). */
  runNow(): Promise<RunReport>;
  /** Queues a retraining job; resolves with its job id (progress via the queue). */
  retrain(): Promise<string>;
  /** The retraining job start() queued because no saved models were found (undefined otherwise). */
  initialTrainingJob(): string | undefined;
}

/**
 * The optimizer component: every `interval_s` (clock time) reads data, forecasts, solves the TE LP and
 * publishes a proposal when worth it; retrains on a repeatable queue job every `retrain_every_s`, with
 * progress. Inert until start().
 */
export function createOptimizer(deps: OptimizerDeps, input: unknown = {}): Optimizer {
  const cfg = parseSection(optimizerConfigSchema, input, 'optimizer');
  const loops = new LoopTracker('optimizer', { log: deps.log, onFatal: deps.onFatal });
  const metrics = deps.registry ? createOptimizerMetrics(deps.registry) : undefined;
  const engine = new OptimizerEngine(
    {
      data: deps.data,
      root: deps.root,
      clock: deps.clock,
      queue: deps.queue,
      log: deps.log,
      metrics,
      registry: deps.models ?? new ModelRegistry(cfg.registry_dir),
      decisions: deps.decisions,
    },
    cfg,
  );
  const abort = new AbortController();
  let worker: QueueWorker | undefined;
  let loop: Promise<void> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const runNow = () => serial(() => engine.run());
  let initialTrainingJob: string | undefined;

  return {
    name: 'optimizer',
    engine,
    runNow,
    initialTrainingJob: () => initialTrainingJob,
    retrain: () => deps.queue.add(optimizerQueueName, 'retrain', { requested_at: deps.clock.now(), force: true }),
    async start() {
      const restored = await engine.restore();
      worker = await deps.queue.process<{ requested_at?: number; force?: boolean }, unknown>(
        optimizerQueueName,
        async (data, job) => {
          if (job.name === 'retrain') {
            // The repeatable job may fire right after an explicit retraining: skip models younger than half the period.
            const last = engine.registry.latest('traffic');
            if (!data?.force && last && deps.clock.now() - last.trained_at < (cfg.retrain_every_s * 1000) / 2) {
              return { skipped: `models ${last.version} are recent` };
            }
            const r = await serial(() => engine.train((p) => job.progress(p)));
            return { traffic: r.traffic.version, risk: r.risk?.version };
          }
          if (job.name === 'run') {
            const r = await runNow();
            return { proposal: r.proposal?.id, why: r.decision?.why };
          }
          return undefined;
        },
      );
      if (!restored)
        initialTrainingJob = await deps.queue.add(
          optimizerQueueName,
          'retrain',
          { requested_at: deps.clock.now(), force: true },
          // Unique per start: a simulated clock starts every run on the same hour, and a persistent
          // queue keeps finished jobs, so a time-only id would skip the training of a rerun.
          { jobId: `initial-retrain-${deps.clock.now()}-${randomUUID().slice(0, 8)}` },
        );
      await deps.queue.repeat(optimizerQueueName, 'retrain', {}, cfg.retrain_every_s * 1000);
      loop = loops.track('schedule', async () => {
        while (!abort.signal.aborted) {
          try {
            await deps.clock.sleep(cfg.interval_s * 1000, abort.signal);
          } catch (err) {
            if (abort.signal.aborted) return;
            throw err;
          }
          try {
            await busyWhile(deps.clock, 'optimizer.run', runNow);
          } catch (err) {
            // A run that no retry can fix (bad configuration, unrecoverable input) kills the loop, so the
            // process stops instead of logging the same failure forever; anything else is retried next interval.
            if (err instanceof ConfigError || err instanceof UnrecoverableError) throw err;
            deps.log?.warn({ err: errorMessage(err) }, 'optimizer run failed');
          }
        }
      });
    },
    health: () => loops.health(),
    stop: memoizeStop(async () => {
      loops.stopping();
      abort.abort(new Error('optimizer stopped'));
      await loop;
      await worker?.close();
      await chain.catch(() => undefined);
      engine.dispose();
    }),
  };
}
