/**
 * `pathpilot start … api` serves the console: the server `createApi` builds (what cli/commands/start.ts
 * and the demo both start) mounts the console plugin. Without the actuator role in the process the
 * console reads proposals and the audit trail from the store and refuses decisions with 503; with
 * the role built in the same process it lists and decides through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAuthenticator } from '../../core/http/auth.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { weightProposal } from '../../actuator/testing.ts';
import { createApi } from '../api.ts';
import type { Shared } from '../runtime.ts';
import { buildActuatorRole } from '../actuator-role.ts';
import { seedRemoteDecisions, seededShared } from './testing.ts';

const viewer = 'viewer-token-start-api-0123';
const approver = 'approver-token-start-api-0123';
const minute = 60_000;

type Api = ReturnType<typeof createApi>;

async function startApi(shared: Shared): Promise<Api> {
  const auth = TokenAuthenticator.fromSpec(`viewer:vera:${viewer},approver:alice:${approver}`);
  const api = createApi(shared, auth, { host: '127.0.0.1', port: 0, plugins: [] });
  await api.start();
  return api;
}

function request(api: Api, method: 'GET' | 'POST', url: string, token?: string) {
  return api.app()!.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function dropStore(shared: Shared | undefined): Promise<void> {
  if (!shared) return;
  await shared.store.exec(sql`DROP DATABASE IF EXISTS ${ident(shared.store.database)}`);
  await shared.store.stop();
}

describe('start api without the actuator role: the console reads the store', () => {
  const now = Math.floor(Date.now() / minute) * minute;
  let shared: Shared;
  let api: Api;

  beforeAll(async () => {
    shared = await seededShared(now);
    await seedRemoteDecisions(shared, now);
    api = await startApi(shared);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await dropStore(shared);
  });

  it('serves the console page and its modules without a token', async () => {
    const page = await request(api, 'GET', '/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<script type="module" src="\/console\/static\/main\.js"><\/script>/);
    const main = await request(api, 'GET', '/console/static/main.js');
    expect(main.statusCode).toBe(200);
    expect(main.headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('answers the data routes from the store: overview counts and the audit trail', async () => {
    expect((await request(api, 'GET', '/console/api/overview')).statusCode).toBe(401);
    const overview = await request(api, 'GET', '/console/api/overview', viewer);
    expect(overview.statusCode).toBe(200);
    expect(overview.json().counts).toEqual({ proposals: 2, applied: 1, rolled_back: 0 });
    expect(overview.json().sites.map((s: { id: string }) => s.id)).toEqual(shared.config.root.sites.map((s) => s.id));
    const events = (await request(api, 'GET', '/console/api/events?limit=3', viewer)).json().events;
    // The newest three, newest last.
    expect(events.map((e: { proposal_id: string; event: string }) => [e.proposal_id, e.event])).toEqual([
      ['p-remote-done', 'approved'],
      ['p-remote-done', 'confirmed'],
      ['p-remote', 'proposed'],
    ]);
    expect(events[0]).toMatchObject({ actor: 'alice', time: now - 80 * minute });
  });

  it('lists proposals with the status their latest audit event implies, read-only', async () => {
    const body = (await request(api, 'GET', '/console/api/proposals', viewer)).json();
    expect(body.decides).toBe(false);
    expect(body.proposals.map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([
      ['p-remote', 'proposed'],
      ['p-remote-done', 'confirmed'],
    ]);
  });

  it('refuses a decision with 503 naming where decisions are made', async () => {
    const res = await request(api, 'POST', '/console/api/proposals/p-remote/approve', approver);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'PP_ERR_SERVICE' });
    expect(res.json().error).toMatch(/actuator role does not run in this process/);
  });
});

describe('start actuator api: the console decides through the in-process role', () => {
  const now = Math.floor(Date.now() / minute) * minute;
  let shared: Shared;
  let api: Api;
  let stopRole: (() => Promise<void>) | undefined;
  let role: ReturnType<typeof buildActuatorRole>;

  beforeAll(async () => {
    shared = await seededShared(now);
    await shared.queue.start();
    role = buildActuatorRole(shared);
    for (const c of role.components) await c.start();
    stopRole = async () => {
      for (const c of [...role.components].reverse()) await c.stop();
    };
    await role.actuator.submit(weightProposal('p-local', { created_at: now - minute }), 'optimizer');
    api = await startApi(shared);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await stopRole?.();
    await shared?.queue.stop();
    await dropStore(shared);
  });

  it('counts proposals, not events: a rollback of two routers is one rolled-back proposal', () => {
    const before = role.counts();
    for (const router of ['onprem-nyc', 'aws-use1'])
      role.actuator.events.emit('change', { event: 'rolled-back', proposal_id: 'p-two-routers', router });
    expect(role.counts()).toEqual({ ...before, rolled_back: before.rolled_back + 1 });
  });

  it('registers the role in the process and lists its proposals as decidable', async () => {
    expect(shared.inProcess.actuator).toBeDefined();
    const body = (await request(api, 'GET', '/console/api/proposals', viewer)).json();
    expect(body.decides).toBe(true);
    expect(body.proposals).toEqual([expect.objectContaining({ id: 'p-local', status: 'awaiting-approval', actionable: true })]);
  });

  it('rejects through the role, in the approver’s name', async () => {
    const res = await request(api, 'POST', '/console/api/proposals/p-local/reject', approver);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, id: 'p-local', action: 'reject', status: 'rejected' });
    const events = (await request(api, 'GET', '/console/api/events', viewer)).json().events;
    expect(events.at(-1)).toMatchObject({ proposal_id: 'p-local', event: 'rejected', actor: 'alice' });
  });
});
