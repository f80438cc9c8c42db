import { z } from 'zod';

/** The `lab.twin` section of pathpilot.yaml. */
export const twinConfigSchema = z
  .object({
    /** A built-in scenario (steady, cost-pressure, degradation-and-failover, flash-crowd) or a scenario file. */
    scenario: z.string().min(1).default('steady'),
    /** Overrides the scenario's seed. */
    seed: z.number().int().nonnegative().optional(),
    /** Simulated time per tick (the probe window and flow export interval), seconds. */
    tick_s: z.number().int().min(1).max(3600).default(60),
    /**
     * follow: tick whenever the clock reaches the next tick (RealClock = real time; a SimulatedClock driven
     * by someone else). drive: the twin advances a SimulatedClock itself, `speedup` simulated seconds per
     * wall second (0 = as fast as possible).
     */
    mode: z.enum(['follow', 'drive']).default('follow'),
    speedup: z.number().nonnegative().default(0),
    /** drive: stop ticking after this much simulated time (0 = until stopped); `finished()` resolves then. */
    duration_s: z.number().nonnegative().default(0),
    probes: z
      .object({
        enabled: z.boolean().default(true),
        /** Classes whose DSCP the probes carry (one record per path and class); empty = the most important class. */
        classes: z.array(z.string()).default([]),
        per_window: z.number().int().min(1).max(100_000).default(60),
      })
      .strict()
      .default({ enabled: true, classes: [], per_window: 60 }),
    iface: z
      .object({ enabled: z.boolean().default(true), interval_s: z.number().int().min(1).default(60) })
      .strict()
      .default({ enabled: true, interval_s: 60 }),
    flow: z
      .object({
        enabled: z.boolean().default(true),
        format: z.enum(['netflow9', 'ipfix']).default('ipfix'),
        /** 1-in-N packet sampling. */
        sampling_rate: z.number().int().min(1).max(1_000_000).default(1000),
        /** Flow records per (demand, path) and tick, at most. */
        max_records_per_path: z.number().int().min(1).max(1000).default(4),
        /** UDP collector "host:port"; empty = only the onFlowDatagram callback. */
        collector: z.string().default(''),
        /** Bind each site's exporter socket to its router.exporter_address (127.0.1.x in the lab). */
        bind_exporter: z.boolean().default(true),
      })
      .strict()
      .default({
        enabled: true,
        format: 'ipfix',
        sampling_rate: 1000,
        max_records_per_path: 4,
        collector: '',
        bind_exporter: true,
      }),
    billing: z
      .object({
        enabled: z.boolean().default(true),
        /** Folder for the daily FOCUS CSV files; empty = a temporary folder. */
        dir: z.string().default(''),
      })
      .strict()
      .default({ enabled: true, dir: '' }),
  })
  .strict();

export type TwinConfig = z.infer<typeof twinConfigSchema>;
export type TwinConfigInput = z.input<typeof twinConfigSchema>;
