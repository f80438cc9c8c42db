import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
});
