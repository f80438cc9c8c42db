import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDashboardFiles, loadDatasources, panelQueries, paths, referencedVariables } from './index.ts';
import { allDashboards, fileOf } from './src/definitions.ts';
import { renderDashboard } from './build.ts';

const files = loadDashboardFiles();
const datasources = loadDatasources();

describe('provisioning', () => {
  it('provisions the ClickHouse plugin and Prometheus datasources with fixed uids', () => {
    const byUid = new Map(datasources.map((d) => [d.uid, d]));
    expect(byUid.get('pathpilot-clickhouse')?.type).toBe('grafana-clickhouse-datasource');
    expect(byUid.get('pathpilot-prometheus')?.type).toBe('prometheus');
    expect(byUid.get('pathpilot-clickhouse')?.jsonData?.protocol).toBe('http');
    expect(new Set(datasources.map((d) => d.uid)).size).toBe(datasources.length);
  });

  it('has a file provider whose path is where docker-compose mounts the dashboards', () => {
    const doc = parse(readFileSync(paths.dashboardProvider, 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(doc.providers).toHaveLength(1);
    expect(doc.providers[0]!.type).toBe('file');
    const compose = readFileSync(join(paths.dashboardsJson, '..', '..', '..', 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`./dashboards/grafana/dashboards:${doc.providers[0]!.options.path}`);
  });
});

describe('dashboards', () => {
  it('commits exactly what the definitions render (run `npx tsx dashboards/build.ts`)', async () => {
    expect([...files.keys()].sort()).toEqual(allDashboards.map(fileOf).sort());
    for (const d of allDashboards) {
      expect(readFileSync(join(paths.dashboardsJson, fileOf(d)), 'utf8'), fileOf(d)).toBe(await renderDashboard(d));
    }
  });

  it('has the dashboards the issues name (six, and security), with unique uids and titles', () => {
    const uids = [...files.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set([...files.values()].map((d) => d.title)).size).toBe(files.size);
    expect(uids.sort()).toEqual(
      [
        'pathpilot-network',
        'pathpilot-paths',
        'pathpilot-traffic',
        'pathpilot-cost',
        'pathpilot-decisions',
        'pathpilot-pipeline',
        'pathpilot-security',
      ].sort(),
    );
    const network = [...files.values()].find((d) => d.uid === 'pathpilot-network')!;
    const graph = network.panels.find((p) => p.type === 'nodeGraph');
    expect(graph?.targets.map((t) => t.refId)).toEqual(['nodes', 'edges']);
  });

  for (const [file, d] of files) {
    describe(file, () => {
      it('is structurally valid: unique panel ids, grid inside 24 columns, no overlaps', () => {
        expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
        expect(d.panels.length).toBeGreaterThan(2);
        const ids = d.panels.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        const cells = new Set<string>();
        for (const p of d.panels) {
          const g = p.gridPos;
          expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
          expect(g.w > 0 && g.h > 0, p.title).toBe(true);
          for (let x = g.x; x < g.x + g.w; x++) {
            for (let y = g.y; y < g.y + g.h; y++) {
              const key = `${x},${y}`;
              expect(cells.has(key), `${p.title} overlaps at ${key}`).toBe(false);
              cells.add(key);
            }
          }
        }
      });

      it('uses only provisioned datasources, with matching types, and unique refIds per panel', () => {
        const byUid = new Map(datasources.map((ds) => [ds.uid, ds.type]));
        for (const p of d.panels) {
          expect(byUid.get(p.datasource.uid), p.title).toBe(p.datasource.type);
          const refIds = p.targets.map((t) => t.refId);
          expect(new Set(refIds).size, p.title).toBe(refIds.length);
          expect(p.targets.length, p.title).toBeGreaterThan(0);
          for (const t of p.targets) {
            expect(byUid.get(t.datasource.uid), `${p.title}/${t.refId}`).toBe(t.datasource.type);
            if ('rawSql' in t) expect(t.rawSql).toMatch(/^SELECT /);
            else expect(t.expr).toMatch(/pathpilot_/);
          }
        }
      });

      it('defines every template variable its queries use', () => {
        const defined = new Set(d.templating.list.map((v) => v.name));
        const { sql } = panelQueries([d]);
        for (const q of sql) {
          for (const v of referencedVariables(q.target.rawSql)) expect(defined.has(v), `${q.panel}: $${v}`).toBe(true);
        }
      });

      it('stays in the ClickHouse 18.16 subset (no functions 18.16 lacks)', () => {
        const { sql } = panelQueries([d]);
        for (const q of sql) {
          expect(q.target.rawSql, q.panel).not.toMatch(
            /\$__timeInterval|\$__\w+_ms\b|toStartOfInterval|\bOVER\s*\(|WITH FILL|JSONExtract|DateTime64|\bILIKE\b/i,
          );
          expect((q.target.rawSql.match(/\bJOIN\b/g) ?? []).length, q.panel).toBeLessThanOrEqual(1);
        }
      });
    });
  }
});
