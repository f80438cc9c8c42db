import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { runnableModule, runningBuilt } from '../../core/runtime.ts';

/**
 * A worker thread running one of this folder's `.ts` modules: the thread loads TypeScript through
 * tsx's API, as the main thread does, or its bundle when the process runs from dist/ (scripts/build.ts).
 */
export function startTsWorker(module: URL, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const limits = resourceLimits ? { resourceLimits } : {};
  // Built (dist/): the module's bundle is plain JavaScript, no loader needed.
  if (runningBuilt) return new Worker(runnableModule(module), { workerData, ...limits });
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, ...limits });
}
