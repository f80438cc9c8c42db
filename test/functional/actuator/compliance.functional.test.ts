/**
 * `pathpilot compliance report` against the lab network: one emulated router per site of the example
 * configuration (seeded as `npm start` seeds them), reached over HTTP through a pathpilot.yaml naming their
 * URLs. The seeded routers really lack most hardening, so the report lists real findings; two routers are
 * changed first (one opens an any-to-any accept rule and SSH with passwords, one gets default-deny, NTP and
 * remote syslog), and the report must tell them apart, with the control ids of each finding.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from '../../../cli/commands/compliance.ts';
import { captureOutput } from '../../../cli/testing.ts';
import type { ComplianceReport } from '../../../actuator/security/compliance-report.ts';
import { loadConfig } from '../../../core/config/index.ts';
import { Topology } from '../../../core/config/topology.ts';
import { createVyosLabForTopology, type VyosLab } from '../../../lab/vyos/index.ts';
import { createActuator } from '../../../actuator/index.ts';
import { testRoot } from '../../../actuator/testing.ts';
import { RealClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { startLab } from '../../../lab/vyos/testing.ts';
import { migrate } from '../../../analytics/schema/index.ts';
import { flowRecord } from '../../../core/records/index.ts';
import { createStore } from '../../../core/store/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const KEY_ENV = 'PATHPILOT_VYOS_KEY';
const KEY = 'compliance-functional-key-0123456789';
let lab: VyosLab;
let work: string;
let config: string;
let savedKey: string | undefined;

beforeAll(async () => {
  const example = readFileSync('pathpilot.example.yaml', 'utf8');
  const topology = new Topology(loadConfig('pathpilot.example.yaml', {}).root);
  lab = await createVyosLabForTopology(topology, { apiKey: KEY });
  savedKey = process.env[KEY_ENV];
  process.env[KEY_ENV] = KEY;
  const doc = parse(example) as { sites: { id: string; router: Record<string, unknown> }[] };
  for (const site of doc.sites) site.router = { ...site.router, api_url: lab.urls[site.id], api_key_env: KEY_ENV };
  work = mkdtempSync(join(tmpdir(), 'compliance-'));
  config = join(work, 'pathpilot.yaml');
  writeFileSync(config, stringify(doc));
  lab
    .router('onprem-nyc')
    .applyCommands([
      "set firewall ipv4 forward filter rule 5 action 'accept'",
      "set firewall ipv4 forward filter rule 5 description 'temporary: let everything through'",
      "set service ssh port '22'",
    ]);
  lab
    .router('onprem-fra')
    .applyCommands([
      "set firewall ipv4 forward filter default-action 'drop'",
      "set firewall ipv4 forward filter rule 10 action 'accept'",
      "set firewall ipv4 forward filter rule 10 state 'established'",
      "set firewall ipv4 forward filter rule 10 state 'related'",
      "set service ntp server 'time1.example.net'",
      "set system syslog host 10.255.0.9 facility all level 'info'",
    ]);
});
afterAll(async () => {
  if (savedKey === undefined) delete process.env[KEY_ENV];
  else process.env[KEY_ENV] = savedKey;
  await lab?.stop();
});

const result = (r: ComplianceReport, router: string, rule: string) =>
  r.routers.find((x) => x.router === router)!.results.find((x) => x.id === rule)!;

describe('pathpilot compliance report on the lab routers', () => {
  it('reads every router, lists its real findings with control ids, and writes HTML, JSON and CSV', async () => {
    const out = join(work, 'report');
    const c = captureOutput();
    expect(await run(['report', '-c', config, '-o', out])).toBe(0);
    const sites = Object.keys(lab.urls);
    for (const s of sites) expect(c.out.join('')).toMatch(new RegExp(`^${s}: score \\d+\\.\\d, \\d+ failing`, 'm'));
    const report = JSON.parse(readFileSync(join(out, 'compliance.json'), 'utf8')) as ComplianceReport;
    expect(report.routers.map((r) => r.router).sort()).toEqual([...sites].sort());
    expect(report.routers.filter((r) => r.error)).toEqual([]);

    // The any-to-any rule opened on onprem-nyc, found at its path, with its controls.
    const fw1 = result(report, 'onprem-nyc', 'PP-FW-1');
    expect(fw1.status).toBe('fail');
    expect(fw1.findings.map((f) => f.path)).toEqual(['firewall ipv4 forward filter rule 5']);
    expect(fw1.controls).toMatchObject({ pci: ['1.2.1', '1.3.1'], soc2: ['CC6.6'], iso27001: ['A.8.20'] });
    expect(result(report, 'onprem-nyc', 'PP-SSH-1').status).toBe('fail');
    // Forward default-deny: onprem-fra has it, the seeded routers accept by default.
    expect(result(report, 'onprem-fra', 'PP-FW-2').status).toBe('pass');
    // (IPv4 only: the lab's interfaces carry no IPv6 address.)
    expect(result(report, 'onprem-nyc', 'PP-FW-2').findings.map((f) => f.path)).toEqual([
      'firewall ipv4 forward filter default-action',
    ]);
    expect(result(report, 'onprem-fra', 'PP-NTP-1').status).toBe('pass');
    expect(result(report, 'onprem-fra', 'PP-LOG-1').status).toBe('pass');
    expect(result(report, 'onprem-nyc', 'PP-LOG-1').status).toBe('fail');
    // Every seeded router has its API keyed (pass) but open to any client (fail), and WireGuard keys of
    // unknown age where it runs WireGuard.
    for (const s of sites) {
      expect(result(report, s, 'PP-API-1').status).toBe('pass');
      expect(result(report, s, 'PP-API-3').status).toBe('fail');
    }
    const score = (s: string) => report.routers.find((r) => r.router === s)!.score!;
    expect(score('onprem-fra')).toBeGreaterThan(score('onprem-nyc'));

    const csv = readFileSync(join(out, 'compliance.csv'), 'utf8');
    expect(csv).toContain('onprem-nyc,PP-FW-1,No any-to-any accept rule,high,fail,firewall ipv4 forward filter rule 5,');
    const html = readFileSync(join(out, 'compliance.html'), 'utf8');
    expect(html).toContain('<h2 id="onprem-nyc">onprem-nyc: score');
    // The API key itself never reaches a report.
    for (const text of [csv, html, JSON.stringify(report)]) expect(text).not.toContain(KEY);
  });

  it('--min-score fails the run when a router scores under it, and still writes the report', async () => {
    const out = join(work, 'gate');
    captureOutput();
    expect(await run(['report', '-c', config, '-o', out, '--min-score', '99'])).toBe(1);
    expect(readFileSync(join(out, 'compliance.csv'), 'utf8').split('\n').length).toBeGreaterThan(10);
  });
});

describe('pathpilot compliance report: data residency proven from the flows in ClickHouse', () => {
  /** The lab's config plus residency rules and a store; CLICKHOUSE_URL, when set, overrides its URL. */
  const configWith = (store: object, file: string) => {
    const doc = parse(readFileSync(config, 'utf8')) as { services: object; policy: object };
    doc.services = { ...doc.services, store };
    doc.policy = {
      ...doc.policy,
      residency: [
        // Realtime towards aws-euc1 stays in the EU: fra's direct link does, nyc's does not.
        { name: 'euc1-realtime', classes: ['realtime'], dst_prefixes: ['10.11.0.0/16'], regions: ['eu-*'] },
        { name: 'weu-bulk', classes: ['bulk'], dst_prefixes: ['10.30.0.0/16'], regions: ['eu-*', 'westeurope'] },
        { name: 'hk-bulk', classes: ['bulk'], dst_prefixes: ['10.40.0.0/16'], regions: ['cn-*'] },
      ],
    };
    const path = join(work, file);
    writeFileSync(path, stringify(doc));
    return path;
  };

  it('proves, refutes or finds no traffic per rule, in every output; a violated rule fails --min-score', async () => {
    const url = requireService('clickhouse');
    const database = uniqueName('residency');
    const store = createStore({ kind: 'server', url, path: '', database });
    await store.start();
    try {
      await migrate(store);
      const now = Date.now();
      const flow = (i: number, site: string, dst_site: string, link: string, cls: string, bytes: number) =>
        flowRecord.toRow({
          time_received: now - (10 + i) * 60_000,
          exporter: '127.0.1.1',
          format: 'ipfix',
          domain_id: 1,
          sequence: i,
          sampling_rate: 1,
          src_addr: '10.50.0.1',
          dst_addr: '10.11.0.1',
          protocol: 6,
          bytes,
          packets: 1000,
          site,
          dst_site,
          link,
          class: cls,
        });
      await store.insert('flows_raw', [
        flow(0, 'onprem-fra', 'aws-euc1', 'fra-euc1-dx', 'realtime', 4e9),
        flow(1, 'onprem-nyc', 'aws-euc1', 'nyc-use1-dx', 'realtime', 1e9),
        flow(2, 'onprem-fra', 'azure-weu', 'fra-weu-er', 'bulk', 2e9),
      ]);
    } finally {
      await store.stop();
    }
    const withStore = configWith({ kind: 'server', url, database }, 'residency.yaml');
    const out = join(work, 'residency');
    const c = captureOutput();
    expect(await run(['report', '-c', withStore, '-o', out])).toBe(0);
    const printed = c.out.join('');
    expect(printed).toContain(
      'residency euc1-realtime: violated, 1.0 GB of 5.0 GB outside eu-* (us-east from onprem-nyc on nyc-use1-dx, realtime 1.0 GB; us-east-1 from onprem-nyc on nyc-use1-dx, realtime 1.0 GB)\n',
    );
    expect(printed).toContain('residency weu-bulk: proven, 2.0 GB in eu-central, westeurope\n');
    expect(printed).toContain('residency hk-bulk: no-traffic, nothing bound to it in the last 24 h\n');

    const report = JSON.parse(readFileSync(join(out, 'compliance.json'), 'utf8')) as ComplianceReport;
    expect(report.residency!.rules.map((p) => [p.rule, p.verdict, p.bytes_inside, p.bytes_outside])).toEqual([
      ['euc1-realtime', 'violated', 4e9, 1e9],
      ['weu-bulk', 'proven', 2e9, 0],
      ['hk-bulk', 'no-traffic', 0, 0],
    ]);
    expect(Date.parse(report.residency!.to) - Date.parse(report.residency!.from)).toBeGreaterThanOrEqual(24 * 3_600_000);
    const csv = readFileSync(join(out, 'compliance.csv'), 'utf8');
    expect(csv).toContain(
      'onprem-nyc,RESIDENCY:euc1-realtime,Data residency: traffic stays in eu-*,,violated,link nyc-use1-dx → region us-east,class realtime: 1000000000 bytes left the allowed regions,,,,\n',
    );
    expect(readFileSync(join(out, 'compliance.html'), 'utf8')).toContain('<h3>euc1-realtime: violated</h3>');

    // The gate: any score passes --min-score 0, the violated rule does not.
    captureOutput();
    expect(await run(['report', '-c', withStore, '-o', join(work, 'residency-gate'), '--min-score', '0'])).toBe(1);
    // --residency-hours 0: no proof, the report as without rules.
    captureOutput();
    const off = join(work, 'residency-off');
    expect(await run(['report', '-c', withStore, '-o', off, '--residency-hours', '0', '--min-score', '0'])).toBe(0);
    expect(JSON.parse(readFileSync(join(off, 'compliance.json'), 'utf8'))).not.toHaveProperty('residency');
  });

  it('a store that cannot be read leaves the rules unproven with the reason, and the report is still written', async () => {
    const saved = process.env['CLICKHOUSE_URL'];
    delete process.env['CLICKHOUSE_URL'];
    try {
      const unreachable = configWith({ kind: 'server', url: 'http://127.0.0.1:1', database: 'pathpilot' }, 'down.yaml');
      const out = join(work, 'residency-down');
      const c = captureOutput();
      expect(await run(['report', '-c', unreachable, '-o', out])).toBe(0);
      expect(c.out.join('')).toMatch(/^residency: could not read the flow data: .*ECONNREFUSED/m);
      const report = JSON.parse(readFileSync(join(out, 'compliance.json'), 'utf8')) as ComplianceReport;
      expect(report.residency).toMatchObject({ rules: [], error: expect.stringMatching(/ECONNREFUSED/) });
      expect(readFileSync(join(out, 'compliance.csv'), 'utf8')).toMatch(/^,RESIDENCY,Data residency,,error,,could not read/m);
    } finally {
      if (saved !== undefined) process.env['CLICKHOUSE_URL'] = saved;
    }
  });
});

