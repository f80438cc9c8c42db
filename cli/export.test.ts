import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './commands/export.ts';
import { captureOutput } from './testing.ts';

/** `pathpilot export` from GitOps-style files against the bundled example configuration (no router reached). */
describe('pathpilot export --from-dir', () => {
  afterEach(() => vi.restoreAllMocks());
  const dir = mkdtempSync(join(tmpdir(), 'export-cli-'));
  const gitops = join(dir, 'gitops');
  const secret = 'cHJpdmF0ZS1rZXktYnl0ZXM=';
  const example = 'pathpilot.example.yaml';
  mkdirSync(gitops);
  writeFileSync(join(gitops, 'aws-use1.conf'), `set interfaces wireguard wg1 private-key '${secret}'\n`);
  writeFileSync(join(gitops, 'onprem-nyc.conf'), "set system host-name 'onprem-nyc'\n");

  it('writes redacted files by default, and the secrets, mode 600, only when asked', async () => {
    const c = captureOutput();
    const out = join(dir, 'redacted');
    expect(await run(['ansible', '-c', example, '--from-dir', gitops, '-o', out])).toBe(0);
    expect(c.out.join('')).toContain('2 router(s), 2 config lines');
    expect(c.out.join('')).toContain('1 secret(s) left out');
    expect(readFileSync(join(out, 'site.yml'), 'utf8')).not.toContain(secret);

    const open = join(dir, 'with-secrets');
    expect(
      await run(['terraform', '-c', example, '--from-dir', gitops, '-o', open, '--routers', 'aws-use1', '--include-secrets']),
    ).toBe(0);
    expect(readFileSync(join(open, 'main.tf'), 'utf8')).toContain(`"wireguard wg1 private-key" = "${secret}"`);
    for (const f of ['providers.tf', 'variables.tf', 'main.tf']) expect(statSync(join(open, f)).mode & 0o777).toBe(0o600);
  });

  it('exits 1 on a file naming no site, 2 on usage errors', async () => {
    const c = captureOutput();
    const stray = join(dir, 'stray');
    mkdirSync(stray);
    writeFileSync(join(stray, 'nowhere.conf'), "set system host-name 'x'\n");
    expect(await run(['ansible', '-c', example, '--from-dir', stray, '-o', join(dir, 'x')])).toBe(1);
    expect(c.err.join('')).toContain('nowhere.conf name no site of the configuration');
    expect(await run(['ansible', '--from-dir', stray, '--from-routers'])).toBe(2);
    expect(await run(['terraform', '--routers', 'aws-use1,'])).toBe(2);
    expect(await run(['yaml'])).toBe(2);
  });
});
