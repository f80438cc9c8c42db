/**
 * Programs the functional tests run besides the services: real flow exporters (softflowd, pmacctd,
 * nfdump) and the browser the console tests drive. `.ci/run` installs every package of
 * scripts/system-packages.txt; on any other machine the functional global setup calls `ensureTools`
 * so that `npm test` installs the ones that are missing, like `services up` does for its own.
 */
import { join } from 'node:path';
import type { ServicesConfig } from './config.ts';
import { aptInstall, type AptHost } from './install.ts';
import { withLock } from './process.ts';
import type { Prerequisite } from './service.ts';
import { findCommand } from './service.ts';

export const testTools: readonly Prerequisite[] = [
  // test/functional/ingest/flow-softflowd
  { command: 'softflowd', debianPackage: 'softflowd' },
  // test/functional/ingest/flow-pmacct (nfprobe and sfprobe plugins)
  { command: 'pmacctd', debianPackage: 'pmacct' },
  // reading exporter captures (nfcapd files) beside the decoders
  { command: 'nfdump', debianPackage: 'nfdump' },
  // test/functional/console (playwright-core drives /usr/bin/chromium; never a downloaded browser)
  { command: 'chromium', debianPackage: 'chromium' },
];

/** The Debian packages providing the prerequisites whose command is not installed, sorted, once each. */
export function missingPackages(
  prerequisites: readonly Prerequisite[],
  find: (command: string) => string | undefined = findCommand,
): string[] {
  return [...new Set(prerequisites.filter((p) => !find(p.command)).map((p) => p.debianPackage))].sort();
}

/** apt may run for many minutes (chromium): a second test run waits for the first one's install. */
const installLockTimeoutMs = 20 * 60_000;

/**
 * Installs the test tools that are missing. Returns the packages it installed (none when everything
 * was there). Throws, naming the packages and the command to install them, when it cannot.
 */
export async function ensureTools(
  cfg: ServicesConfig,
  say: (line: string) => void,
  opts: { tools?: readonly Prerequisite[]; host?: AptHost } = {},
): Promise<string[]> {
  const tools = opts.tools ?? testTools;
  if (missingPackages(tools).length === 0) return [];
  return withLock(join(cfg.root, '.tools.lock'), installLockTimeoutMs, async () => {
    // Another run may have installed them while this one waited for the lock.
    const missing = missingPackages(tools);
    await aptInstall(missing, say, { ...(opts.host ? { host: opts.host } : {}), rerun: 'npm test' });
    const still = missingPackages(tools);
    if (still.length > 0)
      throw new Error(`apt-get installed ${missing.join(', ')} but ${still.join(', ')} still lack their commands`);
    return missing;
  });
}
