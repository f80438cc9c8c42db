import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './commands/policy.ts';
import { captureOutput } from './testing.ts';

const fixture = 'test/fixtures/security/groups.json';

describe('pathpilot policy', () => {
  afterEach(() => vi.restoreAllMocks());

  it('checks and plans the security groups as VyOS set lines', async () => {
    const c = captureOutput();
    expect(await run(['check', '-f', fixture, '--at', '2026-01-05T00:00:00Z'])).toBe(0);
    expect(c.out.join('')).toContain('2 groups → VyOS rules 12 in ipv4 forward (web from 10000, deny-rest from 11000)');
    expect(await run(['plan', '-f', fixture, '--at', '2026-01-05T00:00:00Z'])).toBe(0);
    const text = c.out.join('');
    expect(text).toContain("set firewall ipv4 forward filter rule 10000 destination port '80,443'");
    expect(text).toContain("set firewall ipv4 forward filter rule 10005 time starttime '17:00:00'");
    expect(text).toContain("set firewall ipv4 forward filter default-action 'accept'");
    // On a Tokyo router the same window is written in Tokyo hours.
    c.out.length = 0;
    expect(await run(['plan', '-f', fixture, '--at', '2026-01-05T00:00:00Z', '--router-tz', 'Asia/Tokyo'])).toBe(0);
    expect(c.out.join('')).toContain("set firewall ipv4 forward filter rule 10005 time starttime '02:00:00'");
  });

  it('exits 1 with the line of each problem, 2 on usage errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    writeFileSync(
      join(dir, 'g.json'),
      '{ "SecurityGroups": [\n  { "Name": "x", "Rules": [{ "Protocol": "tcp", "Action": "Permit" }] }\n] }',
    );
    const c = captureOutput();
    expect(await run(['check', '-f', join(dir, 'g.json')])).toBe(1);
    expect(c.err.join('')).toMatch(/g\.json:2:\d+: SecurityGroups\[0\]\.Rules\[0\]\.Action/);
    expect(await run(['plan'])).toBe(2);
  });
});
