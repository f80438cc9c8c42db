import { isExit, parseCommand } from '../args.ts';
import { runDemo, startDemo, type DemoSummary } from '../../app/demo.ts';
import { parseDuration } from '../../app/duration.ts';
import { untilSignalOrFatal } from '../../app/runtime.ts';
import { createLogger } from '../../core/log.ts';
import { loadCheckedConfig } from '../config-check.ts';
import { renderOutcomeTable } from '../../app/outcome/summary.ts';

export const summary = 'run the whole loop on the lab twin (--scenario, --auto, --duration 6h, --speedup, --port)';

const usage = `usage: pathpilot demo [--scenario NAME|FILE] [--auto] [--duration 6h] [--speedup 120] [--port 8080]
                      [--seed N] [--gitops-dir DIR] [--json] [-c FILE]

Runs the whole loop in one process on the lab twin with emulated VyOS routers and prints the web
console's URL. Without --duration it runs until Ctrl-C; with it, it runs that much simulated time
and prints flows, proposals, applied, rolled back, and egress cost, egress GB and SLO-violation pair-class
minutes beside static routing and the hindsight oracle (the same scenario with perfect knowledge); minutes
no path could meet an SLO are counted apart, as SLO-infeasible. The simulated clock moves in lockstep with
the work, so the same command and seed give the same summary.

  --scenario NAME   steady, cost-pressure (default), degradation-and-failover, flash-crowd, or a file
  --auto            proposals go out unattended (the staged rollout and SLO guard still gate each step)
  --duration D      bounded run of D simulated time (30m, 6h, 2d)
  --speedup N       simulated seconds per wall second (default 120)
  --port N          API and web console port (default 8080)
  --seed N          overrides the scenario's seed
  --gitops-dir DIR  write each router's config as set commands to DIR/<router>.conf after every
                    change, and every router's final config when the demo stops
  --json            the bounded run's summary as one JSON object on the last line
  -c, --config FILE pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
`;

export function renderSummary(s: DemoSummary): string {
  const label = (text: string) => text.padEnd(34);
  return [
    `scenario ${s.scenario} (seed ${s.seed}): ${s.simulated_hours.toFixed(1)} simulated hours in ${s.wall_s.toFixed(1)} s`,
    `${label('flows ingested')}${s.flows_ingested.toLocaleString('en-US')}`,
    `${label('proposals')}${s.proposals} (applied ${s.applied}, rolled back ${s.rolled_back})`,
    ...renderOutcomeTable(s),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot demo',
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      scenario: { type: 'string', default: 'cost-pressure' },
      seed: { type: 'string' },
      auto: { type: 'boolean', default: false },
      duration: { type: 'string' },
      speedup: { type: 'string', default: '120' },
      port: { type: 'string', default: '8080' },
      json: { type: 'boolean', default: false },
      'gitops-dir': { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  // The demo loads the file itself; every section is validated here first so a typo is an error.
  loadCheckedConfig(values.config);
  // Logs go to stderr: stdout carries the summary (with --json, one object a script reads).
  const log = createLogger({ level: process.env.PATHPILOT_LOG_LEVEL ?? 'warn', destination: process.stderr });
  const base = {
    scenario: values.scenario!,
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    auto: values.auto!,
    speedup: Number(values.speedup),
    apiPort: Number(values.port),
    ...(values.config ? { configFile: values.config } : {}),
    ...(values['gitops-dir'] ? { gitopsDir: values['gitops-dir'] } : {}),
    log,
    onReady: (info: { url: string; consoleUrl: string }) => {
      process.stderr.write(
        `pathpilot demo: ${values.auto ? 'automatic' : 'approval'} mode, scenario ${values.scenario}, ${values.speedup}× time\n` +
          `  web console: ${info.consoleUrl}\n  API:         ${info.url}  (metrics: ${info.url}/metrics)\n`,
      );
    },
  };
  if (!values.duration) {
    const demo = await startDemo(base);
    // Non-zero when a background loop died; every component stops either way.
    const code = await untilSignalOrFatal(demo.shared.supervisor, log);
    await demo.stop();
    return code;
  }
  const result = await runDemo({ ...base, durationMs: parseDuration(values.duration) });
  // --json: the summary is the last line, one object (scripts read `tail -n 1`).
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${renderSummary(result)}\n`);
  return 0;
}
