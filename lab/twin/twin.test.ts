import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { RealClock, SimulatedClock } from '../../core/clock.ts';
import { createRegistry, metricValues } from '../../core/metrics.ts';
import { exampleConfigPath, loadConfig } from '../../core/config/index.ts';
import { ConfigError } from '../../core/errors.ts';
import { flowRecord, ifaceRecord, probeRecord } from '../../core/records/index.ts';
import { createTwin, FOCUS_COLUMNS, parseRate, parseScenario, readRouterRouting, type TwinRouter } from './index.ts';
import { measuredRegionOf, regionEgressPrice, regionRtt } from './regions.ts';
import type { ConfigJson } from '../vyos/index.ts';
import { importFile } from '../../ingest/billing/index.ts';
import type { CostRecord } from '../../core/records/index.ts';

const root = loadConfig(exampleConfigPath, {}).root;
const START = Date.UTC(2026, 0, 5);

/** A router whose running config is a JSON tree (showConfig semantics: children of the path, throw when empty). */
function fakeRouter(tree: ConfigJson, image?: string): TwinRouter & { set(t: ConfigJson): void } {
  let cfg = tree;
  const listeners: (() => void)[] = [];
  return {
    ...(image !== undefined ? { image } : {}),
    showConfig(path = []) {
      let node: ConfigJson | string | string[] | undefined = cfg;
      for (const k of path) node = node && typeof node === 'object' && !Array.isArray(node) ? node[k] : undefined;
      if (!node || typeof node !== 'object' || Array.isArray(node))
        throw new Error('Configuration under specified path is empty');
      return node;
    },
    onCommit(l) {
      listeners.push(l);
      return () => undefined;
    },
    set(t) {
      cfg = t;
      for (const l of listeners) l();
    },
  };
}

/** `load-balancing wan interface-health` for each interface (with the nexthop that makes it active). */
function wanHealth(...ifaces: string[]): ConfigJson {
  return Object.fromEntries(ifaces.map((i) => [i, { nexthop: '192.0.2.1', test: { '10': { type: 'ping' } } }]));
}

async function runDigest(seed: number, ticks: number) {
  const hash = createHash('sha256');
  const clock = new SimulatedClock(START);
  const twin = createTwin(
    {
      clock,
      config: root,
      sinks: {
        onProbe: (r) => void hash.update(JSON.stringify(r)),
        onIface: (r) => void hash.update(JSON.stringify(r)),
        onFlowDatagram: (d, ex) => void hash.update(ex).update(d),
      },
    },
    { scenario: 'degradation-and-failover', seed, billing: { enabled: false } },
  );
  await twin.runFor(ticks * 60_000);
  hash.update(JSON.stringify(twin.state()));
  return hash.digest('hex');
}

