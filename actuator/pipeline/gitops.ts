/** GitOps export: one `<gitops_dir>/<router>.conf` of `set …` lines per router, written after every change. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import type { PipelineContext } from './context.ts';

/** Writes each router's file (atomic rename); a failure is logged and counted, never fails the change. */
export async function exportGitops(ctx: PipelineContext, routers: string[]): Promise<void> {
  const { d, engine } = ctx;
  const dir = d.config.gitops_dir;
  if (!dir) return;
  for (const router of routers) {
    try {
      const text = await engine.exportConfig(router);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${router}.conf`);
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
    } catch (err) {
      d.metrics.errors.inc({ error_type: 'gitops' });
      d.log?.warn({ router, err: errorMessage(err) }, 'gitops export failed');
    }
  }
}
