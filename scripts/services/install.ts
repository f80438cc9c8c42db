/**
 * Installs missing Debian packages: one `apt-get update`, then one `apt-get install -y` for all of
 * them. Fails with a message naming the packages when that is impossible (not root, no apt-get, or
 * apt-get itself fails).
 */
import { findCommand, run } from './service.ts';

export async function aptInstall(packages: string[], say: (line: string) => void): Promise<void> {
  if (packages.length === 0) return;
  const list = [...new Set(packages)].sort();
  const apt = findCommand('apt-get');
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? undefined : findCommand('sudo');
  if (!apt || (!isRoot && !sudo)) {
    throw new Error(
      `missing prerequisites: ${list.join(', ')}. Install them with ` +
        `\`sudo apt-get update && sudo apt-get install -y ${list.join(' ')}\` ` +
        `(${apt ? 'not root and no sudo' : 'apt-get not found'}), then run \`npm run services -- up\` again.`,
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const exec = (args: string[]): Promise<string> =>
    sudo ? run(sudo, ['-n', apt, ...args], { env, timeoutMs: 900_000 }) : run(apt, args, { env, timeoutMs: 900_000 });
  say(`installing Debian packages: ${list.join(' ')}`);
  try {
    await exec(['update', '-q']);
    await exec(['install', '-y', '-q', '--no-install-recommends', ...list]);
  } catch (err) {
    throw new Error(`could not install ${list.join(', ')}`, { cause: err });
  }
}