describe('twin determinism', () => {
  it('same seed → identical probes, counters, datagrams and state; another seed differs', async () => {
    const a = await runDigest(5, 180);
    const b = await runDigest(5, 180);
    const c = await runDigest(6, 180);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});

describe('real figures', () => {
  it('takes link RTTs from the measured table and places Alibaba Hong Kong at aws:ap-east-1', () => {
    const hk = root.sites.find((s) => s.id === 'ali-hk')!;
    expect(measuredRegionOf(hk)).toBe('aws:ap-east-1');
    expect(regionRtt('aws:us-east-1', 'aws:eu-central-1').avg).toBeCloseTo(89.8, 0);
    const twin = createTwin({ clock: new SimulatedClock(START), config: root }, { billing: { enabled: false } });
    const wg = twin.engine.linkDirs.find((l) => l.link === 'use1-euc1-wg')!;
    const dx = twin.engine.linkDirs.find((l) => l.link === 'nyc-use1-dx')!;
    expect(wg.baseRttMs).toBeGreaterThan(89);
    expect(wg.baseRttMs).toBeLessThan(92);
    expect(dx.baseRttMs).toBeLessThan(3);
  });
});

describe('routing from router config', () => {
  const lbTree = (wEr: number, wVpn: number): ConfigJson => ({
    'load-balancing': {
      wan: {
        'interface-health': wanHealth('eth2', 'vti2'),
        rule: {
          '10': {
            'inbound-interface': 'eth0',
            destination: { address: '10.30.0.0/16' },
            interface: { eth2: { weight: String(wEr) }, vti2: { weight: String(wVpn) } },
          },
        },
      },
    },
  });

  it('splits a pair over paths in proportion to the WAN load-balancing weights, and follows a commit', async () => {
    const router = fakeRouter(lbTree(3, 1));
    const clock = new SimulatedClock(START);
    const twin = createTwin({ clock, config: root, routers: new Map([['onprem-fra', router]]) }, { billing: { enabled: false } });
    await twin.runFor(5 * 60_000);
    let s = twin.state();
    expect(s.paths['onprem-fra.azure-weu.1']!.share.bulk).toBeCloseTo(0.75, 6);
    expect(s.paths['onprem-fra.azure-weu.2']!.share.bulk).toBeCloseTo(0.25, 6);
    const ratio = s.paths['onprem-fra.azure-weu.1']!.mbps / s.paths['onprem-fra.azure-weu.2']!.mbps;
    expect(ratio).toBeCloseTo(3, 3);
    router.set(lbTree(1, 4));
    await twin.runFor(60_000);
    s = twin.state();
    expect(s.paths['onprem-fra.azure-weu.1']!.share.bulk).toBeCloseTo(0.2, 6);
    expect(s.paths['onprem-fra.azure-weu.2']!.share.interactive).toBeCloseTo(0.8, 6);
    // Other pairs of the site, with no matching rule, stay on their primary path.
    expect(s.paths['onprem-fra.aws-euc1.1']!.share.bulk).toBe(1);
  });

  it('pins a class through a DSCP policy route to a table whose next hop is a backup link', async () => {
    const tree: ConfigJson = {
      policy: { route: { PIN: { interface: 'eth0', rule: { '10': { dscp: ['46', '34', '36'], set: { table: '20' } } } } } },
      protocols: { static: { table: { '20': { route: { '10.30.0.0/16': { 'next-hop': { '172.16.2.2': {} } } } } } } },
    };
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root, routers: new Map([['onprem-fra', fakeRouter(tree)]]) },
      { billing: { enabled: false } },
    );
    await twin.runFor(60_000);
    const s = twin.state();
    expect(s.paths['onprem-fra.azure-weu.2']!.share.realtime).toBe(1);
    expect(s.paths['onprem-fra.azure-weu.1']!.share.bulk).toBe(1);
  });

  it('caps a class with a QoS shaper: excess is dropped and counted as loss', async () => {
    const tree: ConfigJson = {
      qos: {
        interface: { eth2: { egress: 'WAN' } },
        policy: {
          shaper: {
            WAN: {
              bandwidth: '5gbit',
              class: { '10': { bandwidth: '1mbit', match: { bulk: { ip: { dscp: '0' } } } } },
              default: { bandwidth: '50%' },
            },
          },
        },
      },
    };
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root, routers: new Map([['onprem-fra', fakeRouter(tree)]]) },
      { billing: { enabled: false } },
    );
    await twin.runFor(60_000);
    const q = twin.state().paths['onprem-fra.azure-weu.1']!.quality;
    expect(q.bulk!.loss).toBeGreaterThan(0.9);
    expect(q.realtime!.loss).toBeLessThan(0.001);
  });

  it('parses VyOS rates and ignores unrelated config', () => {
    expect(parseRate('100mbit', 1e9)).toBe(1e8);
    expect(parseRate('500', 1e9)).toBe(5e5);
    expect(parseRate('25%', 1e9)).toBe(2.5e8);
    expect(parseRate('auto', 1e9)).toBe(1e9);
    expect(parseRate('fast', 1e9)).toBeUndefined();
    const r = readRouterRouting(
      () => {
        throw new Error('Configuration under specified path is empty');
      },
      () => 1e9,
      '1.4',
    );
    expect(r.lbRules).toHaveLength(0);
    expect(() =>
      readRouterRouting(
        () => {
          throw new Error('connection refused');
        },
        () => 1e9,
        '1.4',
      ),
    ).toThrow('connection refused');
  });
});

