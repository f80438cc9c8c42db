import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { ClickHouseTarget, Dashboard, PrometheusTarget } from './src/panels.ts';

export * from './macros.ts';
export type { Dashboard, Panel, Target, ClickHouseTarget, PrometheusTarget } from './src/panels.ts';

/** Where the provisioning files live (mounted into Grafana and Prometheus by docker-compose.yml). */
export const dashboardsRoot = dirname(fileURLToPath(import.meta.url));
export const paths = {
  dashboardsJson: join(dashboardsRoot, 'grafana', 'dashboards'),
  datasources: join(dashboardsRoot, 'grafana', 'provisioning', 'datasources', 'pathpilot.yaml'),
  dashboardProvider: join(dashboardsRoot, 'grafana', 'provisioning', 'dashboards', 'pathpilot.yaml'),
  prometheusConfig: join(dashboardsRoot, 'prometheus', 'prometheus.yml'),
  prometheusRules: join(dashboardsRoot, 'prometheus', 'rules'),
  prometheusRuleTests: join(dashboardsRoot, 'prometheus', 'tests'),
};

/** The committed dashboard JSON files, parsed, by file name. */
export function loadDashboardFiles(dir = paths.dashboardsJson): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    out.set(f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard);
  }
  return out;
}

export interface ProvisionedDatasource {
  name: string;
  type: string;
  uid: string;
  jsonData?: Record<string, unknown>;
}

export function loadDatasources(file = paths.datasources): ProvisionedDatasource[] {
  const doc = parse(readFileSync(file, 'utf8')) as { datasources?: ProvisionedDatasource[] };
  return doc.datasources ?? [];
}

export interface PanelQuery<T> {
  dashboard: string;
  panel: string;
  refId: string;
  target: T;
}

/** Every ClickHouse query and every PromQL expression of the given dashboards. */
export function panelQueries(dashboards: Iterable<Dashboard>): {
  sql: PanelQuery<ClickHouseTarget>[];
  promql: PanelQuery<PrometheusTarget>[];
} {
  const sql: PanelQuery<ClickHouseTarget>[] = [];
  const promql: PanelQuery<PrometheusTarget>[] = [];
  for (const d of dashboards) {
    for (const p of d.panels) {
      for (const t of p.targets) {
        const entry = { dashboard: d.uid, panel: p.title, refId: t.refId };
        if ('rawSql' in t) sql.push({ ...entry, target: t });
        else promql.push({ ...entry, target: t });
      }
    }
  }
  return { sql, promql };
}
