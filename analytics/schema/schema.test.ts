import { describe, expect, it } from 'vitest';
import { schemaConformance } from '../../test/conformance/analytics-schema.ts';
import { uniqueName } from '../../test/support/services.ts';
import { createStore } from '../../core/store/index.ts';
import { createTableSql, renderType } from './ddl.ts';
import { schemaObjects, tableDefs } from './tables.ts';
import { clusterSchema } from './cluster.ts';
import { capabilitiesFor, parseVersion } from '../../core/store/version.ts';
import { retentionSchema } from '../config.ts';

schemaConformance('chdb', () => createStore({ kind: 'chdb', url: '', path: '', database: uniqueName('schema') }));

describe('schema rendering', () => {
  const old = capabilitiesFor(parseVersion('18.16.1'));
  const modern = capabilitiesFor(parseVersion('26.7'));
  const retention = retentionSchema.parse({});
  const flows = tableDefs().find((t) => t.name === 'flows_raw')!;

  it('renders the 18.16 common subset and the modern form from one definition', () => {
    expect(renderType('LowString', old)).toBe('String');
    expect(renderType('LowString', modern)).toBe('LowCardinality(String)');
    const a = createTableSql('db', flows, old, retention).text;
    const b = createTableSql('db', flows, modern, retention).text;
    expect(a).not.toMatch(/TTL|LowCardinality/);
    expect(b).toMatch(/TTL time_received \+ toIntervalDay\(15\)/);
    expect(b).toMatch(/`site` LowCardinality\(String\)/);
    expect(a).toMatch(/`src_offset` UInt64/);
  });

  it('maps every record field to a column', () => {
    expect(flows.columns.map((c) => c.name)).toContain('sampling_rate');
    expect(flows.columns.find((c) => c.name === 'time_received')!.type).toBe('DateTime');
  });
});

describe('cluster schema rendering', () => {
  const caps = capabilitiesFor(parseVersion('18.16.1'));
  const wanted = clusterSchema('db', 'c', schemaObjects(), caps, retentionSchema.parse({}));
  const byName = new Map(wanted.map((w) => [w.name, w]));

  it('puts each table on every node as a replicated local table behind a Distributed one, ON CLUSTER', () => {
    for (const t of tableDefs()) {
      const local = byName.get(`${t.name}_local`)!;
      expect(local, t.name).toMatchObject({ kind: 'table', engine: `Replicated${t.engine}` });
      expect(local.create.text).toContain(`\`db\`.\`${t.name}_local\` ON CLUSTER \`c\``);
      expect(local.create.text).toContain(`Replicated${t.engine}('/clickhouse/tables/{shard}/db/${t.name}_local', '{replica}'`);
      const dist = byName.get(t.name)!;
      expect(dist).toMatchObject({ kind: 'table', engine: 'Distributed' });
      expect(dist.create.text).toContain(`ENGINE = Distributed(\`c\`, \`db\`, \`${t.name}_local\`, halfMD5(\`${t.shardKey}\`))`);
    }
    expect(byName.get('flows_raw')!.create.text).toContain('halfMD5(`site`)');
    for (const w of wanted) expect(w.create.text, w.name).toContain(' ON CLUSTER `c`');
  });

  it('feeds every view from the raw tables’ Null ingest entries, with the offsets view last', () => {
    for (const raw of ['flows_raw', 'probes_raw', 'iface_raw', 'costs_raw', 'changes']) {
      expect(byName.get(`${raw}_ingest_local`)).toMatchObject({ engine: 'Null' });
      expect(byName.get(`${raw}_ingest`)!.create.text).toContain(`\`${raw}_ingest_local\``);
      const views = wanted.filter((w) => w.kind === 'view' && w.create.text.includes(`FROM \`db\`.${raw}_ingest_local`));
      expect(views.map((v) => v.name)).toContain(`${raw}_store_mv`);
      const names = views.map((v) => v.name).sort();
      expect(names.at(-1), raw).toBe(`zz_${raw}_offsets_mv`);
    }
    const rollupView = byName.get('flows_1m_mv')!.create.text;
    expect(rollupView).toContain('TO `db`.`flows_1m_local`');
    expect(rollupView).toContain('maxState(src_offset) AS src_mark FROM `db`.flows_raw_ingest_local');
    const rollup = byName.get('flows_1m_local')!;
    expect(rollup.kind === 'table' && rollup.columns.map((c) => c.name)).toContain('src_mark');
    const offsets = byName.get('sink_offsets_local')!;
    expect(offsets.kind === 'table' && offsets.columns.map((c) => c.name)).not.toContain('src_mark');
  });
});
