import { describe, expect, it } from 'vitest';
import { aptInstall, aptPlan } from './install.ts';
import { missingPackages, testTools } from './tools.ts';

/** A PATH holding exactly these commands. */
const installed =
  (...commands: string[]) =>
  (command: string): string | undefined =>
    commands.includes(command) ? `/usr/bin/${command}` : undefined;

describe('missingPackages', () => {
  it('names the Debian package of each command that is not installed', () => {
    expect(missingPackages(testTools, installed('nfdump', 'chromium'))).toEqual(['pmacct', 'softflowd']);
    expect(missingPackages(testTools, installed())).toEqual(['chromium', 'nfdump', 'pmacct', 'softflowd']);
    expect(missingPackages(testTools, installed('softflowd', 'pmacctd', 'nfdump', 'chromium'))).toEqual([]);
  });

  it('lists a package once when several of its commands are missing', () => {
    const pmacct = [
      { command: 'pmacctd', debianPackage: 'pmacct' },
      { command: 'sfacctd', debianPackage: 'pmacct' },
    ];
    expect(missingPackages(pmacct, installed())).toEqual(['pmacct']);
    expect(missingPackages(pmacct, installed('pmacctd'))).toEqual(['pmacct']);
  });

  it('covers every exporter and the browser the functional tests run', () => {
    expect(testTools.map((t) => t.command).sort()).toEqual(['chromium', 'nfdump', 'pmacctd', 'softflowd']);
  });
});

describe('aptPlan', () => {
  it('runs nothing when nothing is missing', () => {
    expect(aptPlan([], { apt: '/usr/bin/apt-get', isRoot: true })).toEqual({ kind: 'nothing' });
  });

  it('as root: apt-get update, then one install of every package, waiting for a held dpkg lock', () => {
    const plan = aptPlan(['softflowd', 'pmacct', 'softflowd'], { apt: '/usr/bin/apt-get', isRoot: true });
    expect(plan).toEqual({
      kind: 'run',
      packages: ['pmacct', 'softflowd'],
      commands: [
        { cmd: '/usr/bin/apt-get', args: ['-o', 'DPkg::Lock::Timeout=600', 'update', '-q'] },
        {
          cmd: '/usr/bin/apt-get',
          args: ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-q', '--no-install-recommends', 'pmacct', 'softflowd'],
        },
      ],
    });
  });

  it('as another user: through sudo -n (never a password prompt)', () => {
    const plan = aptPlan(['nfdump'], { apt: '/usr/bin/apt-get', isRoot: false, sudo: '/usr/bin/sudo' });
    expect(plan.kind).toBe('run');
    if (plan.kind !== 'run') return;
    for (const c of plan.commands) {
      expect(c.cmd).toBe('/usr/bin/sudo');
      expect(c.args.slice(0, 2)).toEqual(['-n', '/usr/bin/apt-get']);
    }
    expect(plan.commands[1]!.args.at(-1)).toBe('nfdump');
  });

  it('says why it cannot install: no apt-get, or neither root nor sudo', () => {
    expect(aptPlan(['chromium'], { isRoot: true })).toEqual({
      kind: 'impossible',
      packages: ['chromium'],
      reason: 'apt-get not found',
    });
    expect(aptPlan(['chromium'], { apt: '/usr/bin/apt-get', isRoot: false })).toMatchObject({
      kind: 'impossible',
      reason: 'not root and no sudo',
    });
  });

  it('aptInstall turns an impossible plan into an error naming the packages and the command to run', async () => {
    const lines: string[] = [];
    await expect(
      aptInstall(['softflowd', 'pmacct'], (l) => lines.push(l), { host: { isRoot: false }, rerun: 'npm test' }),
    ).rejects.toThrow(/missing prerequisites: pmacct, softflowd\. .*apt-get install -y pmacct softflowd.*run `npm test` again/);
    expect(lines).toEqual([]);
  });
});
