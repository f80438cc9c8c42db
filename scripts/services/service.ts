/**
 * What each local service provides to the up/down/status driver (index.ts): the Debian packages it
 * needs, how to prepare its folder (configs, jars, storage format), how to launch it, how to check it.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { LocalServiceName, ServicesConfig } from './config.ts';
import { serviceDir } from './config.ts';

export interface Prerequisite {
  /** A command that must be found on PATH (or in /usr/sbin, /sbin). */
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
}

export interface Launch {
  cmd: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
}

export interface LocalService {
  /** The instance: equal to `kind` for a single one, `kafka-2`, `clickhouse-s1r2`… in a cluster. */
  name: string;
  kind: LocalServiceName;
  /** host:port (or URL) shown in messages. */
  address(cfg: ServicesConfig): string;
  /** Every port the service binds (checked for foreign listeners before starting). */
  ports(cfg: ServicesConfig): number[];
  prerequisites: Prerequisite[];
  /** Writes configs and one-time state (jars, formatted storage). Idempotent. */
  prepare(cfg: ServicesConfig, say: (line: string) => void): Promise<void>;
  launch(cfg: ServicesConfig): Launch;
  /** Throws while the service does not answer a real request; returns a one-line detail. */
  health(cfg: ServicesConfig): Promise<string>;
  /** SIGTERM grace before SIGKILL on `down`. */
  stopGraceMs: number;
}

export function logFile(cfg: ServicesConfig, name: string): string {
  return join(serviceDir(cfg, name), 'log', `${name}.out`);
}

export function pidFile(cfg: ServicesConfig, name: string): string {
  return join(serviceDir(cfg, name), `${name}.pid`);
}

const extraBinDirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of `command`, or undefined when it is not installed. */
export function findCommand(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraBinDirs];
  for (const dir of dirs) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function requireCommand(command: string): string {
  const found = findCommand(command);
  if (!found) throw new Error(`\`${command}\` is not installed`);
  return found;
}

/** Runs a command to completion; rejects with its output tail when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (err) {
          const tail = output.trimEnd().split('\n').slice(-25).join('\n');
          reject(new Error(`${cmd} ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${tail}`));
        } else resolve(output);
      },
    );
  });
}
