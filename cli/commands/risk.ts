import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { defaultDetectors, nabEvaluate } from '../../optimizer/forecast/nab.ts';
import { readNabDir, readNabFile } from '../../optimizer/forecast/nab-files.ts';
import { ValidationError } from '../../core/errors.ts';

export const summary = 'risk backtest --data DIR|FILE --windows FILE: failure detection scored as NAB scores it';

const usage = `usage: pathpilot risk backtest --data DIR|FILE --windows WINDOWS.json [--labels LABELS.json] [--json]

Scores failure/risk detection on NAB-style data: timestamp,value CSV files (a directory of them, or one) and
the labelled anomaly windows (NAB's combined_windows.json: keys end with the file name), optionally the
anomaly instants (combined_labels.json, read from beside the windows file when not named) for lead times. Prints the NAB score (standard profile: 0 detects
nothing, 100 every window at its start; one threshold per detector over all files, the best), detections,
false alarms, missed windows and the median lead time before the labelled anomaly, for pathpilot's detector
beside the baselines (rolling z-score, seasonal residual).
`;

export const subcommands = ['backtest'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot risk', usage, subcommands: { backtest: runBacktest } });
}

async function readJson(file: string): Promise<Record<string, never>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, never>;
  } catch (err) {
    throw new ValidationError(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function runBacktest(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot risk backtest',
    usage,
    options: {
      data: { type: 'string' },
      windows: { type: 'string' },
      labels: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const name = 'pathpilot risk backtest';
  if (!values.data) return usageError(name, '--data DIR|FILE is required').exit;
  if (!values.windows) return usageError(name, '--windows FILE is required').exit;
  const windows = await readJson(values.windows);
  // NAB keeps the anomaly instants beside the windows: read them from there when not named.
  const besideWindows = join(dirname(values.windows), 'combined_labels.json');
  const labelsFile = values.labels ?? (existsSync(besideWindows) ? besideWindows : undefined);
  const labels = labelsFile ? await readJson(labelsFile) : {};
  const { files, skipped } = (await stat(values.data)).isDirectory()
    ? await readNabDir(values.data, windows, labels)
    : { files: [await readNabFile(values.data, windows, labels)], skipped: [] };
  if (files.length === 0) throw new ValidationError(`${values.data}: no CSV file the windows file names`);
  const results = defaultDetectors().map((d) => nabEvaluate(files, d));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ files: files.map((f) => f.name), skipped, results }, null, 1)}\n`);
    return 0;
  }
  const windowsCount = files.reduce((a, f) => a + f.windows.length, 0);
  const out = [
    `${values.data}: ${files.length} files, ${files.reduce((a, f) => a + f.values.length, 0)} points, ${windowsCount} labelled windows${skipped.length ? `; skipped (no windows): ${skipped.join(', ')}` : ''}`,
    '',
    `${'detector'.padEnd(34)}${'NAB score'.padEnd(11)}${'detected'.padEnd(10)}${'false alarms'.padEnd(14)}${'missed'.padEnd(8)}median lead`,
  ];
  for (const r of results)
    out.push(
      `${(r.detector + (r.baseline ? ' (baseline)' : '')).padEnd(34)}${r.score.toFixed(1).padEnd(11)}${String(r.tp).padEnd(10)}${String(r.fp).padEnd(14)}${String(r.fn).padEnd(8)}${Number.isFinite(r.median_lead_min) ? `${r.median_lead_min.toFixed(0)} min` : 'n/a'}`,
    );
  const mine = results.find((r) => !r.baseline)!;
  const best = results.filter((r) => r.baseline).sort((a, b) => b.score - a.score)[0]!;
  out.push('');
  out.push(
    `${mine.detector} ${mine.score.toFixed(1)} vs the best baseline (${best.detector}) ${best.score.toFixed(1)}: ${mine.score > best.score ? 'better' : 'not better'} by ${Math.abs(mine.score - best.score).toFixed(1)} points`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