describe('router truth: the twin routes and shapes by the effective dataplane (issue 14)', () => {
  const ER = 'onprem-fra.azure-weu.1'; // first hop fra-weu-er, onprem-fra eth2
  const VPN = 'onprem-fra.azure-weu.2'; // first hop fra-weu-vpn, onprem-fra vti2

  /** The example config with onprem-fra's router on another VyOS version. */
  function withFraVersion(version: '1.4' | '1.5') {
    const cfg = structuredClone(root);
    cfg.sites.find((x) => x.id === 'onprem-fra')!.router.vyos_version = version;
    return cfg;
  }

  async function runFra(tree: ConfigJson, opts: { version?: '1.4' | '1.5'; image?: string } = {}) {
    const config = opts.version ? withFraVersion(opts.version) : root;
    const twin = createTwin(
      { clock: new SimulatedClock(START), config, routers: new Map([['onprem-fra', fakeRouter(tree, opts.image)]]) },
      { scenario: 'steady', flow: { enabled: false }, billing: { enabled: false } },
    );
    await twin.runFor(10 * 60_000);
    return twin.state();
  }

  const shaper = (policy: ConfigJson): ConfigJson => ({
    qos: { interface: { eth2: { egress: 'WAN' } }, policy: { shaper: { WAN: policy } } },
  });

  it('a bandwidth-only shaper runs the link at the default class’s 10 %, ceiling or not', async () => {
    const capped = await runFra(shaper({ bandwidth: '500mbit', default: { bandwidth: '10%', ceiling: '100%' } }));
    const open = await runFra(shaper({ bandwidth: '500mbit', default: { bandwidth: '100%' } }));
    const cappedEr = capped.links['fra-weu-er']!.a_to_b;
    const openEr = open.links['fra-weu-er']!.a_to_b;
    // More than 50 Mbit/s is offered; with no ceiling only 50 Mbit/s (10 % of 500) leaves.
    expect(openEr.offered_mbps).toBeGreaterThan(60);
    expect(cappedEr.mbps).toBeLessThanOrEqual(50.5);
    expect(cappedEr.loss).toBeGreaterThan(0.05);
    expect(capped.paths[ER]!.quality.realtime!.loss).toBeGreaterThan(0.05);
    // Default 100 %: the interface runs at the shaper's bandwidth and nothing is dropped.
    expect(openEr.mbps).toBeCloseTo(openEr.offered_mbps, 0);
    expect(open.paths[ER]!.quality.realtime!.loss).toBeLessThan(0.001);
  });

  const realtimeClass = shaper({
    bandwidth: '1000mbit',
    class: { '10': { bandwidth: '50%', ceiling: '100%', match: { rt: { ip: { dscp: '46' } } } } },
    default: { bandwidth: '1mbit' },
  });

  it('numeric DSCP 46 on 1.4 shapes the wrong packets: realtime falls into the 1 Mbit/s default', async () => {
    const on14 = await runFra(realtimeClass, { version: '1.4' });
    const on15 = await runFra(realtimeClass, { version: '1.5' });
    expect(on14.paths[ER]!.quality.realtime!.loss).toBeGreaterThan(0.9);
    expect(on15.paths[ER]!.quality.realtime!.loss).toBeLessThan(0.001);
    // Bulk is in the default class on both: capped at 1 Mbit/s.
    expect(on15.paths[ER]!.quality.bulk!.loss).toBeGreaterThan(0.9);
  });

  it('a 1.5 image built before 2025-01-13 compares the TOS byte like 1.4; the name EF is right on both', async () => {
    const old15 = await runFra(realtimeClass, { version: '1.5', image: '1.5-rolling-202412100007' });
    expect(old15.paths[ER]!.quality.realtime!.loss).toBeGreaterThan(0.9);
    const named = shaper({
      bandwidth: '1000mbit',
      class: { '10': { bandwidth: '50%', ceiling: '100%', match: { rt: { ip: { dscp: 'EF' } } } } },
      default: { bandwidth: '1mbit' },
    });
    expect((await runFra(named, { version: '1.4' })).paths[ER]!.quality.realtime!.loss).toBeLessThan(0.001);
  });

  const wan = (rules: ConfigJson, health: string[]): ConfigJson => ({
    'load-balancing': { wan: { 'interface-health': wanHealth(...health), rule: rules } },
  });
  const toWeu = (iface: string, weight = 1): ConfigJson => ({
    destination: { address: '10.30.0.0/16' },
    interface: { [iface]: { weight: String(weight) } },
  });

  it('a weight on an interface without interface-health moves nothing', async () => {
    const inactive = await runFra(wan({ '10': toWeu('vti2') }, []));
    expect(inactive.paths[VPN]!.share.bulk).toBe(0);
    expect(inactive.paths[ER]!.share.bulk).toBe(1);
    const active = await runFra(wan({ '10': toWeu('vti2') }, ['vti2']));
    expect(active.paths[VPN]!.share.bulk).toBe(1);
  });

  it('a rule numbered after a catch-all is shadowed and never matches', async () => {
    const catchAll = { interface: { eth2: { weight: '1' } } };
    const shadowed = await runFra(wan({ '10': catchAll, '20': toWeu('vti2') }, ['eth2', 'vti2']));
    expect(shadowed.paths[VPN]!.share.bulk).toBe(0);
    const ordered = await runFra(wan({ '5': toWeu('vti2'), '10': catchAll }, ['eth2', 'vti2']));
    expect(ordered.paths[VPN]!.share.bulk).toBe(1);
  });

  it('on a pin/WAN mark conflict the twin does not assume the pin wins', async () => {
    const pin: ConfigJson = {
      policy: { route: { PIN: { interface: 'eth0', rule: { '10': { dscp: ['46'], set: { table: '20' } } } } } },
      protocols: { static: { table: { '20': { route: { '10.30.0.0/16': { 'next-hop': { '172.16.2.2': {} } } } } } } },
    };
    const alone = await runFra(pin);
    expect(alone.paths[VPN]!.share.realtime).toBe(1);
    const contested = await runFra({ ...pin, ...wan({ '10': toWeu('eth2') }, ['eth2']) });
    expect(contested.paths[ER]!.share.realtime).toBe(1);
    expect(contested.paths[VPN]!.share.realtime).toBe(0);
  });

  it('exposes which WAN rules source-NAT their traffic', () => {
    const read = (tree: ConfigJson) =>
      readRouterRouting(
        () => tree,
        () => 1e9,
        '1.4',
      );
    const toNyc = { destination: { address: '10.10.0.0/16' }, interface: { eth2: { weight: '1' } } };
    const rules = { '10': toWeu('eth2'), '20': toNyc, '30': toWeu('eth2') };
    // Rule 30 is shadowed by rule 10: it never carries traffic, so it never SNATs any.
    expect(read(wan(rules, ['eth2'])).snatRules).toEqual([10, 20]);
    const global = wan(rules, ['eth2']);
    (global['load-balancing'] as { wan: ConfigJson }).wan['disable-source-nat'] = {};
    expect(read(global).snatRules).toEqual([]);
  });
});

