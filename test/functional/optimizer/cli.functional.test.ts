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
  it('forecast backtest --csv prints every model beside the baselines', async () => {
    const { stdout } = await cli([
      'forecast',
      'backtest',
      '--csv',
      'test/fixtures/optimizer/lab-traffic.csv',
      '--origins',
      '6',
      '--epochs',
      '4',
    ]);
    expect(stdout).toMatch(/2016 rows, 3 series/);
    for (const m of ['seasonal-naive (baseline)', 'holt-winters (baseline)', 'mlp-quantile']) expect(stdout).toContain(m);
    expect(stdout).toMatch(/pair:onprem-nyc>aws-use1\|bulk\s+\S+\s+1h [\d.]+ vs [\d.]+\s+1d [\d.]+ vs [\d.]+/);
    expect(stdout).toMatch(/selected model beats seasonal naive at 1h on \d+% of series/);
  }, 120_000);

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
