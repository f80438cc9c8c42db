import { createBus } from '../../core/bus/index.ts';
import type { Bus } from '../../core/bus/types.ts';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { createRegistry } from '../../core/metrics.ts';
import { billingConfigSchema } from '../../ingest/billing/config.ts';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { importFile } from '../../ingest/billing/importer.ts';
import { costBacktest, costModels, type ServiceDailyCost } from '../../optimizer/cost-backtest.ts';
import {
  billingEncodings,
  billingFormats,
  createBillingImporter,
  type BillingEncoding,
  type BillingFormat,
  type ImportProgress,
} from '../../ingest/billing/index.ts';

export const summary =
  'import cloud billing exports: `billing import <files…>` (FOCUS, AWS CUR / CUR 2.0, GCP, Azure); `billing backtest`: score month-end projections';

const usage = `usage: pathpilot billing import [--format FORMAT] [--encoding ENC] [-c FILE] [--dry-run] [--show-bad N] <files…>

Streams billing exports (CSV, GCP JSON lines; .gz is read as gzip) into cost records and publishes
them on the configured bus (services.bus; KAFKA_BROKERS switches to Kafka). Data-transfer lines are
classified (internet-egress, inter-region, inter-zone, interconnect) and mapped to topology links.
A line's id comes from the columns that identify the charge, not its amounts: re-importing a file,
or a re-export that corrects costs, replaces the earlier lines downstream instead of adding to them.
Progress goes to stderr, bad rows as file:line: reason, the summary to stdout.

  --format FORMAT  auto (default), ${billingFormats.join(', ')}
  --encoding ENC   auto (default: a byte-order mark, else UTF-8; invalid UTF-8 refuses the file),
                   ${billingEncodings.filter((e) => e !== 'auto').join(', ')}
  -c, --config     pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
  --dry-run        read and summarize only; publish nothing
  --show-bad N     bad rows printed per file (default 20; all are counted)

Exit status: 0 when every file was imported (bad rows are reported, not fatal), 1 when a file could
not be imported at all, 2 on usage errors.

usage: pathpilot billing backtest [--format FORMAT] [--cuts 10,20] [--json] <files…>

Scores cost forecasting on the files' billing history: for every whole month in them, the month-end spend
projected on each cut day (from the days before it) against the month's real spend, per series (all
spend, each provider, each service billed on at least 10 days of the month), as a mean absolute
percentage error beside the run-rate baseline and the last-7-days projection.
`;

const n = (v: number) => v.toLocaleString('en-US');
const money = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 });

export const subcommands = ['import', 'backtest'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot billing', usage, subcommands: { import: runImport, backtest: runBacktest } });
}

async function runBacktest(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot billing backtest',
    usage,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'auto' },
      cuts: { type: 'string', default: '10,20' },
      json: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values, positionals } = parsed;
  const name = 'pathpilot billing backtest';
  if (positionals.length === 0) return usageError(name, 'no files given').exit;
  const cuts = values.cuts.split(',').map(Number);
  if (cuts.some((c) => !Number.isInteger(c) || c < 1 || c > 27))
    return usageError(name, `--cuts must be days 1–27, got "${values.cuts}"`).exit;
  const rows: ServiceDailyCost[] = [];
  for (const file of positionals)
    await importFile(file, {
      format: values.format as BillingFormat | 'auto',
      onBatch: (records) => {
        for (const r of records)
          rows.push({
            day: Math.floor(r.usage_start / 86_400_000) * 86_400_000,
            cost: r.cost,
            provider: r.provider,
            service: r.service ?? '',
          });
      },
    });
  const r = costBacktest(rows, { cuts });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r, null, 1)}\n`);
    return 0;
  }
  const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');
  const out = [
    `${positionals.join(', ')}: ${n(rows.length)} cost lines; whole months ${r.months.join(', ') || 'none'}; ${r.series} series`,
    '',
    `${'projection'.padEnd(26)}${cuts.map((c) => `MAPE on day ${c}`.padEnd(18)).join('')}`,
  ];
  for (const m of costModels)
    out.push(
      `${(m.name + (m.baseline ? ' (baseline)' : '')).padEnd(26)}${cuts.map((c) => pct(r.mape[m.name]![c]!).padEnd(18)).join('')}`,
    );
  out.push('');
  for (const c of cuts) {
    const base = r.mape['run-rate']![c]!;
    const mine = r.mape['pathpilot-weekday']![c]!;
    out.push(`day ${c}: pathpilot ${pct(mine)} vs run-rate ${pct(base)}: ${mine < base ? 'better' : 'not better'}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