describe('emitted records', () => {
  it('are valid core records, flows stand for the routed volume, and daily FOCUS files carry the cost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-test-'));
    const probes: unknown[] = [];
    const ifaces: unknown[] = [];
    const flows: unknown[] = [];
    const files: string[] = [];
    const clock = new SimulatedClock(START + 86_400_000 - 30 * 60_000);
    const twin = createTwin(
      {
        clock,
        config: root,
        sinks: {
          onProbe: (r) => void probes.push(...r),
          onIface: (r) => void ifaces.push(...r),
          onFlows: (r) => void flows.push(...r),
          onBillingFile: (f) => void files.push(f),
        },
      },
      { scenario: 'steady', billing: { dir } },
    );
    let intended = 0;
    let demandBytes = 0;
    for (let i = 0; i < 40; i++) {
      await twin.runFor(60_000);
      for (const v of twin.intendedFlowBytes().values()) intended += v;
      for (const bps of twin.engine.demandBps) demandBytes += (bps * 60) / 8;
    }
    expect(probes).toHaveLength(40 * root.paths.length);
    for (const p of probes) expect(probeRecord.check(p).ok).toBe(true);
    for (const r of ifaces) expect(ifaceRecord.check(r).ok).toBe(true);
    let flowBytes = 0;
    for (const f of flows) {
      const c = flowRecord.check(f);
      expect(c.ok).toBe(true);
      if (c.ok) flowBytes += c.record.bytes * c.record.sampling_rate;
    }
    expect(flowBytes).toBe(intended);
    // The flows stand for ≥ 99 % of the demand (shares smaller than one sampled packet are not seen).
    expect(intended / demandBytes).toBeGreaterThan(0.99);
    expect(intended / demandBytes).toBeLessThan(1.0001);
    const gb = twin.state().egress.gb_total;
    expect(gb).toBeGreaterThan(0);
    expect(files).toHaveLength(1);
    const rows = parse(readFileSync(files[0]!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...FOCUS_COLUMNS]);
    const billed = rows.reduce((s, r) => s + Number(r.BilledCost), 0);
    expect(billed).toBeGreaterThan(0);
    expect(rows.every((r) => r.ConsumedUnit === 'GB' && r.ChargeCategory === 'Usage')).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('FOCUS billing files', () => {
  it("import through the ingest/billing FOCUS importer with no bad row, the twin's cost, and real categories", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-focus-'));
    const files: string[] = [];
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root, sinks: { onBillingFile: (f) => void files.push(f) } },
      { scenario: 'steady', flow: { enabled: false }, billing: { dir } },
    );
    await twin.runFor(86_400_000);
    expect(files).toHaveLength(1);
    const records: CostRecord[] = [];
    const summary = await importFile(files[0]!, { onBatch: (b) => void records.push(...b) });
    expect(summary.format).toBe('focus');
    expect(summary.bad).toBe(0);
    expect(summary.imported).toBe(summary.rows);
    const cost = records.reduce((s, r) => s + r.cost, 0);
    expect(cost).toBeCloseTo(twin.state().egress.cost_total, 1);
    const categories = new Set(records.map((r) => `${r.provider}:${r.category}`));
    for (const c of ['aws:interconnect', 'aws:inter-region', 'azure:interconnect', 'gcp:internet-egress'])
      expect(categories).toContain(c);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('scenarios', () => {
  it('loads every built-in scenario and rejects a bad key with its line', async () => {
    for (const scenario of ['steady', 'cost-pressure', 'degradation-and-failover', 'flash-crowd']) {
      expect(() =>
        createTwin({ clock: new SimulatedClock(START), config: root }, { scenario, billing: { enabled: false } }),
      ).not.toThrow();
    }
    expect(() => parseScenario('name: x\ndemand:\n  base_mpbs: 3\n', 'bad.yaml')).toThrow(
      /bad.yaml:3: demand\.base_mpbs: unknown key/,
    );
    // create() does no I/O: an unknown scenario is found when start() reads it.
    const missing = createTwin({ clock: new SimulatedClock(START), config: root }, { scenario: 'nope' });
    await expect(missing.start()).rejects.toThrow(ConfigError);
  });

  it('degradation-and-failover breaks the primary path SLO while the incident lasts, with precursors first', async () => {
    const clock = new SimulatedClock(START);
    const twin = createTwin({ clock, config: root }, { scenario: 'degradation-and-failover', billing: { enabled: false } });
    await twin.runFor(13 * 3_600_000);
    expect(twin.state().slo_violation_minutes['onprem-fra>azure-weu']!.realtime).toBe(0);
    await twin.runFor(50 * 60_000); // into the precursor window (starts 45 min before onset at 14 h)
    expect(twin.state().incidents.some((i) => i.phase === 'precursor' && i.label.includes('fra-weu-er'))).toBe(true);
    await twin.runFor(60 * 60_000);
    const s = twin.state();
    expect(s.paths['onprem-fra.azure-weu.1']!.quality.realtime!.rttP95Ms).toBeGreaterThan(260);
    expect(s.slo_violation_minutes['onprem-fra>azure-weu']!.realtime).toBeGreaterThan(30);
  });
});

describe('built-in scenarios give the optimizer something real to do', () => {
  const lb = (prefix: string, weights: Record<string, number>): ConfigJson => ({
    'load-balancing': {
      wan: {
        'interface-health': wanHealth(...Object.keys(weights)),
        rule: {
          '10': {
            'inbound-interface': 'eth0',
            destination: { address: prefix },
            interface: Object.fromEntries(Object.entries(weights).map(([i, w]) => [i, { weight: String(w) }])),
          },
        },
      },
    },
  });

  it('cost-pressure: moving the heavy pairs to the interconnect backup cuts egress cost without SLO minutes', async () => {
    const run = async (routers?: Map<string, TwinRouter>) => {
      const twin = createTwin(
        { clock: new SimulatedClock(START), config: root, ...(routers ? { routers } : {}) },
        { scenario: 'cost-pressure', flow: { enabled: false }, billing: { enabled: false } },
      );
      await twin.runFor(86_400_000);
      return twin.state();
    };
    const stat = await run();
    const opt = await run(
      new Map([
        // aws-euc1 reaches Azure WEU over fra-euc1-dx (its eth1) then fra-weu-er; and back the same way.
        ['aws-euc1', fakeRouter(lb('10.30.0.0/16', { eth1: 1 }))],
        ['azure-weu', fakeRouter(lb('10.11.0.0/16', { eth1: 1 }))],
      ]),
    );
    expect(opt.paths['aws-euc1.azure-weu.2']!.share.bulk).toBe(1);
    expect(opt.egress.cost_total).toBeLessThan(stat.egress.cost_total * 0.85);
    for (const pair of ['aws-euc1>azure-weu', 'azure-weu>aws-euc1']) {
      for (const cls of ['realtime', 'interactive', 'bulk']) expect(opt.slo_violation_minutes[pair]![cls]).toBe(0);
    }
  });

  it('degradation-and-failover: failing over to the IPsec backup stops the SLO minutes', async () => {
    const router = fakeRouter({});
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root, routers: new Map([['onprem-fra', router]]) },
      { scenario: 'degradation-and-failover', flow: { enabled: false }, billing: { enabled: false } },
    );
    await twin.runFor(14 * 3_600_000 + 30 * 60_000);
    const during = twin.state().slo_violation_minutes['onprem-fra>azure-weu']!.realtime!;
    expect(during).toBeGreaterThanOrEqual(25);
    router.set(lb('10.30.0.0/16', { vti2: 1 }));
    await twin.runFor(3 * 3_600_000);
    const s = twin.state();
    expect(s.paths['onprem-fra.azure-weu.2']!.share.realtime).toBe(1);
    expect(s.slo_violation_minutes['onprem-fra>azure-weu']!.realtime).toBeLessThanOrEqual(during + 1);
    expect(s.paths['onprem-fra.azure-weu.1']!.quality.realtime!.loss).toBeGreaterThan(0.01);
  });

  it('flash-crowd: the surge drives the Hong Kong overlays into congestion (RTT and loss rise with utilization)', async () => {
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root },
      { scenario: 'flash-crowd', flow: { enabled: false }, billing: { enabled: false } },
    );
    await twin.runFor(12 * 3_600_000);
    const calm = twin.state();
    await twin.runFor(90 * 60_000);
    const surge = twin.state();
    const l = (s: typeof calm) => s.links['euc1-hk-wg']!.a_to_b;
    expect(l(surge).utilization).toBeGreaterThan(0.9);
    expect(l(surge).utilization).toBeGreaterThan(l(calm).utilization * 2);
    const q = (s: typeof calm) => s.paths['aws-euc1.ali-hk.1']!.quality.bulk!;
    expect(q(surge).rttAvgMs).toBeGreaterThan(q(calm).rttAvgMs + 5);
    expect(q(surge).loss).toBeGreaterThan(q(calm).loss);
  });
});

