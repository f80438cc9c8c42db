/**
 * The actuator's REST and Slack routes in process (app.inject), on a memory state store and no
 * routers (nothing is applied here; rollouts have their own functional suite). Slack's response_url
 * is a local receiver on loopback.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenAuthenticator } from '../core/http/auth.ts';
import { MemoryReplayCache } from '../core/http/replay.ts';
import { buildApp } from '../core/http/server.ts';
import { createRegistry } from '../core/metrics.ts';
import type { MemoryQueue } from '../core/queue/index.ts';
import { actuatorRoutes, proposalFutureSkewMs } from './api.ts';
import { SlackRoleMap } from './slack-access.ts';
import { MemoryStateStore } from './state.ts';
import { proposalSchema } from '../core/proposal.ts';
import { signedSlackPost, startRouterlessActuator, weightProposal } from './testing.ts';
import type { Actuator } from './types.ts';

const SECRET = 'slack-signing-secret-for-api-tests';
const tokens = TokenAuthenticator.fromSpec(
  'viewer:vera:viewer-token-0123456789,approver:alice:approver-token-0123456789,admin:root:admin-token-0123456789',
);
const admin = { authorization: 'Bearer admin-token-0123456789' };
const slackRoles = new SlackRoleMap({ users: { U0ALICE: 'approver', U0VERA: 'viewer' } });

let receiver: FastifyInstance;
let responseUrl = '';
const responses: Record<string, unknown>[] = [];

beforeAll(async () => {
  receiver = Fastify({ logger: false });
  receiver.post('/response', async (req) => {
    responses.push(req.body as Record<string, unknown>);
    return 'ok';
  });
  await receiver.listen({ host: '127.0.0.1', port: 0 });
  responseUrl = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/response`;
});

afterAll(async () => {
  await receiver.close();
});

describe('actuator API', () => {
  let actuator: Actuator;
  let queue: MemoryQueue;
  let app: FastifyInstance;
  let replay: MemoryReplayCache;

  beforeEach(async () => {
    ({ actuator, queue } = await startRouterlessActuator());
    replay = new MemoryReplayCache(100);
    app = await buildApp({ registry: createRegistry(), auth: tokens }, [
      actuatorRoutes(actuator, { slackSigningSecret: SECRET, slackRoles, replay }),
    ]);
    responses.length = 0;
  });

  afterEach(async () => {
    await app.close();
    await actuator.stop();
    await queue.stop();
  });

  async function awaitingProposal(): Promise<string> {
    const p = weightProposal();
    // From a person: the optimizer's identical plans would be one pending proposal (intake).
    await actuator.submit(p, 'api:root');
    expect((await actuator.get(p.id))?.proposal.status).toBe('awaiting-approval');
    return p.id;
  }

  function slackBody(user: { id?: string; username: string }, action: 'approve' | 'reject', proposalId: string): string {
    const payload = {
      type: 'block_actions',
      user,
      actions: [{ action_id: action, value: proposalId }],
      response_url: responseUrl,
    };
    return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }

  const postSlack = (body: string, ts?: number) => app.inject(signedSlackPost(SECRET, body, ts));

  /** The ephemeral reply reaches response_url asynchronously (the HTTP answer does not wait for it). */
  async function ephemeralPosted(): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100 && responses.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(responses).toHaveLength(1);
    return responses[0]!;
  }

  it('refuses a validly signed Slack decision from a user mapped to no role, with an ephemeral reply', async () => {
    for (const action of ['approve', 'reject'] as const) {
      responses.length = 0;
      const id = await awaitingProposal();
      const res = await postSlack(slackBody({ id: 'U0MALLORY', username: 'mallory' }, action, id));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(res.json().text).toMatch(/mallory.*may not .*mapped to no pathpilot role/);
      expect(await ephemeralPosted()).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect((await actuator.get(id))?.proposal.status).toBe('awaiting-approval');
      expect(actuator.changes(id).map((c) => c.event)).toEqual(['proposed']);
    }
  });

  it('refuses a Slack user whose role is too weak and one without a user id', async () => {
    const id = await awaitingProposal();
    const weak = await postSlack(slackBody({ id: 'U0VERA', username: 'vera' }, 'approve', id));
    expect(weak.json().text).toMatch(/role "viewer" needs "approver"/);
    const anonymous = await postSlack(slackBody({ username: 'U0ALICE' }, 'approve', id));
    expect(anonymous.json().response_type).toBe('ephemeral');
    expect((await actuator.get(id))?.proposal.status).toBe('awaiting-approval');
  });

  it('lets a mapped approver reject from Slack, once: a replay of the same signed request is refused', async () => {
    const id = await awaitingProposal();
    const body = slackBody({ id: 'U0ALICE', username: 'alice' }, 'reject', id);
    const ts = Math.floor(Date.now() / 1000);
    const first = await postSlack(body, ts);
    expect(first.statusCode).toBe(200);
    const rec = await actuator.get(id);
    expect(rec?.proposal.status).toBe('rejected');
    expect(rec?.decidedBy).toBe('slack:alice');
    const replayed = await postSlack(body, ts);
    expect(replayed.statusCode).toBe(409);
    expect(replayed.json()).toEqual({ error: 'slack request already handled (replay refused)', code: 'PP_ERR_CONFLICT' });
    expect(actuator.changes(id).map((c) => c.event)).toEqual(['proposed', 'rejected']);
  });

  it('remembers a signed request for exactly its signature window', async () => {
    let now = Date.now();
    const clocked = new MemoryReplayCache(100, () => now);
    const a = await buildApp({ registry: createRegistry(), auth: tokens }, [
      actuatorRoutes(actuator, { slackSigningSecret: SECRET, slackRoles, replay: clocked, now: () => now }),
    ]);
    try {
      const ts = Math.floor(now / 1000);
      const body = slackBody({ id: 'U0MALLORY', username: 'mallory' }, 'approve', 'whatever');
      const send = () => a.inject(signedSlackPost(SECRET, body, ts));
      expect((await send()).statusCode).toBe(200);
      now = ts * 1000 + 299_000;
      expect((await send()).statusCode).toBe(409);
      now = ts * 1000 + 301_000; // the window closed: the key is gone and the timestamp check refuses it
      expect((await send()).statusCode).toBe(401);
      expect(clocked.size).toBe(1);
    } finally {
      await a.close();
    }
  });

  it('refuses an admin-submitted proposal dated beyond the clock skew or already past its TTL', async () => {
    const submit = (created_at: number) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/proposals',
        headers: admin,
        payload: weightProposal(undefined, { created_at }),
      });
    const now = Date.now();
    const fiftyYears = await submit(now + 50 * 365 * 86_400_000);
    expect(fiftyYears.statusCode).toBe(400);
    expect(fiftyYears.json().error).toMatch(/created_at .* is more than 5 minutes ahead of the actuator's clock/);
    expect((await submit(now + proposalFutureSkewMs + 60_000)).statusCode).toBe(400);
    const stale = await submit(now - 2 * 86_400_000);
    expect(stale.statusCode).toBe(400);
    expect(stale.json().error).toMatch(/older than the proposal TTL/);
    expect((await submit(now + 60_000)).statusCode).toBe(201);
    expect((await submit(now - 60_000)).statusCode).toBe(201);
    expect((await actuator.list()).length).toBe(2);
  });

  it('lists router API keys to viewers (never a key); only an admin may rotate, and only a known site', async () => {
    const viewer = { authorization: 'Bearer viewer-token-0123456789' };
    const list = await app.inject({ url: '/api/v1/router-keys', headers: viewer });
    expect(list.statusCode).toBe(200);
    const routers = (list.json() as { routers: { router: string; id: string | null }[] }).routers;
    expect(routers.length).toBeGreaterThan(0);
    // No store configured: every key is the environment's, never rotated by pathpilot.
    expect(routers.every((r) => r.id === null)).toBe(true);
    const rotate = (site: string, headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: `/api/v1/router-keys/${site}/rotate`, headers });
    expect((await rotate('onprem-nyc', viewer)).statusCode).toBe(403);
    expect((await rotate('nowhere', admin)).statusCode).toBe(404);
    const refused = await rotate('onprem-nyc', admin);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatch(/router_keys\.store/);
  });

  it('answers API JSON with nosniff and no-store, and 401 before reading an anonymous body', async () => {
    const list = await app.inject({ url: '/api/v1/proposals', headers: { authorization: 'bearer viewer-token-0123456789' } });
    expect(list.statusCode).toBe(200);
    expect(list.headers['x-content-type-options']).toBe('nosniff');
    expect(list.headers['cache-control']).toBe('no-store');
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/v1/proposals',
      headers: { 'content-type': 'application/json' },
      payload: '{"not json at all',
    });
    // A parsed body would have failed as 400; the guard answered first.
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['cache-control']).toBe('no-store');
  });
});

