/**
 * The twin against real neighbours: the VyOS emulator over real HTTP (a weight change committed through
 * `/configure` moves the twin's traffic in proportion) and the ingest/flow decoders over real UDP (the
 * twin's IPFIX/NetFlow v9 datagrams, sent from each site's 127.0.1.x exporter address, decode to the
 * volumes the twin intended).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../core/clock.ts';
import { exampleConfigPath, loadConfig, Topology } from '../../../core/config/index.ts';
import { createBus } from '../../../core/bus/index.ts';
import { decodeRecords, ifaceRecord, probeRecord, schemaHeader } from '../../../core/records/index.ts';
import { FlowDecoder } from '../../../ingest/flow/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { busSinks, createTwin, type Twin } from '../../../lab/twin/index.ts';
import { createVyosLab, initialRouterConfig, type VyosLab } from '../../../lab/vyos/index.ts';

const root = loadConfig(exampleConfigPath, {}).root;
const topology = new Topology(root);
const START = Date.UTC(2026, 0, 5, 12);
const KEY = 'twin-functional-key';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function configure(lab: VyosLab, router: string, ops: { op: 'set' | 'delete'; path: string[] }[]): Promise<void> {
  const body = new URLSearchParams({ data: JSON.stringify(ops), key: KEY });
  const res = await fetch(`${lab.urls[router]}/configure`, { method: 'POST', body });
  const env = (await res.json()) as { success: boolean; error: string | null };
  expect(env.error).toBeNull();
  expect(env.success).toBe(true);
}

/** Ticks the twin's own loop (follow mode) by driving the simulated clock, waiting for each tick to finish. */
async function tick(twin: Twin, clock: SimulatedClock, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = twin.state().ticks;
    await clock.advance(twin.config.tick_s * 1000);
    for (let spin = 0; spin < 1000 && twin.state().ticks === before; spin++) await new Promise((r) => setImmediate(r));
    expect(twin.state().ticks).toBe(before + 1);
  }
}

describe('twin + VyOS emulator over HTTP', () => {
  it('a WAN load-balancing weight change on an emulated router shifts simulated traffic in proportion', async () => {
    const clock = new SimulatedClock(START);
    const lab = await createVyosLab({
      clock,
      routers: root.sites.map((s) => ({
        name: s.id,
        version: s.router.vyos_version,
        apiKey: KEY,
        seed: initialRouterConfig(topology, s.id, KEY),
      })),
    });
    cleanups.push(() => lab.stop());
    const twin = createTwin(
      { clock, config: root, routers: lab.routers },
      { scenario: 'steady', flow: { enabled: false }, billing: { enabled: false } },
    );
    await twin.start();
    cleanups.push(() => twin.stop());

    await tick(twin, clock, 3);
    const before = twin.state();
    // The seed config sends everything for Azure West Europe over the primary (ExpressRoute, eth2).
    expect(before.paths['onprem-fra.azure-weu.1']!.share.bulk).toBe(1);
    expect(before.paths['onprem-fra.azure-weu.2']!.mbps).toBe(0);

    // Find the seed's rule for 10.30.0.0/16 and give the IPsec backup (vti2) weight 1 against 3 on eth2.
    const rules = lab.router('onprem-fra').showConfig(['load-balancing', 'wan', 'rule']) as Record<
      string,
      { destination?: { address?: string } }
    >;
    const ruleId = Object.entries(rules).find(([, r]) => r.destination?.address === '10.30.0.0/16')![0];
    const base = ['load-balancing', 'wan', 'rule', ruleId, 'interface'];
    await configure(lab, 'onprem-fra', [
      { op: 'set', path: [...base, 'eth2', 'weight', '3'] },
      { op: 'set', path: [...base, 'vti2', 'weight', '1'] },
    ]);
    await tick(twin, clock, 2);
    const after = twin.state();
    const p1 = after.paths['onprem-fra.azure-weu.1']!;
    const p2 = after.paths['onprem-fra.azure-weu.2']!;
    for (const cls of ['realtime', 'interactive', 'bulk']) {
      expect(p1.share[cls]).toBeCloseTo(0.75, 6);
      expect(p2.share[cls]).toBeCloseTo(0.25, 6);
    }
    expect(p1.mbps / p2.mbps).toBeCloseTo(3, 3);
    // The links carry it: the IPsec tunnel now holds a quarter of the pair's demand.
    const demand = Object.values(after.demand_mbps['onprem-fra>azure-weu']!).reduce((s, x) => s + x, 0);
    expect(after.links['fra-weu-vpn']!.a_to_b.offered_mbps).toBeCloseTo(demand * 0.25, 0);

    // Delete the backup weight again: all traffic returns to the primary.
    await configure(lab, 'onprem-fra', [{ op: 'delete', path: [...base, 'vti2'] }]);
    await tick(twin, clock, 1);
    expect(twin.state().paths['onprem-fra.azure-weu.1']!.share.bulk).toBe(1);
  });
});

