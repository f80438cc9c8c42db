import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService, uniqueName } from '../../support/services.ts';
import { createStore } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { raw, sql, ident } from '../../../core/store/sql.ts';
import { changeRecord, costRecord, flowRecord, ifaceRecord, probeRecord } from '../../../core/records/index.ts';
import { migrate } from '../../../analytics/schema/index.ts';
import { saveModel, writeForecasts, type ForecastPoint } from '../../../analytics/queries/index.ts';
import { expandMacros, loadDashboardFiles, panelQueries } from '../../../dashboards/index.ts';

/**
 * Every ClickHouse panel query of every committed dashboard, macros expanded as the Grafana
 * plugin does, runs against a real ClickHouse server (18.16 here) and embedded chDB (26.x) on a
 * database migrated by analytics/schema and seeded through the store adapter; each must return rows.
 */
const url = requireService('clickhouse');

const minute = 60_000;
const hour = 3_600_000;
// A fixed window ending at a whole hour in the recent past, so month-to-date panels have data.
const to = Math.floor(Date.now() / hour) * hour;
const from = to - 6 * hour;
const sites = ['aws-use1', 'gcp-euw1', 'azure-weu'];
const links = ['l-aws-gcp', 'l-aws-azure', 'l-gcp-azure'];

async function seed(store: Store): Promise<void> {
  const flows = [];
  const probes = [];
  const ifaces = [];
  let seq = 0;
  for (let t = from; t < to; t += 5 * minute) {
    for (let i = 0; i < sites.length; i++) {
      const site = sites[i]!;
      const dst = sites[(i + 1) % sites.length]!;
      for (const cls of ['gold', 'bulk']) {
        flows.push(
          flowRecord.toRow(
            flowRecord.parse({
              time_received: t + 1000,
              exporter: `192.0.2.${i + 1}`,
              format: 'ipfix',
              domain_id: 1,
              sequence: seq++,
              sampling_rate: 10,
              src_addr: `10.${i}.0.${1 + (seq % 50)}`,
              dst_addr: `10.${(i + 1) % 3}.1.${1 + (seq % 7)}`,
              protocol: 6,
              bytes: 150_000 + i * 1000,
              packets: 100,
              site,
              dst_site: dst,
              link: links[i]!,
              class: cls,
            }),
          ),
        );
      }
      probes.push(
        probeRecord.toRow(
          probeRecord.parse({
            window_start: t,
            window_end: t + minute,
            src_site: site,
            dst_site: dst,
            path_id: `${site}>${dst}/${links[i]}`,
            class: 'gold',
            sent: 60,
            received: 59 - (seq % 2),
            loss_ratio: 0.02,
            rtt_min_ms: 10 + i,
            rtt_avg_ms: 12 + i,
            rtt_p50_ms: 12 + i,
            rtt_p95_ms: 20 + i + (seq % 5),
            rtt_max_ms: 30 + i,
            jitter_ms: 1.5,
          }),
        ),
      );
      ifaces.push(
        ifaceRecord.toRow(
          ifaceRecord.parse({
            time: t,
            router: site,
            interface: 'eth1',
            link: links[i]!,
            speed_bps: 1e9,
            in_octets: (t - from) * 100,
            out_octets: (t - from) * 120,
            source: 'poll',
          }),
        ),
      );
    }
  }
  await store.insert('flows_raw', flows);
  await store.insert('probes_raw', probes);
  await store.insert('iface_raw', ifaces);

  // Through the day of `to` itself, so month-to-date panels have rows even in the first hour of a month.
  const costs: Record<string, string | number>[] = [];
  const monthStart = Date.UTC(new Date(to).getUTCFullYear(), new Date(to).getUTCMonth(), 1);
  for (let d = Math.min(monthStart, to - 3 * 86_400_000); d <= to; d += 86_400_000) {
    const dayStart = Math.floor(d / 86_400_000) * 86_400_000;
    links.forEach((link, i) => {
      costs.push(
        costRecord.toRow(
          costRecord.parse({
            line_id: `${link}-${dayStart}`,
            usage_start: dayStart,
            usage_end: dayStart + 86_400_000,
            provider: ['aws', 'gcp', 'azure'][i]!,
            category: 'inter-region',
            usage_quantity: 100 + i,
            usage_unit: 'GB',
            cost: 2 + i,
            currency: 'USD',
            link,
            source_format: 'focus',
          }),
        ),
      );
    });
  }
  await store.insert('costs_raw', costs);

  const made = to - 2 * hour;
  const points: ForecastPoint[] = [];
  for (let t = from; t < to; t += 5 * minute) {
    for (const link of links) {
      const v = 20_000 * 8 * 10; // near the seeded rate, so accuracy columns are meaningful
      points.push({
        made_at: made,
        model: 'gru',
        model_version: 'v1',
        metric: 'link_bps',
        target: link,
        t,
        value: v,
        lo: v * 0.5,
        hi: v * 1.5,
      });
    }
  }
  await writeForecasts(store, points);

  const events = ['proposed', 'approved', 'applying', 'step-applied', 'baking', 'guard-fail', 'rolled-back'] as const;
  await store.insert(
    'changes',
    events.map((event, i) =>
      changeRecord.toRow(
        changeRecord.parse({
          event_id: `e${i}`,
          time: from + hour + i * minute,
          proposal_id: 'p-1',
          event,
          actor: i === 1 ? 'user:alice' : 'auto',
          router: sites[0],
          step: 0,
          detail: JSON.stringify({ i }),
        }),
      ),
    ),
  );
  await store.insert('proposals', [
    {
      id: 'p-1',
      created_at: Math.floor((from + hour) / 1000),
      updated_at: Math.floor((from + hour + 6 * minute) / 1000),
      kind: 'path-weights',
      status: 'rolled-back',
      risk: 'low',
      reason: 'shift gold off a lossy path',
      body: '{}',
    },
    {
      id: 'p-2',
      created_at: Math.floor((from + 2 * hour) / 1000),
      updated_at: Math.floor((from + 2 * hour + minute) / 1000),
      kind: 'security',
      status: 'confirmed',
      risk: 'medium',
      reason: 'threat feed spamhaus-drop: 3 networks',
      body: '{}',
    },
  ]);
  await saveModel(store, {
    name: 'link_bps',
    version: 'v1',
    created_at: from,
    kind: 'gru',
    status: 'active',
    metrics: { mape: 0.1 },
    artifact: '',
  });
}