describe('component lifecycle', () => {
  it('drive mode advances its own SimulatedClock, counts what it emits, and stops idempotently', async () => {
    const registry = createRegistry();
    const clock = new SimulatedClock(START);
    let probes = 0;
    const twin = createTwin(
      { clock, config: root, registry, sinks: { onProbe: (r) => void (probes += r.length) } },
      { mode: 'drive', flow: { enabled: false }, billing: { enabled: false } },
    );
    await twin.start();
    for (let i = 0; i < 2000 && twin.state().ticks < 120; i++) await new Promise((r) => setTimeout(r, 5));
    await twin.stop();
    await twin.stop();
    const ticks = twin.state().ticks;
    expect(ticks).toBeGreaterThanOrEqual(120);
    expect(clock.now()).toBe(START + ticks * 60_000);
    expect(probes).toBe(ticks * root.paths.length);
    const m = await metricValues(registry);
    expect(m['pathpilot_lab_twin_ticks_total']).toBe(ticks);
    expect(m['pathpilot_lab_twin_emitted_total{kind="probe"}']).toBe(probes);
  });

  it('refuses drive mode on a real clock and a bad collector address', async () => {
    const twin = createTwin({ clock: new RealClock(), config: root }, { mode: 'drive', billing: { enabled: false } });
    await expect(twin.start()).rejects.toThrow(/SimulatedClock/);
    expect(() => createTwin({ clock: new RealClock(), config: root }, { flow: { collector: 'nowhere' } })).toThrow(
      /lab.twin.flow.collector/,
    );
    expect(() => createTwin({ clock: new RealClock(), config: root }, { tick_s: 0 })).toThrow(/lab.twin.tick_s/);
  });
});

