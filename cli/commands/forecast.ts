import { writeFile } from 'node:fs/promises';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { readSeriesCsv } from '../../optimizer/forecast/csv.ts';
import { horizonLabel } from '../../optimizer/forecast/metrics.ts';
import { originBacktest, type OriginReport } from '../../optimizer/forecast/origins.ts';

export const summary = 'forecast backtest --csv FILE: score pathpilot against the best baseline on your own data';

const usage = `usage: pathpilot forecast backtest --csv FILE [--train-end ISO] [--step 1h] [--horizons 15m,1h,1d]
                                  [--seed N] [--forecasts-out OUT.csv] [--json]

Scores every model on a CSV of time,series,value (or time,src,dst,mbps) rows, one regular step per series:
trained on what comes before --train-end (default: 70 % into the data), then from there every --step one
forecast per horizon, scored at the single point h ahead (target_time = origin + h − step). MASE divides
the error by each series' in-sample daily seasonal-naive error; each horizon is ranked against its best
baseline (persistence, seasonal naive day/week, drift, Holt-Winters). A forecast reads only values before
its origin; missing steps stay missing and a missing target is not scored. --forecasts-out writes
pathpilot's forecasts: origin,series,horizon,target_time,p50,p90 (ISO times, UTC).
`;

function duration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(s.trim());
  if (!m) throw new Error(`bad duration "${s}" (use e.g. 15m, 1h, 1d)`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

export const subcommands = ['backtest'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot forecast', usage, subcommands: { backtest: runBacktest } });
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

async function runBacktest(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot forecast backtest',
    usage,
    options: {
      csv: { type: 'string' },
      'train-end': { type: 'string' },
      step: { type: 'string', default: '1h' },
      horizons: { type: 'string', default: '1h,1d' },
      seed: { type: 'string', default: '1' },
      'forecasts-out': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const name = 'pathpilot forecast backtest';
  if (!values.csv) return usageError(name, '--csv FILE is required').exit;
  if (!/^\d+$/.test(values.seed)) return usageError(name, `--seed must be a whole number, not "${values.seed}"`).exit;
  const { series, missing, rows } = await readSeriesCsv(values.csv);
  const first = Math.min(...series.map((s) => s.ctx.startMs));
  const last = Math.max(...series.map((s) => s.ctx.startMs + (s.values.length - 1) * s.ctx.stepMs));
  const stepMs = series[0]!.ctx.stepMs;
  let trainEndMs: number;
  if (values['train-end']) {
    trainEndMs = Date.parse(values['train-end']);
    if (!Number.isFinite(trainEndMs)) return usageError(name, `--train-end "${values['train-end']}" is not an ISO time`).exit;
  } else trainEndMs = first + Math.floor((0.7 * (last - first)) / stepMs) * stepMs;
  // Every model here is deterministic: the seed is recorded so runs with learned models stay comparable.
  const report = originBacktest(
    series.map((s) => ({ key: s.key, values: s.values, stepMs: s.ctx.stepMs, startMs: s.ctx.startMs })),
    { trainEndMs, originEveryMs: duration(values.step), horizonsMs: values.horizons.split(',').map(duration) },
  );
  if (values['forecasts-out']) {
    const lines = ['origin,series,horizon,target_time,p50,p90'];
    for (const r of report.rows['pathpilot'] ?? [])
      lines.push([iso(r.origin), r.series, r.horizon, iso(r.target_time), r.p50.toFixed(4), r.p90.toFixed(4)].join(','));
    await writeFile(values['forecasts-out'], `${lines.join('\n')}\n`);
  }
  if (values.json) {
    const { rows: _rows, ...rest } = report;
    process.stdout.write(
      `${JSON.stringify({ csv: values.csv, train_end: iso(trainEndMs), seed: Number(values.seed), ...rest }, null, 1)}\n`,
    );
    return 0;
  }
  process.stdout.write(`${render(report, { csv: values.csv, rows, missing, trainEndMs, stepMs, step: values.step })}\n`);
  return 0;
}

function render(
  r: OriginReport,
  o: { csv: string; rows: number; missing: number; trainEndMs: number; stepMs: number; step: string },
): string {
  const out: string[] = [];
  out.push(`${o.csv}: ${o.rows} rows, ${r.series} series, a step of ${horizonLabel(o.stepMs)}`);
  out.push(
    `missing steps: ${o.missing}, kept missing (models read the values observed; ${r.missing.targets_unscored} missing targets not scored)`,
  );
  if (r.excluded.length) out.push(`left out (no daily seasonal-naive scale in training): ${r.excluded.join(', ')}`);
  out.push(`trained before ${iso(o.trainEndMs)}; ${r.origins} origins every ${o.step} after it`);
  out.push('');
  const width = 26;
  out.push(`${'model'.padEnd(30)}${r.horizons.map((h) => `${h.label}: MASE (vs best) p90 cov`.padEnd(width)).join('')}`);
  for (const m of r.models) {
    const cells = r.horizons.map((h) => {
      const s = r.scores[m.name]![h.label]!;
      const best = r.best_baseline[h.label]?.mase ?? NaN;
      return `${num(s.mase)} (${num(s.mase / best, 2)}) ${num(s.p90_coverage, 2)}`.padEnd(width);
    });
    out.push(`${(m.name + (m.baseline ? ' (baseline)' : '')).padEnd(30)}${cells.join('')}`);
  }
  out.push('');
  for (const h of r.horizons) {
    const best = r.best_baseline[h.label];
    const mine = r.scores['pathpilot']?.[h.label];
    if (!best || !mine) continue;
    const ratio = mine.mase / best.mase;
    out.push(
      `${h.label}: pathpilot (${r.chosen[h.label] ?? 'n/a'}) MASE ${num(mine.mase)} vs the best baseline (${best.model}) ${num(best.mase)}: ${ratio < 1 ? `${num((1 - ratio) * 100, 1)}% better` : `${num((ratio - 1) * 100, 1)}% worse`}; p90 coverage ${num(mine.p90_coverage * 100, 1)}%`,
    );
  }
  return out.join('\n');
}
