import { z } from 'zod';
import { analyticsSchema } from '../analytics/config.ts';
import { actuatorConfigSchema } from '../actuator/config.ts';
import { ConfigError } from '../core/errors.ts';
import { readConfigSource, validateRoot, type LoadedConfig, type RootConfig } from '../core/config/index.ts';
import { billingConfigSchema } from '../ingest/billing/config.ts';
import { flowCollectorConfigSchema } from '../ingest/flow/config.ts';
import { probeConfigSchema } from '../ingest/probe/config.ts';
import { twinConfigSchema } from '../lab/twin/config.ts';
import { optimizerConfigSchema } from '../optimizer/config.ts';

/**
 * Every component section and the schema its owner validates it with. The root schema (core)
 * checks the shared sections and knows these names; this table lets `config --check` and
 * `start --check` validate everything at once, before any role starts, so a bad value in a
 * section a role reads late (or a role not started here) is still reported with its line.
 */
export const componentSchemas = {
  ingest: z
    .object({
      flow: flowCollectorConfigSchema.optional(),
      probe: probeConfigSchema.optional(),
      billing: billingConfigSchema.optional(),
    })
    .strict(),
  analytics: analyticsSchema,
  optimizer: optimizerConfigSchema,
  actuator: actuatorConfigSchema,
  lab: z.object({ twin: twinConfigSchema.optional() }).strict(),
} as const satisfies Record<string, z.ZodType>;

/** The line an issue names (`file:line: …`); issues without one (environment) go last. */
const lineOf = (issue: string): number => Number(/^[^:]*:(\d+): /.exec(issue)?.[1] ?? Number.MAX_SAFE_INTEGER);

/**
 * Loads the configuration and validates the root and every component section, reporting all
 * problems together in one ConfigError (each `file:line: key.path: message`).
 */
export function loadCheckedConfig(
  file?: string,
  options: { env?: NodeJS.ProcessEnv; warn?: (warnings: readonly string[]) => void } = {},
): LoadedConfig {
  const source = readConfigSource(file, options.env ?? process.env);
  const issues: string[] = [];
  let root: RootConfig | undefined;
  try {
    root = options.warn ? validateRoot(source, options.warn) : validateRoot(source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  for (const [key, schema] of Object.entries(componentSchemas)) {
    const result = source.check(key, schema);
    if (!result.success) issues.push(...result.issues);
  }
  // The actuator's policy keys are checked by the root and by the actuator's schema: report once,
  // in file order.
  if (issues.length > 0 || !root) throw new ConfigError([...new Set(issues)].sort((a, b) => lineOf(a) - lineOf(b)));
  return { root, source };
}
