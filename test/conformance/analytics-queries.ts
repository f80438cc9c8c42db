import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/store/types.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { flowRecord, probeRecord, ifaceRecord, costRecord, type FlowRecord, type ProbeRecord } from '../../core/records/index.ts';
import { migrate } from '../../analytics/schema/index.ts';
import { clusterAddresses, throughIngest } from '../../analytics/schema/cluster.ts';
import * as q from '../../analytics/queries/index.ts';
import { proveResidency } from '../../actuator/security/residency-proof.ts';

/**
 * The query library on one target, against data whose answers are computed here in JS. Run on
 * chDB (unit), the ClickHouse server (functional) and a ClickHouse cluster (cluster tier: the schema
 * converged ON CLUSTER `cluster`, the test rows written through the raw tables' ingest entries):
 * same data, same expected answers.
 */
export function queriesConformance(name: string, factory: () => Store, target: { cluster?: string } = {}): void {
  describe(`analytics queries: ${name}`, () => {
    let store: Store;
    const hour = 3_600_000;
    const minute = 60_000;
    // Recent enough that TTL (raw 15 days) never removes the rows during the test.
    const base = Math.floor(Date.now() / hour) * hour - 4 * hour;
    // Billing lines fall in the month before base's (cost TTL is 730 days: a fixed month would expire).
    const baseDate = new Date(base);
    const costDay = (day: number): number => Date.UTC(baseDate.getUTCFullYear(), baseDate.getUTCMonth() - 1, day);
    const costMonthDays = (Date.UTC(baseDate.getUTCFullYear(), baseDate.getUTCMonth(), 1) - costDay(1)) / 86_400_000;
    // On the cluster target nyc and fra land on one shard and hkg on the other (halfMD5(site) % 2).
    const sites = ['nyc', 'fra', 'hkg'];
    const classes = ['gold', 'bronze'];
    const links = ['l1', 'l2', 'l3'];
    const flows: FlowRecord[] = [];
    const probes: ProbeRecord[] = [];

    for (let i = 0; i < 720; i++) {
      flows.push({
        time_received: base + i * 15_000 + (i % 7) * 100,
        exporter: '127.0.1.1',
        format: 'ipfix',
        domain_id: 1,
        sequence: i,
        sampling_rate: i % 3 === 0 ? 100 : 1,
        src_addr: `10.0.0.${i % 5}`,
        dst_addr: `10.1.0.${i % 4}`,
        protocol: 6,
        bytes: 1000 + i,
        packets: 1 + (i % 9),
        site: sites[i % 3],
        dst_site: sites[(i + 1) % 3],
        link: links[i % 3],
        class: classes[i % 2],
      });
    }
    for (const path of ['p1', 'p2']) {
      for (let w = 0; w < 180; w++) {
        const start = base + w * minute;
        probes.push({
          window_start: start,
          window_end: start + 10_000,
          src_site: 'nyc',
          dst_site: 'fra',
          path_id: path,
          class: 'gold',
          sent: 10,
          received: w % 10 === 0 ? 9 : 10,
          loss_ratio: w % 10 === 0 ? 0.1 : 0,
          rtt_min_ms: 1,
          rtt_avg_ms: 10,
          rtt_p50_ms: (path === 'p1' ? 10 : 50) + (w % 10) + (w >= 170 ? 30 : 0),
          rtt_p95_ms: (path === 'p1' ? 20 : 70) + (w % 10),
          rtt_max_ms: 100,
          jitter_ms: 1 + (w % 4),
        });
      }
    }

    const sumBy = <T>(rows: T[], key: (r: T) => string, val: (r: T) => number) => {
      const m = new Map<string, number>();
      for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + val(r));
      return m;
    };
    const inRange = (ts: number, r: { from: number; to: number }) => ts >= r.from && ts < r.to;

    beforeAll(async () => {
      store = target.cluster ? throughIngest(factory()) : factory();
      await store.start();
      await migrate(store, { cluster: target.cluster });
      // Two inserts so rollups hold several parts (merges must not change the answers).
      await store.insert(
        'flows_raw',
        flows.slice(0, 400).map((f) => flowRecord.toRow(f)),
      );
      await store.insert(
        'flows_raw',
        flows.slice(400).map((f) => flowRecord.toRow(f)),
      );
      await store.insert(
        'probes_raw',
        probes.map((p) => probeRecord.toRow(p)),
      );
      const iface = [];
      for (let m = 0; m < 30; m++) {
        for (const [router, link, rate] of [
          ['nyc', 'l1', 1_000_000],
          ['fra', 'l2', 2_500_000],
        ] as const) {
          iface.push(
            ifaceRecord.toRow({
              time: base + m * minute + 30_000,
              router,
              interface: 'eth1',
              link,
              in_octets: m * 10,
              out_octets: 5_000_000 + m * rate * 60,
              speed_bps: 10_000_000_000,
              source: 'twin',
            }),
          );
        }
      }
      await store.insert('iface_raw', iface);
      const cost = (day: number, line: string, amount: number) =>
        costRecord.toRow({
          line_id: line,
          usage_start: costDay(day),
          usage_end: costDay(day + 1),
          provider: 'aws',
          category: 'internet-egress',
          usage_quantity: 10,
          cost: amount,
          currency: 'USD',
          link: 'l1',
          source_format: 'twin',
        });
      const lines = [];
      for (let d = 1; d <= 19; d++) lines.push(cost(d, `line-${d}`, 10));
      await store.insert('costs_raw', lines);
      // Re-import of day 5 with a corrected amount: replaces, never adds.
      await store.insert('costs_raw', [cost(5, 'line-5', 20)]);
    });

    afterAll(async () => {
      await store.exec(
        sql`DROP DATABASE IF EXISTS ${ident(store.database)}${target.cluster ? sql` ON CLUSTER ${ident(target.cluster)}` : sql``}`,
      );
      await store.stop();
    });

    it('rollups agree with raw-table aggregates', async () => {
      const db = ident(store.database);
      const [raw] = await store.query<{ b: number; p: number; n: number }>(
        sql`SELECT sum(bytes) AS b, sum(packets) AS p, count() AS n FROM ${db}.flows_raw`,
      );
      const expected = {
        b: flows.reduce((a, f) => a + f.bytes, 0),
        p: flows.reduce((a, f) => a + f.packets, 0),
        n: 720,
      };
      expect(raw).toEqual(expected);
      for (const table of ['flows_1m', 'flows_1h', 'flows_1d']) {
        const [r] = await store.query<{ b: number; p: number; n: number }>(
          sql`SELECT sum(bytes) AS b, sum(packets) AS p, sum(flows) AS n FROM ${db}.${ident(table)}`,
        );
        expect(r).toEqual(expected);
      }
      const [lu] = await store.query<{ b: number }>(sql`SELECT sum(bytes) AS b FROM ${db}.link_util_1m`);
      expect(lu!.b).toBe(expected.b);
      if (target.cluster) {
        // The answers above came through the Distributed tables from rows on every shard: each shard's
        // replicas hold only the sites that hash to it (nyc and fra on one, hkg on the other).
        const addresses = await clusterAddresses(store, target.cluster);
        const sitesPerNode = async (): Promise<string[]> =>
          Promise.all(
            addresses.map(async (address) => {
              const rows = await store.query<{ site: string }>(
                sql`SELECT DISTINCT site FROM remote(${address}, ${store.database}, flows_raw_local) ORDER BY site`,
              );
              return rows.map((r) => r.site).join(',');
            }),
          );
        // The second replica of each shard fetches the parts in the background: wait (bounded) for it.
        let seen = await sitesPerNode();
        for (let i = 0; i < 40 && seen.includes(''); i++) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          seen = await sitesPerNode();
        }
        expect(seen.sort()).toEqual(['fra,nyc', 'fra,nyc', 'hkg', 'hkg']);
      }
      for (const table of ['probes_1m', 'probes_1h', 'probes_1d']) {
        const [r] = await store.query<{ w: number; s: number; rcv: number }>(
          sql`SELECT countMerge(windows) AS w, sumMerge(sent) AS s, sumMerge(received) AS rcv FROM ${db}.${ident(table)}`,
        );
        expect(r).toEqual({ w: 360, s: 3600, rcv: 3600 - 36 });
      }
    });

    it('path quality per path and class (minute and hour rollups)', async () => {
      for (const range of [
        { from: base + 5 * minute, to: base + 65 * minute },
        { from: base, to: base + 3 * hour },
        { from: base - 3 * 24 * hour - 30 * minute, to: base + 5 * hour },
      ]) {
        const got = await q.pathQuality(store, { range, classes: ['gold'], srcSite: 'nyc', dstSite: 'fra' });
        expect(got.map((g) => g.path_id)).toEqual(['p1', 'p2']);
        for (const g of got) {
          const widened = { from: Math.floor(range.from / minute) * minute, to: range.to };
          const mine = probes.filter(
            (p) =>
              p.path_id === g.path_id &&
              inRange(
                p.window_start,
                range.to - range.from > 2 * 24 * hour ? { from: Math.floor(range.from / hour) * hour, to: range.to } : widened,
              ),
          );
          const sent = mine.reduce((a, p) => a + p.sent, 0);
          const received = mine.reduce((a, p) => a + p.received, 0);
          expect(g.windows).toBe(mine.length);
          expect(g.sent).toBe(sent);
          expect(g.loss_ratio).toBeCloseTo(1 - received / sent, 9);
          expect(g.jitter_ms).toBeCloseTo(mine.reduce((a, p) => a + p.jitter_ms, 0) / mine.length, 9);
          const sorted = mine.map((p) => p.rtt_p50_ms).sort((a, b) => a - b);
          const exact = (level: number) => sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))]!;
          expect(Math.abs(g.rtt_p50_ms - exact(0.5))).toBeLessThanOrEqual(1.5);
          expect(Math.abs(g.rtt_p95_ms - exact(0.95))).toBeLessThanOrEqual(3);
          expect(g.rtt_p99_ms).toBeGreaterThanOrEqual(g.rtt_p95_ms);
          expect(g.rtt_p95_max_ms).toBe(Math.max(...mine.map((p) => p.rtt_p95_ms)));
          expect(g.src_site).toBe('nyc');
        }
      }
      expect(await q.pathQuality(store, { range: { from: base, to: base + hour }, pathIds: ['nope'] })).toEqual([]);
      await expect(q.pathQuality(store, { range: { from: base, to: base } })).rejects.toThrow(/time range/);
    });

    it('traffic matrix equals the raw aggregate (minute and hour resolution)', async () => {
      for (const range of [
        { from: base + 2 * minute, to: base + 90 * minute },
        { from: base, to: base + 4 * hour },
        { from: base - 5 * 24 * hour, to: base + 4 * hour },
      ]) {
        const got = await q.trafficMatrix(store, { range });
        const want = sumBy(
          flows.filter((f) => inRange(Math.floor(f.time_received / minute) * minute, range)),
          (f) => `${f.site}|${f.dst_site}|${f.class}`,
          (f) => f.bytes,
        );
        expect(new Map(got.map((c) => [`${c.src_site}|${c.dst_site}|${c.class}`, c.bytes]))).toEqual(want);
        const seconds = (range.to - range.from) / 1000;
        for (const c of got) expect(c.bps).toBeCloseTo((c.bytes * 8) / seconds, 6);
        expect(got.length).toBe(want.size);
      }
    });

    it('link utilization series from flows and from interface counters', async () => {
      const range = { from: base, to: base + hour };
      const got = await q.linkUtilization(store, { range, stepMs: 5 * minute, links: ['l1', 'l2'] });
      const want = sumBy(
        flows.filter((f) => inRange(f.time_received, range) && (f.link === 'l1' || f.link === 'l2')),
        (f) => `${f.link}|${Math.floor(f.time_received / (5 * minute)) * 5 * minute}`,
        (f) => (f.bytes * 8) / 300,
      );
      const gotMap = new Map(got.map((p) => [`${p.link}|${p.t}`, p.bps]));
      expect([...gotMap.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(gotMap.get(k)).toBeCloseTo(v, 6);

      const counters = await q.linkUtilization(store, { range: { from: base, to: base + 30 * minute }, source: 'iface' });
      expect(counters.length).toBe(2 * 29);
      for (const p of counters) expect(p.bps).toBeCloseTo(p.link === 'l1' ? 8_000_000 : 20_000_000, 3);
      expect(new Set(counters.map((p) => p.router))).toEqual(new Set(['nyc', 'fra']));
    });

    it('cost per GB and month-to-date spend with projection (re-imported lines replace)', async () => {
      const spend = await q.monthToDateSpend(store, { now: costDay(20) });
      expect(spend).toHaveLength(1);
      expect(spend[0]).toMatchObject({ provider: 'aws', link: 'l1', currency: 'USD' });
      expect(spend[0]!.month_to_date).toBeCloseTo(19 * 10 + 10, 9);
      expect(spend[0]!.projected).toBeCloseTo((200 * costMonthDays) / 19, 6);

      const range = { from: costDay(1), to: costDay(3) };
      const costs = await q.costPerGb(store, { range });
      expect(costs).toEqual([{ provider: 'aws', link: 'l1', currency: 'USD', cost: 20, gb: 0, cost_per_gb: null }]);
      const day = 86_400_000;
      const now = { from: Math.floor(base / day) * day, to: Math.floor(base / day) * day + day };
      await store.insert('costs_raw', [
        costRecord.toRow({
          line_id: 'today',
          usage_start: now.from,
          usage_end: now.to,
          provider: 'aws',
          category: 'inter-region',
          usage_quantity: 1,
          cost: 3,
          currency: 'USD',
          link: 'l1',
          source_format: 'twin',
        }),
      ]);
      const gb = flows.filter((f) => f.link === 'l1' && inRange(f.time_received, now)).reduce((a, f) => a + f.bytes, 0) / 1e9;
      const today = await q.costPerGb(store, { range: { from: now.from, to: now.to } });
      expect(today).toHaveLength(1);
      expect(today[0]!.gb).toBeCloseTo(gb, 12);
      expect(today[0]!.cost_per_gb).toBeCloseTo(3 / gb, 6);
    });

    it('top talkers by source and destination', async () => {
      const range = { from: base, to: base + 4 * hour };
      for (const by of ['src_addr', 'dst_addr'] as const) {
        const got = await q.topTalkers(store, { range, by, limit: 3 });
        const want = [
          ...sumBy(
            flows,
            (f) => f[by],
            (f) => f.bytes,
          ).entries(),
        ]
          .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
          .slice(0, 3);
        expect(got.map((x) => [x.addr, x.bytes])).toEqual(want);
      }
      const onLink = await q.topTalkers(store, { range, by: 'src_addr', link: 'l3', limit: 100 });
      expect(onLink.reduce((a, x) => a + x.flows, 0)).toBe(240);
    });

    it('compares a current window with a baseline for the SLO guard', async () => {
      const cmp = await q.compareWindows(store, {
        pathIds: ['p1'],
        class: 'gold',
        current: { from: base + 170 * minute, to: base + 180 * minute },
        baseline: { from: base + 100 * minute, to: base + 170 * minute },
      });
      expect(cmp.current!.windows).toBe(10);
      expect(cmp.baseline!.windows).toBe(70);
      expect(cmp.current!.rtt_p50_ms).toBe(45);
      expect(cmp.baseline!.rtt_p50_ms).toBe(15);
      expect(cmp.change!.rtt_p50).toBeCloseTo(2, 9);
      expect(cmp.current!.loss_ratio).toBeCloseTo(0.01, 9);
      const empty = await q.compareWindows(store, {
        pathIds: ['p1'],
        current: { from: base - 2 * hour, to: base - hour },
        baseline: { from: base, to: base + hour },
      });
      expect(empty.current).toBeNull();
      expect(empty.change).toBeNull();
      // The baseline of other paths (where the traffic went before a change): p2's own windows, not p1's.
      const range = { from: base + 100 * minute, to: base + 170 * minute };
      const moved = await q.compareWindows(store, {
        pathIds: ['p1'],
        baselinePathIds: ['p2'],
        class: 'gold',
        current: range,
        baseline: range,
      });
      const p2 = await q.compareWindows(store, { pathIds: ['p2'], class: 'gold', current: range, baseline: range });
      const p1 = await q.compareWindows(store, { pathIds: ['p1'], class: 'gold', current: range, baseline: range });
      expect(moved.baseline).toEqual(p2.current);
      expect(moved.current).toEqual(p1.current);
      expect(moved.baseline).not.toEqual(moved.current);
    });

    it("gives every path's window quality at once, per class and over every class", async () => {
      const range = { from: base + 170 * minute, to: base + 180 * minute };
      const all = await q.windowQualityByPath(store, range);
      const one = await q.compareWindows(store, { pathIds: ['p1'], class: 'gold', current: range, baseline: range });
      expect(all.get('p1|gold')).toEqual(one.current);
      const any = await q.compareWindows(store, { pathIds: ['p1'], current: range, baseline: range });
      expect(all.get('p1|*')).toEqual(any.current);
      expect((await q.windowQualityByPath(store, { from: base - 2 * hour, to: base - hour })).size).toBe(0);
    });

    it('gives what the realized effect is measured from: first-hop volumes, per-minute traffic and probe quality', async () => {
      const key = (f: FlowRecord) => `${f.site}|${f.dst_site}|${f.link}|${f.class}`;
      for (const range of [
        { from: base + 5 * minute + 20_000, to: base + 65 * minute },
        { from: base, to: base + 3 * hour },
      ]) {
        const got = await q.trafficByFirstHop(store, { range });
        const read = q.pickResolution(range);
        expect([got.from, got.to]).toEqual([read.from, read.to]);
        const expected = sumBy(
          flows.filter((f) => inRange(f.time_received, read)),
          key,
          (f) => f.bytes,
        );
        expect(new Map(got.rows.map((r) => [`${r.src_site}|${r.dst_site}|${r.link}|${r.class}`, r.bytes]))).toEqual(expected);
      }

      const range = { from: base + 10 * minute, to: base + 40 * minute };
      const minutes = await q.firstHopMinutes(store, { range, sites: ['nyc', 'fra'], classes: ['gold'] });
      const mine = flows.filter(
        (f) =>
          inRange(f.time_received, range) &&
          ['nyc', 'fra'].includes(f.site ?? '') &&
          ['nyc', 'fra'].includes(f.dst_site ?? '') &&
          f.class === 'gold',
      );
      expect(mine.length).toBeGreaterThan(0);
      expect(new Map(minutes.map((m) => [`${m.t}|${m.src_site}|${m.dst_site}|${m.class}|${m.link}`, m.bytes]))).toEqual(
        sumBy(
          mine,
          (f) => `${Math.floor(f.time_received / minute) * minute}|${f.site}|${f.dst_site}|gold|${f.link}`,
          (f) => f.bytes,
        ),
      );
      expect(await q.firstHopMinutes(store, { range, sites: [], classes: ['gold'] })).toEqual([]);

      const quality = await q.pathQualityByMinute(store, {
        range: { from: base + 165 * minute, to: base + 175 * minute },
        pathIds: ['p1'],
      });
      expect(quality).toHaveLength(10);
      for (const m of quality) {
        const p = probes.find((x) => x.path_id === 'p1' && x.window_start === m.t)!;
        expect(m).toEqual({
          t: p.window_start,
          path_id: 'p1',
          class: 'gold',
          rtt_p95_max_ms: p.rtt_p95_ms,
          loss_ratio: 1 - p.received / p.sent,
          jitter_ms: p.jitter_ms,
          windows: 1,
          sent: p.sent,
        });
      }
      // Bounded: a week of minutes at most.
      await expect(
        q.pathQualityByMinute(store, { range: { from: base - 8 * 24 * hour, to: base }, pathIds: ['p1'] }),
      ).rejects.toThrow(/too long/);
    });

    it("proves data residency from the first-hop volumes per class (the compliance report's proof)", async () => {
      // The test flows go nyc → fra on l1, fra → hkg on l2, hkg → nyc on l3, half of them gold.
      const root = {
        sites: [
          { id: 'nyc', region: 'us-east', prefixes: ['10.0.0.0/16'] },
          { id: 'fra', region: 'eu-central', prefixes: ['10.1.0.0/16'] },
          { id: 'hkg', region: 'ap-east', prefixes: ['10.2.0.0/16'] },
        ],
        links: [
          { id: 'l1', a: { site: 'nyc' }, b: { site: 'fra' } },
          { id: 'l2', a: { site: 'fra' }, b: { site: 'hkg' } },
          { id: 'l3', a: { site: 'hkg' }, b: { site: 'nyc' } },
        ],
        policy: {
          residency: [
            { name: 'gold-to-fra', classes: ['gold'], dst_prefixes: ['10.1.0.0/16'], regions: ['us-*', 'eu-*'] },
            { name: 'gold-in-eu', classes: ['gold'], dst_prefixes: [], regions: ['eu-*'] },
          ],
        },
      };
      const range = { from: base, to: base + 3 * hour };
      const gold = sumBy(
        flows.filter((f) => inRange(f.time_received, range) && f.class === 'gold'),
        (f) => f.site!,
        (f) => f.bytes,
      );
      const [toFra, inEu] = proveResidency(root, (await q.trafficByFirstHop(store, { range })).rows);
      expect(toFra).toMatchObject({ verdict: 'proven', bytes_inside: gold.get('nyc'), bytes_outside: 0 });
      expect(inEu).toMatchObject({
        verdict: 'violated',
        bytes_inside: 0,
        bytes_outside: gold.get('nyc')! + gold.get('fra')! + gold.get('hkg')!,
      });
      expect(new Map(inEu!.breaches.map((b) => [`${b.class}|${b.src_site}|${b.link}|${b.region}`, b.bytes]))).toEqual(
        new Map([
          ['gold|nyc|l1|us-east', gold.get('nyc')],
          ['gold|fra|l2|ap-east', gold.get('fra')],
          ['gold|hkg|l3|ap-east', gold.get('hkg')],
          ['gold|hkg|l3|us-east', gold.get('hkg')],
        ]),
      );
    });

    it('writes and reads forecasts, proposals, models and the audit trail', async () => {
      const made1 = base;
      const made2 = base + hour;
      const point = (made_at: number, t: number, value: number) => ({
        made_at,
        model: 'gru',
        model_version: 'v1',
        metric: 'link_bps',
        target: 'l1',
        t,
        value,
        lo: value - 1,
        hi: value + 1,
      });
      await q.writeForecasts(store, [
        point(made1, base + 2 * hour, 1),
        point(made2, base + 2 * hour, 2),
        point(made2, base + 3 * hour, 3),
      ]);
      const latest = await q.latestForecast(store, { metric: 'link_bps', targets: ['l1'] });
      expect(latest.map((p) => [p.made_at, p.t, p.value])).toEqual([
        [made2, base + 2 * hour, 2],
        [made2, base + 3 * hour, 3],
      ]);

      const proposal = {
        id: 'prop-1',
        created_at: base,
        kind: 'path-weights' as const,
        reason: "move 'gold' off l2",
        inputs: { model_versions: {}, horizon_min: 60 },
        intents: [
          { kind: 'path-weights' as const, router: 'nyc', pair: { from: 'nyc', to: 'fra' }, class: 'gold', weights: { l1: 1 } },
        ],
        predicted: { cost_per_day: 1, rtt_p95_ms: {}, max_utilization: 0.5, slo_risk: 0.1 },
        risk: 'low' as const,
        emergency: false,
        scope: [],
        status: 'proposed' as const,
        history: [],
      };
      await q.saveProposal(store, proposal as never, base);
      await q.saveProposal(store, { ...proposal, status: 'approved' } as never, base + minute);
      const props = await q.readProposals(store, { ids: ['prop-1'] });
      expect(props).toHaveLength(1);
      expect(props[0]!.status).toBe('approved');
      expect(props[0]!.reason).toBe("move 'gold' off l2");
      expect(await q.readProposals(store, { statuses: ['proposed'] })).toEqual([]);

      await q.saveModel(store, {
        name: 'traffic',
        version: 'v1',
        created_at: base,
        kind: 'gru',
        status: 'active',
        metrics: { mape: 0.1 },
        artifact: 'x',
      });
      await q.saveModel(store, {
        name: 'traffic',
        version: 'v2',
        created_at: base + hour,
        kind: 'gru',
        status: 'candidate',
        metrics: { mape: 0.2 },
        artifact: 'y',
      });
      expect((await q.latestModel(store, 'traffic'))!.version).toBe('v2');
      expect((await q.latestModel(store, 'traffic', 'active'))!.metrics).toEqual({ mape: 0.1 });
      expect(await q.latestModel(store, 'none')).toBeUndefined();

      const ev = {
        event_id: 'e1',
        time: base,
        proposal_id: 'prop-1',
        event: 'proposed' as const,
        actor: 'optimizer',
        detail: '{"a":1}',
      };
      await q.appendChanges(store, [ev, { ...ev, event_id: 'e2', time: base + minute, event: 'approved' }]);
      await q.appendChanges(store, [ev]); // a retried write of the same event
      const trail = await q.changesFor(store, 'prop-1');
      expect(trail.map((e) => [e.event_id, e.event, e.time])).toEqual([
        ['e1', 'proposed', base],
        ['e2', 'approved', base + minute],
      ]);
      await q.appendChanges(store, [{ ...ev, event_id: 'e3', proposal_id: 'prop-2', time: base + 2 * minute }]);
      // Newest first, across proposals, each event once; a limit keeps the newest.
      expect((await q.recentChanges(store)).map((e) => [e.event_id, e.proposal_id])).toEqual([
        ['e3', 'prop-2'],
        ['e2', 'prop-1'],
        ['e1', 'prop-1'],
      ]);
      expect((await q.recentChanges(store, { limit: 1 })).map((e) => e.event_id)).toEqual(['e3']);
      expect((await q.recentChanges(store, { proposal: 'prop-1' })).map((e) => e.event_id)).toEqual(['e2', 'e1']);
      // The console's status and counts: the latest event after `proposed`, and proposals per event.
      expect([...(await q.latestChangeEvents(store, ['prop-1', 'prop-2'])).entries()]).toEqual([
        ['prop-1', { event: 'approved', time: base + minute }],
      ]);
      expect(await q.proposalsPerEvent(store, ['proposed', 'approved', 'confirmed'])).toEqual({
        proposed: 2,
        approved: 1,
        confirmed: 0,
      });
      await expect(q.appendChanges(store, [{ ...ev, event: 'bogus' as never }])).rejects.toThrow(/invalid change record/);
    });
  });
}
