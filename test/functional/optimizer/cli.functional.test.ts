import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, PATHPILOT_LOG_LEVEL: 'silent' },
  });

describe('pathpilot forecast / report (real process)', () => {
  it('forecast backtest --csv ranks every model against the best baseline and writes the forecasts file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pp-forecast-'));
    try {
      const file = join(out, 'forecasts.csv');
      const { stdout } = await cli([
        'forecast',
        'backtest',
        '--csv',
        'test/fixtures/optimizer/lab-traffic.csv',
        '--train-end',
        '2026-10-10T00:00:00Z',
        '--step',
        '1h',
        '--horizons',
        '15m,1h,1d',
        '--seed',
        '3',
        '--forecasts-out',
        file,
      ]);
      expect(stdout).toMatch(/2016 rows, 3 series, a step of 15m/);
      expect(stdout).toMatch(/missing steps: 0, kept missing/);
      expect(stdout).toMatch(/trained before 2026-10-10T00:00:00.000Z; 48 origins every 1h after it/);
      for (const m of [
        'persistence (baseline)',
        'seasonal-naive-day (baseline)',
        'seasonal-naive-week (baseline)',
        'drift (baseline)',
        'holt-winters (baseline)',
        'pathpilot',
      ])
        expect(stdout).toContain(m);
      for (const h of ['15m', '1h', '1d'])
        expect(stdout).toMatch(
          new RegExp(
            `^${h}: pathpilot \\(\\S+\\) MASE [\\d.]+ vs the best baseline \\(\\S+\\) [\\d.]+: [\\d.]+% (better|worse); p90 coverage [\\d.]+%$`,
            'm',
          ),
        );
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines[0]).toBe('origin,series,horizon,target_time,p50,p90');
      // 3 series × 48 hourly origins × 2 horizons whose target is inside the data, plus the 1-day ones.
      const rows = lines.slice(1).map((l) => l.split(','));
      expect(rows.filter((r) => r[2] === '1h')).toHaveLength(3 * 48);
      for (const [origin, , horizon, target, p50, p90] of rows) {
        const h = horizon === '15m' ? 900_000 : horizon === '1h' ? 3_600_000 : 86_400_000;
        expect(Date.parse(target!) - Date.parse(origin!)).toBe(h - 900_000);
        expect(Number(p90)).toBeGreaterThanOrEqual(Number(p50));
      }
      expect(rows.filter((r) => r[2] === '1d')[0]![0]).toBe('2026-10-10T00:00:00.000Z');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('risk backtest scores detectors as NAB does, beside the baselines, and names a bad file', async () => {
    const { stdout } = await cli([
      'risk',
      'backtest',
      '--data',
      'test/fixtures/optimizer/nab',
      '--windows',
      'test/fixtures/optimizer/nab/windows.json',
      '--labels',
      'test/fixtures/optimizer/nab/labels.json',
    ]);
    expect(stdout).toMatch(/1 files, 1200 points, 1 labelled windows/);
    for (const d of ['rolling-z (baseline)', 'seasonal-residual (baseline)', 'pathpilot-refractory-z'])
      expect(stdout).toMatch(new RegExp(`^${d.replace(/[()]/g, '\\$&')}\\s+-?[\\d.]+\\s+1\\s+\\d+\\s+0\\s+-?\\d+ min$`, 'm'));
    expect(stdout).toMatch(
      /pathpilot-refractory-z [\d.]+ vs the best baseline \(\S+\) [\d.]+: (better|not better) by [\d.]+ points/,
    );
    const err = await cli([
      'risk',
      'backtest',
      '--data',
      'test/fixtures/optimizer/nab',
      '--windows',
      'test/fixtures/optimizer/bad-value.csv',
    ]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('bad-value.csv:');
  }, 60_000);

  it('names the file and line of a bad value and exits non-zero', async () => {
    const err = await cli(['forecast', 'backtest', '--csv', 'test/fixtures/optimizer/bad-value.csv']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('bad-value.csv:4: value "lots" is not a number');
  }, 60_000);

  it('report capacity writes self-contained HTML, CSV and JSON', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pp-report-'));
    try {
      const { stdout } = await cli(['report', 'capacity', '--lab', '10', '--out', out]);
      expect(stdout).toMatch(/capacity report: 26 link directions/);
      const html = readFileSync(join(out, 'capacity.html'), 'utf8');
      expect(html.match(/<svg/g)?.length).toBe(26);
      expect(html).not.toMatch(/<script|<link /);
      expect(html).toContain('Budget projection');
      const csv = readFileSync(join(out, 'capacity.csv'), 'utf8').trim().split('\n');
      expect(csv).toHaveLength(27);
      const json = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8')) as {
        links: { days_to_80: number | null }[];
        budgets: unknown[];
      };
      expect(json.links).toHaveLength(26);
      expect(json.budgets).toHaveLength(3);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
