/**
 * Process plumbing for the local services: detached children with pid files, ownership checks
 * (a pid file only counts while /proc/<pid>/cmdline still names our data folder), bounded waits,
 * log tails and a small cross-process lock so two `up`s never race for the same ports.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../core/errors.ts';

export interface LaunchSpec {
  cmd: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** stdout+stderr go here (appended). */
  logFile: string;
  pidFile: string;
}

/** Starts a process that outlives us (own session, stdio to a file) and records its pid. */
export function launchDetached(spec: LaunchSpec): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.cmd, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.cmd}`);
    child.on('error', () => {}); // reported through health and the log tail
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * The pid recorded in `pidFile` if that process is alive and is ours (its command line contains
 * `marker`, our data folder); otherwise undefined (a stale pid file is removed).
 */
export function ownedPid(pidFile: string, marker: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && cmdline(pid).includes(marker)) return pid;
  rmSync(pidFile, { force: true });
  return undefined;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves once the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<'terminated' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'terminated';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'terminated';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  return 'killed';
}

export async function logTail(file: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `check` (which throws while not ready) every `intervalMs` until it passes, `timeoutMs` has
 * passed, or `giveUp()` says waiting is pointless (the process died). Returns undefined on success,
 * else the last failure message.
 */
export async function waitUntil(
  check: () => Promise<void>,
  opts: { timeoutMs: number; intervalMs?: number; giveUp?: () => string | undefined },
): Promise<string | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'timed out';
  while (true) {
    try {
      await check();
      return undefined;
    } catch (err) {
      last = errorMessage(err);
    }
    const reason = opts.giveUp?.();
    if (reason) return `${reason} (last check: ${last})`;
    if (Date.now() >= deadline) return `not healthy after ${Math.round(opts.timeoutMs / 1000)} s (last check: ${last})`;
    await sleep(opts.intervalMs ?? 250);
  }
}

/**
 * An exclusive lock file (O_EXCL) holding the owner's pid. A lock whose owner is dead is taken over.
 * Waits up to `timeoutMs` for a live owner to finish.
 */
export async function withLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        /* removed meanwhile */
      }
      const ageMs = existsSync(file) ? Date.now() - statSync(file).mtimeMs : 0;
      if ((Number.isInteger(owner) && !isAlive(owner)) || (!Number.isInteger(owner) && ageMs > 5_000)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new Error(`another \`services\` command (pid ${owner}) holds ${file}; gave up after ${timeoutMs / 1000} s`);
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