async function runImport(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot billing import',
    usage,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'auto' },
      encoding: { type: 'string', default: 'auto' },
      config: { type: 'string', short: 'c' },
      'dry-run': { type: 'boolean', default: false },
      'show-bad': { type: 'string', default: '20' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError('pathpilot billing import', 'no files given').exit;
  const format = values.format as BillingFormat | 'auto';
  if (format !== 'auto' && !billingFormats.includes(format)) {
    process.stderr.write(
      `pathpilot billing: --format must be auto or one of ${billingFormats.join(', ')}, got "${values.format}"\n`,
    );
    return 2;
  }
  const encoding = values.encoding as BillingEncoding;
  if (!billingEncodings.includes(encoding)) {
    process.stderr.write(
      `pathpilot billing: --encoding must be one of ${billingEncodings.join(', ')}, got "${values.encoding}"\n`,
    );
    return 2;
  }
  const showBad = Number(values['show-bad']);
  if (!Number.isInteger(showBad) || showBad < 0) {
    process.stderr.write(`pathpilot billing: --show-bad must be a whole number, got "${values['show-bad']}"\n`);
    return 2;
  }
  const { root, source } = loadConfig(values.config);
  const config = source.section('ingest.billing', billingConfigSchema);
  const registry = createRegistry();
  let bus: Bus | undefined;
  if (!values['dry-run']) {
    bus = createBus(root.services.bus, { registry });
    if (bus.kind === 'memory') {
      process.stderr.write(
        'pathpilot billing: services.bus is the in-process bus: records are not kept (set KAFKA_BROKERS to publish)\n',
      );
    }
    await bus.start();
  }
  const importer = createBillingImporter({ registry, bus, topology: new Topology(root) }, config);
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  const onProgress = (p: ImportProgress) => {
    const pct = p.totalBytes > 0 ? Math.min(100, (100 * p.bytesRead) / p.totalBytes) : 100;
    const rate = p.elapsedMs > 0 ? (p.rows * 1000) / p.elapsedMs : 0;
    const line = `${p.file}: ${pct.toFixed(0)}% ${n(p.rows)} rows, ${n(Math.round(rate))} rows/s`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (p.elapsedMs - lastLine >= 5000) {
      lastLine = p.elapsedMs;
      process.stderr.write(`${line}\n`);
    }
  };
  let failed = 0;
  try {
    await importer.start();
    const summaries = await importer.importFiles(positionals, { format, encoding, onProgress });
    if (tty) process.stderr.write('\r\x1b[2K');
    const totals = new Map<string, { provider: string; category: string; currency: string; cost: number; rows: number }>();
    for (const s of summaries) {
      if (s.error) {
        failed++;
        process.stderr.write(`pathpilot billing: ${s.file}: not imported: ${s.error}\n`);
        continue;
      }
      for (const b of s.badRows.slice(0, showBad)) process.stderr.write(`${b.file}:${b.line}: ${b.reason}\n`);
      if (s.bad > showBad) process.stderr.write(`${s.file}: … ${n(s.bad - showBad)} more bad rows\n`);
      process.stdout.write(
        `${s.file}: ${s.format}, ${n(s.rows)} rows, ${n(s.imported)} imported, ${n(s.bad)} bad, ` +
          `${n(s.linked)} mapped to links (${(s.elapsedMs / 1000).toFixed(2)} s)\n`,
      );
      for (const t of s.totals) {
        const key = `${t.provider}\x1f${t.category}\x1f${t.currency}`;
        const sum = totals.get(key) ?? { provider: t.provider, category: t.category, currency: t.currency, cost: 0, rows: 0 };
        sum.cost += t.cost;
        sum.rows += t.rows;
        totals.set(key, sum);
      }
    }
    if (totals.size > 0) {
      const rows = [...totals.values()].sort(
        (a, b) => a.provider.localeCompare(b.provider) || a.category.localeCompare(b.category),
      );
      process.stdout.write(
        `\n${'provider'.padEnd(10)} ${'category'.padEnd(16)} ${'lines'.padStart(10)} ${'cost'.padStart(20)}\n`,
      );
      for (const t of rows) {
        process.stdout.write(
          `${t.provider.padEnd(10)} ${t.category.padEnd(16)} ${n(t.rows).padStart(10)} ${`${money(t.cost)} ${t.currency}`.padStart(20)}\n`,
        );
      }
    }
  } finally {
    await importer.stop();
    await bus?.stop();
  }
  return failed > 0 ? 1 : 0;
}
