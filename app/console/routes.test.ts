import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../core/http/server.ts';
import { TokenAuthenticator } from '../../core/http/auth.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { probeRecord } from '../../core/records/index.ts';
import type { Shared } from '../runtime.ts';
import { consoleRoutes } from './routes.ts';
import { breachingPath, fakeActuator, sampleProposal, seededShared, type FakeActuator } from './testing.ts';
import { defaultComplianceContext, evaluateCompliance } from '../../actuator/security/compliance.ts';
import { localizeFaults } from '../../actuator/localize.ts';

const viewerToken = 'viewer-token-0123456789';
const approverToken = 'approver-token-0123456789';
const minute = 60_000;
const day = 86_400_000;

describe('console routes', () => {
  // Recent data (TTL never drops it during the run), whole minutes.
  const now = Math.floor(Date.now() / minute) * minute;
  let shared: Shared;
  let actuator: FakeActuator;
  let app: FastifyInstance;
  const get = (url: string, token?: string) =>
    app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const post = (url: string, token?: string) =>
    app.inject({ method: 'POST', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    shared = await seededShared(now);
    actuator = fakeActuator(shared.clock, [
      sampleProposal(shared.topology, 'p-old', now - 3 * 3_600_000),
      sampleProposal(shared.topology, 'p-new', now - 600_000, ['onprem-nyc', 'aws-euc1']),
      sampleProposal(shared.topology, 'p-done', now - 60_000),
    ]);
    actuator.proposals[2]!.status = 'confirmed';
    const auth = TokenAuthenticator.fromSpec(`viewer:vera:${viewerToken},approver:alice:${approverToken}`);
    app = await buildApp({ registry: shared.registry, auth }, [consoleRoutes({ shared, actuator })]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (shared) {
      await shared.store.exec(sql`DROP DATABASE IF EXISTS ${ident(shared.store.database)}`);
      await shared.store.stop();
    }
  });

  describe('page and assets', () => {
    it('serves the page without a token, with a strict CSP and no inline script', async () => {
      const res = await get('/');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.body).toContain('<script type="module" src="/console/static/main.js"></script>');
      expect(res.body).not.toMatch(/<script>(?!<\/script>)/);
    });

    it('serves the listed assets with their content types and nothing else', async () => {
      const js = await get('/console/static/main.js');
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/^text\/javascript/);
      expect(js.body).toContain('/console/api/overview');
      // Every module main.js imports, directly or not, is served (the browser resolves them relative to it).
      const seen = new Set<string>();
      const queue = ['main.js'];
      while (queue.length > 0 && seen.size < 50) {
        const name = queue.shift()!;
        if (seen.has(name)) continue;
        seen.add(name);
        const mod = await get(`/console/static/${name}`);
        expect(mod.statusCode, name).toBe(200);
        for (const m of mod.body.matchAll(/^import .* from '\.\/([\w-]+\.js)';$/gm)) queue.push(m[1]!);
      }
      expect([...seen].sort()).toEqual([
        'api.js',
        'compliance.js',
        'cost.js',
        'dom.js',
        'faults.js',
        'format.js',
        'header.js',
        'main.js',
        'proposals.js',
        'quality.js',
        'state.js',
        'timeline.js',
        'topology.js',
        'tunnels.js',
      ]);
      expect((await get('/console/static/style.css')).headers['content-type']).toMatch(/^text\/css/);
      for (const bad of [
        '/console/static/routes.ts',
        '/console/static/..%2Froutes.ts',
        '/console/static/__proto__',
        '/console/static/index.html',
      ]) {
        const res = await get(bad);
        expect(res.statusCode, bad).toBe(404);
      }
    });
  });

  describe('auth', () => {
    it('answers 401 without a token or with an unknown one, on every API route', async () => {
      for (const url of [
        '/console/api/overview',
        '/console/api/quality',
        '/console/api/proposals',
        '/console/api/events',
        '/console/api/cost',
        '/console/api/whoami',
        '/console/api/tunnels',
        '/console/api/compliance',
        '/console/api/faults',
      ]) {
        expect((await get(url)).statusCode, url).toBe(401);
        expect((await get(url, 'not-a-valid-token-at-all')).statusCode, url).toBe(401);
      }
      expect((await post('/console/api/proposals/p-new/approve')).statusCode).toBe(401);
    });

    it('answers 403 when a viewer approves or rejects, and the actuator is not called', async () => {
      const a = await post('/console/api/proposals/p-new/approve', viewerToken);
      expect(a.statusCode).toBe(403);
      expect(a.json()).toMatchObject({ code: 'PP_ERR_FORBIDDEN' });
      expect((await post('/console/api/proposals/p-new/reject', viewerToken)).statusCode).toBe(403);
      expect(actuator.decisions).toEqual([]);
      expect(actuator.proposals.find((p) => p.id === 'p-new')!.status).toBe('awaiting-approval');
    });

    it('tells the page who is signed in', async () => {
      expect((await get('/console/api/whoami', viewerToken)).json()).toEqual({ name: 'vera', role: 'viewer' });
    });
  });

  describe('tunnels', () => {
    it("shows the actuator's tunnel view, or says the actuator runs elsewhere", async () => {
      expect((await get('/console/api/tunnels', viewerToken)).json()).toEqual({ available: false, now });
      const view = {
        checked_at: now - 30_000,
        wireguard: [
          {
            node: 'A',
            iface: 'wg1',
            peer: 'D',
            path: 'primary' as const,
            up: false,
            handshake_age_s: 212,
            key_age_s: 3600,
            next_rotation_at: now + 71 * 3_600_000,
            failed_over: true,
          },
        ],
        ipsec: [{ node: 'onprem-nyc', peer: 'to-aws-use1', up: true }],
      };
      actuator.tunnels = () => view;
      try {
        expect((await get('/console/api/tunnels', viewerToken)).json()).toEqual({ available: true, now, ...view });
      } finally {
        delete actuator.tunnels;
      }
    });
  });

  describe('compliance', () => {
    it("shows the actuator's compliance view, or says the actuator runs elsewhere", async () => {
      expect((await get('/console/api/compliance', viewerToken)).json()).toEqual({ available: false, now });
      const view = evaluateCompliance(
        'onprem-nyc',
        { firewall: { ipv4: { forward: { filter: { rule: { '5': { action: 'accept' } } } } } } },
        defaultComplianceContext(now),
      );
      actuator.compliance = () => ({ checked_at: now - 60_000, routers: [view] });
      try {
        const got = (await get('/console/api/compliance', viewerToken)).json();
        expect(got).toMatchObject({ available: true, now, checked_at: now - 60_000 });
        expect(got.routers[0].results.find((r: { id: string }) => r.id === 'PP-FW-1').findings).toEqual([
          { path: 'firewall ipv4 forward filter rule 5', detail: 'accepts any source to any destination on any protocol' },
        ]);
      } finally {
        delete actuator.compliance;
      }
    });
  });

  describe('faults', () => {
    it("shows the self-heal's last fault localization, or says the actuator runs elsewhere", async () => {
      expect((await get('/console/api/faults', viewerToken)).json()).toEqual({ available: false, now });
      const localization = localizeFaults([
        { path: 'p1', links: ['a'], sent: 100, received: 70 },
        { path: 'p2', links: ['a', 'b'], sent: 100, received: 69 },
        { path: 'p3', links: ['b'], sent: 100, received: 100 },
      ]);
      actuator.faults = () => ({ checked_at: now - 60_000, localization });
      try {
        const got = (await get('/console/api/faults', viewerToken)).json();
        expect(got).toMatchObject({ available: true, now, checked_at: now - 60_000 });
        expect(got.localization.findings.map((f: { links: string[] }) => f.links)).toEqual([['a']]);
      } finally {
        delete actuator.faults;
      }
    });
  });

  describe('overview', () => {
    it('lists sites and links with busiest-direction utilization and SLO health', async () => {
      const res = await get('/console/api/overview', viewerToken);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      const root = shared.config.root;
      expect(body.now).toBe(now);
      expect(body.sites.map((s: { id: string }) => s.id)).toEqual(root.sites.map((s) => s.id));
      expect(body.links).toHaveLength(root.links.length);
      root.links.forEach((l, i) => {
        const view = body.links.find((x: { id: string }) => x.id === l.id);
        // The seed's two directions run at these shares of capacity; the console shows the busier one.
        const expected = Math.max(0.2 + ((i * 0.13) % 0.7), 0.1 + ((i * 0.07) % 0.4));
        expect(view.source).toBe('iface');
        expect(view.utilization).toBeCloseTo(expected, 2);
        expect(view.series.length).toBeGreaterThan(30);
      });
      // The seeded realtime breach is on the direct path over euc1-weu-wg.
      expect(body.paths[0]).toMatchObject({ path_id: breachingPath, class: 'realtime', status: 'breach' });
      const wg = body.links.find((x: { id: string }) => x.id === 'euc1-weu-wg');
      expect(wg.health).toBe('breach');
      expect(wg.worst.path_id).toBe(breachingPath);
      expect(body.links.find((x: { id: string }) => x.id === 'nyc-use1-dx').health).toBe('ok');
      expect(body.counts).toEqual({ proposals: 3, applied: 1, rolled_back: 0 });
      expect(body.breaches).toBe(1);
      expect(body.slo_infeasible).toEqual([]);
    });

    it('lists a pair-class SLO every path breaks once, as infeasible, and counts none of its paths as breaches', async () => {
      // aws-use1 → ali-hk realtime: both paths above the 260 ms SLO for the last 15 minutes (the
      // backup closest to it). The seeded realtime breach of aws-euc1 → azure-weu stays a breach: its
      // other paths meet the SLO.
      const p95 = { 'aws-use1.ali-hk.1': 292, 'aws-use1.ali-hk.2': 274 };
      const rows = Object.entries(p95).flatMap(([path_id, rtt]) =>
        Array.from({ length: 15 }, (_, i) =>
          probeRecord.toRow({
            window_start: now - (i + 1) * minute,
            window_end: now - i * minute,
            src_site: 'aws-use1',
            dst_site: 'ali-hk',
            path_id,
            class: 'realtime',
            sent: 100,
            received: 100,
            loss_ratio: 0,
            rtt_min_ms: rtt - 6,
            rtt_avg_ms: rtt - 3,
            rtt_p50_ms: rtt - 3,
            rtt_p95_ms: rtt,
            rtt_max_ms: rtt + 2,
            jitter_ms: 2,
          }),
        ),
      );
      await shared.store.insert('probes_raw', rows);
      const body = (await get('/console/api/overview', viewerToken)).json();
      expect(body.slo_infeasible).toEqual([
        {
          pair: ['aws-use1', 'ali-hk'],
          class: 'realtime',
          slo: { rtt_p95_ms: 260, loss_pct: 1, jitter_ms: 30 },
          best: { path_id: 'aws-use1.ali-hk.2', rtt_p95_max_ms: 274, loss_ratio: 0, jitter_ms: expect.any(Number) },
          paths: ['aws-use1.ali-hk.1', 'aws-use1.ali-hk.2'],
        },
      ]);
      const statuses = body.paths
        .filter(
          (p: { src_site: string; dst_site: string; class: string }) =>
            p.src_site === 'aws-use1' && p.dst_site === 'ali-hk' && p.class === 'realtime',
        )
        .map((p: { status: string }) => p.status);
      expect(statuses).toEqual(['infeasible', 'infeasible']);
      // Still one breach (the seeded one), and still first in the list.
      expect(body.breaches).toBe(1);
      expect(body.paths[0]).toMatchObject({ path_id: breachingPath, status: 'breach' });
      // A link carrying only the infeasible pair's paths (and healthy ones) is not shown in breach.
      expect(body.links.find((x: { id: string }) => x.id === 'usc1-hk-wg').health).not.toBe('breach');
    });
  });

  describe('path quality', () => {
    it('defaults to the worst pair and class and returns one point per bucket', async () => {
      await get('/console/api/overview', viewerToken);
      const res = await get('/console/api/quality?minutes=120&step=5', viewerToken);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.pair).toEqual(['aws-euc1', 'azure-weu']);
      expect(body.class).toBe('realtime');
      expect(body.slo.rtt_p95_ms).toBe(260);
      expect(body.paths.map((p: { id: string }) => p.id)).toEqual(
        shared.topology.pathsFor('aws-euc1', 'azure-weu').map((p) => p.id),
      );
      const primary = body.paths[0];
      expect(primary.points).toHaveLength(24);
      // The last 30 minutes breach the SLO, the hour before does not.
      expect(primary.points.at(-1).rtt_p95_ms).toBeGreaterThan(260);
      expect(primary.points[0].rtt_p95_ms).toBeLessThan(260);
      expect(body.paths[1].points.every((p: { rtt_p95_ms: number }) => p.rtt_p95_ms < 260)).toBe(true);
    });

    it('keeps settled buckets: a repeated poll runs at most two queries', async () => {
      const url = '/console/api/quality?pair=onprem-fra>aws-euc1&class=bulk&minutes=240&step=10';
      const first = await get(url, viewerToken);
      expect(first.statusCode).toBe(200);
      const spy = vi.spyOn(shared.store, 'query');
      try {
        const again = await get(url, viewerToken);
        expect(again.json()).toEqual(first.json());
        expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
      } finally {
        spy.mockRestore();
      }
    });

    it('rejects bad parameters with a clear 400', async () => {
      const cases: [string, RegExp][] = [
        ['pair=nowhere>aws-euc1', /unknown site/],
        ['pair=aws-euc1', /src>dst/],
        ['class=platinum', /unknown class "platinum"/],
        ['minutes=5', /minutes/],
        ['minutes=1440&step=1', /200 buckets/],
        ['colour=blue', /colour|Unrecognized/i],
      ];
      for (const [qs, msg] of cases) {
        const res = await get(`/console/api/quality?${qs}`, viewerToken);
        expect(res.statusCode, qs).toBe(400);
        expect(res.json().error, qs).toMatch(msg);
      }
    });
  });

  describe('cost', () => {
    it('reports month-to-date spend against each budget with a projection', async () => {
      const body = (await get('/console/api/cost', viewerToken)).json();
      const d = new Date(now);
      const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const days = Math.round((Math.floor(now / day) * day - monthStart) / day);
      expect(body.budgets.map((b: { scope: string }) => b.scope)).toEqual(['aws', 'azure', 'gcp']);
      const aws = body.budgets[0];
      expect(aws.monthly).toBe(30_000);
      expect(aws.month_to_date).toBeCloseTo(days * (30_000 / 30) * 1.2, 3);
      expect(aws.used).toBeCloseTo(aws.month_to_date / 30_000, 6);
      if (days > 0) {
        expect(aws.projected).toBeGreaterThan(aws.month_to_date);
        expect(body.daily).toHaveLength(days + 1);
        expect(body.daily.at(-2).by_provider.aws).toBeCloseTo(aws.month_to_date, 3);
      }
      expect(body.currency).toBe('USD');
    });
  });

  describe('proposals and decisions', () => {
    it('lists proposals awaiting a decision first, newest first', async () => {
      const body = (await get('/console/api/proposals', viewerToken)).json();
      expect(body.proposals.map((p: { id: string }) => p.id)).toEqual(['p-new', 'p-old', 'p-done']);
      expect(body.proposals.map((p: { actionable: boolean }) => p.actionable)).toEqual([true, true, false]);
      // What the page explains above the list: the configured mode and emergency policy.
      expect(body.policy).toEqual({ mode: 'approval', emergency_auto: true });
    });

    it('approves as the approver, in the approver’s name', async () => {
      const res = await post('/console/api/proposals/p-new/approve', approverToken);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: true, id: 'p-new', action: 'approve', status: 'approved' });
      expect(actuator.decisions).toEqual([{ id: 'p-new', action: 'approve', actor: 'alice' }]);
      const events = (await get('/console/api/events?limit=1', viewerToken)).json().events;
      expect(events).toEqual([expect.objectContaining({ proposal_id: 'p-new', event: 'approved', actor: 'alice' })]);
    });

    it('passes the actuator’s errors through: 409 for a decided proposal, 404 for an unknown one', async () => {
      const again = await post('/console/api/proposals/p-new/approve', approverToken);
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('PP_ERR_CONFLICT');
      expect((await post('/console/api/proposals/nope/reject', approverToken)).statusCode).toBe(404);
    });

    it('rejects as the approver', async () => {
      const res = await post('/console/api/proposals/p-old/reject', approverToken);
      expect(res.json()).toMatchObject({ ok: true, status: 'rejected' });
      expect(actuator.decisions.at(-1)).toEqual({ id: 'p-old', action: 'reject', actor: 'alice' });
    });

    it('validates the events limit', async () => {
      expect((await get('/console/api/events?limit=0', viewerToken)).statusCode).toBe(400);
      expect((await get('/console/api/events?limit=5000', viewerToken)).statusCode).toBe(400);
    });
  });
});
