import { describe, expect, it } from 'vitest';
import { schemaConformance } from '../../test/conformance/analytics-schema.ts';
import { uniqueName } from '../../test/support/services.ts';
import { createStore } from '../../core/store/index.ts';
import { createTableSql, renderType } from './ddl.ts';
import { tableDefs } from './tables.ts';
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
