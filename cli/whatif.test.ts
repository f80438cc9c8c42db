import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './commands/whatif.ts';

/**
 * `pathpilot whatif` on the hand-written five-node fixture: an hour of the measured matrix, three runs
 * (static, pathpilot's lagged planner, the hindsight oracle) reported as one JSON line.
 */
const dir = join(import.meta.dirname, '..', 'test', 'fixtures', 'whatif');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('pathpilot whatif', () => {
  it('reports static, pathpilot and oracle on a user topology and traffic matrix', { timeout: 180_000 }, async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await run([
      '--topology',
      join(dir, 'tiny.xml'),
      '--demand',
      join(dir, 'tiny.csv'),
      '--duration',
      '1h',
      '--seed',
      '3',
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(r).toMatchObject({ topology: join(dir, 'tiny.xml'), demand: join(dir, 'tiny.csv'), simulated_hours: 1 });
    expect(r['wall_s']).toBeGreaterThan(0);
    for (const key of ['egress_cost_usd', 'egress_gb', 'slo_violation_pair_class_minutes', 'slo_infeasible_pair_class_minutes']) {
      const v = r[key] as Record<string, number>;
      expect(Object.keys(v).sort()).toEqual(['oracle', 'pathpilot', 'static']);
      for (const x of Object.values(v)) expect(x).toBeGreaterThanOrEqual(0);
    }
    const cost = r['egress_cost_usd'] as Record<string, number>;
    // Frankfurt → Munich runs on the expensive chord under static routing; the oracle avoids it.
    expect(cost['static']).toBeGreaterThan(0);
    expect(cost['static']).toBeGreaterThanOrEqual(cost['oracle']!);
  });

  it('names an unknown node of the matrix with its file line', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const bad = join(mkdtempSync(join(tmpdir(), 'pp-whatif-')), 'bad.csv');
    writeFileSync(bad, 'time,src,dst,mbps\n0,Berlin,Vienna,10\n0,Berlin,Paris,5\n');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(run(['--topology', join(dir, 'tiny.xml'), '--demand', bad, '--duration', '10m'])).rejects.toThrow(
      /bad\.csv:3: unknown node "Paris"/,
    );
  });

  it('rejects a bad option value before reading anything', async () => {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    expect(await run(['--topology', 'x.xml', '--paths-by', 'cheapest'])).toBe(2);
    expect(err).toContain('--paths-by must be distance or hops');
    expect(await run(['--demand', 'x.csv'])).toBe(2);
    expect(err).toContain('--topology FILE is required');
  });
});
