import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'billing');
const tmp = mkdtempSync(join(tmpdir(), 'pp-billing-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, KAFKA_BROKERS: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pathpilot billing import', () => {
  it('summarizes totals per provider and category, and reports bad rows as file:line: reason', async () => {
    const sample = readFileSync(join(fixtures, 'aws_cur2_sample.csv'), 'utf8').trimEnd().split('\n');
    const bad = join(tmp, 'cur2-with-bad-rows.csv');
    writeFileSync(bad, [...sample.slice(0, 3), 'q,too,short', ...sample.slice(3)].join('\n') + '\n');
    const r = await cli(['billing', 'import', '--dry-run', join(fixtures, 'focus_1.0_sample_1000rows.csv'), bad]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/focus_1\.0_sample_1000rows\.csv: focus, 1,000 rows, 1,000 imported, 0 bad/);
    expect(r.stdout).toMatch(/cur2-with-bad-rows\.csv: aws-cur2, 7 rows, 6 imported, 1 bad/);
    expect(r.stdout).toMatch(/^aws\s+internet-egress\s+175\s+19\.264039 USD$/m); // 174 FOCUS lines (0.364039) + 1 CUR 2.0 line (18.90)
    expect(r.stderr).toContain(`${bad}:4: expected 23 fields, found 3`);
  });

  it('fails with status 1 naming a file it cannot import, after importing the rest', async () => {
    const r = await cli([
      'billing',
      'import',
      '--dry-run',
      join(tmp, 'missing.csv'),
      join(fixtures, 'azure_cost_export_sample.csv'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.csv: not imported: ENOENT/);
    expect(r.stdout).toMatch(/azure_cost_export_sample\.csv: azure, 7 rows, 7 imported/);
  });

  it('rejects an unknown --format', async () => {
    const r = await cli(['billing', 'import', '--format', 'csv', join(fixtures, 'aws_cur2_sample.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--format must be auto or one of focus, aws-cur, aws-cur2, gcp, azure/);
  });
});
