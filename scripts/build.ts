/**
 * `npm run build`: the CLI as plain JavaScript in dist/, for the deployed roles (Dockerfile, systemd).
 *
 * Why: running from source puts tsx's module-hooks thread in every process — on Node 20 a second V8
 * isolate of ~35 MB, a quarter of the 128 MB the ingest role may hold (docs/notes/ingest-flow.md,
 * "Memory") — and compiles every module at each start. `npm start`, the tests and development keep
 * running from source; nothing else changes between the two.
 *
 * esbuild bundles the project's own modules (packages stay in node_modules) with one entry per CLI
 * command, so `start ingest` loads only what the ingest role imports (shared code goes to chunks),
 * plus the worker modules started by URL. The output mirrors the source tree (dist/cli/main.js,
 * dist/ingest/flow/worker.js). Modules that find files next to themselves (schemas, twin data,
 * dashboards, the console's static files) keep doing so: each module's `import.meta.url` is
 * replaced by its source file's URL, found from the bundle's own place under `<root>/dist/`.
 */
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
export const distDir = join(root, 'dist');

/** Worker modules started by URL (see builtModuleUrl in core/runtime.ts), besides the commands. */
const workerEntries = ['ingest/flow/worker.ts'];

/** Every output file starts with this: the project root, from the file's place under dist/. */
const banner = [
  `const __ppRoot = import.meta.url.slice(0, import.meta.url.lastIndexOf('/dist/') + 1);`,
  `globalThis.__pathpilotDist ??= __ppRoot + 'dist/';`,
].join('\n');

/** `import.meta.url` in a project module → the URL of its source file. */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\.(ts|mts)$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(root, args.path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `(__ppRoot + ${JSON.stringify(rel)})`), loader: 'ts' };
    });
  },
};

/** The folders whose modules the bundles may contain. */
const sourceDirs = ['core', 'ingest', 'analytics', 'optimizer', 'actuator', 'lab', 'app', 'cli', 'dashboards'];
/** dist/'s record of the sources it was built from. */
const stampFile = join(distDir, '.sources');

/** Path, size and mtime of every module the build may read (and of this file): changes when any does. */
function sourcesStamp(): string {
  const hash = createHash('sha256');
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') visit(path);
      } else if (/\.(ts|mts|mjs|json)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
        const st = statSync(path);
        hash.update(`${relative(root, path)}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  for (const dir of sourceDirs) visit(join(root, dir));
  for (const file of [fileURLToPath(import.meta.url), join(root, 'package-lock.json')])
    hash.update(`${file}\0${statSync(file).mtimeMs}\n`);
  return hash.digest('hex');
}

/**
 * dist/ as the sources are now: built unless it was built from these very sources (the tests' global
 * setup and the benches call this, often several at once on one checkout, and must not pull dist/ from
 * under a process that runs it). Returns whether it built.
 */
export async function ensureDist(): Promise<boolean> {
  const stamp = sourcesStamp();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return false;
  await buildDist(stamp);
  return true;
}

/**
 * Builds into a folder of its own and then swaps it for dist/, so a process starting meanwhile finds
 * either the old bundles or the new ones, never half of them.
 */
export async function buildDist(stamp = sourcesStamp()): Promise<string[]> {
  const commands = readdirSync(join(root, 'cli', 'commands'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => `cli/commands/${f}`);
  const staging = `${distDir}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/main.ts', ...commands, ...workerEntries],
    outbase: '.',
    outdir: staging,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Class and function names stay as written: log lines and errors name them.
    keepNames: true,
    sourcemap: true,
    banner: { js: banner },
    plugins: [sourceUrls],
    logLevel: 'warning',
    metafile: true,
  });
  writeFileSync(join(staging, '.sources'), stamp);
  const old = `${distDir}.old-${process.pid}`;
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(staging, distDir);
  rmSync(old, { recursive: true, force: true });
  return Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
}

/**
 * One script (a bench's child process) as one plain-JavaScript file at `outfile`, which must lie
 * inside the project (its packages resolve from node_modules). Not part of dist/: the project root
 * is written in as an absolute URL, and the bundle does not announce itself as the build
 * (`__pathpilotDist`), so it starts no worker by URL from dist/.
 */
export async function bundleScript(entry: string, outfile: string): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    banner: { js: `const __ppRoot = ${JSON.stringify(pathToFileURL(root).href)};` },
    plugins: [sourceUrls],
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const files = await buildDist();
  process.stdout.write(`build: ${files.length} files in dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
