/**
 * The actuator end to end on the VyOS emulator over real HTTP: approval → staged rollout with bake
 * and guard → confirm; guard failure and one router of three failing → every router restored exactly;
 * approving twice applies once; Slack webhook + signed interactions through a local receiver; REST
 * with role-checked tokens (app.inject).
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/clock.ts';
import { buildApp } from '../../../core/http/server.ts';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { createActuator, actuatorRoutes, type Actuator } from '../../../actuator/index.ts';
import { signSlackBody } from '../../../actuator/slack.ts';
import { SlackRoleMap } from '../../../actuator/slack-access.ts';
import { createBus } from '../../../core/bus/index.ts';
import type { Bus } from '../../../core/bus/types.ts';
import { changeRecord, decodeRecords, schemaHeader, type ChangeRecordT } from '../../../core/records/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { testRoot, startLab, running, weightProposal, SITES, type LabRig, SwitchableGuardData } from './support.ts';

interface Received {
  url: string;
  body: Record<string, unknown>;
}

async function receiver(): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      got.push({ url: req.url ?? '', body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${addr.port}`, got };
}

const SECRET = 'slack-signing-secret-for-tests';
const tokens = TokenAuthenticator.fromSpec(
  'viewer:vera:viewer-token-0123456789,approver:alice:approver-token-0123456789,admin:root:admin-token-0123456789',
);

describe('actuator rollouts on the VyOS emulator', () => {
  let rig: LabRig;
  let actuator: Actuator;
  let guard: SwitchableGuardData;
  let slack: Awaited<ReturnType<typeof receiver>>;
  let gitops: string;
  let queue: MemoryQueue;
  let bus: Bus;
  const registry = createRegistry();
  const root = testRoot();

  beforeAll(async () => {
    rig = await startLab(root);
    slack = await receiver();
    gitops = await mkdtemp(join(tmpdir(), 'pp-gitops-'));
    guard = new SwitchableGuardData();
    queue = new MemoryQueue();
    await queue.start();
    bus = createBus({ kind: 'kafka', brokers: requireService('kafka').split(',') });
    await bus.start();
    actuator = createActuator(
      {
        root,
        queue,
        clock: new RealClock(),
        routerFor: rig.routerFor,
        guardData: guard,
        registry,
        bus,
        env: { PATHPILOT_SLACK_WEBHOOK_URL: `${slack.url}/webhook`, PATHPILOT_SLACK_SIGNING_SECRET: SECRET },
      },
      { gitops_dir: gitops, retry: { attempts: 4, base_ms: 10, max_ms: 100 } },
    );
    await actuator.start();
  });
  afterAll(async () => {
    await actuator?.stop();
    await queue?.stop();
    await bus?.stop();
    await rig?.stop();
    slack?.server.close();
    if (gitops) await rm(gitops, { recursive: true, force: true });
  });
  afterEach(() => {
    guard.bad = false;
    guard.badPaths.clear();
    for (const s of SITES) rig.lab.router(s).faults.reset();
  });

  const promiseSubs: { stop(): Promise<void> }[] = [];

  it('approval → three steps with bake and guard → confirmed; approving twice applies once; GitOps export', async () => {
    const p = weightProposal();
    const rec = await actuator.submit(p);
    expect(rec.proposal.status).toBe('awaiting-approval');
    const revs = Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).revision()]));
    await Promise.all([actuator.approve(p.id, 'api:alice'), actuator.approve(p.id, 'api:bob')]);
    await actuator.approve(p.id, 'api:carol');
    await actuator.service.idle();
    const done = await actuator.get(p.id);
    expect(done?.proposal.status).toBe('confirmed');
    expect(done?.decidedBy).toBe('api:alice');
    // Three steps → three commits per router (plus nothing else), applied once despite three approvals.
    for (const s of SITES) expect(rig.lab.router(s).revision()).toBe(revs[s]! + 3);
    expect(actuator.changes(p.id).filter((e) => e.event === 'approved')).toHaveLength(1);
    expect(actuator.changes(p.id).filter((e) => e.event === 'guard-pass')).toHaveLength(3);
    const nyc = rig.lab.router('onprem-nyc');
    expect(JSON.stringify(nyc.showConfig(['load-balancing', 'wan', 'rule']))).toContain('"vti1":{"weight":"70"}');
    expect(nyc.pendingConfirm()).toBeUndefined();
    const conf = await readFile(join(gitops, 'onprem-nyc.conf'), 'utf8');
    expect(conf).toMatch(/^set load-balancing wan rule \d+ interface vti1 weight '70'$/m);
    // Slack: one message with Approve/Reject buttons, the final state posted afterwards.
    const msg = slack.got.find(
      (g) => JSON.stringify(g.body).includes(p.id) && JSON.stringify(g.body).includes('"action_id":"approve"'),
    );
    expect(msg?.url).toBe('/webhook');
    // The audit trail went to Kafka (the changes topic the analytics sink writes to ClickHouse).
    const seen: ChangeRecordT[] = [];
    const want = actuator.changes(p.id).length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${want} audit events on Kafka`)), 60_000);
      void bus
        .subscribe({
          group: uniqueName('pp_audit'),
          topics: [changeRecord.topic],
          fromBeginning: true,
          handler: async (batch) => {
            for (const msg of batch.messages) {
              expect(msg.headers?.[schemaHeader]).toBe('change.v1');
              for (const r of decodeRecords(msg.value)) {
                const e = changeRecord.parse(r);
                if (e.proposal_id === p.id) seen.push(e);
              }
            }
            if (seen.length >= want) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .then((sub) => promiseSubs.push(sub), reject);
    });
    await Promise.all(promiseSubs.map((s) => s.stop()));
    expect(seen.map((e) => e.event)).toEqual(actuator.changes(p.id).map((e) => e.event));
    const applied = seen.find((e) => e.event === 'step-applied' && e.router === 'onprem-nyc');
    expect(JSON.parse(applied!.detail!).ops.length).toBeGreaterThan(0);
    expect(seen.find((e) => e.event === 'approved')?.actor).toBe('api:alice');
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_proposals_total{status="confirmed"}']).toBeGreaterThanOrEqual(1);
  });

  it('a failing guard verdict restores every router exactly and cools the pair down', async () => {
    const before = running(rig.lab);
    const p = weightProposal();
    await actuator.submit(p);
    const off = actuator.events.on('change', (e: { event: string; proposal_id: string }) => {
      if (
        e.proposal_id === p.id &&
        e.event === 'baking' &&
        actuator.changes(p.id).filter((x) => x.event === 'baking').length === 2
      )
        guard.bad = true;
    });
    await actuator.approve(p.id, 'api:alice');
    await actuator.service.idle();
    off.removeAllListeners('change');
    const rec = await actuator.get(p.id);
    expect(rec?.proposal.status).toBe('rolled-back');
    expect(rec?.error).toMatch(/guard fail at step 2/);
    expect(running(rig.lab)).toEqual(before);
    const events = actuator.changes(p.id).map((e) => e.event);
    expect(events).toContain('guard-fail');
    expect(events.filter((e) => e === 'rolled-back')).toHaveLength(3);
    for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
    // The pair cools down: a proposal for it waits for a human (auto mode would not take it either).
    const again = await actuator.submit(weightProposal());
    expect(again.proposal.status).toBe('awaiting-approval');
  });

  it('one router of three failing (partial commit) rolls back the routers already changed', async () => {
    const before = running(rig.lab);
    const p = weightProposal(undefined, { scope: [] });
    // Different targets from the first test's (now running) weights, so every router changes.
    for (const i of p.intents)
      if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 5;
    await actuator.submit(p);
    rig.lab.router('onprem-nyc').faults.set({ partialCommit: { failPrefix: ['load-balancing'] } });
    await actuator.approve(p.id, 'api:alice');
    await actuator.service.idle();
    const rec = await actuator.get(p.id);
    expect(rec?.proposal.status).toBe('rolled-back');
    expect(rec?.error).toMatch(/onprem-nyc/);
    expect(running(rig.lab)).toEqual(before);
  });

  it('a router unreachable during the rollback leaves the proposal failed (router named) until a retry restores it', async () => {
    const before = running(rig.lab);
    const p = weightProposal();
    for (const i of p.intents)
      if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 3;
    const aws = p.intents.find((i) => i.router === 'aws-use1');
    if (aws?.kind === 'path-weights') aws.weights = { 'nyc-use1-dx': 20, 'nyc-use1-vpn': 80 };
    await actuator.submit(p);
    actuator.events.on('change', function onChange(e: { event: string; proposal_id: string }) {
      if (e.proposal_id !== p.id || e.event !== 'baking') return;
      actuator.events.off('change', onChange);
      guard.bad = true;
      rig.lab.router('aws-use1').faults.set({ hangRequests: 1000 });
    });
    await actuator.approve(p.id, 'api:alice');
    await actuator.service.idle();
    const rec = await actuator.get(p.id);
    expect(rec?.proposal.status).toBe('failed');
    expect(rec?.error).toMatch(/rollback incomplete \(aws-use1:/);
    // The other routers are back; aws-use1 still holds the change.
    expect(rig.lab.router('onprem-nyc').runningCommands()).toEqual(before['onprem-nyc']);
    expect(rig.lab.router('aws-use1').runningCommands()).not.toEqual(before['aws-use1']);
    rig.lab.router('aws-use1').faults.reset();
    const app = await buildApp({ registry, auth: tokens }, [actuatorRoutes(actuator, { slackSigningSecret: SECRET })]);
    const denied = await app.inject({
      method: 'POST',
      url: `/api/v1/proposals/${p.id}/rollback`,
      headers: { authorization: 'Bearer approver-token-0123456789' },
    });
    expect(denied.statusCode).toBe(403);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/proposals/${p.id}/rollback`,
      headers: { authorization: 'Bearer admin-token-0123456789' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('rolled-back');
    expect(running(rig.lab)).toEqual(before);
    await app.close();
  });

  it('self-healing: a path breaking its SLO gets an emergency failover applied without approval', async () => {
    guard.badPaths.add('onprem-nyc.aws-use1.1');
    const made = await actuator.service.heal(guard, 60_000);
    const mine = made.filter((r) => r.proposal.scope[0]?.pair.join('>') === 'onprem-nyc>aws-use1');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.proposal.emergency).toBe(true);
    expect(mine[0]!.decidedBy).toBe('emergency-policy');
    // The check's verdicts are exported for the SLO-breach alert: every class of the bad path
    // breaks p95 RTT and loss but not jitter; its sibling holds every objective.
    const m = await metricValues(registry);
    const breach = (path: string, slo: string) =>
      Object.entries(m)
        .filter(
          ([k]) =>
            k.startsWith('pathpilot_actuator_path_slo_breach{') && k.includes(`path_id="${path}"`) && k.includes(`slo="${slo}"`),
        )
        .map(([, v]) => v);
    expect(breach('onprem-nyc.aws-use1.1', 'rtt_p95').length).toBeGreaterThan(0);
    expect(new Set(breach('onprem-nyc.aws-use1.1', 'rtt_p95'))).toEqual(new Set([1]));
    expect(new Set(breach('onprem-nyc.aws-use1.1', 'loss'))).toEqual(new Set([1]));
    expect(new Set(breach('onprem-nyc.aws-use1.1', 'jitter'))).toEqual(new Set([0]));
    expect(new Set(breach('onprem-nyc.aws-use1.2', 'rtt_p95'))).toEqual(new Set([0]));
    await actuator.service.idle();
    expect((await actuator.get(mine[0]!.proposal.id))?.proposal.status).toBe('confirmed');
    // NYC → AWS us-east-1 now leaves only over the VPN (vti1); the interconnect (eth1) carries nothing.
    const rules = rig.lab.router('onprem-nyc').showConfig(['load-balancing', 'wan', 'rule']);
    const rule = Object.values(rules).find((r) => JSON.stringify(r).includes('10.10.0.0/16')) as Record<string, unknown>;
    expect(rule['interface']).toEqual({ vti1: { weight: '1' } });
    // A second pass while the failover is open or done does not pile up proposals for the pair.
    const again = (await actuator.service.heal(guard, 60_000)).filter(
      (r) => r.proposal.scope[0]?.pair.join('>') === 'onprem-nyc>aws-use1',
    );
    expect(again.length).toBeLessThanOrEqual(1);
  });

  it('REST: roles are checked; Slack interactions need a valid signature and record who decided', async () => {
    const slackRoles = new SlackRoleMap({ users: { U1: 'approver' } });
    const app = await buildApp({ registry, auth: tokens }, [
      actuatorRoutes(actuator, { slackSigningSecret: SECRET, slackRoles }),
    ]);
    const p = weightProposal();
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/proposals',
      headers: { authorization: 'Bearer admin-token-0123456789' },
      payload: p,
    });
    expect(created.statusCode).toBe(201);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/proposals',
      headers: { authorization: 'Bearer admin-token-0123456789' },
      payload: { ...p, id: 'x', intents: [] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/intents/);
    expect((await app.inject({ method: 'GET', url: '/api/v1/proposals' })).statusCode).toBe(401);
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/proposals',
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().proposals.some((x: { id: string }) => x.id === p.id)).toBe(true);
    const forbidden = await app.inject({
      method: 'POST',
      url: `/api/v1/proposals/${p.id}/approve`,
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    });
    expect(forbidden.statusCode).toBe(403);

    // Slack: wrongly signed, stale, then correctly signed.
    const payload = {
      type: 'block_actions',
      user: { id: 'U1', username: 'alice' },
      actions: [{ action_id: 'reject', value: p.id }],
      response_url: `${slack.url}/response`,
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const now = Math.floor(Date.now() / 1000);
    const post = (ts: number, sig: string) =>
      app.inject({
        method: 'POST',
        url: '/slack/interactions',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': sig,
        },
        payload: body,
      });
    expect((await post(now, signSlackBody('wrong-secret', now, body))).statusCode).toBe(401);
    expect((await post(now - 600, signSlackBody(SECRET, now - 600, body))).statusCode).toBe(401);
    expect((await actuator.get(p.id))?.proposal.status).toBe('awaiting-approval');
    const ok = await post(now, signSlackBody(SECRET, now, body));
    expect(ok.statusCode).toBe(200);
    const rec = await actuator.get(p.id);
    expect(rec?.proposal.status).toBe('rejected');
    expect(rec?.decidedBy).toBe('slack:alice');
    const update = slack.got.find((g) => g.url === '/response');
    expect(update?.body['replace_original']).toBe(true);
    expect(JSON.stringify(update?.body)).toContain('slack:alice');
    // Approving a rejected proposal is a conflict.
    const late = await app.inject({
      method: 'POST',
      url: `/api/v1/proposals/${p.id}/approve`,
      headers: { authorization: 'Bearer approver-token-0123456789' },
    });
    expect(late.statusCode).toBe(409);
    const changes = await app.inject({
      method: 'GET',
      url: `/api/v1/changes?proposal=${p.id}`,
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    });
    expect(changes.json().changes.map((c: { event: string }) => c.event)).toEqual(['proposed', 'rejected']);
    await app.close();
  });
});
