import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadConfigText, exampleConfigPath, Topology, applyEnvOverrides, maxConfigBytes } from './index.ts';
import { didYouMean, editDistance } from './did-you-mean.ts';
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
    expect(root.actuator.mode).toBe('approval');
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

  it('rejects unknown keys by name, at their own line, with a did-you-mean', () => {
    const bad = example.replace('  max_utilization: 0.8', '  max_utilization: 0.8\n  max_utilisation: 0.7');
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    const line = bad.split('\n').findIndex((l) => l.includes('max_utilisation')) + 1;
    expect(err.issues).toEqual([`p.yaml:${line}: policy.max_utilisation: unknown key (did you mean "max_utilization"?)`]);
  });

  it('names the line of an unknown key inside a flow mapping in a list', () => {
    const bad = example.replace('router: { vyos_version: "1.5"', 'router: { vyos_verison: "1.5"');
    expect(bad).not.toBe(example);
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    const line = bad.split('\n').findIndex((l) => l.includes('vyos_verison')) + 1;
    expect(err.issues[0]).toMatch(
      new RegExp(`^p\\.yaml:${line}: sites\\[\\d\\]\\.router\\.vyos_verison: unknown key \\(did you mean "vyos_version"\\?\\)$`),
    );
  });

  it('rejects unknown top-level sections (the catch-all let typos through)', () => {
    const bad = `${example}\noptimiser:\n  interval_s: 60\nactuatr:\n  mode: auto\nzzz: 1\n`;
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    const lineOf = (key: string) => bad.split('\n').findIndex((l) => l.startsWith(`${key}:`)) + 1;
    expect(err.issues).toEqual([
      `p.yaml:${lineOf('optimiser')}: optimiser: unknown key (did you mean "optimizer"?)`,
      `p.yaml:${lineOf('actuatr')}: actuatr: unknown key (did you mean "actuator"?)`,
      `p.yaml:${lineOf('zzz')}: zzz: unknown key`,
    ]);
  });

  it('reads the deprecated actuation section as actuator, with a warning naming its line', () => {
    const old = example.replace(/^actuator:$/m, 'actuation:').replace('  mode: approval', '  mode: auto');
    const { root, source } = loadConfigText(old, 'old.yaml');
    expect(root.actuator.mode).toBe('auto');
    expect(root.actuator.bake_time_s).toBe(300);
    const line = old.split('\n').indexOf('actuation:') + 1;
    expect(source.warnings).toHaveLength(1);
    expect(source.warnings[0]).toMatch(
      new RegExp(`^old\\.yaml:${line}: actuation: deprecated: rename the section to "actuator"`),
    );
    // Problems inside the old section still point at its lines.
    const bad = old.replace('  bake_time_s: 300', '  bake_time_s: -1');
    const err = configErrorOf(() => loadConfigText(bad, 'old.yaml'));
    expect(err.issues[0]).toMatch(
      new RegExp(`^old\\.yaml:${bad.split('\n').indexOf('  bake_time_s: -1') + 1}: actuator\\.bake_time_s: `),
    );
  });

  it('refuses a key set under both actuation and actuator', () => {
    const both = `${example}\nactuation:\n  mode: auto\n  bake_time_s: 60\n`.replace('  bake_time_s: 300\n', '');
    const err = configErrorOf(() => loadConfigText(both, 'p.yaml'));
    const line = both.split('\n').lastIndexOf('  mode: auto') + 1;
    expect(err.issues).toEqual([
      `p.yaml:${line}: actuator.mode: set under both "actuation" (deprecated) and "actuator": keep only actuator.mode`,
    ]);
  });

  it('refuses configuration files over 1 MiB before reading them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-config-'));
    try {
      const big = join(dir, 'big.yaml');
      writeFileSync(big, `${example}\n# ${'x'.repeat(maxConfigBytes)}\n`);
      const err = configErrorOf(() => loadConfig(big, {}));
      expect(err.issues).toEqual([
        expect.stringMatching(/big\.yaml: the configuration is 1,0\d\d,\d{3} bytes; the limit is 1,048,576 \(1 MiB\)/),
      ]);
      expect(() => loadConfigText(`${example}\n# ${'x'.repeat(maxConfigBytes)}\n`)).toThrow(/the limit is 1,048,576/);
      // Just under the limit still loads.
      writeFileSync(big, `${example}\n# ${'x'.repeat(maxConfigBytes - Buffer.byteLength(example) - 8)}\n`);
      expect(loadConfig(big, {}).root.sites).toHaveLength(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses credentials embedded in service URLs and names the variable to use', () => {
    const withServices = (services: string) => example.replace(/^services:\n( {2}.*\n)+/m, `services:\n${services}`);
    const bad = withServices(
      '  store: { kind: server, url: "http://pathpilot:s3cret@127.0.0.1:8123" }\n' +
        '  queue: { kind: bullmq, redis_url: "redis://:s3cret@127.0.0.1:6379" }\n',
    );
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    const line = (needle: string) => bad.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(err.issues).toEqual([
      `p.yaml:${line('8123')}: services.store.url: the URL embeds a password; keep credentials out of the file: set the URL in CLICKHOUSE_URL instead`,
      `p.yaml:${line('6379')}: services.queue.redis_url: the URL embeds a password; keep credentials out of the file: set the URL in REDIS_URL instead`,
    ]);
    expect(err.message).not.toContain('s3cret');
    // Any section: the actuator's state store has no dedicated variable, so the generic override is named.
    const state = configErrorOf(() =>
      loadConfigText(
        example.replace(/^actuator:$/m, 'actuator:\n  state: { kind: redis, redis_url: "redis://secret@10.0.0.1" }'),
        'p.yaml',
      ),
    );
    expect(state.issues[0]).toContain(
      'actuator.state.redis_url: the URL embeds a password; keep credentials out of the file: set the URL in PATHPILOT__ACTUATOR__STATE__REDIS_URL instead',
    );
    // Credentials from the environment are the way to do it; URLs without them are fine in the file.
    const fine = withServices('  queue: { kind: bullmq, redis_url: "redis://127.0.0.1:6379" }\n');
    expect(loadConfigText(fine, 'p.yaml', { REDIS_URL: 'redis://:s3cret@127.0.0.1:6379' }).root.services.queue.redis_url).toBe(
      'redis://:s3cret@127.0.0.1:6379',
    );
    expect(
      loadConfigText(
        example.replace('router: { vyos_version', 'router: { api_url: "https://ops@10.1.0.1", vyos_version'),
        'p.yaml',
      ).root.sites,
    ).toHaveLength(7);
  });

  it('checks references between sites, links and paths', () => {
    const bad = example.replace('links: [nyc-use1-dx], priority: 1 }', 'links: [nyc-use1-dxx], priority: 1 }');
    const err = configErrorOf(() => loadConfigText(bad, 'p.yaml'));
    expect(err.message).toMatch(/paths\[0\]\.links\[0\]: unknown link "nyc-use1-dxx"/);
  });

  it('names the variable of an unknown key set from the environment (it has no line)', () => {
    const err = configErrorOf(() => loadConfigText(example, 'p.yaml', { PATHPILOT__POLICY__MAX_UTILISATION: '0.7' }));
    expect(err.issues).toEqual([
      'p.yaml: policy.max_utilisation: unknown key (from PATHPILOT__POLICY__MAX_UTILISATION) (did you mean "max_utilization"?)',
    ]);
  });

  it('reports a key set twice in one mapping with both lines', () => {
    const text = example.replace('  max_utilization: 0.8', '  max_utilization: 0.8\n  max_utilization: 0.9');
    const err = configErrorOf(() => loadConfigText(text, 'p.yaml'));
    const first = text.split('\n').indexOf('  max_utilization: 0.8') + 1;
    expect(err.issues).toEqual([`p.yaml:${first + 1}: duplicate key "max_utilization" (first set at line ${first})`]);
    // The same key in different mappings is fine.
    expect(loadConfigText(example, 'p.yaml').root.sites).toHaveLength(7);
  });

  it('reports YAML syntax errors with a line', () => {
    const err = configErrorOf(() => loadConfigText('sites:\n  - id: a\n   bad: [', 'x.yaml'));
    expect(err.issues[0]).toMatch(/^x\.yaml:\d+: /);
  });

  it('applies environment overrides for services and any key', () => {
    const data: Record<string, unknown> = { actuator: { mode: 'approval' } };
    applyEnvOverrides(data, {
      KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
      PATHPILOT__ACTUATOR__MODE: 'auto',
      PATHPILOT__ACTUATOR__BAKE_TIME_S: '60',
    });
    expect(data).toMatchObject({
      services: { bus: { kind: 'kafka', brokers: ['127.0.0.1:9092', '127.0.0.1:9093'] }, store: { kind: 'server' } },
      actuator: { mode: 'auto', bake_time_s: 60 },
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

describe('did you mean', () => {
  it('measures edit distance and suggests keys within two edits', () => {
    expect(editDistance('optimiser', 'optimizer')).toBe(1);
    expect(editDistance('actuatr', 'actuator')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
    expect(editDistance('', 'ab')).toBe(2);
    expect(didYouMean('bnd', ['bind', 'port'])).toBe('bind');
    expect(didYouMean('PORT', ['bind', 'port'])).toBe('port');
    expect(didYouMean('zzzzzz', ['bind', 'port'])).toBeUndefined();
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
