import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadConfig, loadConfigText, exampleConfigPath, Topology, applyEnvOverrides } from './index.ts';
import { ConfigError } from '../errors.ts';
import { z } from 'zod';

const example = readFileSync(exampleConfigPath, 'utf8');

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('loads the bundled example with defaults filled in', () => {
    const { root } = loadConfig(exampleConfigPath, {});
    expect(root.sites.map((s) => s.provider).sort()).toEqual(['alibaba', 'aws', 'aws', 'azure', 'gcp', 'onprem', 'onprem']);
    expect(root.links).toHaveLength(13);
    expect(root.actuation.mode).toBe('approval');
    expect(root.services.store.kind).toBe('chdb');
    expect(root.policy.score.challenger_factor).toBe(1.5);
  });

  it('names the key and the file line of a bad value', () => {
    const bad = example.replace('capacity_mbps: 5000, cost_per_gb: 0.025', 'capacity_mbps: "lots", cost_per_gb: 0.025');
    const err = configErrorOf(() => loadConfigText(bad, 'pathpilot.yaml'));
    const line = bad.split('\n').findIndex((l) => l.includes('"lots"')) + 1;
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatch(new RegExp(`^pathpilot\\.yaml:${line}: links\\[3\\]\\.capacity_mbps: `));
  });

  it('rejects unknown keys by name', () => {
    const bad = example.replace('  bake_time_s: 300', '  bake_time_s: 300\n  bake_tme: 5');
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    expect(err.message).toContain('actuation: unknown key(s) "bake_tme"');
  });

  it('checks references between sites, links and paths', () => {
    const bad = example.replace('links: [nyc-use1-dx], priority: 1 }', 'links: [nyc-use1-dxx], priority: 1 }');
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    expect(err.message).toMatch(/paths\[0\]\.links\[0\]: unknown link "nyc-use1-dxx"/);
  });

  it('reports YAML syntax errors with a line', () => {
    const err = configErrorOf(() => loadConfigText('sites:\n  - id: a\n   bad: [', 'x.yaml'));
    expect(err.issues[0]).toMatch(/^x\.yaml:\d+: /);
  });

  it('applies environment overrides for services and any key', () => {
    const data: Record<string, unknown> = { actuation: { mode: 'approval' } };
    applyEnvOverrides(data, {
      KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
      PATHPILOT__ACTUATION__MODE: 'auto',
      PATHPILOT__ACTUATION__BAKE_TIME_S: '60',
    });
    expect(data).toMatchObject({
      services: { bus: { kind: 'kafka', brokers: ['127.0.0.1:9092', '127.0.0.1:9093'] }, store: { kind: 'server' } },
      actuation: { mode: 'auto', bake_time_s: 60 },
    });
  });

  it('validates component sections with file lines', () => {
    const { source } = loadConfigText(`${example}\ningest:\n  flow:\n    port: 99999\n`, 'p.yaml');
    const schema = z.object({ port: z.number().max(65535).default(2055) }).strict();
    const err = configErrorOf(() => source.section('ingest.flow', schema));
    expect(err.issues[0]).toMatch(/^p\.yaml:\d+: ingest\.flow\.port: /);
    expect(loadConfigText(example).source.section('ingest.flow', schema)).toEqual({ port: 2055 });
  });
});

describe('topology', () => {
  const topo = new Topology(loadConfig(exampleConfigPath, {}).root);

  it('indexes paths by ordered pair, primary first', () => {
    const paths = topo.pathsFor('onprem-nyc', 'aws-use1');
    expect(paths.map((p) => p.links[0])).toEqual(['nyc-use1-dx', 'nyc-use1-vpn']);
    expect(new Set(paths.map((p) => p.links[0])).size).toBe(paths.length);
  });

  it('maps addresses, exporters, interfaces and DSCP', () => {
    expect(topo.siteForAddress('10.30.7.9')).toBe('azure-weu');
    expect(topo.siteForAddress('192.0.2.1')).toBeUndefined();
    expect(topo.siteForExporter('127.0.1.3')).toBe('aws-use1');
    expect(topo.linkForInterface('onprem-fra', 3)).toBe('fra-weu-er');
    expect(topo.linkForInterface('onprem-fra', 'vti2')).toBe('fra-weu-vpn');
    expect(topo.classForDscp(46)).toBe('realtime');
    expect(topo.classForDscp(63)).toBe('bulk');
  });
});
