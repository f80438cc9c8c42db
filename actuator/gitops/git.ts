/**
 * The GitOps repository through the git CLI — `execFile`, never a shell, every call with a timeout and no
 * prompt. pathpilot works in a clone of its own (`workdir`) that holds nothing between passes: each sync puts
 * it exactly at the remote branch's head, so a report commit that could not be pushed is simply made again
 * from fresh state. Pushes are plain (fast-forward only): history is never rewritten.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeWhole } from '../pipeline/gitops.ts';

const exec = promisify(execFile);
/** A fetch or push over the network may take a while; nothing should hang a pass for longer. */
const TIMEOUT_MS = 60_000;

export interface GitCommit {
  hash: string;
  subject: string;
}

export interface GitWorkdirOptions {
  url: string;
  branch: string;
  /** The clone pathpilot owns. */
  dir: string;
  /** `Name <email>`: author and committer of pathpilot's commits. */
  author: string;
}

/** `scheme://user:token@host` → `scheme://***@host`. */
const withoutCredentials = (text: string) => text.replace(/\/\/[^/@\s]+@/g, '//***@');

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export class GitWorkdir {
  private readonly name: string;
  private readonly email: string;

  constructor(private readonly o: GitWorkdirOptions) {
    const m = /^(.+?)\s*<([^<>]+)>$/.exec(o.author);
    this.name = m?.[1] ?? 'pathpilot';
    this.email = m?.[2] ?? 'pathpilot@localhost';
  }

  private async git(args: string[], cwd = this.o.dir): Promise<string> {
    try {
      const { stdout } = await exec(
        'git',
        // No signing from the host's git config: the commit is the actuator's, made unattended.
        ['-c', `user.name=${this.name}`, '-c', `user.email=${this.email}`, '-c', 'commit.gpgsign=false', ...args],
        {
          cwd,
          timeout: TIMEOUT_MS,
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        },
      );
      return stdout;
    } catch (err) {
      // Named by git's own words, not the command line: the URL may carry a token, and logs keep messages.
      const e = err as { stderr?: string; killed?: boolean; message?: string };
      const why = e.killed ? `no answer within ${TIMEOUT_MS / 1000} s` : (e.stderr || e.message || 'failed').trim();
      throw new Error(`git ${args[0]}: ${withoutCredentials(why)}`);
    }
  }

  private get remoteRef(): string {
    return `origin/${this.o.branch}`;
  }

  private fetch(): Promise<string> {
    return this.git(['fetch', '--quiet', 'origin', `+refs/heads/${this.o.branch}:refs/remotes/${this.remoteRef}`]);
  }

  /** Clones on first use, else fetches; then the work tree is exactly the branch's head. */
  async sync(): Promise<void> {
    const { dir, url, branch } = this.o;
    if (!(await exists(join(dir, '.git')))) {
      await mkdir(dirname(dir), { recursive: true });
      await rm(dir, { recursive: true, force: true });
      await this.git(['clone', '--quiet', '--branch', branch, '--single-branch', '--', url, dir], dirname(dir));
    } else {
      await this.git(['remote', 'set-url', 'origin', url]);
      await this.fetch();
    }
    await this.git(['checkout', '--quiet', '--force', '-B', branch, this.remoteRef]);
    await this.git(['clean', '-fdq']);
  }

  /**
   * The last commit that changed `path` (the desired configs), undefined when none did; `own` (pathpilot's
   * files) do not count, so its report commits never look like a new desired state.
   */
  async lastCommit(path: string, own: readonly string[]): Promise<GitCommit | undefined> {
    const exclude = own.map((p) => `:(exclude)${p}`);
    const out = (await this.git(['log', '-1', '--format=%H%x00%s', this.remoteRef, '--', path || '.', ...exclude])).trim();
    if (!out) return undefined;
    const [hash, subject] = out.split('\0');
    return { hash: hash!, subject: subject ?? '' };
  }

  /** Each `<name>.conf` under `path` of the work tree, by name. */
  async readConfs(path: string): Promise<Map<string, string>> {
    const dir = join(this.o.dir, path);
    const out = new Map<string, string>();
    if (!(await exists(dir))) return out;
    for (const f of (await readdir(dir)).sort())
      if (f.endsWith('.conf')) out.set(f.slice(0, -'.conf'.length), await readFile(join(dir, f), 'utf8'));
    return out;
  }

  /**
   * Writes `files` (path in the work tree → text, each whole), commits them with `message` when anything
   * changed and pushes; false when nothing changed. A rejected push (someone pushed meanwhile) is rebased onto
   * the remote once and pushed again; a second failure throws (the next sync starts over from the remote).
   */
  async commitAndPush(files: Record<string, string>, message: string): Promise<boolean> {
    const paths = Object.keys(files);
    for (const path of paths) await writeWhole(join(this.o.dir, path), files[path]!);
    await this.git(['add', '--', ...paths]);
    if (!(await this.git(['status', '--porcelain', '--', ...paths])).trim()) return false;
    await this.git(['commit', '--quiet', '-m', message]);
    const push = () => this.git(['push', '--quiet', 'origin', `HEAD:refs/heads/${this.o.branch}`]);
    try {
      await push();
    } catch {
      await this.fetch();
      try {
        await this.git(['rebase', '--quiet', this.remoteRef]);
      } catch (err) {
        await this.git(['rebase', '--abort']).catch(() => undefined);
        throw err;
      }
      await push();
    }
    return true;
  }
}
