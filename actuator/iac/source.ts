/**
 * Where `pathpilot export` gets each router's desired state: the routers' running configs over their API,
 * or a directory of `<router>.conf` files of `set …` lines (what the GitOps export writes). Secrets are
 * redacted the way the GitOps export redacts them unless the caller asks for them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import { redactCommandLine } from '../../core/redact.ts';
import { parseSetLine, setLines } from '../vyos/diff.ts';
import type { RouterApi } from '../vyos/types.ts';
import type { RouterState } from './state.ts';

export interface SourceOptions {
  /** Keep private keys, PSKs and API keys in the lines (else `'[redacted]'`, as in the GitOps export). */
  includeSecrets: boolean;
}

const finish = (lines: string[], o: SourceOptions): string[] => (o.includeSecrets ? lines : lines.map(redactCommandLine));

/**
 * Each router's running config (`/retrieve showConfig` of the root) as `set …` lines. Every router is
 * read; when any cannot be, the whole read fails naming each one, since an export missing a router would
 * pass for the network's whole state.
 */
export async function statesFromRouters(
  routers: readonly { name: string; api: Pick<RouterApi, 'showConfig'> }[],
  o: SourceOptions,
): Promise<RouterState[]> {
  const read = await Promise.allSettled(routers.map(async (r) => setLines([], await r.api.showConfig([]))));
  const failed = read.flatMap((x, i) => (x.status === 'rejected' ? [`${routers[i]!.name}: ${errorMessage(x.reason)}`] : []));
  if (failed.length > 0) throw new Error(`could not read ${failed.length} router(s): ${failed.join('; ')}`);
  return read.map((x, i) => ({ router: routers[i]!.name, lines: finish((x as PromiseFulfilledResult<string[]>).value, o) }));
}

const confSuffix = '.conf';

/**
 * The `<router>.conf` files of `dir` (only the `only` routers when given, each of which must have one).
 * Blank lines and `#` comments are skipped; any other line that is not a `set …` command is an error
 * naming its file and line, since applying the rest would not give the state the file describes.
 */
export async function statesFromDir(dir: string, o: SourceOptions, only?: readonly string[]): Promise<RouterState[]> {
  const present = (await readdir(dir)).filter((f) => f.endsWith(confSuffix)).map((f) => f.slice(0, -confSuffix.length));
  const routers = only ?? present.sort();
  const missing = routers.filter((r) => !present.includes(r));
  if (missing.length > 0) throw new Error(`${dir} has no ${missing.map((r) => r + confSuffix).join(', ')}`);
  if (routers.length === 0) throw new Error(`${dir} holds no <router>${confSuffix} files`);
  return Promise.all(
    routers.map(async (router) => {
      const file = join(dir, router + confSuffix);
      const lines: string[] = [];
      (await readFile(file, 'utf8')).split('\n').forEach((raw, i) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) return;
        if (!parseSetLine(line)) throw new Error(`${file}:${i + 1}: not a \`set …\` line: ${line.slice(0, 80)}`);
        lines.push(line);
      });
      return { router, lines: finish(lines, o) };
    }),
  );
}