const dashboards = loadDashboardFiles();
const { sql: queries } = panelQueries(dashboards.values());

const backends: [string, () => Store][] = [
  ['clickhouse server', () => createStore({ kind: 'server', url, path: '', database: uniqueName('dash') })],
  ['chdb', () => createStore({ kind: 'chdb', url: '', path: '', database: uniqueName('dash') })],
];

describe.each(backends)('dashboard panel SQL on %s', (_name, make) => {
  let store: Store;

  beforeAll(async () => {
    store = make();
    await store.start();
    const result = await migrate(store);
    expect(result.manual).toEqual([]);
    await seed(store);
    // Grafana's datasource names a default database; the server store sends its database with every
    // request, chDB's session needs USE.
    if (store.kind === 'chdb') await store.exec(raw(`USE \`${store.database}\``));
  });

  afterAll(async () => {
    if (!store) return;
    if (store.kind === 'server') await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
    await store.stop();
  });

  it('has ClickHouse queries in every dashboard', () => {
    expect(dashboards.size).toBe(7);
    for (const d of dashboards.values()) expect(queries.some((q) => q.dashboard === d.uid)).toBe(true);
  });

  const variables = [...dashboards.values()].flatMap((d) =>
    d.templating.list.flatMap((v) => (v.type === 'query' ? [[`${d.uid} / $${v.name}`, d.uid, v.name, v.query] as const] : [])),
  );
  /** First value of each query variable, per dashboard (a real selection instead of All). */
  const firstValues = new Map<string, Record<string, string[]>>();

  it.each(variables)('variable %s lists values', async (_label, uid, name, query) => {
    const rows = await store.query<Record<string, unknown>>(raw(expandMacros(query, { from, to, intervalSeconds: 300 })));
    expect(rows.length, query).toBeGreaterThan(0);
    const values = firstValues.get(uid) ?? {};
    values[name] = [String(Object.values(rows[0]!)[0])];
    firstValues.set(uid, values);
  });

  const cases = queries.flatMap((q) => {
    const dash = [...dashboards.values()].find((d) => d.uid === q.dashboard)!;
    const hasQueryVars = dash.templating.list.some((v) => v.type === 'query');
    return (hasQueryVars ? (['All', 'first value'] as const) : (['defaults'] as const)).map(
      (selection) => [`${q.dashboard} / ${q.panel} / ${q.refId} (${selection})`, q, selection] as const,
    );
  });

  it.each(cases)('%s returns rows', async (_label, q, selection) => {
    const dash = [...dashboards.values()].find((d) => d.uid === q.dashboard)!;
    const vars: Record<string, string | string[]> = Object.fromEntries(
      dash.templating.list.map((v) => [v.name, v.current.value]),
    );
    if (selection === 'first value') Object.assign(vars, firstValues.get(dash.uid));
    const expanded = expandMacros(q.target.rawSql, { from, to, intervalSeconds: 300, vars });
    if (selection === 'first value') expect(expanded).not.toContain('1=1');
    const rows = await store.query<Record<string, unknown>>(raw(expanded));
    expect(rows.length, expanded).toBeGreaterThan(0);
    // Grafana's node graph reads frames by field name.
    if (q.refId === 'nodes') expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['id', 'title', 'mainstat']));
    if (q.refId === 'edges')
      expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['id', 'source', 'target', 'mainstat']));
    // Time series panels need a time column: the first column, a DateTime.
    if (q.target.format === 0) expect(String(Object.values(rows[0]!)[0]), expanded).toMatch(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/);
  });
});