describe("the actuator's compliance watch", () => {
  it('scores every site router at start and on each pass, on the gauges and in its view; a lost router drops its series', async () => {
    const rig = await startLab(testRoot());
    const queue = new MemoryQueue();
    await queue.start();
    const registry = createRegistry();
    const actuator = createActuator(
      { root: testRoot(), queue, clock: new RealClock(), routerFor: rig.routerFor, env: {}, registry },
      { gitops_dir: '' },
    );
    try {
      await actuator.start();
      // The first pass runs at start.
      await expect.poll(() => actuator.service.compliance().checked_at, { timeout: 10_000 }).not.toBeNull();
      rig.lab.router('onprem-nyc').applyCommands(["set firewall ipv4 forward filter rule 7 action 'accept'"]);
      const view = await actuator.service.checkCompliance();
      // Every site is checked; the sites the rig runs no router for are reported unread, not dropped.
      expect(view.routers.filter((r) => r.score !== null).map((r) => r.router)).toEqual(['aws-use1', 'onprem-fra', 'onprem-nyc']);
      expect(view.routers.filter((r) => r.score === null).every((r) => /no router for site/.test(r.error!))).toBe(true);
      const m = await metricValues(registry);
      const nyc = view.routers.find((r) => r.router === 'onprem-nyc')!;
      expect(m['pathpilot_compliance_score{router="onprem-nyc"}']).toBe(nyc.score);
      expect(m['pathpilot_compliance_rule_failing{router="onprem-nyc",rule="PP-FW-1",severity="high"}']).toBe(1);
      expect(m['pathpilot_compliance_rule_failing{router="onprem-fra",rule="PP-FW-1",severity="high"}']).toBe(0);
      // n/a rules have no series: the lab's routers run no SSH.
      expect(m['pathpilot_compliance_rule_failing{router="onprem-fra",rule="PP-SSH-1",severity="high"}']).toBeUndefined();
      // A router that stops answering loses its score instead of keeping a stale one.
      rig.lab.router('aws-use1').faults.set({ fail5xx: 100 });
      const again = await actuator.service.checkCompliance();
      expect(again.routers.find((r) => r.router === 'aws-use1')).toMatchObject({ score: null });
      const m2 = await metricValues(registry);
      expect(m2['pathpilot_compliance_score{router="aws-use1"}']).toBeUndefined();
      expect(m2['pathpilot_compliance_rule_failing{router="aws-use1",rule="PP-FW-2",severity="high"}']).toBeUndefined();
      expect(m2['pathpilot_compliance_score{router="onprem-nyc"}']).toBe(nyc.score);
    } finally {
      await actuator.stop();
      await queue.stop();
      await rig.stop();
    }
  });
});
