/**
 * GitOps export: one `<gitops_dir>/<router>.conf` of `set …` lines per router, written after every change,
 * with private keys, PSKs and API keys redacted (`'[redacted]'`): the file is for review and diffs, not a
 * config to load back as it is.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import { redactCommandLine } from '../../core/redact.ts';
import type { Engine } from '../engine.ts';
import type { PipelineContext } from './context.ts';

/** Writes a text file whole (ending in a newline): a reader never sees half a file. */
export async function writeWhole(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, text.endsWith('\n') ? text : `${text}\n`);
  await rename(`${file}.tmp`, file);
}

/** Writes `<dir>/<router>.conf` (`set …` lines) whole. */
export async function writeRouterConfig(dir: string, router: string, text: string): Promise<void> {
  await writeWhole(join(dir, `${router}.conf`), text);
}

/** A router's running config as `set …` lines with keys and PSKs redacted: what a file people read may hold. */
export async function redactedConfig(engine: Engine, router: string): Promise<string> {
  return (await engine.exportConfig(router)).split('\n').map(redactCommandLine).join('\n');
}

/** Writes each router's file (atomic rename); a failure is logged and counted, never fails the change. */
export async function exportGitops(ctx: PipelineContext, routers: string[]): Promise<void> {
  const { d, engine } = ctx;
  const dir = d.config.gitops_dir;
  if (!dir) return;
  for (const router of routers) {
    try {
      // The export is a file anyone with the repository reads: keys and PSKs are redacted in it.
      await writeRouterConfig(dir, router, await redactedConfig(engine, router));
    } catch (err) {
      d.metrics.errors.inc({ error_type: 'gitops' });
      d.log?.warn({ router, err: errorMessage(err) }, 'gitops export failed');
    }
  }
}
