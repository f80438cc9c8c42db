/**
 * Renders the dashboards (src/definitions.ts) to dashboards/grafana/dashboards/*.json, the files
 * Grafana's file provider loads, formatted by prettier (so `prettier --check` agrees). Run:
 * `npx tsx dashboards/build.ts`; the unit test fails when the committed JSON is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { allDashboards, fileOf } from './src/definitions.ts';
import type { Dashboard } from './src/panels.ts';
import { paths } from './index.ts';

export async function renderDashboard(d: Dashboard): Promise<string> {
  const file = join(paths.dashboardsJson, fileOf(d));
  const options = (await resolveConfig(file)) ?? {};
  return format(JSON.stringify(d), { ...options, parser: 'json', filepath: file });
}

export async function buildDashboards(): Promise<string[]> {
  const written: string[] = [];
  for (const d of allDashboards) {
    const file = join(paths.dashboardsJson, fileOf(d));
    writeFileSync(file, await renderDashboard(d));
    written.push(file);
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of await buildDashboards()) console.log(`wrote ${file}`);
}
