/**
 * Whether this process runs the built JavaScript (`npm run build` → dist/, as the Dockerfile and
 * the systemd units deploy it) or the TypeScript sources through tsx (`npm start`, the tests). The
 * build's banner sets `globalThis.__pathpilotDist`; modules that load other modules by path
 * (the CLI's command registry, worker threads) ask here which file to load.
 */
const distUrl: string | undefined = (globalThis as { __pathpilotDist?: string }).__pathpilotDist;

/** True when running from dist/. */
export const runningBuilt = distUrl !== undefined;

/**
 * The file to load for a project module given by its source URL: its bundle under dist/ when
 * running built (the build makes one for every command and worker module), else the source itself.
 */
export function runnableModule(source: URL): URL {
  if (distUrl === undefined) return source;
  const rootUrl = distUrl.slice(0, -'dist/'.length);
  if (!source.href.startsWith(rootUrl)) return source;
  return new URL(source.href.slice(rootUrl.length).replace(/\.ts$/, '.js'), distUrl);
}
