import { z } from 'zod';
import { defaultLeaderConfig, leaderConfigSchema } from '../core/leader-config.ts';

const duration = z.number().int().positive();

/** The `optimizer` section of pathpilot.yaml. */
export const optimizerConfigSchema = z
  .object({
    /** Seconds between optimization runs (clock time: the lab accelerates it). */
    interval_s: duration.default(300),
    /** Forecast horizon the plan is sized for, minutes. */
    horizon_min: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(60),
    /** Step of the traffic series the models work on, seconds. */
    step_s: duration.default(300),
    /** History read for each run and for training, hours. */
    history_h: duration.default(14 * 24),
    /** Retraining schedule: every `retrain_every_s` seconds as a repeatable job. */
    retrain_every_s: duration.default(24 * 3600),
    /** Where the model registry keeps versions and saved models; empty = in memory only. */
    registry_dir: z.string().default(''),
    /** Learned models on or off (baselines always run). */
    learned: z.boolean().default(true),
    /** Epochs for the learned quantile models. */
    epochs: z.number().int().positive().max(500).default(12),
    /** $/day per Mbit/s per path-score unit for the latency/loss penalty (scaled by class priority). */
    latency_penalty: z.number().nonnegative().default(0.05),
    /** A proposal is published only when it improves the objective by this fraction… */
    min_improvement: z.number().nonnegative().default(0.05),
    /** …or saves at least this much per day, or fixes a predicted SLO breach or overload. */
    min_saving_per_day: z.number().nonnegative().default(5),
    /** Failure risk (probability of an SLO breach in the horizon) that counts as a path at risk. */
    risk_threshold: z.number().gt(0).max(1).default(0.5),
    /**
     * Seeds the learned models' initialisation and sample draws, so the same data trains the same models
     * (the lab sets it from --seed: a rerun repeats).
     */
    seed: z.number().int().nonnegative().default(7),
    /** Seconds an HTTP `run-now` waits for the run to finish. */
    solve_time_limit_s: z.number().positive().default(60),
    /**
     * TE instances with at most this many sites are solved exactly as one LP; larger ones are decomposed
     * (POP: k sub-problems with 1/k of every capacity, optimizer/te/decompose.ts). The exact LP takes
     * ~20 s at 300 sites on two cores; the decomposition is within ~0.5 % of it there.
     */
    te_exact_max_sites: z.number().int().min(2).default(400),
    /**
     * Active/standby (core/leader.ts, app/optimizer-standby.ts): with a BullMQ queue the optimizer processes
     * elect one leader in its Redis; only the leader solves and proposes.
     */
    leader: leaderConfigSchema.default(defaultLeaderConfig),
  })
  .strict();

export type OptimizerConfig = z.infer<typeof optimizerConfigSchema>;
export const defaultOptimizerConfig: OptimizerConfig = optimizerConfigSchema.parse({});
