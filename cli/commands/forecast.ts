import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { backtest } from '../../optimizer/forecast/backtest.ts';
import { readSeriesCsv } from '../../optimizer/forecast/csv.ts';

export const summary = 'forecast backtest --csv FILE: score every model (and the baselines) on your own time,series,value data';

const usage = `usage: pathpilot forecast backtest --csv FILE [--origins 8] [--every 6h] [--horizons 1h,1d] [--no-learned] [--epochs 12] [--json]

Runs the optimizer's rolling-origin backtest on any CSV with columns time,series,value (time as ISO 8601
or epoch seconds/ms, one regular step per series). The earlier half of the origins selects the best model
per series, the later half scores it; prints MASE, sMAPE and pinball loss (p50, p90) per model and horizon.
`;

function duration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(s.trim());
  if (!m) throw new Error(`bad duration "${s}" (use e.g. 30m, 1h, 1d)`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

export const subcommands = ['backtest'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot forecast', usage, subcommands: { backtest: runBacktest } });
}

async function runBacktest(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot forecast backtest',
    usage,
    options: {
      csv: { type: 'string' },
      origins: { type: 'string', default: '8' },
      every: { type: 'string', default: '6h' },
      horizons: { type: 'string', default: '1h,1d' },
      'no-learned': { type: 'boolean', default: false },
      epochs: { type: 'string', default: '12' },
      json: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.csv) return usageError('pathpilot forecast backtest', '--csv FILE is required').exit;
  const { series, filled, rows } = await readSeriesCsv(values.csv);
  const r = await backtest(series, {
    origins: Number(values.origins),
    originEveryMs: duration(values.every),
    horizonsMs: values.horizons.split(',').map(duration),
    learned: !values['no-learned'],
    epochs: Number(values.epochs),
    keepModel: false,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r, null, 1)}\n`);
    return 0;
  }
  const out: string[] = [];
  out.push(
    `${values.csv}: ${rows} rows, ${series.length} series${filled ? `, ${filled} missing steps filled with the previous value` : ''}`,
  );
  if (r.excluded.length) out.push(`left out (constant, nothing to forecast): ${r.excluded.join(', ')}`);
  const mean = (xs: number[]) => {
    const f = xs.filter(Number.isFinite);
    return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
  };
  out.push('');
  out.push(
    `${'model'.padEnd(16)}${r.horizons.map((h) => `${h.label}: MASE    sMAPE   pinball50 pinball90`.padEnd(44)).join('')}`,
  );
  for (const m of r.models) {
    const cells = r.horizons.map((h) => {
      const sc = r.series.map((s) => s.test[m]![h.label]!);
      const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
      return `${' '.repeat(h.label.length + 2)}${f(mean(sc.map((x) => x.mase)), 3).padEnd(8)}${f(mean(sc.map((x) => x.smape)), 1).padEnd(8)}${f(mean(sc.map((x) => x.pinball50)), 3).padEnd(10)}${f(mean(sc.map((x) => x.pinball90)), 3)}`.padEnd(
        44,
      );
    });
    out.push(`${(m + (m === 'seasonal-naive' || m === 'holt-winters' ? ' (baseline)' : '')).padEnd(28)}${cells.join('')}`);
  }
  out.push('');
  out.push('per series (test origins, MASE of the selected model vs seasonal naive):');
  for (const s of r.series)
    out.push(
      `  ${s.key.padEnd(40)} ${s.selected.padEnd(15)} ${r.horizons.map((h) => `${h.label} ${s.test[s.selected]![h.label]!.mase.toFixed(3)} vs ${s.test['seasonal-naive']![h.label]!.mase.toFixed(3)}`).join('   ')}`,
    );
  out.push('');
  for (const h of r.horizons)
    out.push(`selected model beats seasonal naive at ${h.label} on ${(r.beatsNaive[h.label]! * 100).toFixed(0)}% of series`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
