/**
 * Scenario files (lab/scenarios/*.yaml): topology overrides, demand, incidents and the seed.
 * Validated with zod; errors name the key and the file line (through core/config's ConfigSource).
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseConfigText } from '../../core/config/index.ts';
import { ConfigError } from '../../core/errors.ts';

export const builtinScenarios = ['steady', 'cost-pressure', 'degradation-and-failover', 'flash-crowd'] as const;
export const scenariosDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

const pairKeyRe = /^[a-z0-9][a-z0-9._-]*>[a-z0-9][a-z0-9._-]*$/;
export const incidentKinds = ['rtt_step', 'loss_burst', 'brownout', 'outage'] as const;
export type IncidentKind = (typeof incidentKinds)[number];

const targetSchema = z.union([z.object({ link: z.string().min(1) }).strict(), z.object({ path: z.string().min(1) }).strict()]);

export const incidentSchema = z
  .object({
    /** Hours after the scenario start. */
    at_h: z.number().nonnegative(),
    target: targetSchema,
    kind: z.enum(incidentKinds),
    /** rtt_step: ms added; loss_burst: loss in percent; brownout: fraction of capacity lost (0–1); outage: ignored. */
    magnitude: z.number().nonnegative().default(0),
    duration_min: z.number().positive(),
    /** Lead time of the precursor signs (jitter creep, sporadic micro-loss, small RTT rise) before onset. */
    precursor_min: z.number().nonnegative().default(30),
  })
  .strict()
  .superRefine((inc, ctx) => {
    if (inc.kind === 'brownout' && inc.magnitude > 1)
      ctx.addIssue({ code: 'custom', path: ['magnitude'], message: 'a brownout magnitude is a fraction of capacity (0–1)' });
    if (inc.kind === 'loss_burst' && inc.magnitude > 100)
      ctx.addIssue({ code: 'custom', path: ['magnitude'], message: 'a loss_burst magnitude is a percentage (0–100)' });
  });
export type Incident = z.infer<typeof incidentSchema>;

export const surgeSchema = z
  .object({
    at_h: z.number().nonnegative(),
    duration_min: z.number().positive(),
    /** Demand multiplier at the plateau. */
    factor: z.number().positive(),
    /** Restrict to traffic from / to a site and to one class; all when absent. */
    from: z.string().optional(),
    to: z.string().optional(),
    class: z.string().optional(),
    /** Minutes to ramp up (and down). */
    ramp_min: z.number().nonnegative().default(10),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    seed: z.number().int().nonnegative().default(1),
    /** Scenario start (ISO 8601); the twin starts at the clock's time when absent. */
    start: z.string().datetime({ offset: true }).optional(),
    /** Typical length of a run (informational: demo and bench). */
    duration_days: z.number().positive().default(7),
    /** A pathpilot.yaml whose topology replaces the running config's (relative to the scenario file). */
    topology: z.string().optional(),
    sites: z
      .record(
        z.string(),
        z
          .object({
            /** Measured region (provider:region in lab/twin/data/regions.json) to place the site at. */
            measured_region: z.string().optional(),
            /** Local time offset for the daily cycle; derived from the region when absent. */
            utc_offset_h: z.number().min(-12).max(14).optional(),
          })
          .strict(),
      )
      .default({}),
    links: z
      .record(
        z.string(),
        z
          .object({
            capacity_mbps: z.number().positive().optional(),
            /** A number, or "table" for the listed egress price between the endpoint regions. */
            cost_per_gb: z.union([z.number().nonnegative(), z.literal('table')]).optional(),
            /** Base RTT (ms) in place of the region table's: links whose ends are not cloud regions (SNDlib nodes). */
            rtt_ms: z.number().positive().optional(),
          })
          .strict(),
      )
      .default({}),
    demand: z
      .object({
        /** Multiplies every demand. */
        scale: z.number().positive().default(1),
        /** Mean demand per ordered site pair at the daily peak, Mbps (all classes together). */
        base_mbps: z.number().nonnegative().default(250),
        /** Per-pair overrides ("from>to": Mbps). */
        pairs: z.record(z.string().regex(pairKeyRe, 'use "from-site>to-site"'), z.number().nonnegative()).default({}),
        /** Share of each class (normalized); unnamed classes share what is left equally. */
        class_mix: z.record(z.string(), z.number().nonnegative()).default({}),
        /** Depth of the daily cycle: the night trough is (1 - daily_amplitude) of the peak. */
        daily_amplitude: z.number().min(0).max(1).default(0.55),
        /** Local hour of the daily peak. */
        peak_hour: z.number().min(0).max(24).default(14),
        /** Weekend demand relative to weekdays. */
        weekend_factor: z.number().min(0).max(2).default(0.6),
        /** Standard deviation of the multiplicative AR(1) noise. */
        noise: z.number().min(0).max(1).default(0.08),
        /** Compound growth per week (0.02 = +2 % per week). */
        growth_per_week: z.number().min(-0.5).max(5).default(0.01),
        surges: z.array(surgeSchema).default([]),
        /**
         * Measured demand instead of the synthetic cycle: a `time,src,dst,mbps` CSV (plain or gzip, relative
         * to the scenario file) replayed from the run's start (lab/twin/matrix-demand.ts). scale, class_mix
         * and surges still apply; base_mbps, pairs, the daily/weekly shape and growth do not.
         */
        matrix: z
          .object({ file: z.string().min(1) })
          .strict()
          .optional(),
      })
      .strict()
      .default({
        scale: 1,
        base_mbps: 250,
        pairs: {},
        class_mix: {},
        daily_amplitude: 0.55,
        peak_hour: 14,
        weekend_factor: 0.6,
        noise: 0.08,
        growth_per_week: 0.01,
        surges: [],
      }),
    incidents: z.array(incidentSchema).default([]),
    /** Incidents drawn from the seed, on top of the listed ones. */
    random_incidents: z
      .object({
        per_week: z.number().nonnegative().default(0),
        kinds: z.array(z.enum(incidentKinds)).min(1).default(['rtt_step', 'loss_burst', 'brownout']),
        max_duration_min: z.number().positive().default(90),
        precursor_min: z.number().nonnegative().default(30),
      })
      .strict()
      .default({ per_week: 0, kinds: ['rtt_step', 'loss_burst', 'brownout'], max_duration_min: 90, precursor_min: 30 }),
  })
  .strict();
export type Scenario = z.infer<typeof scenarioSchema>;

/** Parses scenario YAML text; errors name the key and line. */
export function parseScenario(text: string, file = '<scenario>'): Scenario {
  const source = parseConfigText(text, file);
  const result = scenarioSchema.safeParse(source.data);
  if (!result.success) throw new ConfigError(source.describe(result.error.issues));
  return result.data;
}

/** A built-in scenario name or a path to a scenario file. Returns the scenario and the file it came from. */
export function loadScenario(nameOrPath: string): { scenario: Scenario; file: string } {
  const file = (builtinScenarios as readonly string[]).includes(nameOrPath)
    ? join(scenariosDir, `${nameOrPath}.yaml`)
    : resolve(nameOrPath);
  if (!existsSync(file)) {
    throw new ConfigError([
      `lab.twin.scenario: "${nameOrPath}" is neither a built-in scenario (${builtinScenarios.join(', ')}) nor a readable file`,
    ]);
  }
  const scenario = parseScenario(readFileSync(file, 'utf8'), file);
  // Like `topology`, a matrix file is relative to the scenario that names it.
  if (scenario.demand.matrix) scenario.demand.matrix.file = resolve(dirname(file), scenario.demand.matrix.file);
  return { scenario, file };
}