describe('twin NetFlow/IPFIX over UDP through the ingest decoders', () => {
  for (const format of ['ipfix', 'netflow9'] as const) {
    it(`${format}: datagrams come from the site exporter addresses and decode to the intended volumes`, async () => {
      const collector: Socket = createSocket('udp4');
      const received: { buf: Buffer; from: string }[] = [];
      collector.on('message', (buf, rinfo) => received.push({ buf, from: rinfo.address }));
      await new Promise<void>((r) => collector.bind(0, '127.0.0.1', () => r()));
      cleanups.push(() => new Promise<void>((r) => collector.close(() => r())));

      const clock = new SimulatedClock(START);
      let sent = 0;
      const twin = createTwin(
        { clock, config: root, sinks: { onFlowDatagram: () => void sent++ } },
        {
          scenario: 'steady',
          flow: { format, sampling_rate: 500, collector: `127.0.0.1:${collector.address().port}` },
          billing: { enabled: false },
        },
      );
      await twin.start();
      cleanups.push(() => twin.stop());

      const intended = new Map<string, number>();
      for (let i = 0; i < 10; i++) {
        await tick(twin, clock, 1);
        for (const [k, v] of twin.intendedFlowBytes()) intended.set(k, (intended.get(k) ?? 0) + v);
      }
      for (let spin = 0; spin < 200 && received.length < sent; spin++) await new Promise((r) => setTimeout(r, 10));
      expect(sent).toBeGreaterThan(10);
      expect(received.length).toBe(sent);

      const exporters = new Set(root.sites.map((s) => s.router.exporter_address));
      const decoder = new FlowDecoder();
      const decoded = new Map<string, number>();
      let errors = 0;
      for (const { buf, from } of received) {
        expect(exporters.has(from)).toBe(true);
        const out = decoder.decode(buf, { exporter: from, receivedAt: clock.now() });
        errors += out.errors.length;
        for (const f of out.flows) {
          expect(f.sampling_rate).toBe(500);
          const src = topology.siteForAddress(f.src_addr)!;
          const dst = topology.siteForAddress(f.dst_addr)!;
          expect(topology.siteForExporter(from)).toBe(src);
          const key = `${src}>${dst}|${topology.classForDscp(f.dscp ?? 0)}`;
          decoded.set(key, (decoded.get(key) ?? 0) + f.bytes); // renormalized by the collector
        }
      }
      expect(errors).toBe(0);
      expect(decoded.size).toBe([...intended.values()].filter((v) => v > 0).length);
      for (const [key, bytes] of intended) {
        if (bytes === 0) continue;
        expect(decoded.get(key), key).toBe(bytes);
      }
    });
  }
});

describe('twin probe and iface records onto Kafka', () => {
  it('publishes valid probe and iface batches that a consumer reads back in full', async () => {
    const brokers = requireService('kafka').split(',');
    const bus = createBus({ kind: 'kafka', brokers });
    await bus.start();
    const topics = { probe: uniqueName('twin_probe'), iface: uniqueName('twin_iface') };
    await bus.ensureTopics([{ topic: topics.probe }, { topic: topics.iface }]);
    cleanups.push(async () => {
      await bus.deleteTopics([topics.probe, topics.iface]);
      await bus.stop();
    });
    const twin = createTwin(
      { clock: new SimulatedClock(START), config: root, sinks: busSinks(bus, { topics }) },
      { scenario: 'steady', flow: { enabled: false }, billing: { enabled: false } },
    );
    await twin.runFor(3 * 60_000);

    const got = { probe: 0, iface: 0, bad: 0, headers: new Set<string>() };
    const sub = await bus.subscribe({
      group: uniqueName('twin_group'),
      topics: [topics.probe, topics.iface],
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) {
          got.headers.add(m.headers[schemaHeader]!);
          const def = batch.topic === topics.probe ? probeRecord : ifaceRecord;
          for (const r of decodeRecords(m.value)) {
            if (!def.check(r).ok) got.bad++;
            else if (def === probeRecord) got.probe++;
            else got.iface++;
          }
        }
      },
    });
    const want = { probe: 3 * root.paths.length, iface: 3 * root.links.length * 2 };
    const deadline = Date.now() + 60_000;
    while ((got.probe < want.probe || got.iface < want.iface) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await sub.stop();
    expect(got.bad).toBe(0);
    expect(got.probe).toBe(want.probe);
    expect(got.iface).toBe(want.iface);
    expect([...got.headers].sort()).toEqual(['iface.v1', 'probe.v1']);
  });
});
