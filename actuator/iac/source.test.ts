import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigJson } from '../vyos/types.ts';
import { statesFromDir, statesFromRouters } from './source.ts';

const running: ConfigJson = {
  interfaces: {
    wireguard: { wg1: { address: '10.255.1.1/30', 'private-key': 'cHJpdmF0ZS1rZXktYnl0ZXM=' } },
    ethernet: { eth0: { description: 'say "hi": uplink #2' } },
  },
  service: { https: { api: { keys: { id: { pathpilot: { key: 'api-key-0123' } } }, rest: {} } } },
};
const router = (config: ConfigJson) => ({ showConfig: async () => config });

describe('export sources', () => {
  it('reads each router as set lines with its secrets redacted by default, as the GitOps export does', async () => {
    const [state] = await statesFromRouters([{ name: 'r1', api: router(running) }], { includeSecrets: false });
    expect(state).toEqual({
      router: 'r1',
      lines: [
        "set interfaces wireguard wg1 address '10.255.1.1/30'",
        "set interfaces wireguard wg1 private-key '[redacted]'",
        `set interfaces ethernet eth0 description 'say "hi": uplink #2'`,
        "set service https api keys id pathpilot key '[redacted]'",
        'set service https api rest',
      ],
    });
    const [kept] = await statesFromRouters([{ name: 'r1', api: router(running) }], { includeSecrets: true });
    expect(kept!.lines.join('\n')).toContain("private-key 'cHJpdmF0ZS1rZXktYnl0ZXM='");
    expect(kept!.lines.join('\n')).toContain("key 'api-key-0123'");
  });

  it('fails naming every router it could not read', async () => {
    const down = { showConfig: () => Promise.reject(new Error('connect ECONNREFUSED')) };
    await expect(
      statesFromRouters(
        [
          { name: 'r1', api: down },
          { name: 'r2', api: router(running) },
          { name: 'r3', api: down },
        ],
        { includeSecrets: false },
      ),
    ).rejects.toThrow('could not read 2 router(s): r1: connect ECONNREFUSED; r3: connect ECONNREFUSED');
  });

  it('reads <router>.conf files, redacting what a hand-written file holds, and names a line that is no set command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iac-source-'));
    writeFileSync(
      join(dir, 'r2.conf'),
      "# exported\nset system host-name 'r2'\n\nset interfaces wireguard wg0 private-key 'abc'\n",
    );
    writeFileSync(join(dir, 'r1.conf'), "set system host-name 'r1'\n");
    writeFileSync(join(dir, 'notes.txt'), 'not a router');
    expect(await statesFromDir(dir, { includeSecrets: false })).toEqual([
      { router: 'r1', lines: ["set system host-name 'r1'"] },
      { router: 'r2', lines: ["set system host-name 'r2'", "set interfaces wireguard wg0 private-key '[redacted]'"] },
    ]);
    expect((await statesFromDir(dir, { includeSecrets: false }, ['r2'])).map((s) => s.router)).toEqual(['r2']);
    await expect(statesFromDir(dir, { includeSecrets: false }, ['r3'])).rejects.toThrow('has no r3.conf');
    writeFileSync(join(dir, 'r1.conf'), "set system host-name 'r1'\ndelete system host-name\n");
    await expect(statesFromDir(dir, { includeSecrets: false })).rejects.toThrow(/r1\.conf:2: not a `set …` line: delete system/);
  });
});