describe('follow mode', () => {
  it('catches up tick by tick when the clock jumps ahead', async () => {
    const clock = new SimulatedClock(START);
    const twin = createTwin({ clock, config: root }, { flow: { enabled: false }, billing: { enabled: false } });
    await twin.start();
    await clock.advance(30 * 60_000);
    for (let i = 0; i < 2000 && twin.state().ticks < 30; i++) await new Promise((r) => setTimeout(r, 2));
    expect(twin.state().ticks).toBe(30);
    expect(twin.state().time).toBe(clock.now());
    await twin.stop();
  });
});

describe('scenario files', () => {
  it('a scenario file can bring its own topology, link overrides and incidents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-scn-'));
    const topo = [
      'sites:',
      '  - { id: a, provider: aws, region: us-east-1, prefixes: [10.1.0.0/16] }',
      '  - { id: b, provider: alibaba, region: cn-hongkong, prefixes: [10.2.0.0/16] }',
      'links:',
      '  - { id: ab, kind: wireguard, a: { site: a, interface: wg0, if_index: 5 }, b: { site: b, interface: wg0 }, capacity_mbps: 100, cost_per_gb: 0.1 }',
      'paths:',
      '  - { id: a.b.1, from: a, to: b, links: [ab] }',
      'classes:',
      '  - { id: all, dscp: [0], priority: 1, slo: { rtt_p95_ms: 500, loss_pct: 1, jitter_ms: 50 } }',
    ].join('\n');
    writeFileSync(join(dir, 'topo.yaml'), topo);
    writeFileSync(
      join(dir, 'scn.yaml'),
      [
        'name: tiny',
        'seed: 3',
        'topology: topo.yaml',
        'links: { ab: { cost_per_gb: table, capacity_mbps: 50 } }',
        'demand: { base_mbps: 10, noise: 0 }',
        'incidents:',
        '  - { at_h: 0.5, target: { link: ab }, kind: outage, duration_min: 10, precursor_min: 0 }',
      ].join('\n'),
    );
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root },
      { scenario: join(dir, 'scn.yaml'), billing: { enabled: false } },
    );
    expect(twin.engine.linkDirs[0]!.capacityBps).toBe(50e6);
    // The listed Skyplane price from aws:us-east-1 to aws:ap-east-1 (Hong Kong) replaces the topology's 0.1.
    expect(twin.engine.linkDirs[0]!.costPerGb).toBe(regionEgressPrice('aws:us-east-1', 'aws:ap-east-1'));
    expect(twin.engine.linkDirs[0]!.costPerGb).toBe(0.02);
    await twin.runFor(35 * 60_000);
    expect(twin.state().paths['a.b.1']!.quality.all!.loss).toBe(1);
    // The outage takes down the pair's only path: no routing could meet the SLO for those 5 minutes,
    // so they are infeasible minutes, not violations.
    expect(twin.state().slo_violation_minutes['a>b']!.all).toBe(0);
    expect(twin.state().slo_infeasible_minutes['a>b']!.all).toBe(5);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('path incidents', () => {
  it('an RTT step on one path leaves other paths over the same link alone; a link step hits them all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-inc-'));
    const file = (target: string) => {
      const f = join(dir, `${target.replace(/\W/g, '_')}.yaml`);
      writeFileSync(
        f,
        `name: inc\nseed: 1\ndemand: { noise: 0 }\nincidents:\n  - { at_h: 0, target: ${target}, kind: rtt_step, magnitude: 100, duration_min: 60, precursor_min: 0 }\n`,
      );
      return f;
    };
    const rtt = async (scenario: string) => {
      const twin = createTwin(
        { clock: new SimulatedClock(START), config: root },
        { scenario, flow: { enabled: false }, billing: { enabled: false } },
      );
      await twin.runFor(5 * 60_000);
      const p = twin.state().paths;
      return {
        own: p['onprem-fra.azure-weu.1']!.quality.bulk!.rttAvgMs,
        other: p['onprem-fra.gcp-usc1.1']!.quality.bulk!.rttAvgMs,
      };
    };
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, 'name: plain\nseed: 1\ndemand: { noise: 0 }\n');
    const base = await rtt(plain);
    const onPath = await rtt(file('{ path: onprem-fra.azure-weu.1 }'));
    const onLink = await rtt(file('{ link: fra-weu-er }'));
    expect(onPath.own - base.own).toBeCloseTo(100, 0);
    expect(onPath.other).toBe(base.other);
    expect(onLink.other - base.other).toBeCloseTo(100, 0);
    rmSync(dir, { recursive: true, force: true });
  });
});
