import { analyticsStore } from '../../analytics/schema/cluster.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isExit, parseCommand, runSubcommand } from '../args.ts';
import { loadConfig } from '../../core/config/index.ts';
import { missingSchema } from '../../core/store/index.ts';
import type { OptimizerData } from '../../optimizer/data.ts';
import { QueriesOptimizerData } from '../../optimizer/data-queries.ts';
import { buildCapacityReport, capacityCsv, renderCapacityHtml } from '../../optimizer/report.ts';

export const summary = 'report capacity: HTML (inline charts) + CSV + JSON capacity-planning report';

const usage = `usage: pathpilot report capacity [-c FILE] [--out DIR] [--history-days 28] [--forecast-days 7] [--lab DAYS]

Reads link and pair traffic and costs from the configured store (services.store, or CLICKHOUSE_URL) and
writes capacity.html (utilization history and forecast bands per link, days until 80% and 100%,
recommended upgrades and their cost, demand growth by pair, budget projection), capacity.csv and
capacity.json to DIR (default ./reports/out). --lab DAYS reports on DAYS of the lab twin instead.
`;

export const subcommands = ['capacity'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot report', usage, subcommands: { capacity } });
}

async function capacity(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot report capacity',
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      out: { type: 'string', default: 'reports/out' },
      'history-days': { type: 'string', default: '28' },
      'forecast-days': { type: 'string', default: '7' },
      lab: { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const loaded = loadConfig(values.config);
  const { root } = loaded;
  let data: OptimizerData;
  let now = Date.now();
  let stop = async () => {};
  if (values.lab) {
    const { labData } = await import('../../lab/twin/lab-data.ts');
    const lab = labData({ days: Number(values.lab), root });
    data = lab.data;
    now = lab.endMs;
  } else {
    const store = analyticsStore(loaded);
    await store.start();
    stop = () => store.stop();
    data = new QueriesOptimizerData(store, root);
  }
  try {
    const report = await buildCapacityReport(
      { data, root, now },
      { historyDays: Number(values['history-days']), forecastDays: Number(values['forecast-days']) },
    );
    const dir = resolve(values.out);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'capacity.html'), renderCapacityHtml(report));
    await writeFile(join(dir, 'capacity.csv'), capacityCsv(report));
    await writeFile(join(dir, 'capacity.json'), JSON.stringify(report));
    const soon = report.links.filter((l) => l.recommendation);
    process.stdout.write(
      `capacity report: ${report.links.length} link directions, ${soon.length} upgrade recommendation(s), ${report.budgets.filter((b) => b.alerts.length).length} budget alert(s)\n` +
        `  ${join(dir, 'capacity.html')}\n  ${join(dir, 'capacity.csv')}\n  ${join(dir, 'capacity.json')}\n`,
    );
    return 0;
  } catch (err) {
    const missing = missingSchema(err);
    if (!missing) throw err;
    process.stderr.write(
      `pathpilot report capacity: the store has no pathpilot schema yet (${missing}): ` +
        'run `pathpilot migrate` first, or use `--lab DAYS` for a report on the lab twin\n',
    );
    return 1;
  } finally {
    await stop();
  }
}
