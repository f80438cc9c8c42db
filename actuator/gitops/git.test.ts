import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { GitWorkdir } from './git.ts';

let dir: string;
let remote: string;
let person: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=alice', '-c', 'user.email=alice@example.net', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: 'pipe',
  }).trim();
function personCommits(path: string, text: string, subject: string): void {
  mkdirSync(join(person, path, '..'), { recursive: true });
  writeFileSync(join(person, path), text);
  git(person, 'add', path);
  git(person, 'commit', '--quiet', '-m', subject);
  git(person, 'push', '--quiet', 'origin', 'main');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-git-'));
  remote = join(dir, 'remote.git');
  person = join(dir, 'person');
  git(dir, 'init', '--quiet', '--bare', '-b', 'main', remote);
  mkdirSync(person);
  git(person, 'init', '--quiet', '-b', 'main');
  git(person, 'remote', 'add', 'origin', remote);
  personCommits('routers/r1.conf', "set system host-name 'r1'\n", 'r1');
});

const workdir = () =>
  new GitWorkdir({ url: remote, branch: 'main', dir: join(dir, 'clone'), author: 'pathpilot <pp@example.net>' });

describe('GitOps work tree', () => {
  it('reads the desired files at the last commit that changed them, not at its own commits', async () => {
    const w = workdir();
    await w.sync();
    expect(await w.readConfs('routers')).toEqual(new Map([['r1', "set system host-name 'r1'\n"]]));
    const desired = await w.lastCommit('routers', ['applied', 'drift.md']);
    expect(desired?.subject).toBe('r1');
    expect(await w.commitAndPush({ 'applied/r1.conf': 'set x', 'drift.md': '# Drift' }, 'pathpilot: report')).toBe(true);
    // The same files again: nothing to commit.
    expect(await w.commitAndPush({ 'applied/r1.conf': 'set x', 'drift.md': '# Drift' }, 'pathpilot: report')).toBe(false);
    await w.sync();
    expect(await w.lastCommit('routers', ['applied', 'drift.md'])).toEqual(desired);
    expect(git(remote, 'log', '-1', '--format=%an <%ae>|%s', 'main')).toBe('pathpilot <pp@example.net>|pathpilot: report');
  });

  it('rebases a push someone raced once, never rewriting theirs', async () => {
    const w = workdir();
    await w.sync();
    personCommits('routers/r2.conf', "set system host-name 'r2'\n", 'r2');
    expect(await w.commitAndPush({ 'drift.md': '# Drift' }, 'pathpilot: report')).toBe(true);
    expect(git(remote, 'log', '--format=%s', 'main').split('\n')).toEqual(['pathpilot: report', 'r2', 'r1']);
  });

  it('names a failure without the credentials of the URL', async () => {
    const w = new GitWorkdir({
      url: 'http://user:s3cret-token@127.0.0.1:1/none.git',
      branch: 'main',
      dir: join(dir, 'other'),
      author: 'pathpilot <pp@example.net>',
    });
    const err = await w.sync().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^git clone: /);
    expect(err?.message).not.toContain('s3cret-token');
  });
});
