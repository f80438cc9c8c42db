/**
 * Ansible for the tests that check exported playbooks (`pathpilot export ansible`): the `ansible` package
 * from PyPI, pinned, which bundles ansible-core with the community collections (vyos.vyos and
 * ansible.netcommon among them: Ansible Galaxy is not reachable from these machines), in a virtualenv of
 * the project's own under `.data/tools/`. Idempotent: a complete install leaves a stamp and is reused; an
 * interrupted one is removed and done again. About 30 s and 550 MB on a fresh machine.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import { projectRoot } from './config.ts';
import { withLock } from './process.ts';
import { findCommand, run } from './service.ts';

/** ansible 12 = ansible-core 2.19 with vyos.vyos 6; the newest line that runs on Debian 12's Python 3.11. */
export const ansibleVersion = '12.3.0';

export interface AnsibleTools {
  /** The virtualenv's bin/ (ansible-playbook, ansible-doc, ansible-galaxy). */
  bin: string;
  /**
   * Environment for running them: ANSIBLE_HOME inside the install, so collections a user installed under
   * ~/.ansible cannot shadow the pinned ones, and nothing is written to the user's home.
   */
  env: Record<string, string>;
}

export interface EnsureAnsibleOptions {
  /** Where installs live (default `<project>/.data/tools`). */
  root?: string;
  say?: (line: string) => void;
  /** The whole install, pip included (default 10 minutes). */
  timeoutMs?: number;
}

export async function ensureAnsible(o: EnsureAnsibleOptions = {}): Promise<AnsibleTools> {
  const root = o.root ?? join(projectRoot, '.data', 'tools');
  const dir = join(root, `ansible-${ansibleVersion}`);
  const bin = join(dir, 'bin');
  const tools = { bin, env: { ANSIBLE_HOME: join(dir, 'ansible-home') } };
  const stamp = join(dir, '.installed');
  const installed = () => existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === ansibleVersion;
  if (installed()) return tools;
  await mkdir(root, { recursive: true });
  const timeoutMs = o.timeoutMs ?? 600_000;
  // Test files run in parallel workers: one installs, the others wait for it and reuse the result.
  return withLock(join(root, '.ansible.lock'), timeoutMs + 60_000, async () => {
    if (installed()) return tools;
    rmSync(dir, { recursive: true, force: true });
    const python = findCommand('python3');
    if (!python) throw new Error('python3 is not installed (Debian: apt-get install python3 python3-venv)');
    o.say?.(`installing ansible==${ansibleVersion} from PyPI into ${dir}`);
    const started = Date.now();
    try {
      await run(python, ['-m', 'venv', dir], { timeoutMs: 120_000 });
    } catch (err) {
      throw new Error(`could not make a virtualenv in ${dir} (Debian: apt-get install python3-venv)`, { cause: err });
    }
    try {
      // Short network timeouts and few retries: an unreachable PyPI fails in about a minute, not after
      // pip's default retries at the machine's 180 s timeout.
      const pip = ['-m', 'pip', 'install', '--no-input', '--disable-pip-version-check', '--timeout', '20', '--retries', '2'];
      await run(join(bin, 'python'), [...pip, `ansible==${ansibleVersion}`], { timeoutMs });
      const collections = await run(join(bin, 'ansible-galaxy'), ['collection', 'list', 'vyos.vyos'], {
        env: tools.env,
        timeoutMs: 60_000,
      });
      if (!/vyos\.vyos\s+\d/.test(collections))
        throw new Error(`ansible==${ansibleVersion} came without vyos.vyos:\n${collections}`);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      const said = errorMessage(err).trimEnd().split('\n').slice(-3).join('\n');
      throw new Error(
        `could not install ansible==${ansibleVersion} from PyPI into ${dir}: is PyPI reachable? ` +
          `(by hand: python3 -m venv ${dir} && ${join(bin, 'pip')} install ansible==${ansibleVersion})\n${said}`,
        { cause: err },
      );
    }
    writeFileSync(stamp, `${ansibleVersion}\n`);
    o.say?.(`ansible ${ansibleVersion} installed in ${Math.round((Date.now() - started) / 1000)} s`);
    return tools;
  });
}
