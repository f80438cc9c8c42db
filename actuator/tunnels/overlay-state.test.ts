import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { overlayPlan } from './overlay-testing.ts';
import { readOverlayDir } from './overlay-state.ts';

describe('readOverlayDir', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const dir = async (files: Record<string, string>) => {
    const d = await mkdtemp(join(tmpdir(), 'pathpilot-overlay-'));
    dirs.push(d);
    for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
    return d;
  };

  it("reads overlay gen's plan and public keys", async () => {
    const plan = overlayPlan();
    const d = await dir({ 'plan.json': JSON.stringify(plan), 'public-keys.json': JSON.stringify({ A: { wg0: 'key-a' } }) });
    const o = await readOverlayDir(d);
    expect(o.plan.nodes.map((n) => n.node.name)).toEqual(plan.nodes.map((n) => n.node.name));
    expect(o.publicKeyOf('A', 'wg0')).toBe('key-a');
    expect(() => o.publicKeyOf('B', 'wg0')).toThrow(/no public key for B wg0 in .*public-keys\.json/);
  });

  it('names the file that is missing or wrong', async () => {
    await expect(readOverlayDir(await dir({}))).rejects.toThrow(/plan\.json: .*overlay gen/);
    await expect(readOverlayDir(await dir({ 'plan.json': '{"nodes":1}' }))).rejects.toThrow(/plan\.json: not an overlay plan/);
    const d = await dir({ 'plan.json': JSON.stringify(overlayPlan()), 'public-keys.json': '{"A":"x"}' });
    await expect(readOverlayDir(d)).rejects.toThrow(/public-keys\.json: expected/);
  });

  it('reads key times, and a rotated key replaces the public key and its time in both files', async () => {
    const d = await dir({
      'plan.json': JSON.stringify(overlayPlan()),
      'public-keys.json': JSON.stringify({ A: { wg0: 'old-a' }, B: { wg0: 'b' } }),
      'key-times.json': JSON.stringify({ A: { wg0: '2026-01-01T00:00:00.000Z' } }),
    });
    const o = await readOverlayDir(d);
    expect(o.keyTimes).toEqual(new Map([['A/wg0', Date.UTC(2026, 0, 1)]]));
    await o.saveKey!('A', 'wg0', 'new-a', Date.UTC(2026, 0, 4));
    expect(o.publicKeyOf('A', 'wg0')).toBe('new-a');
    expect(JSON.parse(await readFile(join(d, 'public-keys.json'), 'utf8'))).toEqual({ A: { wg0: 'new-a' }, B: { wg0: 'b' } });
    expect(JSON.parse(await readFile(join(d, 'key-times.json'), 'utf8'))).toEqual({ A: { wg0: '2026-01-04T00:00:00.000Z' } });
    const bad = await dir({
      'plan.json': JSON.stringify(overlayPlan()),
      'public-keys.json': '{}',
      'key-times.json': '{"A":{"wg0":"yesterday"}}',
    });
    await expect(readOverlayDir(bad)).rejects.toThrow(/key-times\.json: expected/);
  });
});
