import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { probeRecord } from '../../../core/records/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('pathpilot probe reflect | send', () => {
  it('measures a loopback path end to end through the command line', async () => {
    const reflector = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'probe', 'reflect', '--listen', '127.0.0.1', '--port', '0', '--duration', '60'],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`reflector did not start: ${err}`)), 30_000);
        reflector.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /reflecting TWAMP-light probes on 127\.0\.0\.1:(\d+)/.exec(err);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          'cli/main.ts',
          'probe',
          'send',
          '--target',
          `127.0.0.1:${port}`,
          '--source',
          '127.0.0.1',
          '--path',
          'lo.1',
          '--interval',
          '20',
          '--window',
          '400',
          '--grace',
          '100',
          '--windows',
          '2',
        ],
        { cwd: root, timeout: 60_000 },
      );
      const records = stdout
        .trim()
        .split('\n')
        .map((l) => probeRecord.parse(JSON.parse(l)));
      expect(records).toHaveLength(2);
      for (const r of records) {
        expect(r).toMatchObject({ path_id: 'lo.1', loss_ratio: 0, duplicates: 0 });
        expect(r.sent).toBeGreaterThanOrEqual(15);
        expect(r.received).toBe(r.sent);
        expect(r.rtt_max_ms).toBeLessThan(200);
      }
    } finally {
      reflector.kill('SIGTERM');
    }
  });

  it('explains a bad option', async () => {
    const r = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'probe', 'send', '--target', '127.0.0.1:1', '--interval', 'x'],
      { cwd: root },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toMatch(/--interval must be a whole number/);
  });
});
