import { analyticsStore } from '../../analytics/schema/cluster.ts';
import { isExit, parseCommand } from '../args.ts';
import { loadConfig } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import { analyticsSchema } from '../../analytics/config.ts';
import { migrate } from '../../analytics/schema/converge.ts';
import { applyRetention } from '../../analytics/schema/retention.ts';

export const summary = 'converge the ClickHouse schema (--dry-run, --retention to drop expired partitions, -c FILE)';

const usage = `usage: pathpilot migrate [--dry-run] [--retention] [--quiet] [-c FILE]

Converges the analytics schema on the configured store (ClickHouse server when CLICKHOUSE_URL or
services.store says so, else chDB) and prints each applied step; a second run applies 0 steps.
With analytics.store.cluster, on every node of that ClickHouse cluster (ON CLUSTER).

  --dry-run          print the steps without applying them
  --retention        also drop expired partitions (servers without TTL)
  -q, --quiet        only the summary line
  -c, --config FILE  pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)

Exit status: 0 on success, 3 when a step needs manual action.
`;

/**
 * `pathpilot migrate`: converges the analytics schema on the configured store (ClickHouse server
 * when CLICKHOUSE_URL or services.store says so, else chDB) and prints each applied step. A second
 * run prints "0 steps". `--retention` also runs the partition-drop job (servers without TTL).
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot migrate',
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      'dry-run': { type: 'boolean' },
      retention: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const { root, source } = loadConfig(values.config);
  const analytics = source.section('analytics', analyticsSchema);
  const store = analyticsStore({ root, source }, { log: createLogger({ level: 'warn' }) });
  await store.start();
  try {
    const cluster = analytics.store.cluster?.name;
    const result = await migrate(store, { retention: analytics.retention, dryRun: values['dry-run'], cluster });
    const where =
      `${store.kind === 'server' ? `ClickHouse ${result.version}` : `chDB ${result.version}`}, database ${store.database}` +
      (cluster ? `, ON CLUSTER ${cluster}` : '');
    if (!values.quiet) for (const step of result.applied) process.stdout.write(`${step.action} ${step.object}\n`);
    for (const m of result.manual) process.stderr.write(`manual: ${m}\n`);
    process.stdout.write(`${values['dry-run'] ? 'planned' : 'applied'} ${result.applied.length} steps (${where})\n`);
    if (values.retention) {
      const r = await applyRetention(store, { now: Date.now(), retention: analytics.retention, cluster });
      for (const d of r.dropped) process.stdout.write(`dropped partition ${d.partition} of ${d.table}\n`);
      process.stdout.write(
        `retention: dropped ${r.dropped.length} partitions${store.capabilities().ttl ? ' (TTL handles retention here)' : ''}\n`,
      );
    }
    return result.manual.length > 0 ? 3 : 0;
  } finally {
    await store.stop();
  }
}
