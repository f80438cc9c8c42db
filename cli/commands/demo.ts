import { isExit, parseCommand } from '../args.ts';
import { runDemo, startDemo, type DemoSummary } from '../../app/demo.ts';
import { parseDuration } from '../../app/duration.ts';
import { untilSignalOrFatal } from '../../app/runtime.ts';
import { createLogger } from '../../core/log.ts';
import { loadCheckedConfig } from '../config-check.ts';

export const summary = 'run the whole loop on the lab twin (--scenario, --auto, --duration 6h, --speedup, --port)';

const usage = `usage: pathpilot demo [--scenario NAME|FILE] [--auto] [--duration 6h] [--speedup 120] [--port 8080]
                      [--seed N] [--gitops-dir DIR] [--json] [-c FILE]

Runs the whole loop in one process on the lab twin with emulated VyOS routers and prints the web
console's URL. Without --duration it runs until Ctrl-C; with it, it runs that much simulated time
and prints flows, proposals, applied, rolled back, egress cost and SLO-violation pair-class minutes against
static routing.

  --scenario NAME   steady, cost-pressure (default), degradation-and-failover, flash-crowd, or a file
  --auto            proposals go out unattended (the staged rollout and SLO guard still gate each step)
  --duration D      bounded run of D simulated time (30m, 6h, 2d)
  --speedup N       simulated seconds per wall second (default 120)
  --port N          API and web console port (default 8080)
  --seed N          overrides the scenario's seed
  --gitops-dir DIR  write each router's config as set commands to DIR/<router>.conf after every
                    change, and every router's final config when the demo stops
  --json            the bounded run's summary as JSON
  -c, --config FILE pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
`;

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function renderSummary(s: DemoSummary): string {
  const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${a <= b ? '-' : '+'}${fmt((Math.abs(a - b) / b) * 100)}%`);
  const label = (text: string) => text.padEnd(34);
  return [
    `scenario ${s.scenario} (seed ${s.seed}): ${fmt(s.simulated_hours)} simulated hours in ${fmt(s.wall_seconds)} s`,
    `${label('flows ingested')}${s.flows_ingested.toLocaleString('en-US')}`,
    `${label('proposals')}${s.proposals} (applied ${s.applied}, rolled back ${s.rolled_back})`,
    `${label('')}pathpilot        static routing`,
    `${label('egress cost (USD)')}${fmt(s.egress_cost, 2).padEnd(16)} ${fmt(s.baseline.egress_cost, 2).padEnd(14)} ${pct(s.egress_cost, s.baseline.egress_cost)}`,
    `${label('egress (GB)')}${fmt(s.egress_gb, 0).padEnd(16)} ${fmt(s.baseline.egress_gb, 0)}`,
    // Summed over pair × class: two classes of one pair in breach for the same minute count two.
    `${label('SLO-violation pair-class minutes')}${fmt(s.slo_violation_minutes, 0).padEnd(16)} ${fmt(s.baseline.slo_violation_minutes, 0)}`,
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
  const log = createLogger({ level: process.env.PATHPILOT_LOG_LEVEL ?? 'warn' });
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
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderSummary(result)}\n`);
  return 0;
}
