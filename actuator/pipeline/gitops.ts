/**
 * GitOps export: one `<gitops_dir>/<router>.conf` of `set …` lines per router, written after every change,
 * with private keys, PSKs and API keys redacted (`'[redacted]'`): the file is for review and diffs, not a
 * config to load back as it is.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import { redactCommandLine } from '../../core/redact.ts';
import type { PipelineContext } from './context.ts';

/** Writes `<dir>/<router>.conf` (`set …` lines) whole: a reader never sees half a file. */
export async function writeRouterConfig(dir: string, router: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${router}.conf`);
  await writeFile(`${file}.tmp`, text.endsWith('\n') ? text : `${text}\n`);
  await rename(`${file}.tmp`, file);
}

/** Writes each router's file (atomic rename); a failure is logged and counted, never fails the change. */
export async function exportGitops(ctx: PipelineContext, routers: string[]): Promise<void> {
  const { d, engine } = ctx;
  const dir = d.config.gitops_dir;
  if (!dir) return;
  for (const router of routers) {
    try {
      // The export is a file anyone with the repository reads: keys and PSKs are redacted in it.
      const text = (await engine.exportConfig(router)).split('\n').map(redactCommandLine).join('\n');
      await writeRouterConfig(dir, router, text);
    } catch (err) {
      d.metrics.errors.inc({ error_type: 'gitops' });
      d.log?.warn({ router, err: errorMessage(err) }, 'gitops export failed');
    }
  }
}