describe('actuator API: the realized effect', () => {
  it('lists each proposal with its predicted and, once measured, its realized effect', async () => {
    const state = new MemoryStateStore();
    const { actuator, queue } = await startRouterlessActuator({ state });
    const app = await buildApp({ registry: createRegistry(), auth: tokens }, [actuatorRoutes(actuator)]);
    try {
      const measured = proposalSchema.parse({ ...weightProposal('api-realized'), status: 'confirmed' });
      const pending = proposalSchema.parse({ ...weightProposal('api-pending'), status: 'confirmed' });
      await state.put({ proposal: measured, updatedAt: measured.created_at });
      await state.put({ proposal: pending, updatedAt: pending.created_at });
      const realized = {
        before: { from: 0, to: 3_600_000 },
        after: { from: 4_200_000, to: 7_800_000 },
        cost_per_day: 118.4,
        cost_per_day_before: 141,
        gb_per_day: 900,
        gb_per_day_before: 910,
        slo_pair_class_minutes: 0,
        slo_pair_class_minutes_before: 6,
        measured_at: 7_900_000,
      };
      await state.putRealized('api-realized', realized);
      const res = await app.inject({ url: '/api/v1/proposals', headers: { authorization: 'Bearer viewer-token-0123456789' } });
      const byId = new Map(
        (res.json() as { proposals: { id: string; predicted: unknown; realized: unknown }[] }).proposals.map((p) => [p.id, p]),
      );
      expect(byId.get('api-realized')).toMatchObject({ predicted: measured.predicted, realized });
      expect(byId.get('api-pending')).toMatchObject({ predicted: pending.predicted, realized: null });
    } finally {
      await app.close();
      await actuator.stop();
      await queue.stop();
    }
  });
});
