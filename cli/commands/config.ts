import { isExit, parseCommand } from '../args.ts';
import { stringify } from 'yaml';
import { Topology } from '../../core/config/index.ts';
import { loadCheckedConfig } from '../config-check.ts';
import { sloFeasibilityWarnings } from '../slo-feasibility.ts';

export const summary = 'check or print the effective configuration (--check, --dump, -c FILE)';

const usage = `usage: pathpilot config [--check] [--dump] [-c FILE]

Validates the whole configuration: the shared sections and every component's own section
(ingest, analytics, optimizer, actuator, lab), after environment overrides. Each problem is
printed as file:line: key.path: message; unknown keys get a did-you-mean. Deprecated keys are
accepted with a warning on stderr, and so is a class SLO that no path of some site pair can meet on
the lab twin's model of the network (its region RTT tables), once per pair and class:
"SLO infeasible: <from>→<to> <class>: best path <id> p95 ~290 ms vs SLO 260 ms".

  --check            validate and print a one-line summary (the default)
  --dump             print the effective root configuration as YAML
  -c, --config FILE  pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)

Exit status: 0 when valid, 1 when the configuration has errors, 2 on usage errors.
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot config',
    usage,
    options: { config: { type: 'string', short: 'c' }, dump: { type: 'boolean' }, check: { type: 'boolean' } },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const { root, source } = loadCheckedConfig(values.config, {
    warn: (warnings) => {
      for (const w of warnings) process.stderr.write(`pathpilot config: warning: ${w}\n`);
    },
  });
  const topo = new Topology(root);
  if (values.dump) process.stdout.write(stringify(root));
  else {
    process.stdout.write(
      `${source.file}: ok — ${root.sites.length} sites, ${root.links.length} links, ${root.paths.length} paths over ${topo.pairs().length} pairs, ${root.classes.length} classes\n`,
    );
    for (const w of sloFeasibilityWarnings(root)) process.stderr.write(`pathpilot config: warning: ${w}\n`);
  }
  return 0;
}
