import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { exampleConfigPath, rootConfigSchema } from '../core/config/index.ts';
import { componentSchemas, loadCheckedConfig } from './config-check.ts';
import { run as configCommand } from './commands/config.ts';
import { run as startCommand } from './commands/start.ts';

/** `config --check` validates the root and every component section, each problem with its line. */

const example = readFileSync(exampleConfigPath, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'pp-config-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const path = join(dir, `c${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

function issuesOf(path: string): string[] {
  try {
    loadCheckedConfig(path, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadCheckedConfig', () => {
  it('accepts the bundled example', () => {
    expect(loadCheckedConfig(exampleConfigPath, { env: {} }).root.sites).toHaveLength(7);
  });

  it('validates component sections the root schema only names (ingest.flow.port: "x" passed before)', () => {
    const text = `${example}\ningest:\n  flow:\n    port: "x"\n    bnd: 0.0.0.0\noptimizer:\n  interval_s: -5\n`;
    const path = file(text);
    expect(issuesOf(path)).toEqual([
      `${path}:${lineOf(text, 'port: "x"')}: ingest.flow.port: Invalid input: expected number, received string`,
      `${path}:${lineOf(text, 'bnd:')}: ingest.flow.bnd: unknown key (did you mean "bind"?)`,
      `${path}:${lineOf(text, 'interval_s: -5')}: optimizer.interval_s: Too small: expected number to be >0`,
    ]);
  });

  it('reports unknown keys of the actuator section (policy and own keys) with a line and a suggestion', () => {
    const text = example.replace(/^actuator:$/m, 'actuator:\n  lan_interfce: eth1\n  moed: auto');
    const path = file(text);
    expect(issuesOf(path)).toEqual([
      `${path}:${lineOf(text, 'lan_interfce')}: actuator.lan_interfce: unknown key (did you mean "lan_interface"?)`,
      `${path}:${lineOf(text, 'moed')}: actuator.moed: unknown key (did you mean "mode"?)`,
    ]);
  });

  it('reports root and component problems together, in file order', () => {
    const text = `${example}\nlab:\n  twn: {}\noptimiser: {}\n`;
    const path = file(text);
    expect(issuesOf(path)).toEqual([
      `${path}:${lineOf(text, '  twn:')}: lab.twn: unknown key (did you mean "twin"?)`,
      `${path}:${lineOf(text, 'optimiser:')}: optimiser: unknown key (did you mean "optimizer"?)`,
    ]);
  });

  it('covers every section the root schema leaves to components', () => {
    const shape = (rootConfigSchema as unknown as { _zod: { def: { in?: { shape: object }; shape?: object } } })._zod.def;
    const rootKeys = Object.keys(shape.shape ?? shape.in?.shape ?? {});
    const delegated = ['ingest', 'analytics', 'optimizer', 'lab'];
    expect(rootKeys).toEqual(expect.arrayContaining([...delegated, 'actuator']));
    expect(Object.keys(componentSchemas).sort()).toEqual([...delegated, 'actuator'].sort());
  });
});

describe('pathpilot config --check', () => {
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints the deprecation of actuation: and still says ok', async () => {
    const text = example.replace(/^actuator:$/m, 'actuation:');
    const path = file(text);
    expect(await configCommand(['--check', '-c', path])).toBe(0);
    expect(out).toContain(`${path}: ok`);
    expect(err).toBe(
      `pathpilot config: warning: ${path}:${lineOf(text, 'actuation:')}: actuation: deprecated: rename the section to "actuator" ` +
        '("actuation" and "actuator" configured one component: both now live in "actuator"); its keys were read as actuator.*\n',
    );
  });

  it('warns once per pair and class about an SLO no path can meet on the lab twin', async () => {
    const fixture = join(import.meta.dirname, '..', 'test', 'fixtures', 'config', 'infeasible-slo.yaml');
    expect(await configCommand(['--check', '-c', fixture])).toBe(0);
    expect(out).toContain(`${fixture}: ok`);
    expect(err).toBe(
      'pathpilot config: warning: SLO infeasible: use1→hk realtime: best path use1.hk.2 p95 ~219 ms vs SLO 180 ms\n' +
        'pathpilot config: warning: SLO infeasible: hk→use1 realtime: best path hk.use1.2 p95 ~219 ms vs SLO 180 ms\n',
    );
  });

  it('says nothing about SLOs the lab network can meet (the bundled example), or without lab data', async () => {
    expect(await configCommand(['--check', '-c', exampleConfigPath])).toBe(0);
    expect(err).toBe('');
    // A 200 ms realtime SLO is out of reach for four pairs to Hong Kong …
    const tight = example.replace('rtt_p95_ms: 260', 'rtt_p95_ms: 200');
    expect(await configCommand(['--check', '-c', file(tight)])).toBe(0);
    expect(err.match(/SLO infeasible: /g)).toHaveLength(4);
    // … but with a site the twin cannot place (no measured region) there are no RTTs to judge by.
    err = '';
    expect(await configCommand(['--check', '-c', file(tight.replace('region: us-east\n', 'region: mars-1\n'))])).toBe(0);
    expect(err).toBe('');
  });

  it('start --check validates the sections of roles it does not start', async () => {
    const text = `${example}\noptimizer:\n  interval_s: "often"\n`;
    const path = file(text);
    const failure = await startCommand(['ingest', '--check', '-c', path]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).issues).toEqual([
      `${path}:${lineOf(text, 'interval_s: "often"')}: optimizer.interval_s: Invalid input: expected number, received string`,
    ]);
    expect(out).toBe('');
  });

  it('fails on an unknown section naming its line, with exit status 1', async () => {
    const text = `${example}\nactuatr:\n  mode: auto\n`;
    const path = file(text);
    vi.restoreAllMocks();
    const result = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'config', '--check', '-c', path],
      {
        timeout: 30_000,
      },
    ).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((result as { code?: number }).code).toBe(1);
    expect(result.stderr).toContain(`${path}:${lineOf(text, 'actuatr:')}: actuatr: unknown key (did you mean "actuator"?)`);
    expect(result.stdout).toBe('');
  });
});
