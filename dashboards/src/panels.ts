/**
 * Small builders for Grafana dashboard JSON (schemaVersion 39). Dashboards are written as data in
 * `definitions.ts` and rendered to `dashboards/grafana/dashboards/*.json` by `dashboards/build.ts`;
 * the unit test checks the committed JSON is exactly what the builders produce.
 */

export const clickhouseDs = { type: 'grafana-clickhouse-datasource', uid: 'pathpilot-clickhouse' } as const;
export const prometheusDs = { type: 'prometheus', uid: 'pathpilot-prometheus' } as const;

/** grafana-clickhouse-datasource `format`: 0 time series (long → wide), 1 table. */
export type ChFormat = 'timeseries' | 'table';

export interface ClickHouseTarget {
  refId: string;
  datasource: typeof clickhouseDs;
  editorType: 'sql';
  queryType: ChFormat;
  format: 0 | 1;
  rawSql: string;
}

export interface PrometheusTarget {
  refId: string;
  datasource: typeof prometheusDs;
  expr: string;
  legendFormat?: string;
  range: true;
}

export type Target = ClickHouseTarget | PrometheusTarget;

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: typeof clickhouseDs | typeof prometheusDs;
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}

export function sqlTarget(refId: string, rawSql: string, format: ChFormat = 'timeseries'): ClickHouseTarget {
  return {
    refId,
    datasource: clickhouseDs,
    editorType: 'sql',
    queryType: format,
    format: format === 'timeseries' ? 0 : 1,
    rawSql: rawSql.replace(/\s+/g, ' ').trim(),
  };
}

export function promTarget(refId: string, expr: string, legendFormat?: string): PrometheusTarget {
  return { refId, datasource: prometheusDs, expr, ...(legendFormat ? { legendFormat } : {}), range: true };
}

export interface PanelSpec {
  type: 'timeseries' | 'table' | 'stat' | 'nodeGraph' | 'barchart' | 'bargauge';
  title: string;
  description?: string;
  w?: number;
  h?: number;
  unit?: string;
  targets: Target[];
  options?: Record<string, unknown>;
}

/** Lays panels out left to right, wrapping at 24 columns; ids count from 1. */
export function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return specs.map((s, i) => {
    const w = s.w ?? 12;
    const h = s.h ?? 8;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const panel: Panel = {
      id: i + 1,
      type: s.type,
      title: s.title,
      ...(s.description ? { description: s.description } : {}),
      gridPos: { x, y, w, h },
      datasource: s.targets[0]!.datasource,
      targets: s.targets,
      fieldConfig: { defaults: s.unit ? { unit: s.unit } : {}, overrides: [] },
      options: s.options ?? {},
    };
    x += w;
    rowH = Math.max(rowH, h);
    return panel;
  });
}

export interface TextboxVar {
  name: string;
  type: 'textbox';
  label: string;
  query: string;
  current: { text: string; value: string };
}

/** A drop-down filled by a ClickHouse query (multi-value, with an All option). */
export interface QueryVar {
  name: string;
  type: 'query';
  label: string;
  datasource: typeof clickhouseDs;
  query: string;
  definition: string;
  /** 1: on dashboard load. */
  refresh: 1;
  sort: 1;
  multi: true;
  includeAll: true;
  current: { text: string[]; value: string[] };
  options: [];
}

export type TemplateVar = TextboxVar | QueryVar;

export function textboxVar(name: string, label: string, value: string): TextboxVar {
  return { name, type: 'textbox', label, query: value, current: { text: value, value } };
}

export function queryVar(name: string, label: string, query: string): QueryVar {
  const q = query.replace(/\s+/g, ' ').trim();
  return {
    name,
    type: 'query',
    label,
    datasource: clickhouseDs,
    query: q,
    definition: q,
    refresh: 1,
    sort: 1,
    multi: true,
    includeAll: true,
    current: { text: ['All'], value: ['$__all'] },
    options: [],
  };
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'utc';
  schemaVersion: 39;
  version: 1;
  editable: true;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: TemplateVar[] };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}

export function dashboard(spec: {
  uid: string;
  title: string;
  description: string;
  time?: string;
  vars?: TemplateVar[];
  panels: PanelSpec[];
}): Dashboard {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['pathpilot'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '1m',
    time: { from: spec.time ?? 'now-6h', to: 'now' },
    templating: { list: spec.vars ?? [] },
    annotations: { list: [] },
    links: [{ type: 'dashboards', tags: ['pathpilot'], asDropdown: true, title: 'pathpilot' }],
    panels: layout(spec.panels),
  };
}
