import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureOutput } from './testing.ts';
import { run } from './commands/overlay.ts';

const fixtures = 'test/fixtures/overlay';

describe('pathpilot overlay gen', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes per-node VyOS ops and wg-quick files (private keys 0600, only in the node directory) and reuses keys on a rerun', async () => {
    const out = mkdtempSync(join(tmpdir(), 'overlay-'));
    const args = ['gen', '-n', `${fixtures}/nodes.json`, '-t', `${fixtures}/topology.json`, '-o', out];
    const c = captureOutput();
    expect(await run(args)).toBe(0);
    expect(c.out.join('')).toContain('7 nodes, 15 tunnels');
    for (const f of ['A/keys.json', 'A/vyos.set', 'A/vyos-ops.json', 'A/wg0.conf', 'A/wg1.conf', 'D/wg0.conf'])
      expect(statSync(join(out, f)).mode & 0o777).toBe(0o600);
    const keysA = JSON.parse(readFileSync(join(out, 'A/keys.json'), 'utf8')) as Record<string, { privateKey: string }>;
    // A's private keys appear in A's files and nowhere else.
    for (const f of ['B/vyos.set', 'D/vyos.set', 'public-keys.json', 'summary.md', 'plan.json', 'overlay.svg'])
      expect(readFileSync(join(out, f), 'utf8')).not.toContain(keysA['wg1']!.privateKey);
    expect(readFileSync(join(out, 'A/vyos.set'), 'utf8')).toContain(`private-key ${keysA['wg1']!.privateKey}`);
    const pub = readFileSync(join(out, 'public-keys.json'), 'utf8');
    const times = readFileSync(join(out, 'key-times.json'), 'utf8');
    expect(Object.keys((JSON.parse(times) as Record<string, unknown>)['A']!)).toEqual(['wg0', 'wg1']);
    expect(await run(args)).toBe(0);
    // Reused keys keep their generation time (the actuator rotates them 72 h after it).
    expect(readFileSync(join(out, 'public-keys.json'), 'utf8')).toBe(pub);
    expect(readFileSync(join(out, 'key-times.json'), 'utf8')).toBe(times);
  });

  it('exits 1 with every problem and its position on bad input, 2 on usage errors', async () => {
    const c = captureOutput();
    expect(await run(['gen', '-n', `${fixtures}/topology.json`, '-t', `${fixtures}/topology.json`, '-o', tmpdir()])).toBe(1);
    expect(c.err.join('')).toMatch(/topology\.json:1:1: nodes: /);
    expect(await run(['gen', '-n', `${fixtures}/nodes.json`])).toBe(2);
  });
});
