import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { exampleConfigPath } from '../core/config/index.ts';
import { run as report } from './commands/report.ts';

let dir = '';
let err = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-report-'));
  err = '';
  // The embedded store even when the shell exports the real services.
  vi.stubEnv('CLICKHOUSE_URL', '');
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

it('report capacity on a store without the schema says to migrate (not a raw UNKNOWN_TABLE)', async () => {
  // An empty embedded chDB store: the pathpilot database and its tables do not exist yet.
  const config = join(dir, 'pathpilot.yaml');
  const example = readFileSync(exampleConfigPath, 'utf8');
  writeFileSync(
    config,
    example.replace(/^ {2}store: .*$/m, `  store: { kind: chdb, database: pathpilot, path: ${join(dir, 'chdb')} }`),
  );
  const code = await report(['capacity', '-c', config, '--out', join(dir, 'out')]);
  expect(code).toBe(1);
  expect(err).toMatch(
    /^pathpilot report capacity: the store has no pathpilot schema yet \(no table pathpilot\.\w+\): run `pathpilot migrate` first, or use `--lab DAYS`/,
  );
  expect(err).not.toContain('Code: 60');
  expect(err.split('\n').filter(Boolean)).toHaveLength(1);
});
