/**
 * Installs missing Debian packages: one `apt-get update`, then one `apt-get install -y` for all of
 * them. Fails with a message naming the packages when that is impossible (not root, no apt-get, or
 * apt-get itself fails). `aptPlan` decides what to run without running it (unit-tested); `aptInstall`
 * runs the plan.
 */
import { findCommand, run } from './service.ts';

/** What the host offers for installing packages. */
export interface AptHost {
  /** Absolute path of apt-get, undefined when there is none. */
  apt?: string;
  isRoot: boolean;
  /** Absolute path of sudo (used non-interactively), undefined when there is none. */
  sudo?: string;
}

export interface AptCommand {
  cmd: string;
  args: string[];
}

export type AptPlan =
  | { kind: 'nothing' }
  | { kind: 'run'; packages: string[]; commands: AptCommand[] }
  | { kind: 'impossible'; packages: string[]; reason: string };

/**
 * Another apt/dpkg run (a second test run, the services script) may hold the dpkg lock: wait for it
 * instead of failing at once.
 */
const dpkgLockWaitS = 600;

export function aptPlan(packages: readonly string[], host: AptHost): AptPlan {
  const list = [...new Set(packages)].sort();
  if (list.length === 0) return { kind: 'nothing' };
  if (!host.apt) return { kind: 'impossible', packages: list, reason: 'apt-get not found' };
  if (!host.isRoot && !host.sudo) return { kind: 'impossible', packages: list, reason: 'not root and no sudo' };
  const as = (args: string[]): AptCommand =>
    host.isRoot ? { cmd: host.apt!, args } : { cmd: host.sudo!, args: ['-n', host.apt!, ...args] };
  const lock = ['-o', `DPkg::Lock::Timeout=${dpkgLockWaitS}`];
  return {
    kind: 'run',
    packages: list,
    commands: [as([...lock, 'update', '-q']), as([...lock, 'install', '-y', '-q', '--no-install-recommends', ...list])],
  };
}

/** The host this process runs on. */
export function currentAptHost(): AptHost {
  const isRoot = process.getuid?.() === 0;
  const apt = findCommand('apt-get');
  const sudo = isRoot ? undefined : findCommand('sudo');
  return { isRoot, ...(apt ? { apt } : {}), ...(sudo ? { sudo } : {}) };
}

export async function aptInstall(
  packages: string[],
  say: (line: string) => void,
  opts: { host?: AptHost; rerun?: string } = {},
): Promise<void> {
  const plan = aptPlan(packages, opts.host ?? currentAptHost());
  if (plan.kind === 'nothing') return;
  const list = plan.packages;
  if (plan.kind === 'impossible') {
    throw new Error(
      `missing prerequisites: ${list.join(', ')}. Install them with ` +
        `\`sudo apt-get update && sudo apt-get install -y ${list.join(' ')}\` ` +
        `(${plan.reason}), then run \`${opts.rerun ?? 'npm run services -- up'}\` again.`,
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  say(`installing Debian packages: ${list.join(' ')}`);
  try {
    for (const c of plan.commands) await run(c.cmd, c.args, { env, timeoutMs: 900_000 });
  } catch (err) {
    throw new Error(`could not install ${list.join(', ')}`, { cause: err });
  }
}
